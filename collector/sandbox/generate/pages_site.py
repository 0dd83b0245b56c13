"""The state of one generated site being written (:class:`Site`) and the helpers every role's
builder uses (escaping, charsets, slugs, torrents): HTML pages in the site's language and
charset. :func:`collector.sandbox.generate.pages.render_site` puts a site together from them.

``render_site`` turns a :class:`SiteSpec` into ``{relative path: bytes}``. Every choice --
skeleton (HTML5 header/main/footer, an old table layout, a Bootstrap-like grid, a bare
page), listing style (cards, table, list), titles, item names, counts, paths -- is drawn
from the caller's ``random.Random``, so one seed gives one site, byte for byte, and twenty
seeds give sites that do not share one template. What a kind of site says comes from
``pages_words`` (14 languages); what it shows per role comes from ``pages_roles``.

Text is escaped where it is placed; ``spec.snippets`` (analytics, wallets, contacts) are
placed verbatim, all on the front page and some on inner pages. HTML is encoded in
``spec.charset`` with a matching ``<meta charset>`` (one legacy inner page in ten has
none, as old sites do); characters the charset lacks become character references.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import json
import random
import re
import unicodedata
from dataclasses import dataclass, field

from collector.sandbox.generate.adverts import PROMO_MARK
from collector.sandbox.generate.pages_words import TITLE_ORDER, WORDS
from collector.sandbox.generate.spec import SiteSpec

SKELETONS = ("html5", "table", "grid", "bare")
LISTINGS = ("cards", "table", "list")
_CHARSET_LABELS = {"utf-8": "utf-8", "cp1251": "windows-1251", "koi8-r": "koi8-r", "gbk": "gbk",
                   "gb18030": "gb18030", "gb2312": "gb2312", "shift_jis": "Shift_JIS", "euc_jp": "EUC-JP",
                   "euc_kr": "EUC-KR", "iso8859-1": "iso-8859-1", "cp1252": "windows-1252",
                   "cp1254": "windows-1254", "cp1256": "windows-1256"}
_NUMBERED = {
    "zh": {"episode": "第{n}集", "chapter": "第{n}话", "season": "第{n}季", "page": "第{n}页"},
    "ja": {"episode": "第{n}話", "chapter": "第{n}話", "season": "第{n}期", "page": "{n}ページ"},
    "ko": {"episode": "{n}화", "chapter": "{n}화", "season": "시즌 {n}", "page": "{n} 페이지"},
    "tr": {"episode": "{n}. Bölüm", "chapter": "{n}. Bölüm", "season": "{n}. Sezon", "page": "Sayfa {n}"},
}


_COLUMN_WORDS = {"s": "size", "h": "hosts", "c": "chapter", "p": "price", "o": "price", "d": "sale", "a": "author",
                 "f": "formats", "r": "rating", "se": "seeders", "le": "leechers"}
"""Item ``extra`` keys -> the word a listing's column header shows (others have a blank header)."""
_FULL_STOP = {"zh": "。", "ja": "。"}


def e(text: object) -> str:
    """HTML-escape text and attribute values alike."""
    return html.escape(str(text), quote=True)


def charset_label(charset: str) -> str:
    """The label a page declares for a Python codec name (windows-1251, Shift_JIS, ...)."""
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return charset
    return _CHARSET_LABELS.get(name, charset)


def slugify(text: str) -> str:
    """An ASCII path segment for a Latin-script name; empty for other scripts."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug if len(slug) >= 3 and len(slug) * 2 >= len(text) else ""


def theme_dir(theme: str) -> str:
    """The folder a theme's files live in ("WP-Cinema 1.9" -> "wp-cinema-1.9"), as CMSs slug them."""
    return re.sub(r"[^a-z0-9._-]+", "-", theme.lower()).strip("-") or "theme"


def js_string(value: object) -> str:
    """JSON for a script body: ``<`` escaped so no text can close the script element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


@dataclass
class Item:
    """One thing a site lists: a film, a torrent, a book, a product, a thread, a file."""

    path: str
    title: str
    year: int
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    """The state of one site being written: its spec, its draws, its files."""

    rng: random.Random
    spec: SiteSpec
    skeleton: str = ""
    listing: str = ""
    scripts_in_head: bool = True
    meta_style: int = 0
    css: str = ""
    files: dict[str, str | bytes] = field(default_factory=dict)
    nav: list[tuple[str, str]] = field(default_factory=list)
    extra_nav: list[tuple[str, str]] = field(default_factory=list)
    used_titles: set[str] = field(default_factory=set)
    table: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    pending: list[tuple[str, str, str, bool, str, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        r = self.rng
        self.skeleton = r.choice(SKELETONS)
        # many piracy sites run blog software that marks every page up as an article (author,
        # publication time): drawn from the host, so the main draw sequence is unchanged
        self.blog_markup = self.spec.role == "piracy" and random.Random(f"blog:{self.spec.host}").random() < 0.35
        # and many paste a synopsis, a critics' line or an SEO review beside each title
        # (pages_editorial): drawn from the host too
        self.editorial = self.spec.role == "piracy" and random.Random(f"editorial:{self.spec.host}").random() < 0.3
        self.listing = r.choice(LISTINGS)
        if self.spec.theme:  # sites on one theme share its layout, as WordPress sites do
            theme_rng = random.Random(f"theme/{self.spec.theme}")
            self.skeleton, self.listing = theme_rng.choice(SKELETONS), theme_rng.choice(LISTINGS)
        self.scripts_in_head = r.random() < 0.6
        self.meta_style = r.randrange(2)
        self.table = WORDS.get(self.spec.language, WORDS["en"])
        if self.spec.theme:
            self.css = f"/wp-content/themes/{theme_dir(self.spec.theme)}/style.css"
        else:
            self.css = r.choice(("/assets/css/style.css", "/static/main.css", "/css/app.min.css", ""))

    # --- words -----------------------------------------------------------------------

    def w(self, key: str, **fmt: object) -> str:
        """A phrase in the site's language (English for a key a language lacks)."""
        value = self.table.get(key) or WORDS["en"][key]
        assert isinstance(value, str)
        return value.format(**fmt) if fmt else value

    def sentences(self, *parts: str) -> str:
        """Phrases joined as sentences with the language's full stop (escaped)."""
        stop = _FULL_STOP.get(self.spec.language, ". ")
        return e(stop.join(p.rstrip(".。!！ ") for p in parts if p) + stop.strip())

    def words(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key) or WORDS["en"][key]
        assert isinstance(value, tuple)
        return value

    def numbered(self, key: str, n: int) -> str:
        """"Episode 3", "第3集", "3화", "3. Bölüm"."""
        pattern = _NUMBERED.get(self.spec.language, {}).get(key)
        return pattern.format(n=n) if pattern else f"{self.w(key)} {n}"

    def title_name(self) -> str:
        """An invented title from the language's two word lists, not repeated on the site."""
        sep = TITLE_ORDER.get(self.spec.language, " ")
        for _ in range(20):
            name = f"{self.rng.choice(self.words('title_a'))}{sep}{self.rng.choice(self.words('title_b'))}"
            if name not in self.used_titles:
                break
        self.used_titles.add(name)
        return name

    def person(self) -> str:
        first, last = self.rng.choice(self.words("first_names")), self.rng.choice(self.words("last_names"))
        return f"{last}{first}" if self.spec.language in ("zh", "ja", "ko") else f"{first} {last}"

    def item_path(self, prefix: str, name: str, ext: str = ".html") -> str:
        """A path for an item: its slug where the name is Latin, else a number (as CJK sites do)."""
        slug = slugify(name) or str(self.rng.randint(1000, 99999))
        path = f"{prefix}/{slug}{ext}"
        while path in self.files:
            path = f"{prefix}/{slug}-{self.rng.randint(2, 99)}{ext}"
        self.files[path] = ""  # reserved
        return path

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def token(self, n: int) -> str:
        return "".join(self.rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                       for _ in range(n))

    # --- links -----------------------------------------------------------------------

    def deep_links(self, *needles: str) -> list[str]:
        """spec.links with a path containing one of ``needles`` (embeds, file pages)."""
        out = []
        for url in self.spec.links:
            path = url.split("://", 1)[-1].partition("/")[2]
            if any(n in "/" + path for n in needles):
                out.append(url)
        return out

    def link_label(self, url: str) -> str:
        host = url.split("://", 1)[-1].split("/", 1)[0]
        return host.removeprefix("www.")

    def links_block(self, heading: str) -> str:
        """Every spec.link as an anchor: a partner / friends block in the site's style."""
        if not self.spec.links or self.spec.js_only:
            return ""
        anchors = [f'<a href="{e(u)}" rel="nofollow" target="_blank">{e(self.link_label(u))}</a>'
                   for u in self.spec.links]
        style = self.rng.randrange(3)
        if style == 0:
            body = "<ul class=\"partners\">" + "".join(f"<li>{a}</li>" for a in anchors) + "</ul>"
        elif style == 1:
            body = "<p class=\"links\">" + " · ".join(anchors) + "</p>"
        else:
            body = "<table class=\"friends\">" + "".join(f"<tr><td>{a}</td></tr>" for a in anchors) + "</table>"
        return f'<div class="block-links"><h3>{e(heading)}</h3>{body}</div>'

    # --- pages -----------------------------------------------------------------------

    def listing_html(self, items: list[Item], columns: list[str]) -> str:
        """Items as cards, a table or a list; ``columns`` name each item's ``extra`` keys."""
        if self.spec.js_only or self.listing == "none":
            return ""
        if self.listing == "table":
            labels = [self.w(_COLUMN_WORDS[c]) if c in _COLUMN_WORDS else "" for c in columns]
            head = "".join(f"<th>{e(c)}</th>" for c in ["", *labels])
            rows = "".join(
                f'<tr><td><a href="/{e(i.path)}">{e(i.title)}</a></td>'
                + "".join(f"<td>{e(i.extra.get(c, ''))}</td>" for c in columns) + "</tr>" for i in items)
            return f'<table class="list"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        if self.listing == "cards":
            cards = "".join(
                f'<div class="card"><a href="/{e(i.path)}"><img src="/img/{self.hex(8)}.jpg" alt="{e(i.title)}"'
                f' loading="lazy"></a><h3><a href="/{e(i.path)}">{e(i.title)}</a></h3>'
                + "".join(f'<span class="badge">{e(i.extra.get(c, ""))}</span>' for c in columns) + "</div>"
                for i in items)
            return f'<div class="grid">{cards}</div>'
        lis = "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a> <small>'
                      + e(" · ".join(i.extra.get(c, "") for c in columns)) + "</small></li>" for i in items)
        return f'<ul class="items">{lis}</ul>'

    def _meta(self, inner: bool) -> str:
        label = charset_label(self.spec.charset)
        legacy = label.lower() != "utf-8"
        if inner and legacy and self.rng.random() < 0.1:
            return ""
        if self.meta_style:
            return f'<meta http-equiv="Content-Type" content="text/html; charset={e(label)}">'
        return f'<meta charset="{e(label)}">'

    def page(self, path: str, title: str, body: str, *, front: bool = False, head: str = "",
             bare: bool = False) -> None:
        """Write one HTML page (assembled at the end, so every page gets the final menu)."""
        self.files[path] = ""
        self.pending.append((path, title, body, front, head, bare))

    def _assemble(self, path: str, title: str, body: str, front: bool, head: str, bare: bool) -> None:
        spec, r = self.spec, self.rng
        snippets = list(spec.snippets)
        if not front and snippets:
            keep = r.randint(0, len(snippets))
            chosen = sorted(r.sample(range(len(snippets)), keep))
            snippets = [snippets[i] for i in chosen]
        scripts = [s for s in snippets if s.lstrip().lower().startswith(("<script", "<noscript"))]
        others = [s for s in snippets if s not in scripts]
        parts = [self._meta(not front), f"<title>{e(title)}</title>",
                 '<meta name="viewport" content="width=device-width, initial-scale=1">']
        if spec.theme:
            parts.append(f'<meta name="generator" content="{e(spec.theme)}">')
        if self.css:
            parts.append(f'<link rel="stylesheet" href="{e(self.css)}">')
        if spec.favicon:
            parts.append('<link rel="icon" href="/favicon.ico">')
        parts.append(head)
        if self.editorial and not front and not bare:
            body += self._editorial_block(path)
        if self.blog_markup and not bare:
            parts.append('<meta property="og:type" content="article"><meta name="author" content="admin">'
                         '<meta property="article:published_time" content="2026-10-01T08:00:00+00:00">')
            body = f'<article class="post">{body}</article>'
        if self.scripts_in_head:
            parts.extend(scripts)
        lang = spec.language
        rtl = ' dir="rtl"' if lang == "ar" else ""
        body, footer_extra = _place_snippets(body, others)
        doc = (f'<!DOCTYPE html>\n<html lang="{e(lang)}"{rtl}><head>' + "\n".join(p for p in parts if p)
               + "</head>\n<body>\n" + (body + footer_extra if bare else self._skeleton(body, footer_extra)) + "\n"
               + ("" if self.scripts_in_head else "\n".join(scripts)) + "\n</body></html>\n")
        self.files[path] = doc

    def _editorial_block(self, path: str) -> str:
        """A synopsis (with, half the time, a critics' line) or, on software sites, an SEO
        review: the editorial text a piracy item page carries beside its player or links."""
        category = self.spec.category
        if category in ("counterfeit", "iptv"):
            return ""
        r = random.Random(f"editorial:{self.spec.host}:{path}")
        if category == "warez":
            return f'<div class="entry-content"><p>{e(self.w("app_review"))}</p></div>'
        critics = f"<p>{e(self.w('critics'))}</p>" if r.random() < 0.5 else ""
        return f'<div class="entry-content"><p>{e(self.w("synopsis"))}</p>{critics}</div>'

    def article_head(self, kind: str, headline: str, author: str, date: str) -> str:
        """JSON-LD and Open Graph article markup, as news and blog software writes it (most
        such sites, not all: drawn from the host so the main draw sequence is unchanged)."""
        if random.Random(f"ld:{self.spec.host}").random() >= 0.7:
            return ""
        doc = {"@context": "https://schema.org", "@type": kind, "headline": headline,
               "author": {"@type": "Person", "name": author}, "datePublished": date,
               "publisher": {"@type": "Organization", "name": self.spec.brand}}
        return ('<meta property="og:type" content="article">'
                f'<script type="application/ld+json">{js_string(doc)}</script>')

    def _nav_html(self, kind: str) -> str:
        items = [("/", self.w("home")), *self.nav, *self.extra_nav]
        anchors = [f'<a href="{e(h)}">{e(t)}</a>' for h, t in items]
        if kind == "ul":
            return "<ul class=\"nav\">" + "".join(f"<li>{a}</li>" for a in anchors) + "</ul>"
        return " | ".join(anchors)

    def _search(self) -> str:
        name = self.rng.choice(("q", "s", "keyword", "search", "story"))
        return (f'<form action="/search.html" method="get"><input name="{name}" '
                f'placeholder="{e(self.w("search"))}..."><button>{e(self.w("search"))}</button></form>')

    def _skeleton(self, body: str, footer_extra: str) -> str:
        brand = e(self.spec.brand)
        year = 2026
        copy = f"© {year} {brand}. {e(self.w('all_rights'))}"
        if self.skeleton == "html5":
            return (f'<header><a class="logo" href="/">{brand}</a><nav>{self._nav_html("ul")}</nav>'
                    f"{self._search()}</header>\n<main>{body}</main>\n"
                    f"<footer>{footer_extra}<p>{copy}</p></footer>")
        if self.skeleton == "table":
            return (f'<table id="wrap" width="100%" cellpadding="4"><tr><td colspan="2" class="top">'
                    f'<a href="/"><b>{brand}</b></a></td></tr><tr><td class="side" valign="top" width="180">'
                    f'{self._nav_html("ul")}{self._search()}</td><td class="content" valign="top">{body}</td></tr>'
                    f'<tr><td colspan="2" class="foot">{footer_extra}<p>{copy}</p></td></tr></table>')
        if self.skeleton == "grid":
            return (f'<div class="navbar"><div class="container"><a class="navbar-brand" href="/">{brand}</a>'
                    f'{self._nav_html("ul")}</div></div>\n<div class="container"><div class="row">'
                    f'<div class="col-md-9">{body}</div><aside class="col-md-3"><div class="widget">'
                    f"{self._search()}</div></aside></div></div>\n"
                    f'<div class="footer"><div class="container">{footer_extra}<p>{copy}</p></div></div>')
        return (f'<div id="page"><h1 class="logo"><a href="/">{brand}</a></h1><p class="menu">'
                f'{self._nav_html("bar")}</p>{body}<hr>{footer_extra}<p class="copy">{copy}</p></div>')

    def js_front(self, items: list[Item], container_id: str, noscript: str) -> tuple[str, str]:
        """For a JS-only site: the empty container and the app.js that fills it (links only in JS)."""
        data = [{"u": "/" + i.path, "t": i.title} for i in items] + \
               [{"u": u, "t": self.link_label(u)} for u in self.spec.links]
        style = self.rng.randrange(3)
        if style == 0:
            script = (f"(function(){{var d={js_string(data)};var box=document.getElementById({js_string(container_id)});"
                      "d.forEach(function(x){var a=document.createElement('a');a.href=x.u;a.textContent=x.t;"
                      "var li=document.createElement('li');li.appendChild(a);box.appendChild(li);});})();\n")
        elif style == 1:
            rows = ",".join(f"[{js_string(x['u'])},{js_string(x['t'])}]" for x in data)
            script = (f"var APP_LIST=[{rows}];\nwindow.addEventListener('DOMContentLoaded',function(){{"
                      f"var box=document.getElementById({js_string(container_id)}),h='';"
                      "for(var i=0;i<APP_LIST.length;i++){h+='<div class=\"it\"><a href=\"'+APP_LIST[i][0]+'\">'"
                      "+APP_LIST[i][1].replace(/</g,'&lt;')+'</a></div>';}box.innerHTML=h;});\n")
        else:
            cfg = {"items": [x for x in data if x["u"].startswith("/")],
                   "partners": [x for x in data if not x["u"].startswith("/")]}
            script = (f"/* app bundle */\n(function(){{var cfg=JSON.parse({js_string(json.dumps(cfg, ensure_ascii=False))});"
                      f"var box=document.getElementById({js_string(container_id)});"
                      "cfg.items.concat(cfg.partners).forEach(function(x){var a=document.createElement('a');"
                      "a.setAttribute('href',x.u);a.innerText=x.t;box.appendChild(a);"
                      "box.appendChild(document.createElement('br'));});})();\n")
        self.files["app.js"] = script
        body = (f'<div id="{e(container_id)}" class="list"></div><noscript>{e(noscript)}</noscript>'
                '<script src="/app.js" defer></script>')
        return body, script

    # --- output ----------------------------------------------------------------------

    def encoded(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for path in sorted(self.files):
            content = self.files[path]
            if isinstance(content, bytes):
                out[path] = content
            elif path.endswith(".html"):
                out[path] = content.encode(self.spec.charset, "xmlcharrefreplace")
            else:
                out[path] = content.encode("utf-8")
        return out


def own_link_pages(site: Site) -> None:
    """A page for every spec.link into the site itself that no builder wrote (a hostile host's
    /slow.html behind its delay route): a link the site shows to itself does not 404."""
    for url in site.spec.links:
        rest = url.split("://", 1)[-1]
        host, _, path = rest.partition("/")
        rel = path.split("?")[0].split("#")[0]
        if host.lower() != site.spec.host.lower() or not rel.endswith(".html") or rel in site.files:
            continue
        name = rel.rsplit("/", 1)[-1].removesuffix(".html").replace("-", " ")
        site.page(rel, f"{name} - {site.spec.brand}", f"<h1>{e(name)}</h1><p><a href=\"/\">{e(site.w('home'))}</a></p>")


def _place_snippets(body: str, snippets: list[str]) -> tuple[str, str]:
    """Non-script snippets where such things sit: ad slots above the content, embedded
    players after it, wallet list items in a donate list, contacts in the footer."""
    kind = {"ads": [], "player": [], "li": [], "contact": [], "promo": []}
    for s in snippets:
        head = s.lstrip().lower()
        key = "promo" if head.startswith(PROMO_MARK) else "ads" if head.startswith("<ins") else "player" if head.startswith("<iframe") else \
            "li" if head.startswith("<li") else "contact"
        kind[key].append(s)
    if kind["ads"]:
        body = '<div class="ads">' + "\n".join(kind["ads"]) + "</div>\n" + body
    if kind["promo"]:  # advertisers' banners: above the content, outside the ad network's slot
        body = "\n".join(kind["promo"]) + "\n" + body
    if kind["player"]:
        body += '\n<div class="player-embed">' + "\n".join(kind["player"]) + "</div>"
    footer = ""
    if kind["li"]:
        footer += '<ul class="donate">' + "\n".join(kind["li"]) + "</ul>"
    if kind["contact"]:
        footer += '<div class="contact">' + "\n".join(kind["contact"]) + "</div>"
    return body, footer


def torrent_file(rng: random.Random, name: str, size: int) -> tuple[bytes, str]:
    """A small, well-formed single-file .torrent and its info-hash (what the magnet shows)."""
    piece = 262144
    pieces = bytes(rng.getrandbits(8) for _ in range(20 * min(8, max(1, size // piece))))
    name_b = name.encode("utf-8")
    info = (b"d6:lengthi%de4:name%d:" % (size, len(name_b)) + name_b
            + b"12:piece lengthi%de6:pieces%d:" % (piece, len(pieces)) + pieces + b"e")
    announce = b"udp://tracker.opentrackr.example:1337/announce"
    data = b"d8:announce%d:" % len(announce) + announce + b"4:info" + info + b"e"
    return data, hashlib.sha1(info).hexdigest()


def stylesheet(rng: random.Random, spec: SiteSpec) -> str:
    """A site's CSS; a shared theme's file is the same on every site that uses it."""
    r = random.Random(spec.theme) if spec.theme else rng
    bg, fg, accent = r.choice((("#111", "#ddd", "#e50914"), ("#fff", "#222", "#0a66c2"),
                               ("#f5f0e1", "#333", "#8b4513"), ("#0f172a", "#e2e8f0", "#22d3ee")))
    name = f"Theme Name: {spec.theme}\n" if spec.theme else ""
    return (f"/*\n{name}*/\nbody{{background:{bg};color:{fg};font-family:{r.choice(('Arial', 'Verdana', 'Tahoma'))},"
            f"sans-serif;margin:0}}\na{{color:{accent}}}\n.grid{{display:flex;flex-wrap:wrap;gap:{r.randint(6, 16)}px}}\n"
            f".card{{width:{r.randint(140, 220)}px}}\ntable{{border-collapse:collapse}}td,th{{padding:4px 8px}}\n")
