"""What a page offers: structural and vocabulary findings, before weighting.

A :class:`Finding` is a named count with a short human detail ("3 magnet links").
:class:`FeatureExtractor` compiles every pattern once (per classifier instance) from the
config and turns a :class:`~spiders.classify.parse.ParsedPage` into findings; the rules
turn findings into weighted signals.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from spiders.classify.lexicon import Lexicon, Match, normalise
from spiders.classify.model import CATEGORIES
from spiders.classify.navigation import NavigationFeatures
from spiders.classify.parse import Link, ParsedPage
from spiders.classify.rules import HostList, Rules
from spiders.classify.terms import UNSPACED, Gated

_MAGNET = re.compile(r"magnet:\?[^\s\"'<>]{0,300}?xt=urn:(?:btih|btmh):([a-z0-9]{32,68})")
_TORRENT_FILE = re.compile(r"\.torrent(?:$|[?#&])")
_SHA = re.compile(r"[0-9a-f]{64,}")  # runs of exactly 64 or 128 are checksums (no look-behind: fast)
_PLAYLIST = re.compile(r"\.m3u8?(?:$|[?#&\s\"'])|get\.php\?username=|player_api\.php|/live/[^/\s]+/[^/\s]+/\d+\.ts")
_IMAGE_NUM = re.compile(r"^(?:p|pg|page|img|image|scan|_|-)*[-_]?(\d{1,4})\.(?:jpe?g|png|webp|gif|avif)$")
_PERCENT_OFF = re.compile(
    r"(?:^|[\s(\[])[-−–]\s?(\d{2})\s?%"
    r"|(\d{2})\s?%\s?(?:off|de descuento|de réduction|de remise|rabatt|скидка|скидки|할인|オフ|折扣|desconto|indirim|giảm|diskon)"
    r"|(?:save|up to|jusqu'à|hasta|até|до|giảm|hemat)\s?[-−]?(\d{2})\s?%"
)
_NUMBER = re.compile(r"\d+")
_EBOOK_FILE = re.compile(r"\.(?:epub|mobi|azw3?|fb2(?:\.zip)?|djvu|cbz|cbr|lit|kfx)(?:$|[?#&])")
_ISBN13 = re.compile(r"97[89][- ]?(?:\d[- ]?){9}\d(?!\d)")  # literal prefix: fast; digit before checked


@dataclass(frozen=True)
class Finding:
    """A raw observation: ``count`` units of evidence named ``name``."""

    name: str
    count: float
    detail: str


def _hosts_detail(counter: Counter[str], noun: str) -> str:
    names = ", ".join(h for h, _ in counter.most_common(3))
    more = f" +{len(counter) - 3} more" if len(counter) > 3 else ""
    total = sum(counter.values())
    return f"{total} {noun}{'s' if total != 1 else ''} to {names}{more}"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(normalise(w)) for w in sorted(words, key=len, reverse=True))


def _price_value(raw: str) -> float | None:
    digits = re.sub(r"[^\d.,]", "", raw)
    if not digits:
        return None
    # "1.250,00" / "1,250.00" / "1 250" → treat the last separator followed by 1-2 digits as decimal
    m = re.match(r"^(.*?)[.,](\d{1,2})$", digits)
    whole, frac = (m.group(1), m.group(2)) if m else (digits, "0")
    whole = re.sub(r"[.,]", "", whole) or "0"
    try:
        return float(f"{whole}.{frac}")
    except ValueError:
        return None


def _terms_rx(words: Iterable[str]) -> re.Pattern[str]:
    """Whole words of spaced scripts, anywhere for unspaced ones (CJK, kana, hangul)."""
    words = [normalise(w) for w in words]
    spaced = [w for w in words if not UNSPACED.search(w)]
    unspaced = [w for w in words if UNSPACED.search(w)]
    parts = []
    if spaced:
        parts.append(r"(?<!\w)(?:" + _alternation(spaced) + r")(?!\w)")
    if unspaced:
        parts.append("(?:" + _alternation(unspaced) + ")")
    # one group around both: a leading look-behind would be read as the whole pattern's (Gated)
    return re.compile("(?:" + "|".join(parts) + ")" if parts else r"(?!)")


def _gated(spec: str | Mapping[str, Any]) -> Gated:
    """A pattern from features.toml: a string, or ``{ re = '...', gate = ["literal", ...] }``."""
    if isinstance(spec, str):
        return Gated(re.compile(spec), ())
    return Gated(re.compile(spec["re"]), spec.get("gate", ()))


class FeatureExtractor:
    """Compiled patterns and host lists; stateless per page."""

    def __init__(self, rules: Rules, lexicon: Lexicon) -> None:
        """Compile the structural patterns in ``rules.features``."""
        feats: Mapping[str, Any] = rules.features
        self._rules = rules
        self._lexicon = lexicon
        self._hosts: Mapping[str, HostList] = rules.hosts
        self._release = re.compile(
            r"(?<![a-z0-9])(?:" + "|".join(feats["release_tags"]["patterns"]) + r")(?![a-z0-9])"
        )
        self._swarm = Gated(re.compile(r"(?<!\w)(?:" + _alternation(feats["swarm"]["words"]) + r")(?!\w)"),
                            map(normalise, feats["swarm"]["words"]))
        self._chapter = [_gated(p) for p in feats["chapters"]["patterns"]]
        self._episode = [_gated(p) for p in feats["episodes"]["patterns"]]
        self._channels = Gated(re.compile(feats["iptv"]["channel_pattern"]), feats["iptv"]["channel_gate"])
        self._vod = Gated(re.compile(feats["iptv"]["vod_pattern"]), feats["iptv"]["vod_gate"])
        self._price = Gated(re.compile(feats["prices"]["pattern"]), feats["prices"]["gate"])
        luxury = [normalise(b) for b in feats["brands"]["luxury"]]
        self._brands = Gated(re.compile(r"(?<!\w)(?:" + _alternation(feats["brands"]["luxury"]) + r")(?!\w)"), luxury)
        brands = _alternation(feats["brands"]["luxury"])
        cheap = _alternation(feats["brands"]["cheap_words"])
        self._cheap_brand = re.compile(
            rf"(?<!\w)(?:(?:{cheap})\s+(?:{brands})|(?:{brands})\s+(?:{cheap}))(?!\w)"
        )
        self._player = re.compile(
            r"(?<![a-z0-9])(?:" + "|".join(re.escape(p) for p in feats["players"]["script_markers"]) + r")"
        )
        ads = self._hosts["ad_networks"]
        self._ad_inline = re.compile(
            "|".join(re.escape(h) for h in sorted(ads.suffixes)) + "|" + "|".join(re.escape(w) for w in feats["ads"]["inline_markers"])
        )
        self._steep = int(feats["prices"]["steep_percent"])
        self._implausible = int(feats["prices"].get("implausible_percent", 85))
        self._rewards = {kind: Gated(re.compile("|".join(patterns)), feats["uploader_rewards_gate"]["literals"])
                         for kind, patterns in feats["uploader_rewards"].items()}
        self._min_channels = int(feats["iptv"]["min_channels"])
        self._min_vod = int(feats["iptv"]["min_vod"])
        self._host_tokens = {cat: tuple(t.lower() for t in toks) for cat, toks in rules.host_tokens.items()}
        self._navigation = NavigationFeatures(feats)
        labels = feats["torrent_labels"]
        self._torrent_labels = _terms_rx(labels["words"])
        self._torrent_label_max = int(labels.get("max_label", 40))
        sizes = feats["torrent_sizes"]
        self._sizes = Gated(re.compile(sizes["pattern"]), sizes.get("gate", ()))
        self._sizes_chars = int(sizes.get("max_chars", 100000))
        servers = feats["servers"]
        self._server_words = Gated(_terms_rx(servers["words"]), map(normalise, servers["words"]))
        self._server_numbered = Gated(re.compile(servers["numbered"]), servers["numbered_gate"])
        self._server_names = _terms_rx(servers["names"])
        self._server_label = int(servers.get("max_label", 24))
        self._sub_dub = _terms_rx(feats["sub_dub"]["markers"])
        self._sub_dub_window = int(feats["sub_dub"].get("window", 40))

    # -- public -------------------------------------------------------------------------

    def extract(self, page: ParsedPage) -> list[Finding]:
        """Every finding on ``page`` (zero counts omitted)."""
        out: list[Finding] = []
        out += self._vocabulary(page)
        out += self._torrent(page)
        out += self._hosted(page)
        out += self._streaming(page)
        out += self._manga(page)
        out += self._iptv(page)
        out += self._prices(page)
        out += self._context(page)
        out += self._markup(page)
        out += self._site_identity(page)
        out += self._media_index(out)
        return [f for f in out if f.count > 0]

    @staticmethod
    def _media_index(found: Sequence[Finding]) -> list[Finding]:
        """A torrent listing filed under media sections (films, TV, games, music...): the shape
        of a public torrent index, which a distribution or fan tracker does not have."""
        counts = {f.name: f.count for f in found}
        rows = max(counts.get("magnet_links", 0), counts.get("torrent_files", 0), counts.get("torrent_anchors", 0))
        sections = counts.get("media_sections", 0)
        if sections < 2 or (rows < 3 and not counts.get("swarm_table")):
            return []
        return [Finding("media_index", sections, f"a torrent listing filed under {int(sections)} media sections")]

    # -- vocabulary ---------------------------------------------------------------------

    def _vocabulary(self, page: ParsedPage) -> list[Finding]:
        out = []
        body = self._lexicon.match_all(page.text)
        title = {section: m for section, m in self._lexicon.match_all(page.title).items() if section in CATEGORIES}
        keep = self._languages(page, body.values())
        for section, m in body.items():
            m = m.only(keep)
            if m.count:
                out.append(Finding(f"lex_{section}", m.count, f"words: {m.describe()}"))
        for section, t in title.items():
            t = t.only(keep)
            if t.count:
                out.append(Finding(f"title_{section}", t.count, f"title words: {t.describe(3)}"))
        tags = Counter(re.sub(r"[\s.-]", "", m.group(0)) for m in self._release.finditer(page.text))
        if tags:
            shown = ", ".join(t for t, _ in tags.most_common(5))
            out.append(Finding("release_tags", len(tags), f"{len(tags)} release tags: {shown}"))
        return out

    @staticmethod
    def _languages(page: ParsedPage, matches: Iterable[Match]) -> frozenset[str]:
        """Languages whose vocabulary counts on ``page``: English, the declared language, and
        any language with at least two distinct terms on the page. A lone word of another
        language is a false friend (Indonesian "polisi" in a Turkish series title), not evidence;
        a mislabelled page (``lang="en"`` on a Vietnamese site) still has its language counted."""
        per_lang = Counter(lang for m in matches for _, lang in m.terms)
        keep = {"en", page.lang} | {lang for lang, n in per_lang.items() if n >= 2}
        return frozenset(keep)

    # -- structure ----------------------------------------------------------------------

    def _torrent(self, page: ParsedPage) -> list[Finding]:
        hashes = {m.group(1) for m in _MAGNET.finditer(page.raw_head)}
        for link in page.links:
            if link.url.startswith("magnet:"):
                m = _MAGNET.search(link.url.lower())
                hashes.add(m.group(1) if m else link.url)
        files = {link.url for link in page.links if link.kind == "anchor" and _TORRENT_FILE.search(link.url.lower())}
        # "[Magnet Link]", "下载BT种子", "Скачать торрент" anchors to the index's own detail pages
        anchors = {link.url for link in page.links if link.kind == "anchor" and not link.url.startswith("magnet:")
                   and link.url not in files and 0 < len(link.text) <= self._torrent_label_max
                   and self._torrent_labels.search(link.text)}
        swarm = {m.group(0) for m in self._swarm.finditer(page.headers + " | " + page.text[:50000])}
        sizes = 0
        if hashes or files or len(anchors) >= 3:
            # a size column beside the torrents: "1.4 GB", "700 MB", "4,37 ГБ", "2 Go"
            for sizes, _ in enumerate(self._sizes.finditer(page.text[:self._sizes_chars]), 1):
                if sizes >= 500:
                    break
        return [
            Finding("torrent_sizes", sizes, f"{sizes} file sizes listed beside the torrents"),
            Finding("magnet_links", len(hashes), f"{len(hashes)} magnet link{'s' if len(hashes) != 1 else ''}"),
            Finding("torrent_files", len(files), f"{len(files)} .torrent file link{'s' if len(files) != 1 else ''}"),
            Finding("torrent_anchors", len(anchors), f"{len(anchors)} links labelled as magnet or torrent downloads"),
            Finding("swarm_table", 1 if len(swarm) >= 2 else 0, "seeders/leechers columns: " + ", ".join(sorted(swarm)[:4])),
        ]

    def _link_hosts(self, links: Iterable[Link], listname: str, kinds: frozenset[str] | None = None) -> Counter[str]:
        hosts = self._hosts[listname]
        found: Counter[str] = Counter()
        for link in links:
            if kinds is not None and link.kind not in kinds:
                continue
            hit = hosts.match(link.host)
            if hit:
                found[hit] += 1
        return found

    def _hosted(self, page: ParsedPage) -> list[Finding]:
        external = [lk for lk in page.links if lk.host and lk.host != page.host]
        out = []
        for name, listname, noun in (
            ("cyberlocker_links", "cyberlockers", "cyberlocker link"),
            ("filehost_links", "filehosts", "file-host link"),
            ("link_protectors", "link_protectors", "link-protector link"),
            ("shadow_library_links", "shadow_libraries", "shadow-library link"),
        ):
            found = self._link_hosts(external, listname)
            if found:
                # distinct hosts count double: mirrors on several lockers are typical
                out.append(Finding(name, sum(found.values()) + len(found), _hosts_detail(found, noun)))
        books = {lk.url for lk in page.links if lk.kind == "anchor" and _EBOOK_FILE.search(lk.url.lower())}
        isbns = len({re.sub(r"\D", "", m.group(0)) for m in _ISBN13.finditer(page.text[:100000])
                     if not (m.start() and page.text[m.start() - 1].isdigit())}) if books else 0
        if books:
            # a catalogue of ISBNs offered as files is a shadow library, not a shop page
            out.append(Finding("ebook_files", len(books) + min(isbns, len(books)),
                               f"{len(books)} e-book file link(s)" + (f" beside {isbns} ISBNs" if isbns else "")))
        return out

    def _streaming(self, page: ParsedPage) -> list[Finding]:
        out = []
        embeds = self._link_hosts(page.links, "video_embeds", frozenset({"iframe", "script", "anchor", "js"}))
        if embeds:
            out.append(Finding("video_embeds", sum(embeds.values()) + len(embeds), _hosts_detail(embeds, "embed/player link")))
        markers = {m.group(0) for m in self._player.finditer(page.scripts + page.raw_head)}
        if "tag:video" in page.markup:
            markers.add("<video>")
        licensed = self._hosts["licensed"]
        for link in page.links:
            if link.kind == "iframe" and re.search(r"/(?:embed|player|e|v)/", link.url) and not licensed.match(link.host):
                markers.add("embedded player iframe")
                break
        if markers:
            out.append(Finding("generic_player", len(markers), "video player: " + ", ".join(sorted(markers)[:3])))
        episodes = self._numbered(self._episode, page)
        if episodes:
            out.append(Finding("episode_list", episodes, f"{episodes} numbered episodes listed"))
            out += self._sub_dub_marks(page)
        out += self._servers(page)
        return out

    def _sub_dub_marks(self, page: ParsedPage) -> list[Finding]:
        """Numbered episodes with a sub/dub/raw marker within a few characters of them."""
        text, span = page.text, self._sub_dub_window
        marked: set[str] = set()
        markers: Counter[str] = Counter()
        tried = 0
        for pattern in self._episode:
            for m in pattern.finditer(text):
                tried += 1
                if tried > 600:
                    break
                near = self._sub_dub.findall(text, max(0, m.start() - span), m.end() + span)
                if near:
                    marked.add(m.group(1).lstrip("0") or "0")
                    markers.update(near)
        if not marked:
            return []
        shown = ", ".join(f"'{w}'" for w, _ in markers.most_common(3))
        return [Finding("sub_dub", len(marked), f"{len(marked)} episodes marked {shown}")]

    def _servers(self, page: ParsedPage) -> list[Finding]:
        """Numbered servers/players ("Server 2", "线路1") and video hosts offered as players
        by name, near a server word or as a short label of their own."""
        text = page.text[:200000]
        numbered = {m.group(1).lstrip("0") or "0" for m in self._server_numbered.finditer(text)}
        names: set[str] = set()
        for n, m in enumerate(self._server_words.finditer(text)):
            if n >= 50:
                break
            names.update(self._server_names.findall(text, m.start(), m.end() + 200))
        labels = [lk.text for lk in page.links if lk.kind == "anchor"] + list(page.options)
        for label in labels[:2000]:
            if label and len(label) <= self._server_label:
                names.update(self._server_names.findall(label))
        count = len(numbered) + len(names)
        if count < 2:
            return []
        parts = ([f"{len(numbered)} numbered servers"] if numbered else []) + \
            ([", ".join(sorted(names)[:4])] if names else [])
        return [Finding("server_list", count, "players to choose from: " + "; ".join(parts))]

    @staticmethod
    def _numbered(patterns: list[re.Pattern[str]], page: ParsedPage) -> int:
        numbers: set[str] = set()
        for pattern in patterns:
            for m in pattern.finditer(page.text):
                numbers.add(m.group(1).lstrip("0") or "0")
                if len(numbers) >= 500:
                    return len(numbers)
        return len(numbers)

    def _manga(self, page: ParsedPage) -> list[Finding]:
        out = []
        chapters = self._numbered(self._chapter, page)
        if chapters:
            out.append(Finding("chapter_list", chapters, f"{chapters} numbered chapters listed"))
        groups: Counter[str] = Counter()
        for src in page.images:
            try:
                path = urlsplit(src).path
            except ValueError:
                continue
            directory, _, name = path.rpartition("/")
            if _IMAGE_NUM.match(name.lower()):
                groups[directory] += 1
        if groups:
            directory, n = groups.most_common(1)[0]
            if n >= 5:
                out.append(Finding("chapter_gallery", n, f"{n} numbered page images in one folder"))
        return out

    def _iptv(self, page: ParsedPage) -> list[Finding]:
        out = []
        playlists = {lk.url for lk in page.links if _PLAYLIST.search(lk.url.lower()) and lk.kind in ("anchor", "form")}
        playlists |= {m.group(0) for m in _PLAYLIST.finditer(page.text) if "get.php" in m.group(0) or "player_api" in m.group(0)}
        if playlists:
            out.append(Finding("iptv_playlist", len(playlists), f"{len(playlists)} M3U/Xtream playlist link(s)"))
        counts = []
        for pattern, minimum, noun in ((self._channels, self._min_channels, "channels"), (self._vod, self._min_vod, "VOD titles")):
            for m in pattern.near_literals(page.text, before=40):
                value = int(re.sub(r"\D", "", m.group(1)) or 0)
                if value >= minimum:
                    counts.append(f"{value:,}+ {noun}")
                    break
        if counts:
            out.append(Finding("iptv_catalogue", len(counts), "catalogue claims: " + ", ".join(counts)))
        return out

    def _prices(self, page: ParsedPage) -> list[Finding]:
        text = page.text
        prices = [(m.start(), _price_value(m.group(0))) for m in self._price.finditer(text)]
        prices = [(pos, v) for pos, v in prices if v]
        steep = [int(v) for m in _PERCENT_OFF.finditer(text) for v in m.groups() if v and int(v) >= self._steep] \
            if "%" in text else []
        for (p1, v1), (p2, v2) in zip(prices, prices[1:], strict=False):
            if p2 - p1 <= 60 and v1 and v2 and min(v1, v2) / max(v1, v2) <= 1 - self._steep / 100:
                steep.append(round(100 * (1 - min(v1, v2) / max(v1, v2))))
        brands = {m.group(0) for m in self._brands.finditer(text)}
        out = []
        if brands and steep:
            out.append(Finding("luxury_steep_discount", len(steep), f"{len(steep)} discounts of {max(steep)}%+ on {', '.join(sorted(brands)[:3])}"))
        if len(brands) >= 4 and len(prices) >= 5:
            out.append(Finding("luxury_catalogue", len(brands), f"{len(brands)} luxury brands with {len(prices)} prices"))
        implausible = [v for v in steep if v >= self._implausible]
        if len(implausible) >= 2:
            # -90% on a shelf of products: no brand sells its own goods at a tenth of the price
            out.append(Finding("implausible_discounts", len(implausible),
                               f"{len(implausible)} discounts of {self._implausible}% or more (up to {max(implausible)}%)"))
        cheap = {m.group(0) for m in self._cheap_brand.finditer(text)} if brands else set()
        if cheap:
            out.append(Finding("cheap_luxury", len(cheap), "phrases: " + ", ".join(f"'{c}'" for c in sorted(cheap)[:3])))
        return out

    def _context(self, page: ParsedPage) -> list[Finding]:
        out = []
        ads = self._link_hosts(page.links, "ad_networks", frozenset({"script", "iframe", "js", "redirect"}))
        inline = {m.group(0) for m in self._ad_inline.finditer(page.scripts)}
        if ads or inline:
            names = sorted(set(ads) | inline)
            out.append(Finding("ad_networks", len(names), "piracy-typical ad/popunder code: " + ", ".join(names[:3])))
        for kind, pattern in self._rewards.items():
            m = pattern.search(page.text[:50000])
            if m:
                out.append(Finding(f"pays_per_{kind}", 1, f"pays uploaders per {kind[:-1]}: '{m.group(0)[:60]}'"))
        labels = page.host.split(".")[:-1] if page.host else []
        hostname = ".".join(labels)
        for cat, tokens in self._host_tokens.items():
            hit = next((t for t in tokens if t in hostname), None)
            if hit:
                out.append(Finding(f"host_{cat}", 1, f"host name '{page.host}' contains '{hit}'"))
        return out

    def _site_identity(self, page: ParsedPage) -> list[Finding]:
        out = []
        sections, detail = self._navigation.media_sections(page)
        if sections:
            out.append(Finding("media_sections", sections, detail))
        brand, detail = self._navigation.piracy_brand(page)
        if brand:
            out.append(Finding("piracy_brand", brand, detail))
        return out

    def _markup(self, page: ParsedPage) -> list[Finding]:
        out = []
        licensed = self._hosts["licensed"].match(page.host)
        if licensed:
            out.append(Finding("known_licensed_host", 1, f"{page.host} is a known licensed service ({licensed})"))
        article = page.markup & {"og:article", "tag:article", "meta:author", "meta:published_time", "tag:time-datetime",
                                 "class:byline", "schema:article", "schema:blogposting"}
        if article:
            out.append(Finding("article_markup", len(article), "article markup: " + ", ".join(sorted(article)[:4])))
        # not schema:review: mod-APK and streaming clones mark their pages up as reviews for search engines
        news = page.markup & {"schema:newsarticle", "schema:reportagenewsarticle", "schema:analysisnewsarticle"}
        if news:
            out.append(Finding("news_markup", len(news), "news/review markup: " + ", ".join(sorted(news))))
        if any(f.startswith("generator:mediawiki") for f in page.markup):
            out.append(Finding("wiki_markup", 1, "MediaWiki page"))
        sums = {m.group(0) for m in _SHA.finditer(page.text) if len(m.group(0)) in (64, 128)}
        if sums:
            out.append(Finding("checksums", len(sums), f"{len(sums)} SHA-256/512 checksum(s) published"))
        return out
