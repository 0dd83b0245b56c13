"""Generated worlds as uneven as the real web: piracy sites without the usual notes, torrent
indexes searching harmless terms, media-section menus, and hard negatives that show trackers,
steep discounts, IPTV players and piracy news while the answer key says "not piracy"."""

from __future__ import annotations

import hashlib
import html
import json
import random
import re

from helpers.generated_pages import EVIL, Doc, make_spec, resolves

from collector.sandbox.generate import generate_world
from collector.sandbox.generate.pages import render_site
from collector.sandbox.generate.pages_negatives import (
    HARD_NEGATIVE,
    _community_tracker,
    _deals,
    _news,
    _player,
)
from collector.sandbox.generate.pages_roles import _distro
from collector.sandbox.generate.pages_site import Site
from collector.sandbox.generate.pages_words import WORDS
from collector.sandbox.world import load_world

MAGNET = re.compile(r"magnet:\?xt=urn:btih:([0-9a-f]{40})")


def _text(files: dict[str, bytes], path: str = "index.html", charset: str = "utf-8") -> str:
    return files[path].decode(charset)


def _build(builder, spec, seed: int) -> dict[str, bytes]:
    """One builder's site, assembled and encoded as render_site does."""
    site = Site(random.Random(seed), spec)
    builder(site)
    for args in site.pending:
        site._assemble(*args)
    site.files = {p: c for p, c in site.files.items() if c != ""}
    return site.encoded()


def _nav_hrefs(front: str) -> list[str]:
    return [h for h in Doc(front).hrefs if h.startswith("/search.html?cat=")]


def _piracy(category: str, seed: int, lang: str = "en") -> dict[str, bytes]:
    return render_site(random.Random(seed), make_spec("piracy", lang, "utf-8", seed=seed, category=category,
                                                      links=[], snippets=[]))


# --- piracy sites are less uniform -------------------------------------------------------


def test_piracy_notes_and_dmca_page_are_drawn_per_site():
    en = WORDS["en"]
    counts = {"disclaimer": 0, "join": 0, "dmca": 0, "bare": 0}
    categories = ("streaming", "torrent", "ddl", "manga", "warez", "ebook", "music")
    n = 42
    for seed in range(n):
        files = _piracy(categories[seed % len(categories)], seed)
        front = html.unescape(_text(files))
        disclaimer, join = en["disclaimer"] in front, en["join_tg"] in front
        dmca = "dmca.html" in files and "/dmca.html" in Doc(_text(files)).hrefs
        counts["disclaimer"] += disclaimer
        counts["join"] += join
        counts["dmca"] += dmca
        counts["bare"] += not (disclaimer or join or dmca)
    for key in ("disclaimer", "join", "dmca"):
        assert 0.2 * n < counts[key] < 0.85 * n, counts
    assert counts["bare"] >= 1, counts  # some piracy sites show only their core structure


def test_ddl_inner_pages_carry_the_disclaimer_only_where_the_site_has_one():
    disclaimer = html.escape(WORDS["en"]["disclaimer"])
    seen = set()
    for seed in range(16):
        files = _piracy("ddl", seed)
        inner = [p for p in files if p.startswith(("release/", "dl/", "post/", "films/")) and p.endswith(".html")]
        on_front = 'class="disclaimer"' in _text(files)
        assert inner
        assert all((disclaimer in _text(files, p)) == on_front for p in inner), seed
        seen.add(on_front)
    assert seen == {True, False}


def test_torrent_and_ddl_indexes_often_have_a_localised_media_menu():
    for category in ("torrent", "ddl"):
        with_menu = 0
        for seed in range(40):
            front = _text(_piracy(category, seed))
            hrefs = _nav_hrefs(front)
            if hrefs:
                with_menu += 1
                assert {"/search.html?cat=movies", "/search.html?cat=tv"} <= set(hrefs)
                assert "Movies" in front and "TV" in front
        assert 16 <= with_menu <= 38, (category, with_menu)
    ru = [_text(_piracy("torrent", seed, "ru")) for seed in range(12)]
    assert any(_nav_hrefs(f) and "Фильмы" in f and "Сериалы" in f for f in ru)
    for seed in range(12):  # other categories keep their old menus
        assert not _nav_hrefs(_text(_piracy("streaming", seed)))


def test_some_torrent_indexes_show_harmless_search_results_in_their_table():
    harmless = 0
    for seed in range(40):
        files = _piracy("torrent", seed)
        search = _text(files, "search.html")
        if 'class="torrents"' in search:
            harmless += 1
            assert re.search(r"\.iso|Blender|OpenOffice|LibreOffice|GIMP|Inkscape|CC BY", search)
            assert MAGNET.search(search) and "Seeders" in search and "Leechers" in search
            assert " GB</td>" in search
            # the site's own releases are still listed, each with its .torrent file's magnet
            # (on the front, or on the detail pages where the front labels a link "Magnet")
            pages = "".join(_text(files, p) for p in files if p.endswith(".html") and p != "search.html")
            torrents = [b for p, b in files.items() if p.endswith(".torrent")]
            infos = {hashlib.sha1(t[t.index(b"4:info") + 6:-1]).hexdigest() for t in torrents}
            assert set(MAGNET.findall(pages)) == infos
    assert 4 <= harmless <= 22, harmless


# --- hard negatives ----------------------------------------------------------------------


def test_some_distro_sites_are_linux_iso_trackers_without_media_sections():
    trackers = 0
    for seed in range(20):
        files = _build(_distro, make_spec("hard_negative", "en", "utf-8", seed=seed, links=[], snippets=[]), seed)
        front = _text(files)
        if 'class="torrents"' in front:
            trackers += 1
            assert "Seeders" in front and "Leechers" in front and " GB</td>" in front
            assert MAGNET.search(front) and ".iso.torrent" in front
            assert re.search(r"/search\.html\?edition=(desktop|server|netinst|live|arm64)", front)
        assert not _nav_hrefs(front)
    assert 4 <= trackers <= 16, trackers


def test_community_tracker_has_seeders_magnets_and_trading_rules():
    for seed, lang in enumerate(("en", "fr", "zh", "ar")):
        spec = make_spec("hard_negative", lang, "utf-8", seed=seed, links=[], snippets=[], pages=4)
        files = _build(_community_tracker, spec, seed)
        front = html.unescape(_text(files))
        table = WORDS[lang]
        assert table["seeders"] in front and table["leechers"] in front
        assert table["tracker_rules"] in front and table["tracker_rules"] in html.unescape(_text(files, "rules.html"))
        hashes = set(MAGNET.findall(front))
        torrents = [b for p, b in files.items() if p.endswith(".torrent")]
        assert len(hashes) == 4 == len(torrents)
        assert {hashlib.sha1(t[t.index(b"4:info") + 6:-1]).hexdigest() for t in torrents} == hashes
        assert re.search(r"CC BY|CC0|taping allowed", "".join(_text(files, p) for p in files if p.endswith(".html")))
        assert not _nav_hrefs(front) or "movies" not in front


def test_deals_pages_carry_steep_discounts_and_a_magazine_menu():
    for seed, lang in enumerate(("en", "de", "ja", "ru")):
        spec = make_spec("hard_negative", lang, "utf-8", seed=seed, links=[], snippets=[], pages=5)
        files = _build(_deals, spec, seed)
        front = _text(files)
        offs = [int(x) for x in re.findall(r"-(\d+)%", front)]
        assert offs and max(offs) >= 60, offs
        sections = WORDS[lang]["sections"]
        assert {"/search.html?cat=movies", "/search.html?cat=tv", "/search.html?cat=games"} <= set(_nav_hrefs(front))
        assert sections[0] in front and sections[1] in front and sections[3] in front
        assert "magnet:" not in front
        inner = [p for p in files if p.endswith(".html") and p not in ("index.html", "search.html")]
        assert inner and all("<del>" in _text(files, p) for p in inner)


def test_iptv_player_project_brings_no_channels():
    for seed, lang in enumerate(("en", "pt", "ko")):
        spec = make_spec("hard_negative", lang, "utf-8", seed=seed, links=[], snippets=[], pages=3)
        files = _build(_player, spec, seed)
        every = html.unescape("".join(_text(files, p) for p in files if p.endswith(".html")))
        assert WORDS[lang]["no_channels"] in every and "M3U" in every and "github.com/" in every
        assert re.search(r"<code>[0-9a-f]{64}</code>", every)
        assert "#EXTINF" not in every and not any(p.endswith(".m3u") for p in files)


def test_news_articles_write_about_piracy():
    spec = make_spec("hard_negative", "en", "utf-8", seed=2, links=[], snippets=[], pages=6)
    files = _build(_news, spec, 2)
    articles = [html.unescape(_text(files, p)) for p in files if p.endswith(".html")
                and p not in ("index.html", "search.html")]
    headlines = {WORDS["en"][k] for k in ("news_arrest", "news_block", "news_dmca")}
    assert len(articles) == 6
    for text in articles:
        assert "DMCA" in text and "torrent" in text and any(h in text for h in headlines)


def test_hard_negative_role_draws_every_kind_and_escapes():
    marks = {"tag_tracker", "tag_deals", "tag_player", "tag_news", "tag_distro", "tag_blog", "tag_antipiracy",
             "tag_archive"}
    seen = set()
    for seed in range(60):
        files = render_site(random.Random(seed), make_spec("hard_negative", "en", "utf-8", seed=seed))
        title = html.unescape(re.search(r"<title>(.*?)</title>", _text(files)).group(1))
        seen |= {m for m in marks if WORDS["en"][m] in title}
        for path in files:
            if path.endswith(".html"):
                for href in Doc(_text(files, path)).hrefs:
                    if href.startswith("/") and not href.endswith((".mp4", ".exe")):
                        assert resolves(href, files), (seed, path, href)
    assert seen == marks
    assert len(HARD_NEGATIVE) == len(marks)
    for builder in HARD_NEGATIVE:
        files = _build(builder, make_spec("hard_negative", "en", "utf-8", seed=5, brand=EVIL), 5)
        for path in files:
            if path.endswith(".html"):
                assert "<script>alert" not in _text(files, path), (builder.__name__, path)


def test_world_answer_key_marks_the_new_hard_negatives_not_piracy(tmp_path):
    new_tags = ("tag_tracker", "tag_deals", "tag_player", "tag_news")
    found = []
    for seed in range(12):
        out = generate_world(seed, tmp_path / str(seed), sites=15)
        answers = json.loads((out / "answers.json").read_text(encoding="utf-8"))
        world = load_world(out)
        for domain, entry in answers["sites"].items():
            if entry["role"] != "hard_negative":
                continue
            assert (entry["piracy"], entry["category"]) == (False, "none")
            truth = world.domains[domain].truth
            assert (truth.piracy, truth.category) == (False, "none")
            front = html.unescape((out / "sites" / domain / "index.html").read_bytes().decode(entry["charset"]))
            title = re.search(r"<title>(.*?)</title>", front, re.S).group(1)
            table = WORDS[entry["language"]]
            found += [t for t in new_tags if table[t] in title]
    assert len(set(found)) >= 2, found


# --- piracy pages carry editorial text, news pages their markup ---------------------------


def test_torrent_indexes_differ_in_what_each_row_shows():
    plain = magnet_only = labelled = 0
    for seed in range(40):
        files = _piracy("torrent", seed)
        front = _text(files)
        plain += not re.search(r"1080p|2160p|720p|WEB|HDRip", front)
        magnet_only += ".torrent</a>" not in front
        labelled += "#magnet\">[" in front and not MAGNET.search(front)
    assert 6 <= plain <= 30 and 6 <= magnet_only <= 30 and 2 <= labelled <= 20, (plain, magnet_only, labelled)


def test_some_piracy_item_pages_carry_a_synopsis_or_an_seo_review():
    en = WORDS["en"]
    with_text = 0
    for seed in range(40):
        category = ("streaming", "torrent", "warez", "ebook")[seed % 4]
        files = _piracy(category, seed)
        inner = [html.unescape(_text(files, p)) for p in files if p.endswith(".html")
                 and p not in ("index.html", "search.html", "dmca.html") and not p.startswith("embed/")]
        want = en["app_review"] if category == "warez" else en["synopsis"]
        has = [want in t for t in inner]
        assert all(has) or not any(has), seed  # drawn per site: every item page or none
        with_text += all(has) and bool(has)
        assert want not in html.unescape(_text(files))  # never the front page
    assert 4 <= with_text <= 24, with_text


def test_editorial_text_and_news_markup_stay_where_they_belong():
    spec = make_spec("hard_negative", "en", "utf-8", seed=3, links=[], snippets=[], pages=8)
    marked = 0
    for seed in range(12):
        spec = make_spec("hard_negative", "en", "utf-8", seed=seed, links=[], snippets=[], pages=4)
        files = _build(_news, spec, seed)
        pages = [_text(files, p) for p in files if p.endswith(".html") and p not in ("index.html", "search.html")]
        assert not any('class="entry-content"' in t for t in pages)  # negatives carry no piracy blurbs
        if any('"@type": "NewsArticle"' in t for t in pages):
            marked += 1
            doc = next(t for t in pages if "ld+json" in t)
            ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', doc).group(1))
            assert ld["@type"] == "NewsArticle" and ld["author"]["name"]
    assert 4 <= marked <= 12, marked
