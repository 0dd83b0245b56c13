"""Classifier findings on small hand-written pages: each fires where it should and not on
the ordinary page it could be mistaken for (a news article, a distribution tracker, a
licensed service). Findings are raw counts before weighting (``Classifier.page_findings``);
a finding "fires" when its count reaches the signal's ``min``."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from spiders.classify import Classifier, PageInput
from spiders.classify.features import Finding

MAGNET = "magnet:?xt=urn:btih:{:040x}&dn=x"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


def fired(clf: Classifier, html: str, url: str = "https://site.example/", title: str = "") -> dict[str, Finding]:
    """Findings of ``html`` that reach their signal's ``min`` count."""
    found = clf.page_findings(PageInput(url=url, status=200, title=title, html=html))
    rules = clf.rules.signals
    return {f.name: f for f in found if f.name in rules and f.count >= rules[f.name].min_count}


def crawled(clf: Classifier, body: bytes, url: str = "https://site.example/") -> dict[str, Finding]:
    """Findings of raw bytes decoded the way the crawl decodes them (scrapy's HtmlResponse)."""
    text = HtmlResponse(url, body=body).text
    return fired(clf, text, url)


def rows(n: int, size: str = "1.4 GB", name: str = "ubuntu-24.04-desktop-amd64.iso") -> str:
    return "".join(f'<tr><td><a href="{MAGNET.format(i + 1)}">{name} {i}</a></td><td>{size}</td>'
                   f"<td>{10 + i}</td><td>{i}</td></tr>" for i in range(n))


# -- media sections and torrent sizes ---------------------------------------------------

RU_INDEX = (
    '<html lang="ru"><head><title>Поиск: linux</title></head><body><nav>'
    '<a href="/c/1">Фильмы</a><a href="/c/2">Сериалы</a><a href="/c/3">Игры</a>'
    '<a href="/c/4">Музыка</a><a href="/c/5">Программы</a><a href="/c/6">Аниме</a></nav>'
    "<table><tr><th>Название</th><th>Размер</th><th>Сиды</th><th>Пиры</th></tr>"
    + rows(8, "4,37 ГБ") + "</table></body></html>"
)
ZH_INDEX = (
    '<html lang="zh"><body><div class="menu"><a href="/m">电影</a> <a href="/tv">电视剧</a>'
    '<a href="/g">游戏</a><a href="/a">动漫</a><a href="/s">软件</a></div>'
    "<table>" + rows(6, "700 MB") + "</table></body></html>"
)
ES_SELECT = (
    '<html lang="es"><body><form action="/buscar"><select name="cat"><option>Todas</option>'
    "<option>Películas</option><option>Series</option><option>Juegos</option><option>Música</option>"
    '</select></form><table>' + rows(5, "2.1 GiB") + "</table></body></html>"
)
DISTRO_TRACKER = (
    "<html><head><title>Linux ISO tracker</title></head><body><nav>"
    '<a href="/">Home</a><a href="/browse">Browse</a><a href="/d/ubuntu">Ubuntu</a><a href="/d/debian">Debian</a>'
    '<a href="/d/fedora">Fedora</a><a href="/d/arch">Arch Linux</a><a href="/d/bsd">BSD</a><a href="/faq">FAQ</a></nav>'
    "<table><tr><th>Name</th><th>Size</th><th>Seeders</th><th>Leechers</th></tr>"
    + rows(5, "5.7 GB") + rows(3, "2.6 GB", "Ubuntu Server 22.04 LTS 64-bit") + rows(2, "1 GB", "Debian server 12.5 server 64-bit")
    + "</table><p>Verify the checksum of every ISO image.</p></body></html>"
)
NEWS_ON_PIRACY = (
    '<html><head><title>Court orders ISPs to block torrent sites</title>'
    '<meta property="og:type" content="article"><meta name="author" content="A. Reporter"></head><body>'
    '<nav><a href="/world">World</a><a href="/politics">Politics</a><a href="/business">Business</a>'
    '<a href="/tech">Tech</a><a href="/sport">Sport</a></nav><article><p>A court ordered internet providers '
    "to block several torrent sites, according to a statement. One 4 GB file of a film was shared by "
    "thousands of peers, the rights holders said. The site's operator was arrested.</p></article></body></html>"
)


@pytest.mark.parametrize("page", [RU_INDEX, ZH_INDEX, ES_SELECT], ids=["ru-nav", "zh-nav", "es-select"])
def test_media_sections_name_a_piracy_index(clf, page):
    found = fired(clf, page)
    assert "media_sections" in found, found
    assert found["media_sections"].count >= 4
    assert "torrent_sizes" in found
    assert clf.rules.signals["media_sections"].category is None  # context, never a category


def test_no_media_sections_on_a_distribution_tracker_or_a_news_article(clf):
    tracker = fired(clf, DISTRO_TRACKER)
    assert "media_sections" not in tracker
    assert "server_list" not in tracker  # "Ubuntu Server 22.04", "server 64-bit" are versions
    assert "magnet_links" in tracker  # it is a torrent site, only not one sectioned by media
    news = fired(clf, NEWS_ON_PIRACY)
    assert "media_sections" not in news and "torrent_sizes" not in news


def test_torrent_sizes_need_torrents_beside_them(clf):
    sizes_only = "<html><body><table>" + "".join(
        f"<tr><td><a href='/dl/tool-{i}.zip'>tool {i}</a></td><td>{i + 1}.2 MB</td></tr>" for i in range(10)
    ) + "</table></body></html>"
    assert "torrent_sizes" not in fired(clf, sizes_only)
    found = fired(clf, "<html><body><table>" + rows(12, "1.37 GiB") + "</table></body></html>")
    assert found["torrent_sizes"].count == 12


def test_a_torrent_listing_under_media_sections_is_a_media_index(clf):
    for page in (RU_INDEX, ZH_INDEX, ES_SELECT):
        found = fired(clf, page)
        assert found["media_index"].count == found["media_sections"].count
        assert clf.rules.signals["media_index"].category == "torrent"
    assert "media_index" not in fired(clf, DISTRO_TRACKER)  # torrents, but no media sections
    assert "media_index" not in fired(clf, NEWS_ON_PIRACY)  # sections, but no torrents
    # media sections beside two magnets and no swarm columns are not yet an index
    two = "<html><body><nav><a href='/m'>Movies</a><a href='/g'>Games</a><a href='/a'>Anime</a></nav>" \
          + "".join(f"<a href='{MAGNET.format(i + 1)}'>x</a>" for i in range(2)) + "</body></html>"
    assert "media_index" not in fired(clf, two)


SEARCH_ANCHORS = (
    "<html lang='zh'><body><nav><a href='/c/movie'>Movies</a><a href='/c/music'>Music</a>"
    "<a href='/c/soft'>Software</a><a href='/c/books'>Books</a></nav><ol>"
    + "".join(f"<li>{i}. ubuntu-{i}.torrent <a href='/t/{i}.html#download'>[下载BT种子]</a> "
              f"<a href='/t/{i}.html#magnetlink'>[Magnet Link]</a> Size : 1.{i} GB</li>" for i in range(1, 9))
    + "</ol></body></html>"
)


def test_links_labelled_magnet_or_torrent_count_as_torrent_rows(clf):
    found = fired(clf, SEARCH_ANCHORS)
    assert found["torrent_anchors"].count == 16  # two labelled links per row, to its detail page
    assert "magnet_links" not in found and "torrent_files" not in found
    assert found["torrent_sizes"].count == 8  # sizes count beside labelled torrent links too
    assert "media_index" in found
    # a menu entry "Torrents" or a long sentence naming magnets is not a labelled download link
    menu = "<html><body><a href='/torrents'>Torrents</a><a href='/faq'>What is a magnet link and how do I " \
           "open one in my client?</a><a href='/x'>Magnet</a></body></html>"
    assert "torrent_anchors" not in fired(clf, menu)


# -- streaming: server lists and sub/dub ------------------------------------------------

ANIME_EN = (
    "<html><head><title>Watch anime</title></head><body><div class='servers'>"
    "<span>Servers: Server 1, Server 2, Server 3.</span></div>"
    "<ul>" + "".join(f"<li><a href='/ep/{i}'>Episode {i}</a> SUB | DUB</li>" for i in range(1, 13)) + "</ul></body></html>"
)
DRAMA_ZH = (
    "<html lang='zh'><body><div>播放线路：<a href='#'>线路1</a> <a href='#'>线路2</a></div>"
    "<ul>" + "".join(f"<li><a href='/v/{i}'>第{i}集</a> 中字</li>" for i in range(1, 9)) + "</ul></body></html>"
)
FR_NAMED_HOSTS = (
    "<html lang='fr'><body><p>Choisissez un lecteur :</p><ul><li><a href='#'>Streamtape</a></li>"
    "<li><a href='#'>Filemoon</a></li><li><a href='#'>Doodstream</a></li></ul>"
    "<ul>" + "".join(f"<li>Épisode {i} VOSTFR</li>" for i in range(1, 7)) + "</ul></body></html>"
)
LICENSED_SERVICE = (
    "<html><head><title>Season 2 | StreamCo</title></head><body><a href='/plans'>Choose your plan</a>"
    "<ul>" + "".join(f"<li>Episode {i}: The journey continues</li>" for i in range(1, 11)) + "</ul>"
    "<button>Watch now</button><p>Cancel anytime. Windows Server 2022 status: all systems normal.</p></body></html>"
)


@pytest.mark.parametrize("page,servers", [(ANIME_EN, 3), (DRAMA_ZH, 2), (FR_NAMED_HOSTS, 3)], ids=["en", "zh", "fr-hosts"])
def test_server_list_and_sub_dub_on_streaming_listings(clf, page, servers):
    found = fired(clf, page)
    assert found["server_list"].count == servers
    assert "sub_dub" in found
    assert clf.rules.signals["server_list"].category == "streaming"
    assert clf.rules.signals["sub_dub"].category == "streaming"


def test_no_server_list_or_sub_dub_on_a_licensed_episode_guide(clf):
    found = fired(clf, LICENSED_SERVICE)
    assert "episode_list" in found  # the episodes are listed...
    assert "server_list" not in found and "sub_dub" not in found  # ...but offered on no servers, in no versions


# -- manga readers in CJK ----------------------------------------------------------------

@pytest.mark.parametrize("chapters", [
    "".join(f"<a href='/c/{n}'>第{n}话</a>" for n in ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")),
    "".join(f"<a href='/c/{n}'>第{n}話</a>" for n in range(1, 13)),
    "".join(f"<a href='/c/{n}'>{n}화</a>" for n in range(1, 13)),
], ids=["zh-numerals", "ja", "ko"])
def test_chapter_lists_in_cjk(clf, chapters):
    found = fired(clf, f"<html><body><div>{chapters}</div></body></html>")
    assert found["chapter_list"].count == 12


def test_manga_navigation_words_in_ja_ko(clf):
    assert "lex_manga" in fired(clf, "<html lang='ja'><body><a href='/p'>前話</a> <a href='/n'>次話</a> <a href='/l'>話一覧</a></body></html>")
    assert "lex_manga" in fired(clf, "<html lang='ko'><body><a href='/f'>첫화보기</a> <span>연재중</span></body></html>")


def test_a_chinese_news_article_has_no_chapters(clf):
    news = "<html lang='zh'><body><p>" + "".join(f"第{n}届电影节于北京举行。" for n in range(1, 13)) + "</p></body></html>"
    assert "chapter_list" not in fired(clf, news)


# -- HTML fragments and legacy charsets, decoded as the crawl decodes ---------------------

@pytest.mark.parametrize("charset,codec,text", [
    ("windows-1251", "cp1251", "Фильмы Сериалы Игры Музыка Программы"),
    ("gbk", "gbk", "电影 电视剧 游戏 动漫 软件"),
    ("shift_jis", "shift_jis", "映画 ドラマ ゲーム アニメ アプリ"),
])
def test_legacy_charsets_decode_to_findings(clf, charset, codec, text):
    nav = "".join(f"<a href='/s{i}'>{word}</a>" for i, word in enumerate(text.split()))
    body = (f"<html><head><meta http-equiv='Content-Type' content='text/html; charset={charset}'>"
            f"</head><body>{nav}<table>{rows(6, '1.4 GB')}</table></body></html>").encode(codec)
    found = crawled(clf, body)
    assert found["media_sections"].count == 5
    assert found["magnet_links"].count == 6


def test_a_fragment_without_html_or_head(clf):
    body = ("<div><a href='/f'>Filmes</a><a href='/s'>Séries</a><a href='/j'>Jogos</a></div>" + rows(5, "700 MB")).encode()
    found = crawled(clf, body)
    assert found["media_sections"].count == 3 and found["magnet_links"].count == 5


def test_an_xhtml_page_with_an_xml_declaration_keeps_its_links(clf):
    # lxml refuses decoded text that declares an encoding: the page must not lose its links
    nav = "".join(f"<a href='/s{i}'>{w}</a>" for i, w in enumerate(("映画", "ドラマ", "アニメ", "ゲーム")))
    body = ("<?xml version='1.0' encoding='shift_jis'?>\n<!DOCTYPE html><html xmlns='http://www.w3.org/1999/xhtml'>"
            "<head><title>x</title></head><body>" + nav + rows(5, "2 GB") + "</body></html>").encode("shift_jis")
    page = clf.page_findings(PageInput(url="https://site.example/", status=200, title="",
                                       html=HtmlResponse("https://site.example/", body=body).text))
    found = {f.name: f for f in page}
    assert found["media_sections"].count == 4
    assert found["torrent_sizes"].count == 5


# -- DMCA boilerplate is not counter-evidence ---------------------------------------------

@pytest.mark.parametrize("footer", [
    "<a href='/dmca'>DMCA</a> <a href='/ip'>Intellectual property</a> Send a takedown notice or a DMCA notice; "
    "rights holders may report infringing content.",
    "<a href='/pr'>Правообладателям</a> Правообладатели могут направить жалобу. Интеллектуальная собственность.",
    "<a href='/c'>侵权举报</a> 如权利人认为本站内容侵犯其知识产权，请联系我们。版权保护",
])
def test_dmca_boilerplate_is_not_against(clf, footer):
    found = fired(clf, f"<html><body><h1>Latest uploads</h1><footer>{footer}</footer></body></html>")
    assert "lex_neg_antipiracy" not in found


def test_an_anti_piracy_organisation_is_still_against(clf):
    found = fired(clf, "<html><body><p>Report piracy to the anti-piracy alliance. "
                       "The rights holders' association coordinates site blocking.</p></body></html>")
    assert found["lex_neg_antipiracy"].count >= 2


# -- piracy brands ----------------------------------------------------------------------

@pytest.mark.parametrize("url,title", [
    ("https://the1337x-proxy.example/", "Torrents"),
    ("https://rarbg2.example/", "Home"),
    ("https://example.org/", "1337x Proxy - working mirrors"),
    ("https://example.net/", "Mangakakalot - 最新章节"),
])
def test_piracy_brand_in_host_or_title(clf, url, title):
    found = fired(clf, "<html><body><p>hello</p></body></html>", url=url, title=title)
    assert found["piracy_brand"].count == 1
    assert clf.rules.signals["piracy_brand"].role == "context"


def test_no_piracy_brand_on_lookalike_names_or_in_body_text(clf):
    for url, title in (("https://ytsomething.example/", "Knitting patterns"),
                       ("https://news.example/", "Court orders ISPs to block torrent sites")):
        body = "<html><body><p>Sites such as 1337x and rarbg were blocked, the court said.</p></body></html>"
        assert "piracy_brand" not in fired(clf, body, url=url, title=title)


def test_brand_clone_word_is_reported(clf):
    found = fired(clf, "<html><body></body></html>", url="https://example.org/", title="1337x Unblocked")
    assert "unblocked" in found["piracy_brand"].detail


# -- mod APKs, IPTV resellers, replica shops --------------------------------------------

@pytest.mark.parametrize("lang,text,section", [
    ("en", "Download the latest mod apk: unlimited coins, premium unlocked, mod menu.", "lex_warez"),
    ("es", "Descarga el apk mod con dinero infinito y premium desbloqueado.", "lex_warez"),
    ("tr", "Para hileli apk, sınırsız para, mod apk indir.", "lex_warez"),
    ("en", "IPTV free trial: set up IPTV Smarters Pro or XCIPTV on Firestick.", "lex_iptv"),
    ("fr", "Abonnement IPTV 12 mois, test IPTV gratuit, chaînes + VOD.", "lex_iptv"),
    ("en", "Super fake watches, 7A quality, luxury replica shoes.", "lex_counterfeit"),
    ("id", "Tas KW premium dan sepatu KW grade ori.", "lex_counterfeit"),
])
def test_mod_apk_iptv_and_replica_vocabulary(clf, lang, text, section):
    found = fired(clf, f"<html lang='{lang}'><body><p>{text}</p></body></html>")
    assert found[section].count >= 2


def test_ordinary_app_and_fitness_pages_have_no_such_vocabulary(clf):
    found = fired(clf, "<html><body><p>Our app has no ads for subscribers. Do 3 sets of 10 reps; "
                       "the first copy of the book sold out.</p></body></html>")
    assert not {"lex_warez", "lex_counterfeit", "lex_iptv"} & set(found)
