"""Hard negatives that show what piracy sites show, legally: the role ``hard_negative``.

Beside the review blog, Linux distribution, anti-piracy office and public-domain archive of
:mod:`~collector.sandbox.generate.pages_roles`, the real web's false positives: a community
tracker of freely tradable live recordings and Creative Commons releases (seeders, leechers,
magnets, and rules that allow only permitted material), a tech deals magazine (steep
discounts, media-section menus), an open-source IPTV player's project page (M3U playlists,
no channels provided, checksums) and a news site writing about piracy (arrests, blocking,
DMCA, torrents). The answer key marks all of them not piracy, category "none".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from collector.sandbox.generate import pages_roles
from collector.sandbox.generate.pages_roles import (
    _SOFT_A,
    _SOFT_B,
    CATEGORIES,
    _front,
    _related,
    media_sections,
    money,
    tracker_table,
)
from collector.sandbox.generate.pages_site import Item, Site, e, slugify, torrent_file

_LICENCES = ("CC BY 4.0", "CC BY-SA 4.0", "CC BY-NC 4.0", "CC0 1.0")
_FORMATS = ("FLAC 16-bit", "FLAC 24-bit", "MP3 V0", "SHN")
_GADGETS = ("Wireless earbuds", "4K action camera", "Mechanical keyboard", "USB-C hub 8-in-1", "Smartwatch",
            "Robot vacuum", "Portable SSD 2TB", "Noise-cancelling headphones", "Mini projector", "Power bank 20000mAh")
_STEEP = (60, 70, 75, 80, 85, 90, 93, 95, 97)
_PLAYER_FILES = ("linux-x86_64.AppImage", "windows-x64-setup.exe", "macos-universal.dmg", "android-arm64.apk",
                 "source.tar.gz")


def _rules_word(site: Site) -> str:
    """"Rules" as the language's rules sentence starts ("Rules:", "Règles :", "规则：")."""
    return re.split(r"\s*[:：]", site.w("tracker_rules"), maxsplit=1)[0]


def _community_tracker(site: Site) -> None:
    """A tracker of live recordings artists allow taping and trading, or of CC releases."""
    w, r = site.w, site.rng
    live = r.random() < 0.5
    items = []
    for _ in range(site.spec.pages):
        if live:
            artist = site.person()
            date = f"2026-{r.randint(1, 11):02d}-{r.randint(1, 28):02d}"
            title, licence, fmt = f"{artist} - {site.title_name()} {date}", "taping allowed", r.choice(_FORMATS)
        else:
            title, licence, fmt = f"{site.title_name()} ({r.randint(2015, 2026)})", r.choice(_LICENCES), \
                r.choice(("1080p", "FLAC", "EPUB", "720p"))
        size = r.randint(80, 9000) * 2**20
        tid = str(r.randint(10_000, 999_999))
        data, infohash = torrent_file(r, f"{slugify(title) or tid}.{fmt.split()[0].lower()}", size)
        site.files[f"torrents/{tid}.torrent"] = data
        items.append(Item(site.item_path("details", f"{title} {tid}"), f"{title} [{fmt}]", 2026,
                          {"s": f"{size / 2**30:.2f} GB", "se": str(r.randint(0, 600)), "le": str(r.randint(0, 80)),
                           "h": infohash, "id": tid, "lic": licence}))
    rules = w("tracker_rules")
    for it in items:
        magnet = f"magnet:?xt=urn:btih:{it.extra['h']}&dn={quote(it.title)}"
        body = (f"<h1>{e(it.title)}</h1><table class=\"details\"><tr><th>{e(w('size'))}</th><td>{e(it.extra['s'])}"
                f"</td></tr><tr><th>{e(w('seeders'))}</th><td>{it.extra['se']}</td></tr><tr><th>{e(w('leechers'))}"
                f"</th><td>{it.extra['le']}</td></tr><tr><th>Licence</th><td>{e(it.extra['lic'])}</td></tr></table>"
                f'<p><a class="magnet" href="{e(magnet)}">{e(w("magnet"))}</a> · <a href="/torrents/{it.extra["id"]}'
                f'.torrent">{e(w("torrent_dl"))}</a></p><p class="rules">{e(rules)}</p>{_related(site, items, it)}')
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    kinds = ("Live", "Audience / SBD", "FLAC") if live else ("Creative Commons", "Video", "Audio", "Books")
    site.page("rules.html", f"{_rules_word(site)} | {site.spec.brand}",
              f"<h1>{e(_rules_word(site))}</h1><p>{e(rules)}</p><ol>"
              + "".join(f"<li>{e(k)}</li>" for k in (*kinds, *(_LICENCES if not live else ())))
              + "</ol>")
    site.nav = [("/search.html", w("search")), ("/rules.html", _rules_word(site))] + \
               [(f"/search.html?cat={quote(k.lower())}", k) for k in kinds]
    blocks = [f"<p>{site.sentences(w('tag_tracker'))}</p>"]
    if not site.spec.js_only:
        blocks.append(tracker_table(site, [(it.title, f"/{it.path}", f"magnet:?xt=urn:btih:{it.extra['h']}",
                                            f"/torrents/{it.extra['id']}.torrent", it.extra["s"], it.extra["se"],
                                            it.extra["le"]) for it in items]))
    blocks.append(f'<p class="rules">{e(rules)} <a href="/rules.html">{e(_rules_word(site))}</a></p>')
    site.listing = "none"
    _front(site, "tag_tracker", items, [], blocks)


def _deals(site: Site) -> None:
    """A gadget news and deals magazine: steep discounts, software bundles, a media menu."""
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        if r.random() < 0.4:
            name = f"{r.choice(_SOFT_A)}{r.choice(_SOFT_B)} — {w('bundle')}"
        else:
            name = f"{r.choice(_GADGETS)} {r.choice(('X', 'Pro', 'Air', 'Max', 'S'))}{r.randint(2, 9)}"
        off = r.choice(_STEEP)
        full = r.choice((49, 99, 199, 299, 499, 999, 1499))
        items.append(Item(site.item_path(r.choice(("deals", "deal", "2026/11")), name), name, 2026,
                          {"o": money(site, full), "p": money(site, round(full * (100 - off) / 100, 2)),
                           "d": f"-{off}%", "x": w("deal_off", x=off)}))
    for it in items:
        body = (f"<article><h1>{e(it.title)}: {e(it.extra['x'])}</h1><p class=\"by\">{e(w('posted_by'))} "
                f"{e(site.person())}</p><p><del>{e(it.extra['o'])}</del> <b>{e(it.extra['p'])}</b> "
                f"<span class=\"off\">{e(it.extra['d'])}</span></p><p>{site.sentences(w('tag_deals'), w('sale'))}</p>"
                f'<p><a class="btn" href="#deal" rel="sponsored nofollow">{e(w("buy"))}</a></p></article>'
                f"{_related(site, items, it)}")
        site.page(it.path, f"{it.title} {it.extra['d']} | {site.spec.brand}", body)
    site.nav = [*media_sections(site, ("movies", "tv", "games", "software")), ("/search.html?cat=deals", w("sale"))]
    steepest = max(items, key=lambda i: int(i.extra["d"].strip("-%")))
    blocks = [f'<p class="topdeal">{e(steepest.title)}: {e(steepest.extra["x"])}</p>',
              f"<p>{site.sentences(w('tag_deals'))}</p>"]
    _front(site, "tag_deals", items, ["o", "p", "d"], blocks, w("sale"))


def _player(site: Site) -> None:
    """An open-source IPTV / media player's project: bring your own playlist, releases, sums."""
    w, r = site.w, site.rng
    project = slugify(site.spec.brand) or f"player{r.randint(10, 99)}"
    org = r.choice(("org", "dev", "team", "project"))
    source = f"https://github.com/{project}-{org}/{project}"
    items = []
    major, minor = r.randint(0, 4), r.randint(site.spec.pages, 30)
    for k in range(site.spec.pages):
        ver = f"{major}.{minor - k}.{r.randint(0, 9)}"
        items.append(Item(site.item_path("releases", f"v{ver}"), f"{site.spec.brand} {ver}", 2026,
                          {"v": ver, "d": f"2026-{r.randint(1, 11):02d}-{r.randint(1, 28):02d}"}))
    for it in items:
        sums = "".join(f"<tr><td><code>{e(project)}-{e(it.extra['v'])}-{e(f)}</code></td><td><code>{site.hex(64)}"
                       "</code></td></tr>" for f in r.sample(_PLAYER_FILES, r.randint(3, len(_PLAYER_FILES))))
        body = (f"<h1>{e(it.title)}</h1><p>{e(w('release_notes'))} · {it.extra['d']} · GPL-3.0</p>"
                f"<table class=\"checksums\"><tr><th>{e(w('file'))}</th><th>SHA-256 {e(w('checksum'))}</th></tr>{sums}"
                f'</table><p><a href="/download/{e(project)}-{e(it.extra["v"])}-windows-x64-setup.exe">'
                f"{e(w('download'))}</a></p><p>{e(w('no_channels'))}</p>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    docs = (f"<h1>{e(site.spec.brand)}: M3U / M3U8 / XSPF</h1><p>{e(w('no_channels'))}</p><ol>"
            f"<li>{e(w('download'))}: <a href=\"/{e(items[0].path)}\">{e(items[0].title)}</a></li>"
            "<li>Settings → Playlists → Add URL (M3U, M3U8) · EPG: XMLTV</li><li>Xtream Codes API login: "
            "your provider's own server, user name and password</li></ol>"
            f"<p>Source code: <code>git clone {e(source)}.git</code> · GPL-3.0</p>") if items else ""
    site.page("docs.html", f"Docs | {site.spec.brand}", docs)
    site.nav = [("/docs.html", "Docs"), ("/search.html", w("search"))]
    blocks = [f"<p>{site.sentences(w('tag_player'), w('free'))}</p>", f'<p class="notice">{e(w("no_channels"))}</p>',
              "<ul class=\"features\"><li>M3U / M3U8 playlists</li><li>EPG (XMLTV)</li><li>Chromecast</li>"
              "<li>Linux · Windows · macOS · Android</li></ul>",
              f"<p>GitHub: <code>{e(source.removeprefix('https://'))}</code> · GPL-3.0 · "
              f"{e(w('checksum'))}: SHA-256</p>"]
    _front(site, "tag_player", items, ["v", "d"], blocks, w("release_notes"))


def _news(site: Site) -> None:
    """A news site's articles about piracy: arrests, blocking orders, DMCA notices, torrents."""
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        key = r.choice(("news_arrest", "news_block", "news_dmca"))
        items.append(Item(site.item_path(r.choice(("news", "2026/11", "article")), f"{w(key)} {site.hex(5)}"),
                          w(key), 2026, {"a": site.person(), "k": key,
                                         "d": f"2026-{r.randint(1, 11):02d}-{r.randint(1, 28):02d}"}))
    for it in items:
        domains = "".join(f"<li>{e(site.title_name())}-{r.randint(1, 99)}[.]{r.choice(('xyz', 'to', 'cc', 'io'))} "
                          f"({e(r.choice(CATEGORIES))})</li>" for _ in range(r.randint(1, 4)))
        quote_block = f"<blockquote>{e(w('disclaimer'))}</blockquote>" if r.random() < 0.3 else ""
        body = (f"<article><h1>{e(it.title)}</h1><p class=\"by\">{e(w('posted_by'))} {e(it.extra['a'])} · "
                f"{it.extra['d']}</p><p>{site.sentences(it.title, w('report'))}</p><ul>{domains}</ul>{quote_block}"
                f"<p>DMCA · torrent · {e(w('copyright_policy'))} · {e(w('tag_antipiracy'))}</p>"
                f"{pages_roles.hosters_named(site, it.path)}"
                f"<p>{e(w('read_more'))}…</p></article>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body,
                  head=site.article_head("NewsArticle", it.title, it.extra["a"], it.extra["d"]))
    site.nav = [("/search.html", w("search")), ("/search.html?tag=dmca", "DMCA"),
                ("/search.html?tag=torrent", "Torrent"), ("/search.html?tag=iptv", "IPTV")]
    _front(site, "tag_news", items, ["a", "d"], [f"<p>{e(w('tag_news'))}</p>"], w("latest"))


HARD_NEGATIVE: tuple[Callable[[Site], None], ...] = (*pages_roles.HARD_NEGATIVE, _community_tracker, _deals, _player, _news)
"""Every hard negative a ``hard_negative`` site is drawn from, the older four first."""


def build_hard_negative(site: Site) -> None:
    site.rng.choice(HARD_NEGATIVE)(site)
