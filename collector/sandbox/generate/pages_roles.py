"""What each kind of generated site shows: one builder per role, one per piracy category.

A builder draws the site's items (films, torrents, chapters, plans, cracks, books, albums,
products; for legal look-alikes titles with plans, releases with checksums, reports),
writes the inner pages (``spec.pages`` of them, linking to each other and home) and the
front page, which carries every ``spec.links`` URL. The wording is the language table's;
the layout is the ``Site``'s skeleton, drawn once per site.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from urllib.parse import quote

from collector.sandbox.generate.pages_site import Item, Site, e, slugify, torrent_file

CATEGORIES = ("streaming", "torrent", "ddl", "manga", "iptv", "warez", "ebook", "music", "counterfeit")
_CURRENCY = {"en": ("${v}", 1), "fr": ("{v} €", 1), "es": ("{v} €", 1), "de": ("{v} €", 1), "it": ("€ {v}", 1),
             "pt": ("R$ {v}", 5), "ru": ("{v} руб.", 90), "zh": ("{v}元", 7), "ja": ("{v}円", 150),
             "ko": ("{v}원", 1300), "ar": ("{v} $", 1), "tr": ("{v} TL", 30), "vi": ("{v}đ", 25000),
             "id": ("Rp {v}", 15000)}
_TRAP_WORDS = {"en": ("Calendar", "Archive"), "fr": ("Calendrier", "Archives"), "es": ("Calendario", "Archivo"),
               "pt": ("Calendário", "Arquivo"), "de": ("Kalender", "Archiv"), "it": ("Calendario", "Archivio"),
               "ru": ("Календарь", "Архив"), "zh": ("日历", "归档"), "ja": ("カレンダー", "アーカイブ"),
               "ko": ("달력", "보관함"), "ar": ("التقويم", "الأرشيف"), "tr": ("Takvim", "Arşiv"),
               "vi": ("Lịch", "Lưu trữ"), "id": ("Kalender", "Arsip")}
_QUALITY = ("HD", "1080p", "720p", "4K", "CAM", "HDRip", "WEB-DL")
_RELEASE = ("1080p WEB-DL x264", "2160p BluRay HEVC", "720p HDTV x265", "1080p BluRay DD5.1", "WEBRip 720p",
            "HDRip AVC", "2160p WEB-DL DV HDR")
_SOFT_A = ("Pixel", "Vector", "Audio", "Video", "Photo", "Disk", "Sound", "Code", "Frame", "Cloud", "Driver")
_SOFT_B = ("Forge", "Studio", "Master", "Suite", "Booster", "Cleaner", "Converter", "Editor", "Recorder")
_LUX_A = ("Vel", "Aur", "Cor", "Lum", "Sel", "Tor", "Vian", "Bel", "Mir", "Cas")
_LUX_B = ("elle", "ino", "ard", "esse", "ani", "ier", "ova", "enti")
_IFRAME_SRC = re.compile(r'<iframe[^>]*\ssrc="(https?://[^"]+)"', re.I)
_LOCAL_PATHS = {
    "streaming": {"es": ("pelicula", "ver"), "pt": ("filme", "assistir"), "tr": ("dizi", "film-izle"),
                  "id": ("nonton", "film"), "vi": ("phim", "xem-phim"), "fr": ("film-streaming",),
                  "de": ("stream", "filme"), "it": ("guarda", "film"), "ru": ("filmy", "serialy"),
                  "ar": ("watch", "aflam"), "ko": ("drama", "movie"), "ja": ("anime",), "zh": ("vod", "dy")},
    "manga": {"vi": ("truyen-tranh",), "id": ("komik",), "ko": ("webtoon",), "zh": ("manhua",),
              "ja": ("raw",), "es": ("leer",), "fr": ("scan",), "tr": ("oku",)},
}
"""Path words sites of a language use for their item pages, beside the international ones."""
_MODELS = ("Riviera", "Lune", "Signature", "Classic", "Mini", "Monogram", "Heritage", "Soho", "Camille", "Vega")
SECTIONS = ("movies", "tv", "music", "games", "software", "anime", "books", "xxx")
"""The media sections a piracy index's menu has, in the order of the ``sections`` words."""
_HARMLESS = ("linux-mint-22-cinnamon-64bit.iso", "debian-13.1.0-amd64-netinst.iso", "fedora-workstation-live-x86_64-43.iso",
             "ubuntu-24.04.3-desktop-amd64.iso", "archlinux-2026.11.01-x86_64.iso", "Blender 4.5 LTS (Linux x64)",
             "Apache OpenOffice 4.1 (Windows, multilanguage)", "LibreOffice 25.8 (Linux deb)", "GIMP 3.0 portable",
             "Inkscape 1.4 (AppImage)", "Big Buck Bunny 1080p (CC BY 3.0)", "Sintel 4K (CC BY 3.0)")
"""Harmless names a torrent index's search finds (free software, Linux images, open films)."""
_HOSTERS = ("1fichier", "Rapidgator", "Nitroflare", "Turbobit", "Uptobox", "Katfile", "Mega", "Mediafire")


def money(site: Site, usd: float) -> str:
    pattern, rate = _CURRENCY.get(site.spec.language, ("${v}", 1))
    value = usd * rate
    if rate == 1 and value < 100:
        shown = f"{value:.2f}" if site.spec.language in ("en", "zh", "ja", "ko") else f"{value:.2f}".replace(".", ",")
    else:
        shown = f"{round(value):,}"
        shown = shown if site.spec.language in ("en", "zh", "ja", "ko", "ar") else shown.replace(",", ".")
    return pattern.format(v=shown)


def _choose(site: Site, *options: str) -> str:
    return site.rng.choice(options)


def _related(site: Site, items: list[Item], me: Item) -> str:
    others = [i for i in items if i is not me]
    pick = site.rng.sample(others, min(len(others), site.rng.randint(2, 4)))
    if not pick:
        return f'<p><a href="/">{e(site.w("home"))}</a></p>'
    return (f'<div class="related"><h3>{e(site.w("more"))}</h3><ul>'
            + "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a></li>' for i in pick)
            + f'</ul><p><a href="/">{e(site.w("home"))}</a></p></div>')


def media_sections(site: Site, slugs: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """A menu of media sections (Movies, TV, Music, Games...) in the site's words, as search links.

    ``slugs`` names the sections to show; by default Movies and TV and a draw of the others."""
    labels = dict(zip(SECTIONS, site.words("sections"), strict=True))
    if not slugs:
        rest = [s for s in SECTIONS[2:] if s != "xxx" or site.rng.random() < 0.4]
        slugs = (*SECTIONS[:2], *sorted(site.rng.sample(rest, site.rng.randint(1, len(rest))), key=SECTIONS.index))
    return [(f"/search.html?cat={s}", labels[s]) for s in slugs]


def _front(site: Site, tag_key: str, items: list[Item], columns: list[str], blocks: list[str],
           heading: str = "", *, sections: bool = False, search: str = "") -> None:
    """The front page: a title, the site's blocks, its listing (or a JS container), its links.

    ``sections``: a piracy index that often has a media-section menu (torrents, downloads);
    ``search``: the body of search.html (default: a few of the site's own items)."""
    spec, w = site.spec, site.w
    title = _choose(site, f"{spec.brand} - {w(tag_key)}", f"{w(tag_key)} | {spec.brand}",
                    f"{w(tag_key)} 2026 - {spec.brand}" if spec.role == "piracy" else f"{spec.brand} — {w(tag_key)}")
    if random.Random(f"title:{spec.host}").random() < 0.25:  # many front pages are titled with the brand alone
        title = spec.brand
    if not site.nav:
        site.nav = [("/search.html", w("search"))] + ([("/" + items[0].path, w("popular"))] if items else [])
        if sections and site.rng.random() < 0.7:
            site.nav += media_sections(site)
        if spec.role == "piracy" and site.rng.random() < 0.6:
            genres = site.rng.sample(site.words("genres"), site.rng.randint(2, 5))
            site.nav += [(f"/search.html?genre={quote(g.lower())}", g) for g in genres]
        if spec.role == "piracy" and site.rng.random() < 0.6:  # many piracy sites have no DMCA page
            site.nav.append(("/dmca.html", "DMCA"))
            site.page("dmca.html", f"DMCA - {spec.brand}", f"<h1>DMCA</h1><p>{e(w('disclaimer'))}</p>")
    results = "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a></li>' for i in items[: site.rng.randint(1, 6)])
    site.page("search.html", f"{w('search')} - {spec.brand}", search or f"<h1>{e(w('search'))}</h1><ol>{results}</ol>")
    body = [f"<h1>{e(spec.brand)}</h1>" if site.rng.random() < 0.5 else f"<h2>{e(w(tag_key))}</h2>"]
    body.extend(blocks[:1])
    body.append(f"<h2>{e(heading or w('latest'))}</h2>")
    if spec.js_only:
        container = site.rng.choice(("list", "app", "items", "grid-root"))
        js_body, _ = site.js_front(items, container, f"{w('more')}: JavaScript")
        body.append(js_body)
    else:
        body.append(site.listing_html(items, columns))
        if len(items) > 2 and site.listing != "none" and site.rng.random() < 0.5:
            # a second shelf ("popular", "trending") showing some of the same items another way
            shelf = site.rng.sample(items, site.rng.randint(2, len(items)))
            own = site.listing
            site.listing = site.rng.choice([x for x in ("cards", "table", "list") if x != own])
            body.append(f"<h2>{e(w('popular'))}</h2>" + site.listing_html(shelf, columns[:1]))
            site.listing = own
    body.extend(blocks[1:])
    body.append(site.links_block(site.rng.choice((w("more"), w("related"), w("popular")))))
    site.page("index.html", title, "\n".join(b for b in body if b), front=True)


def hosters_named(site: Site, key: str) -> str:
    """Half the time, the file hosts a report or an article names ("File hosts: Rapidgator,
    1fichier"): writing about piracy names its services (drawn apart from the main sequence)."""
    r = random.Random(f"hosters:{site.spec.host}:{key}")
    if r.random() >= 0.5:
        return ""
    return f"<p>{e(site.w('hosts'))}: {e(', '.join(r.sample(_HOSTERS, r.randint(1, 3))))}</p>"


def _pirate_blocks(site: Site) -> list[str]:
    """The notes piracy sites often, not always, carry: a join-us / no-registration alert and a
    "we do not host any files" disclaimer (each about half the time, so some show neither)."""
    w = site.w
    notes = []
    if site.rng.random() < 0.5:
        notes.append(f'<div class="alert">{site.sentences(w("join_tg"), w("no_reg").capitalize())}</div>')
    if site.rng.random() < 0.5:
        notes.append(f'<p class="disclaimer">{e(w("disclaimer"))}</p>')
    site.rng.shuffle(notes)
    return notes


def tracker_table(site: Site, rows: list[tuple[str, ...]], first: str = "") -> str:
    """A tracker's table: (title, page href or "", magnet, .torrent href or "", size, seeders,
    leechers) per row; ``first`` is an optional leading column's header (a category)."""
    w = site.w
    cells = []
    for title, href, magnet, dl, size, se, le, *lead in rows:
        name = f'<a href="{e(href)}">{e(title)}</a>' if href else e(title)
        got = f'<a href="{e(magnet)}" title="{e(w("magnet"))}">🧲</a>' + (f' <a href="{e(dl)}">.torrent</a>' if dl else "")
        pre = f"<td>{e(lead[0])}</td>" if first else ""
        cells.append(f"<tr>{pre}<td>{name}</td><td>{got}</td><td>{e(size)}</td><td>{e(se)}</td><td>{e(le)}</td></tr>")
    head = (f"<th>{e(first)}</th>" if first else "") + f"<th>{e(w('topic'))}</th><th></th><th>{e(w('size'))}</th>"
    return (f'<table class="torrents"><thead><tr>{head}<th>{e(w("seeders"))}</th><th>{e(w("leechers"))}</th></tr>'
            f"</thead><tbody>{''.join(cells)}</tbody></table>")


def _harmless_search(site: Site) -> str:
    """search.html of a torrent index showing results for a harmless query (Linux ISOs, free
    software): the same table of magnets, sizes, seeders and leechers as its other listings."""
    r, w = site.rng, site.w
    query = r.choice(("linux", "iso", "open office", "blender", "free software"))
    rows = []
    for name in r.sample(_HARMLESS, r.randint(3, 6)):
        size = r.randint(90, 6000) * 2**20
        _, infohash = torrent_file(r, name, size)
        rows.append((name, "", f"magnet:?xt=urn:btih:{infohash}&dn={quote(name)}", "", f"{size / 2**30:.2f} GB",
                     str(r.randint(5, 3000)), str(r.randint(0, 400))))
    return f"<h1>{e(w('search'))}: {e(query)}</h1>" + tracker_table(site, rows)


def _player_src(site: Site) -> str:
    embeds = site.deep_links("/e/", "/embed", "/v/", "/player")
    embeds += [m for s in site.spec.snippets for m in _IFRAME_SRC.findall(s) if m not in embeds]
    if embeds:
        return site.rng.choice(embeds)
    token = site.token(10)
    site.page(f"embed/{token}.html", token, f'<video controls preload="none" src="/media/{token}.mp4"></video>',
              bare=True)
    return f"/embed/{token}.html"


# --- piracy categories -----------------------------------------------------------------


def _streaming(site: Site) -> None:
    w, r = site.w, site.rng
    prefix = r.choice(("film", "movie", "watch", "v", *_LOCAL_PATHS["streaming"].get(site.spec.language, ())))
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        year = r.randint(2019, 2026)
        series = r.random() < 0.4
        label = f"{name} - {site.numbered('season', r.randint(1, 4))}" if series else f"{name} ({year})"
        items.append(Item(site.item_path(prefix, name), label, year,
                          {"q": r.choice(_QUALITY), "l": r.choice((w("sub"), w("dub"))), "y": str(year),
                           "g": r.choice(site.words("genres")), "eps": str(r.randint(6, 16) if series else 0)}))
    for it in items:
        src = _player_src(site)
        mirrors = [src] + [_player_src(site) if r.random() < 0.3 else src for _ in range(r.randint(0, 3))]
        servers = "".join(f'<li data-link="{e(m)}"{" class=active" if k == 1 else ""}>{e(w("server"))} {k}</li>'
                          for k, m in enumerate(mirrors, 1))
        eps = int(it.extra["eps"])
        ep_list = ("<div class=\"episodes\">" + " ".join(
            f'<a href="#ep-{n}" data-ep="{n}">{e(site.numbered("episode", n))}</a>' for n in range(1, eps + 1))
                   + "</div>") if eps else ""
        tabs = "".join(f'<li data-type="{k}"{" class=active" if label == it.extra["l"] else ""}>{e(label)}</li>'
                       for k, label in (("sub", w("sub")), ("dub", w("dub"))))
        body = (f"<h1>{e(w('watch'))}: {e(it.title)}</h1><p>{e(it.extra['g'])} · {e(it.extra['q'])} · {it.year}</p>"
                f'<ul class="tabs">{tabs}</ul>'
                f'<div id="player"><iframe src="{e(src)}" width="100%" height="480" allowfullscreen '
                f'frameborder="0"></iframe></div><ul class="servers">{servers}</ul>'
                f"<p>{e(w('player_help'))}</p>{ep_list}{_related(site, items, it)}")
        site.page(it.path, f"{w('watch')} {it.title} {w('hd')} - {site.spec.brand}", body)
    _front(site, "tag_streaming", items, ["q", "l", "y"], _pirate_blocks(site), r.choice((w("latest"), w("popular"))))


def _torrent(site: Site) -> None:
    w, r = site.w, site.rng
    # real indexes differ in what each row shows (drawn from the host, so the main draw sequence
    # is unchanged): many list plain titles without scene tags (anime, games, books), many
    # are magnet-only, and some label a link to each detail page "Magnet" instead of linking
    # the magnet itself
    look = random.Random(f"torrent-look:{site.spec.host}")
    plain, magnet_only, labelled = look.random() < 0.4, look.random() < 0.4, look.random() < 0.25
    prefix = r.choice(("torrent", "details", "t", "description"))
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        year = r.randint(2018, 2026)
        release = f"{name} ({year}) {r.choice(_RELEASE)}"
        if plain:
            release = f"{name} ({year})"
        size = r.randint(700, 60000) * 1024 * 1024
        data, infohash = torrent_file(r, f"{slug_or(name, r)}.{year}.mkv", size)
        tid = str(r.randint(1_000_000, 9_999_999))
        site.files[f"dl/{tid}.torrent"] = data
        items.append(Item(site.item_path(prefix, name), release, year,
                          {"s": f"{size / 2**30:.2f} GB", "se": str(r.randint(0, 4000)), "le": str(r.randint(0, 900)),
                           "h": infohash, "id": tid, "d": f"2026-{r.randint(1, 11):02d}-{r.randint(1, 28):02d}"}))
    for it in items:
        magnet = f"magnet:?xt=urn:btih:{it.extra['h']}&dn={quote(it.title)}&tr=udp%3A%2F%2Ftracker.opentrackr.example%3A1337"
        body = (f"<h1>{e(it.title)}</h1><table class=\"details\"><tr><th>{e(w('size'))}</th><td>{e(it.extra['s'])}</td></tr>"
                f"<tr><th>{e(w('seeders'))}</th><td>{it.extra['se']}</td></tr><tr><th>{e(w('leechers'))}</th>"
                f"<td>{it.extra['le']}</td></tr><tr><th>{e(w('added'))}</th><td>{it.extra['d']}</td></tr>"
                f"<tr><th>Info hash</th><td><code>{it.extra['h']}</code></td></tr></table>"
                f"<ul class=\"files\"><li>{e(slug_or(it.title, r))}.mkv ({e(it.extra['s'])})</li>"
                + "".join(f"<li>{x}</li>" for x in r.sample(("Sample.mkv", "subs/rus.srt", "subs/eng.srt", "poster.jpg",
                                                            "readme.txt", "info.nfo"), r.randint(1, 3)))
                + f"</ul><div class=\"comments\"><p><b>{e(site.w('posted_by'))}</b>: {e(w('works'))}</p></div>"
                f'<p><a class="magnet" href="{e(magnet)}">{e(w("magnet"))}</a>'
                + ("" if magnet_only else f' · <a href="/dl/{it.extra["id"]}.torrent">{e(w("torrent_dl"))}</a>')
                + f"</p>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} - {w('torrent_dl')} - {site.spec.brand}", body)
    if site.spec.js_only:
        table = ""
    else:
        def get(i: Item) -> str:
            if labelled:
                return f'<a href="/{e(i.path)}#magnet">[{e(w("magnet"))}]</a>'
            link = (f'<a href="magnet:?xt=urn:btih:{i.extra["h"]}&amp;dn={e(quote(i.title))}" '
                    f'title="{e(w("magnet"))}">🧲</a>')
            return link + ("" if magnet_only else f' <a href="/dl/{i.extra["id"]}.torrent">.torrent</a>')

        rows = "".join(
            f'<tr><td><a href="/{e(i.path)}">{e(i.title)}</a></td><td>{get(i)}</td>'
            f"<td>{e(i.extra['s'])}</td><td>{i.extra['se']}</td><td>{i.extra['le']}</td></tr>"
            for i in items)
        table = (f"<table class=\"torrents\"><thead><tr><th>{e(w('topic'))}</th><th></th><th>{e(w('size'))}</th>"
                 f"<th>{e(w('seeders'))}</th><th>{e(w('leechers'))}</th></tr></thead><tbody>{rows}</tbody></table>")
    blocks = _pirate_blocks(site)
    site.listing = "none"
    search = _harmless_search(site) if r.random() < 0.3 else ""
    _front(site, "tag_torrent", items, [], [*blocks[:1], table, *blocks[1:]], sections=True, search=search)


def slug_or(name: str, r: random.Random) -> str:
    """A release-style dotted file name for a title (a number when the title is not Latin)."""
    return (slugify(name) or f"title{r.randint(100, 999)}").replace("-", ".")


def _download_buttons(site: Site, labels: list[str]) -> str:
    files = site.deep_links("/file", "/f/", "/d/", "/dl/", "/download", "/view/")
    hosters = site.rng.sample(_HOSTERS, 3)
    if files:
        links = [f'<a class="btn" href="{e(u)}" rel="nofollow">{e(labels[k % len(labels)])} – '
                 f"{e(site.link_label(u))}</a>" for k, u in enumerate(site.rng.sample(files, min(3, len(files))))]
    else:
        links = [f'<a class="btn" href="#download-{k}">{e(labels[k % len(labels)])} – {e(h)}</a>'
                 for k, h in enumerate(hosters)]
    return (f'<div class="downloads"><h3>{e(site.w("direct_dl"))}</h3>{" ".join(links)}'
            f"<p>{e(site.w('hosts'))}: {e(', '.join(hosters))}</p></div>")


def _ddl(site: Site) -> None:
    w, r = site.w, site.rng
    prefix = r.choice(("release", "dl", "post", "films"))
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        year = r.randint(2018, 2026)
        items.append(Item(site.item_path(prefix, name), f"{name} ({year}) {r.choice(_RELEASE)}", year,
                          {"g": r.choice(site.words("genres")), "s": f"{r.uniform(0.7, 25):.1f} GB",
                           "h": ", ".join(r.sample(_HOSTERS, 2))}))
    blocks = _pirate_blocks(site)
    disclaimer = f"<p>{e(w('disclaimer'))}</p>" if any('class="disclaimer"' in b for b in blocks) else ""
    for it in items:
        body = (f"<h1>{e(it.title)}</h1><p>{e(it.extra['g'])} · {e(w('size'))}: {e(it.extra['s'])}</p>"
                + _download_buttons(site, [w("download"), w("direct_dl")])
                + f"{disclaimer}{_related(site, items, it)}")
        site.page(it.path, f"{it.title} - {w('download')} - {site.spec.brand}", body)
    _front(site, "tag_ddl", items, ["g", "s", "h"], blocks, sections=True)


def _manga(site: Site) -> None:
    w, r = site.w, site.rng
    prefix = r.choice(("manga", "comic", "series", *_LOCAL_PATHS["manga"].get(site.spec.language, ())))
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        last = r.randint(12, 180)
        it = Item(site.item_path(prefix, name), name, r.randint(2015, 2026),
                  {"c": site.numbered("chapter", last), "n": str(last), "g": r.choice(site.words("genres"))})
        items.append(it)
    for it in items:
        base = it.path.removesuffix(".html")
        last = int(it.extra["n"])
        readers = [last - 1, last]
        for n in readers:
            imgs = "".join(f'<img src="/data/{base.rsplit("/", 1)[-1]}/{n}/{k:03d}.jpg" alt="{k}">'
                           for k in range(1, r.randint(12, 30)))
            nav = (f'<a href="/{e(base)}/{n - 1}.html">&lt;</a>' if n - 1 in readers else "") + \
                  f' <a href="/{e(it.path)}">{e(it.title)}</a> ' + \
                  (f'<a href="/{e(base)}/{n + 1}.html">&gt;</a>' if n + 1 in readers else "")
            site.page(f"{base}/{n}.html", f"{it.title} {site.numbered('chapter', n)} - {site.spec.brand}",
                      f"<h1>{e(it.title)} {e(site.numbered('chapter', n))}</h1><div class=\"nav\">{nav}</div>"
                      f'<div class="reader">{imgs}</div><div class="nav">{nav}</div>')
        chapters = "".join(
            (f'<li><a href="/{e(base)}/{n}.html">{e(site.numbered("chapter", n))}</a></li>' if n in readers
             else f"<li>{e(site.numbered('chapter', n))}</li>") for n in range(last, max(0, last - 20), -1))
        body = (f"<h1>{e(it.title)}</h1><p>{e(w('author'))}: {e(site.person())} · {e(it.extra['g'])}</p>"
                f'<p><a class="btn" href="/{e(base)}/{last}.html">{e(w("read"))}: {e(it.extra["c"])}</a></p>'
                f'<ul class="chapters">{chapters}</ul>{_related(site, items, it)}')
        site.page(it.path, f"{it.title} - {w('read')} - {site.spec.brand}", body)
    _front(site, "tag_manga", items, ["c", "g"], _pirate_blocks(site), w("new_chapter"))


def _iptv(site: Site) -> None:
    w, r = site.w, site.rng
    channels = r.choice((8000, 12000, 18000, 22000, 30000))
    m3u_path = r.choice(("lista/teste.m3u", "trial.m3u", "get/playlist.m3u", "m3u/demo.m3u"))
    user, pwd = site.token(6).lower(), site.token(8)
    lines = ["#EXTM3U"]
    for k in range(r.randint(6, 14)):
        cname = f"{r.choice(site.words('title_b'))} {r.choice(('HD', 'FHD', '4K', 'SD'))}"
        lines.append(f'#EXTINF:-1 tvg-id="ch{k}" group-title="{r.choice(site.words("genres"))}",{cname}')
        lines.append(f"http://{site.spec.host}:8080/live/{user}/{pwd}/{10000 + k}.ts")
    site.files[m3u_path] = "\n".join(lines) + "\n"
    months = [1, 3, 6, 12, 24, 2, 9, 18]
    items = []
    prefix = r.choice(("plan", "plano", "paket", "tarif", "abonnement"))
    for k in range(site.spec.pages):
        m = months[k % len(months)]
        price = money(site, round(9 * m * r.uniform(0.6, 0.95), 2))
        unit = w("month") if m == 1 else w("months")
        items.append(Item(site.item_path(prefix, f"iptv-{m}-{k}"), f"{w('plan')} {m} {unit}", 2026,
                          {"p": price, "s": str(1 + k % 3)}))
    # most resellers hand the trial playlist out by chat, not by a public link (drawn from the host)
    public = random.Random(f"m3u:{site.spec.host}").random() < 0.5
    trial = f"/{m3u_path}" if public else "#trial"
    for it in items:
        body = (f"<h1>{e(it.title)}</h1><p>{channels:,} {e(w('channels'))} · {e(w('price'))}: {e(it.extra['p'])}</p>"
                f'<p><a class="btn" href="{e(trial)}">{e(w("trial"))}{" (M3U)" if public else ""}</a></p>'
                f"<p>Xtream Codes: http://{e(site.spec.host)}:8080 · username / password</p>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} - IPTV - {site.spec.brand}", body)
    plans = "".join(f'<tr><td><a href="/{e(i.path)}">{e(i.title)}</a></td><td>{i.extra["s"]}</td>'
                    f"<td>{e(i.extra['p'])}</td></tr>" for i in items)
    table = (f"<table class=\"plans\"><tr><th>{e(w('plan'))}</th><th>📺</th><th>{e(w('price'))}</th></tr>{plans}</table>"
             if not site.spec.js_only else "")
    if table and random.Random(f"plans:{site.spec.host}").random() < 0.5:  # as resellers head their price lists
        table = f"<h2>{e(w('choose_plan'))}</h2>{table}"
    blocks = [f"<p>+{channels:,} {e(w('channels'))} · {e(w('tag_iptv'))}</p>",
              f'<p><a href="{e(trial)}">{e(w("trial"))}</a> · {e(w("reseller"))}</p>', table,
              *_pirate_blocks(site)]
    site.listing = "list"
    _front(site, "tag_iptv", items, ["p"], blocks, w("plans"))


def _warez(site: Site) -> None:
    w, r = site.w, site.rng
    prefix = r.choice(("software", "crack", "app", "soft"))
    items = []
    for _ in range(site.spec.pages):
        name = f"{r.choice(_SOFT_A)}{r.choice(_SOFT_B)} {r.choice(('Pro', 'Studio', 'Ultimate', ''))}".strip()
        ver = f"{r.randint(2, 30)}.{r.randint(0, 9)}.{r.randint(0, 99)}"
        tag = r.choice((w("crack"), w("keygen"), w("full_version"), w("mod_apk")))
        system = "Android" if tag == w("mod_apk") else r.choice(("Windows x64", "Windows 10/11", "macOS"))
        items.append(Item(site.item_path(prefix, f"{name} {ver}"), f"{name} {ver} + {tag}", 2026,
                          {"v": ver, "s": f"{r.randint(20, 4000)} MB", "os": system}))
    for it in items:
        body = (f"<h1>{e(it.title)}</h1><p>{e(w('full_version'))} · {e(it.extra['os'])} · {e(it.extra['s'])}</p>"
                f"<ol><li>{e(w('download'))}</li><li>{e(w('keygen'))}</li><li>{e(w('crack'))}</li></ol>"
                + _download_buttons(site, [w("free_dl"), w("download")])
                + f"<p>Password: {e(site.spec.host)}</p>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} - {w('free_dl')} - {site.spec.brand}", body)
    _front(site, "tag_warez", items, ["v", "os", "s"], _pirate_blocks(site))


def _ebook(site: Site) -> None:
    w, r = site.w, site.rng
    prefix = r.choice(("book", "ebook", "b", "md5"))
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        isbn = f"978{r.randint(10**9, 10**10 - 1)}"
        items.append(Item(site.item_path(prefix, isbn), name, r.randint(1990, 2026),
                          {"a": site.person(), "f": ", ".join(r.sample(("EPUB", "PDF", "MOBI", "FB2", "AZW3"), 2)),
                           "i": isbn, "s": f"{r.uniform(0.4, 40):.1f} MB"}))
    for it in items:
        body = (f"<h1>{e(it.title)}</h1><table><tr><th>{e(w('author'))}</th><td>{e(it.extra['a'])}</td></tr>"
                f"<tr><th>ISBN</th><td>{it.extra['i']}</td></tr><tr><th>{e(w('formats'))}</th>"
                f"<td>{e(it.extra['f'])}</td></tr><tr><th>{e(w('size'))}</th><td>{e(it.extra['s'])}</td></tr></table>"
                + _download_buttons(site, [f"{w('download')} {f}" for f in it.extra["f"].split(", ")])
                + _related(site, items, it))
        site.page(it.path, f"{it.title} - {it.extra['a']} - {w('download')} {it.extra['f']}", body)
    _front(site, "tag_ebook", items, ["a", "f", "s"], _pirate_blocks(site))


def _music(site: Site) -> None:
    w, r = site.w, site.rng
    prefix = r.choice(("album", "lagu", "music", "mp3"))
    items = []
    for _ in range(site.spec.pages):
        name, artist = site.title_name(), site.person()
        items.append(Item(site.item_path(prefix, f"{artist} {name}"), f"{artist} - {name} ({r.randint(2015, 2026)})",
                          2026, {"q": w("mp3_320"), "n": str(r.randint(6, 16)), "s": f"{r.randint(40, 180)} MB"}))
    for it in items:
        tracks = "".join(f'<li>{e(site.title_name())} <span>{r.randint(2, 5)}:{r.randint(0, 59):02d}</span> '
                         f'<a href="#t{k}">MP3</a></li>' for k in range(1, int(it.extra["n"]) + 1))
        body = (f"<h1>{e(it.title)}</h1><p>{e(w('album'))} · {e(it.extra['q'])} · {e(it.extra['s'])}</p>"
                f"<h3>{e(w('tracks'))}</h3><ol>{tracks}</ol>"
                + _download_buttons(site, [f"{w('download')} ZIP", w("free_dl")]) + _related(site, items, it))
        site.page(it.path, f"{it.title} - {w('download')} {w('mp3_320')}", body)
    _front(site, "tag_music", items, ["q", "s"], _pirate_blocks(site))


def _luxury_brand(site: Site) -> str:
    return f"{site.rng.choice(('Maison ', 'Casa ', ''))}{site.rng.choice(_LUX_A)}{site.rng.choice(_LUX_B)}"


def _counterfeit(site: Site) -> None:
    w, r = site.w, site.rng
    lux = _luxury_brand(site)
    prefix = r.choice(("product", "item", "p", "goods"))
    items = []
    for _ in range(site.spec.pages):
        product = r.choice(site.words("products"))
        full = r.randint(300, 4000)
        now = round(full * r.uniform(0.05, 0.15))
        model = r.choice(_MODELS)
        items.append(Item(site.item_path(prefix, f"{lux} {product} {model} {r.randint(1, 999)}"),
                          f"{lux} {model} {product} {w('replica')} AAA", 2026,
                          {"o": money(site, full), "p": money(site, now), "d": f"-{100 - round(100 * now / full)}%"}))
    for it in items:
        sizes = "".join(f"<option>{s}</option>" for s in r.sample(("XS", "S", "M", "L", "36", "38", "40", "42"), 4))
        body = (f"<h1>{e(it.title)}</h1><p><del>{e(it.extra['o'])}</del> <b>{e(it.extra['p'])}</b> "
                f"<span class=\"off\">{e(it.extra['d'])}</span></p><p>{site.sentences(w('aaa'), w('free_shipping'))}</p>"
                f'<form action="/cart.html" method="post"><select name="size">{sizes}</select>'
                f"<button>{e(w('add_cart'))}</button></form>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} - {w('sale')} {it.extra['d']}", body)
    blocks = [f'<div class="topbar">{e(w("sale"))} · {e(w("free_shipping"))} · {e(w("aaa"))}</div>',
              f"<p>{e(lux)} outlet: {e(w('replica'))} {e(w('aaa'))}</p>"]
    _front(site, "tag_counterfeit", items, ["o", "p", "d"], blocks, f"{lux} {w('sale')}")


PIRACY: dict[str, Callable[[Site], None]] = {
    "streaming": _streaming, "torrent": _torrent, "ddl": _ddl, "manga": _manga, "iptv": _iptv,
    "warez": _warez, "ebook": _ebook, "music": _music, "counterfeit": _counterfeit}


def build_piracy(site: Site) -> None:
    cat = site.spec.category if site.spec.category in PIRACY else site.rng.choice(CATEGORIES)
    PIRACY[cat](site)


# --- legal services and hard negatives ---------------------------------------------------


def _legal_footer(site: Site) -> str:
    w = site.w
    return (f'<p class="legal"><a href="/terms.html">{e(w("terms"))}</a> · <a href="/privacy.html">{e(w("privacy"))}'
            f'</a> · <a href="/copyright.html">{e(w("copyright_policy"))}</a> · {e(w("licensed"))}</p>')


def _legal_pages(site: Site) -> None:
    for name, key in (("terms.html", "terms"), ("privacy.html", "privacy"), ("copyright.html", "copyright_policy")):
        site.page(name, f"{site.w(key)} - {site.spec.brand}",
                  f"<h1>{e(site.w(key))}</h1><p>{site.sentences(site.w('licensed'), site.w('all_rights'))}</p>"
                  f"<p>{e(site.w('contact'))}: legal@{e(site.spec.host)}</p>")


def _plans_table(site: Site) -> str:
    w, r = site.w, site.rng
    base = r.choice((5.99, 6.99, 7.99, 8.99))
    cells = "".join(f"<td>{e(money(site, round(base * f, 2)))}/{e(w('month'))}</td>" for f in (1, 1.9, 2.9))
    return (f"<table class=\"plans\"><tr><th>{e(w('plans'))}</th><th>Basic</th><th>Standard</th><th>Premium</th></tr>"
            f"<tr><td>{e(w('price'))}</td>{cells}</tr><tr><td>{e(w('hd'))}</td><td>720p</td><td>1080p</td>"
            f"<td>4K HDR</td></tr></table><p>{e(w('cancel_anytime'))} <a href=\"/signup.html\">{e(w('start_trial'))}</a></p>")


def _streamer(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        items.append(Item(site.item_path("title", name), name, r.randint(2020, 2026),
                          {"g": r.choice(site.words("genres"))}))
    for it in items:
        body = (f"<h1>{e(it.title)}</h1><p>{e(it.extra['g'])} · {it.year} · {e(w('licensed'))}</p>"
                f'<p><a class="btn" href="/signup.html">{e(w("subscribe"))}</a> {e(w("rent"))} {e(money(site, 3.99))}'
                f" · {e(w('buy'))} {e(money(site, 14.99))}</p>{_related(site, items, it)}{_legal_footer(site)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    site.page("signup.html", f"{w('start_trial')} | {site.spec.brand}",
              f"<h1>{e(w('start_trial'))}</h1>{_plans_table(site)}<form><input name=\"email\" type=\"email\">"
              f"<button>{e(w('subscribe'))}</button></form>")
    _legal_pages(site)
    site.nav = [("/signup.html", w("plans")), ("/signup.html", w("sign_in"))]
    _front(site, "tag_streamer", items, ["g"], [f"<p>{site.sentences(w('start_trial'), w('cancel_anytime'))}</p>",
                                                _plans_table(site), _legal_footer(site)], w("catalogue"))


def _catalogue_shop(site: Site, tag: str, kind: str) -> None:
    """A vendor, a brand shop, a music or book store: items with prices, buy, legal notices."""
    w, r = site.w, site.rng
    lux = _luxury_brand(site) if kind == "shop" else ""
    prefix = r.choice(("products", "p", "shop", "store"))
    items = []
    for _ in range(site.spec.pages):
        if kind == "vendor":
            name = f"{r.choice(_SOFT_A)}{r.choice(_SOFT_B)} {r.randint(2024, 2026)}"
            price, extra = r.choice((49, 99, 199, 299)), w("trial")
        elif kind == "shop":
            name = f"{lux} {r.choice(site.words('products'))} {r.choice(_MODELS)}"
            price, extra = r.randint(300, 4000), w("official_store")
        elif kind == "music":
            name, price, extra = f"{site.person()} - {site.title_name()}", r.choice((9.99, 11.99, 12.99)), "FLAC / AAC"
        else:
            name, price, extra = f"{site.title_name()} — {site.person()}", r.choice((7.99, 9.99, 14.99)), "EPUB"
        items.append(Item(site.item_path(prefix, name), name, 2026,
                          {"p": money(site, price), "x": extra}))
    for it in items:
        buy = w("buy_license") if kind == "vendor" else w("buy")
        body = (f"<h1>{e(it.title)}</h1><p>{e(w('price'))}: <b>{e(it.extra['p'])}</b> · {e(it.extra['x'])}</p>"
                f'<form action="/checkout.html" method="post"><button>{e(buy)}</button></form>'
                + (f'<p><a href="/download/trial.html">{e(w("start_trial"))}</a> · {e(w("release_notes"))}</p>'
                   if kind == "vendor" else "")
                + (f"<p>{e(w('fake_warning'))}</p>" if kind == "shop" else "")
                + _related(site, items, it) + _legal_footer(site))
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    if kind == "vendor":
        site.page("download/trial.html", f"{w('start_trial')} | {site.spec.brand}",
                  f"<h1>{e(w('start_trial'))}</h1><p>{e(w('checksum'))}: <code>{site.hex(64)}</code></p>"
                  f'<p><a href="/download/setup-{site.hex(6)}.exe">{e(w("download"))}</a></p>')
    _legal_pages(site)
    blocks = [f"<p>{site.sentences(w(tag), w('official'))}</p>",
              f"<p>{e(w('fake_warning'))}</p>" if kind == "shop" else f"<p>{e(w('licensed'))}</p>",
              _legal_footer(site)]
    _front(site, tag, items, ["p", "x"], blocks, w("catalogue"))


def _blog(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        items.append(Item(site.item_path(r.choice(("review", "reviews", "post", "2026/11")), name),
                          f"{w('review')}: {name}", r.randint(2024, 2026), {"r": f"{r.randint(4, 10)}/10",
                                                                             "a": site.person()}))
    for it in items:
        body = (f"<article><h1>{e(it.title)}</h1><p class=\"by\">{e(w('posted_by'))} {e(it.extra['a'])} · "
                f"{e(w('rating'))}: {it.extra['r']}</p><p>{e(r.choice(site.words('genres')))} · {it.year}. "
                f"{e(w('watch'))}: {e(w('licensed'))}; {e(w('subscribe'))} / {e(w('rent'))}.</p>"
                f"<p>{e(w('read_more'))}…</p></article>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body,
                  head=site.article_head(random.Random(f"ld:{it.path}").choice(("BlogPosting", "Review", "Article")), it.title, it.extra["a"],
                                         f"{it.year}-10-01"))
    _front(site, "tag_blog", items, ["r", "a"], [f"<p>{e(w('tag_blog'))}</p>"], w("review"))


def _distro(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    major = r.randint(20, 40)
    tracker = r.random() < 0.5  # a Linux ISO tracker: sizes, seeders, leechers, magnets, like an index
    for k in range(site.spec.pages):
        ver = f"{major - k // 2}.{('04', '10')[k % 2]}"
        edition = r.choice(("desktop", "server", "netinst", "live", "arm64"))
        iso = f"{site.spec.brand.lower().replace(' ', '')}-{ver}-{edition}-amd64.iso"
        size = r.randint(800, 5000) * 2**20
        data, infohash = torrent_file(r, iso, size)
        site.files[f"releases/{ver}/{iso}.torrent"] = data
        items.append(Item(site.item_path("releases", f"release {ver} {edition}"), f"{site.spec.brand} {ver} ({edition})",
                          2026, {"v": ver, "iso": iso, "h": infohash, "sum": site.hex(64), "ed": edition,
                                 "s": f"{size / 2**30:.2f} GB", "se": str(r.randint(20, 5000)),
                                 "le": str(r.randint(0, 300))}))
    for it in items:
        magnet = f"magnet:?xt=urn:btih:{it.extra['h']}&dn={quote(it.extra['iso'])}"
        stats = (f"<table class=\"details\"><tr><th>{e(w('size'))}</th><td>{e(it.extra['s'])}</td></tr><tr><th>"
                 f"{e(w('seeders'))}</th><td>{it.extra['se']}</td></tr><tr><th>{e(w('leechers'))}</th><td>"
                 f"{it.extra['le']}</td></tr></table>") if tracker else ""
        body = (f"<h1>{e(it.title)}</h1>{stats}<p>{e(w('release_notes'))} · {e(w('tag_distro'))}</p>"
                f'<p><a href="/releases/{it.extra["v"]}/{e(it.extra["iso"])}.torrent">{e(w("torrent_dl"))}</a> · '
                f'<a href="{e(magnet)}">{e(w("magnet"))}</a></p><p>{e(w("checksum"))}: <code>{it.extra["sum"]}</code>'
                f"</p><p>{e(w('free'))} · GPL · {e(w('mirrors'))}</p>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    site.page("donate.html", f"{w('donate')} | {site.spec.brand}", f"<h1>{e(w('donate'))}</h1><p>{e(w('free'))}</p>")
    blocks = [f"<p>{site.sentences(w('tag_distro'), w('free'))}</p>", f'<p><a href="/donate.html">{e(w("donate"))}</a></p>']
    if tracker and not site.spec.js_only:
        rows = [(it.title, f"/{it.path}", f"magnet:?xt=urn:btih:{it.extra['h']}&dn={quote(it.extra['iso'])}",
                 f"/releases/{it.extra['v']}/{it.extra['iso']}.torrent", it.extra["s"], it.extra["se"], it.extra["le"],
                 f"{it.extra['v']} / {it.extra['ed']}") for it in items]
        blocks.insert(1, tracker_table(site, rows, "Version"))
        editions = sorted({it.extra["ed"] for it in items})
        site.nav = [("/search.html", w("search"))] + [(f"/search.html?edition={ed}", ed.capitalize()) for ed in editions]
    _front(site, "tag_distro", items, ["v"], blocks, w("download"))


def _antipiracy(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        year = r.randint(2020, 2026)
        items.append(Item(site.item_path("reports", f"report {year} {site.hex(4)}"),
                          f"{w('report')} {year}: {site.title_name()}", year, {"y": str(year)}))
    for it in items:
        rows = "".join(f"<tr><td>{e(site.title_name())}-{r.randint(1, 99)}[.]{r.choice(('xyz', 'to', 'cc', 'io'))}</td>"
                       f"<td>{e(r.choice(CATEGORIES))}</td></tr>" for _ in range(r.randint(3, 8)))
        body = (f"<h1>{e(it.title)}</h1><p>{e(w('tag_antipiracy'))}.</p><table>{rows}</table>"
                f"<p>{site.sentences(w('report'), w('licensed'), w('copyright_policy'))}</p>"
                f"{hosters_named(site, it.path)}{_related(site, items, it)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    _front(site, "tag_antipiracy", items, ["y"], [f"<p>{e(w('tag_antipiracy'))}.</p>"], w("report"))


def _archive(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        name = site.title_name()
        year = r.randint(1915, 1960)
        items.append(Item(site.item_path("films", f"{name} {year}"), f"{name} ({year})", year,
                          {"y": str(year), "l": w("public_domain")}))
    for it in items:
        token = site.hex(10)
        body = (f"<h1>{e(it.title)}</h1><video controls preload=\"none\" src=\"/media/{token}.mp4\"></video>"
                f"<p>{e(w('public_domain'))} · {e(w('free'))} · <a href=\"/media/{token}.mp4\">{e(w('download'))} MP4</a>"
                f"</p>{_related(site, items, it)}")
        site.page(it.path, f"{it.title} | {site.spec.brand}", body)
    _front(site, "tag_archive", items, ["y", "l"], [f"<p>{e(w('tag_archive'))}.</p>"], w("public_domain"))


LEGAL = (lambda s: _streamer(s), lambda s: _catalogue_shop(s, "tag_vendor", "vendor"),
         lambda s: _catalogue_shop(s, "tag_shop", "shop"), lambda s: _catalogue_shop(s, "tag_musicstore", "music"),
         lambda s: _catalogue_shop(s, "tag_bookstore", "book"))
HARD_NEGATIVE = (_blog, _distro, _antipiracy, _archive)
"""The hard negatives written here; :mod:`~collector.sandbox.generate.pages_negatives` adds more."""


def build_legal(site: Site) -> None:
    site.rng.choice(LEGAL)(site)
