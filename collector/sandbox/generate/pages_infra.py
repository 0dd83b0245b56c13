"""Generated sites that are not one piracy or legal service: hubs, forums, status pages,
video hosts, cyberlockers, parked domains, "we moved" notices, traps and hostile sites.

These are the sites that link to everyone (hubs, forums, mirror lists), that everyone
embeds (video hosts) or downloads from (cyberlockers), and the leftovers of hopping
(notices, parking pages): what makes a world's link graph look like the real one.
"""

from __future__ import annotations

from collections.abc import Callable

from collector.sandbox.generate.pages_negatives import build_hard_negative
from collector.sandbox.generate.pages_roles import (
    _TRAP_WORDS,
    PIRACY,
    build_legal,
    build_piracy,
    money,
)
from collector.sandbox.generate.pages_site import Item, Site, e, js_string, slugify

_SECTION_TOKENS = (
    ("iptv", ("iptv", "tvbox", "channel", "live")),
    ("torrent", ("torrent", "bay", "tracker", "seed", "magnet", "bt")),
    ("manga", ("toon", "manga", "comic", "scan", "manhwa", "truyen", "komik")),
    ("warez", ("crack", "soft", "keygen", "apps", "full")),
    ("ebook", ("book", "lib", "pdf", "read", "epub")),
    ("music", ("mp3", "music", "lagu", "track", "flac")),
    ("counterfeit", ("outlet", "replica", "luxe", "shop", "store")),
    ("ddl", ("dl", "files", "down", "share", "rls", "warez")),
    ("streaming", ("kino", "flix", "film", "movie", "stream", "watch", "play", "tv", "phim", "nonton", "dizi",
                   "pelis", "izle", "aflam", "shahid", "cine")),
)
_NICK_A = ("dark", "neo", "kino", "max", "ghost", "pixel", "zorro", "lucky", "night", "red", "cyber", "old")
_NICK_B = ("fox", "owl", "man", "wolf", "cat", "rider", "seed", "fan", "geek", "boy", "lee", "kid")


def section_of(url: str) -> str:
    """The category a hub files a link under, read from its host name as a hub editor would."""
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    for cat, tokens in _SECTION_TOKENS:
        if any(t in host for t in tokens):
            return cat
    return "other"


def _section_title(site: Site, cat: str) -> str:
    return site.w(f"tag_{cat}") if cat in PIRACY else site.w("more")


def _nick(site: Site) -> str:
    return f"{site.rng.choice(_NICK_A)}{site.rng.choice(_NICK_B)}{site.rng.randint(1, 99)}"


def _listing_page(site: Site, items: list[Item], title: str, body_html: str) -> None:
    """A front page whose links are either in the HTML or, on a JS-only site, in app.js."""
    if site.spec.js_only:
        body_html, _ = site.js_front(items, site.rng.choice(("sites", "list", "app")), site.w("more"))
    site.page("index.html", title, f"<h1>{e(site.spec.brand)}</h1>{body_html}", front=True)


def build_hub(site: Site) -> None:
    w, r = site.w, site.rng
    sections: dict[str, list[str]] = {}
    for url in site.spec.links:
        sections.setdefault(section_of(url), []).append(url)
    order = sorted(sections)
    items = []
    for k in range(site.spec.pages):
        if k < len(order):
            cat = order[k]
            items.append(Item(f"cat/{cat}.html", _section_title(site, cat), 2026, {"c": cat}))
        else:
            page = r.choice(("faq", "vpn", "help", "about"))
            items.append(Item(f"{page}-{k}.html", page.upper() if len(page) == 3 else w("more"), 2026, {}))
    notes = (w("no_reg"), w("hd"), w("free"), w("use_vpn"), w("mirrors"), "")

    def table(urls: list[str]) -> str:
        if r.random() < 0.5:
            states = [("up", w("online")) if r.random() < 0.8 else ("down", w("offline")) for _ in urls]
            rows = "".join(f'<tr><td><a href="{e(u)}" rel="nofollow noopener" target="_blank">{e(site.link_label(u))}'
                           f'</a></td><td class="{cls}">{e(label)}</td><td>{e(r.choice(notes))}</td></tr>'
                           for u, (cls, label) in zip(urls, states, strict=True))
            return f"<table class=\"sites\"><tr><th>{e(w('site_list'))}</th><th>{e(w('status'))}</th><th></th></tr>{rows}</table>"
        return '<div class="cards">' + "".join(
            f'<div class="site-card"><a href="{e(u)}" rel="nofollow" target="_blank"><img src="/logos/{site.hex(6)}.png"'
            f' alt=""><b>{e(site.link_label(u))}</b></a><span>{e(r.choice(notes))}</span></div>' for u in urls) + "</div>"

    for it in items:
        urls = sections.get(it.extra.get("c", ""), [])
        body = f"<h1>{e(it.title)}</h1>" + (table(urls) if urls else f"<p>{e(w('use_vpn'))}</p>")
        site.page(it.path, f"{it.title} - {site.spec.brand}", body + f'<p><a href="/">{e(w("home"))}</a></p>')
    site.nav = [("/" + i.path, i.title) for i in items[:6]]
    front = [f"<p>{e(w('site_list'))} · {e(w('updated'))} 2026 · {e(w('use_vpn'))}</p>"]
    for cat in order:
        front.append(f'<h2 id="{e(cat)}">{e(_section_title(site, cat))}</h2>{table(sections[cat])}')
    _listing_page(site, items, f"{site.spec.brand} - {w('site_list')} ({w('mirrors')}, {w('updated')} 2026)",
                  "\n".join(front))


def build_forum(site: Site) -> None:
    w, r = site.w, site.rng
    links = list(site.spec.links)
    threads = []
    for k in range(max(1, site.spec.pages)):
        tid = r.randint(10000, 999999)
        subject = w("new_address_q", x=site.title_name()) if r.random() < 0.5 else f"{site.title_name()} [{w('hd')}]"
        threads.append(Item(f"t/{tid}.html" if f"t/{tid}.html" not in site.files else f"t/{tid}-{k}.html", subject,
                            2026, {"r": str(r.randint(1, 400)), "v": str(r.randint(50, 90000)), "a": _nick(site)}))
    mentioned: dict[int, list[str]] = {}
    for n, url in enumerate(links):
        mentioned.setdefault(n % len(threads), []).append(url)
    for k, th in enumerate(threads):
        posts = [f'<div class="post"><b>{e(th.extra["a"])}</b><p>{e(th.title)}</p></div>']
        for url in mentioned.get(k, []):
            posts.append(f'<div class="post"><b>{e(_nick(site))}</b><p><a href="{e(url)}" rel="nofollow">{e(url)}</a> — '
                         f"{e(w('works'))}</p></div>")
        for _ in range(r.randint(1, 4)):
            posts.append(f'<div class="post"><b>{e(_nick(site))}</b><p>{e(r.choice((w("works"), w("use_vpn"), "+1")))}'
                         "</p></div>")
        site.page(th.path, f"{th.title} - {w('forum')} {site.spec.brand}",
                  f"<h1>{e(th.title)}</h1>{''.join(posts)}<p><a href=\"/\">{e(w('forum'))}</a></p>")
    rows = "".join(f'<tr><td><a href="/{e(t.path)}">{e(t.title)}</a></td><td>{e(t.extra["a"])}</td>'
                   f"<td>{t.extra['r']}</td><td>{t.extra['v']}</td></tr>" for t in threads)
    latest = "".join(f'<li><b>{e(_nick(site))}</b>: {e(w("new_address_q", x=site.link_label(u)))} → '
                     f'<a href="{e(u)}" rel="nofollow">{e(site.link_label(u))}</a></li>' for u in links)
    body = (f"<table class=\"topics\"><tr><th>{e(w('topic'))}</th><th>{e(w('posted_by'))}</th><th>{e(w('replies'))}"
            f"</th><th>{e(w('views'))}</th></tr>{rows}</table><h2>{e(w('latest'))}</h2><ul class=\"posts\">{latest}</ul>")
    site.nav = [("/register.html", w("sign_in"))]
    site.page("register.html", f"{w('sign_in')} - {site.spec.brand}",
              f'<h1>{e(w("sign_in"))}</h1><form method="post"><input name="user"><input name="pass" type="password">'
              f"<button>{e(w('sign_in'))}</button></form>")
    _listing_page(site, threads, f"{site.spec.brand} {w('forum')} - {w('site_list')}", body)


def build_status(site: Site) -> None:
    w, r = site.w, site.rng
    items = [Item(f"history/{k + 1}.html", f"{w('status')} #{k + 1}", 2026, {}) for k in range(site.spec.pages)]
    for it in items:
        days = "".join(f"<td class=\"{'up' if r.random() < 0.9 else 'down'}\">{d}</td>" for d in range(1, 31))
        site.page(it.path, f"{it.title} - {site.spec.brand}",
                  f"<h1>{e(it.title)}</h1><table class=\"uptime\"><tr>{days}</tr></table><p><a href=\"/\">"
                  f"{e(w('home'))}</a></p>")
    rows = "".join(f'<tr><td><a href="{e(u)}">{e(site.link_label(u))}</a></td><td class="{st}">{e(label)}</td>'
                   f"<td>{r.randint(40, 900)} ms</td></tr>"
                   for u, st, label in ((u, *(("up", w("online")) if k == 0 or r.random() < 0.7 else ("down", w("offline"))))
                                        for k, u in enumerate(site.spec.links)))
    hist = "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a></li>' for i in items)
    body = (f"<p>{e(w('mirrors'))} · {e(w('status'))} · {e(w('updated'))} {r.randint(1, 59)} min</p>"
            f"<table class=\"mirrors\"><tr><th>{e(w('mirrors'))}</th><th>{e(w('status'))}</th><th>ping</th></tr>{rows}"
            f"</table><ul>{hist}</ul><p>{e(w('update_bookmarks'))}</p>")
    _listing_page(site, items, f"{site.spec.brand} {w('status')} - {w('mirrors')}", body)


def build_video_host(site: Site) -> None:
    w, r = site.w, site.rng
    items = [Item(f"e/{site.token(r.choice((10, 12)))}.html", "", 2026, {}) for _ in range(site.spec.pages)]
    for it in items:
        vid = it.path[2:-5]
        it.title = f"{vid}.mp4"
        site.page(it.path, f"Watch {vid}.mp4 - {site.spec.brand}",
                  f'<video id="player" controls preload="none" poster="/thumb/{vid}.jpg"><source src="/hls/{vid}/master.m3u8"'
                  f' type="application/x-mpegURL"></video><script>var playerConf={{id:"{vid}",ads:true}};</script>')
    tiers = "".join(f"<tr><td>Tier {k}</td><td>{e(money(site, v))}</td></tr>" for k, v in ((1, 40), (2, 25), (3, 10)))
    body = (f"<p>{e(w('upload'))} · {e(w('earn'))} · {e(w('embed'))}</p><table class=\"payout\"><tr><th>Tier</th>"
            f"<th>/ 10,000</th></tr>{tiers}</table><p><code>&lt;iframe src=\"https://{e(site.spec.host)}/e/ID\"&gt;"
            f"&lt;/iframe&gt;</code></p><ul>" + "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a></li>' for i in items)
            + "</ul>" + site.links_block(w("more")))
    site.nav = [("/api.html", "API"), ("/dmca.html", "DMCA")]
    site.page("api.html", f"API - {site.spec.brand}", f"<h1>API</h1><p>{e(w('upload'))}: POST /api/upload</p>")
    site.page("dmca.html", f"DMCA - {site.spec.brand}", f"<h1>DMCA</h1><p>abuse@{e(site.spec.host)}</p>")
    _listing_page(site, items, f"{site.spec.brand} — {w('upload')}, {w('earn')}", body)


def build_cyberlocker(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        name = f"{slugify(site.title_name()) or site.token(8)}.{r.choice(('rar', 'zip', 'mkv', 'part1.rar', '7z'))}"
        items.append(Item(f"file/{site.token(12)}.html", name, 2026, {"s": f"{r.randint(50, 9000)} MB"}))
    for it in items:
        site.page(it.path, f"{w('download')} {it.title} - {site.spec.brand}",
                  f"<h1>{e(it.title)}</h1><p>{e(w('size'))}: {e(it.extra['s'])}</p><div class=\"dl\">"
                  f'<a class="btn free" href="#free">{e(w("free_dl"))}</a> <span>{e(w("wait", n=r.choice((30, 45, 60))))}'
                  f'</span> <a class="btn premium" href="/premium.html">{e(w("fast_dl"))} ({e(w("premium"))})</a></div>')
    plans = "".join(f"<tr><td>{e(w('premium'))} {d} {e(w('days'))}</td><td>{e(money(site, p))}</td></tr>"
                    for d, p in ((30, 12.99), (90, 29.99), (365, 89.99)))
    site.page("premium.html", f"{w('premium')} - {site.spec.brand}",
              f"<h1>{e(w('premium'))}</h1><table>{plans}</table><p>{e(w('fast_dl'))}</p>")
    body = (f'<form action="/upload" method="post" enctype="multipart/form-data"><input type="file" name="f">'
            f"<button>{e(w('upload'))}</button></form><p>{e(w('earn'))}</p><table class=\"plans\">{plans}</table>"
            f"<h2>{e(w('popular'))}</h2><ul>" + "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a> {e(i.extra["s"])}</li>'
                                                        for i in items) + "</ul>" + site.links_block(w("more")))
    site.nav = [("/premium.html", w("premium"))]
    _listing_page(site, items, f"{site.spec.brand} - {w('upload')}, {w('free_dl')}", body)


def build_parked(site: Site) -> None:
    w, r = site.w, site.rng
    items = []
    for _ in range(site.spec.pages):
        term = site.title_name()
        items.append(Item(site.item_path("search", term), term, 2026, {}))
    for it in items:
        ads = "".join(f'<div class="ad"><b>{e(site.title_name())}</b><p>{e(w("sale"))} · {e(w("free_shipping"))}</p>'
                      f"<span>www.{e(slugify(site.title_name()) or site.token(6).lower())}.com</span></div>"
                      for _ in range(r.randint(3, 6)))
        site.page(it.path, f"{it.title} - {site.spec.host}", f"<h1>{e(it.title)}</h1>{ads}")
    buy = next((u for u in site.spec.links), "/buy.html")
    if buy == "/buy.html":
        site.page("buy.html", f"{w('buy_domain')} - {site.spec.host}",
                  f"<h1>{e(w('buy_domain'))}</h1><p>{e(site.spec.host)}: {e(money(site, r.choice((990, 2500, 4800))))}</p>",
                  bare=True)
    host = e(site.spec.host)
    style = r.randrange(3)
    if style == 0:  # the registrar's "related searches" lander
        related = "".join(f'<li><a href="/{e(i.path)}">{e(i.title)}</a></li>' for i in items)
        body = (f"<h1>{host}</h1><p>{e(w('for_sale'))}. <a href=\"{e(buy)}\">{e(w('buy_domain'))}</a></p>"
                f"<h2>{e(w('related'))}</h2><ul class=\"related\">{related}</ul>")
    elif style == 1:  # an aftermarket sale page with an offer form
        related = " · ".join(f'<a href="/{e(i.path)}">{e(i.title)}</a>' for i in items)
        body = (f'<div class="sale"><h1>{host}</h1><h2>{e(w("for_sale"))}</h2><p>{e(w("price"))}: '
                f"{e(money(site, r.choice((990, 2500, 4800))))}</p><form action=\"{e(buy)}\" method=\"get\">"
                f'<input name="offer" placeholder="USD"><button>{e(w("buy_domain"))}</button></form>'
                f'<p><a href="{e(buy)}">{e(w("buy_domain"))}</a></p></div><p class="rel">{e(w("related"))}: {related}</p>')
    else:  # an ad feed in two columns
        cells = [f'<td><a href="/{e(i.path)}">{e(i.title)}</a></td>' for i in items]
        rows = "".join("<tr>" + "".join(cells[k:k + 2]) + "</tr>" for k in range(0, len(cells), 2))
        body = (f'<table class="feed" width="100%"><tr><td colspan="2"><h1>{host}</h1></td></tr>{rows}'
                f'<tr><td colspan="2"><a href="{e(buy)}">{e(w("for_sale"))}</a></td></tr></table>')
    body += site.js_front(items, "related", w("related"))[0] if site.spec.js_only else site.links_block(w("more"))
    site.page("index.html", f"{site.spec.host} - {w('for_sale')}", body, front=True, bare=True)


def build_notice(site: Site) -> None:
    w, r = site.w, site.rng
    spec = site.spec
    target = spec.moved_to or (spec.links[0] if spec.links else "")
    shown = target.split("://", 1)[-1].rstrip("/")
    seconds = r.choice((5, 8, 10, 15, 30))
    head = f'<meta http-equiv="refresh" content="{seconds};url={e(target)}">' if target and r.random() < 0.5 else ""
    style = r.randrange(3)
    notice = (f"<p>{e(w('new_domain'))} <a href=\"{e(target)}\"><b>{e(shown)}</b></a></p>"
              f"<p>{e(w('update_bookmarks'))}</p>")
    if style == 0:
        body = (f'<div style="text-align:center;padding-top:60px"><h1>{e(w("moved"))}</h1>{notice}'
                f"<p>{e(w('redirect_in', n=seconds))}</p></div>")
    elif style == 1:
        body = (f"<h1>{e(spec.brand)}: {e(w('moved'))}</h1>{notice}<script>setTimeout(function(){{location.href="
                f"{js_string(target)};}},{seconds * 1000});</script>")
    else:
        body = (f'<div class="card"><h2>{e(w("moved"))}</h2><table><tr><td>{e(spec.host)}</td><td>→</td>'
                f'<td><a href="{e(target)}">{e(shown)}</a></td></tr></table><p>{e(w("update_bookmarks"))}</p>'
                f"<p>{e(w('join_tg'))}</p></div>")
    if spec.js_only and spec.links:
        body += site.js_front([], "links", w("mirrors"))[0]
    elif [u for u in spec.links if u != target]:
        body += site.links_block(w("mirrors"))
    site.page("index.html", f"{spec.brand} - {w('moved')}", body, front=True, bare=style != 1, head=head)


def _with_trap_links(builder: Callable[[Site], None]) -> Callable[[Site], None]:
    """An ordinary front page whose menu leads into the trap routes GEN sets (/calendar/, /archive/)."""
    def build(site: Site) -> None:
        cal, arch = _TRAP_WORDS.get(site.spec.language, _TRAP_WORDS["en"])
        site.extra_nav = [("/calendar/", cal), ("/archive/", arch)]
        builder(site)
    return build


def _ordinary(site: Site) -> None:
    if site.spec.category in PIRACY:
        build_piracy(site)
    else:
        (build_legal if site.rng.random() < 0.5 else build_hard_negative)(site)


BUILDERS: dict[str, Callable[[Site], None]] = {
    "piracy": build_piracy, "legal": build_legal, "hard_negative": build_hard_negative, "hub": build_hub,
    "forum": build_forum, "status": build_status, "video_host": build_video_host, "cyberlocker": build_cyberlocker,
    "parked": build_parked, "notice": build_notice, "trap": _with_trap_links(_ordinary),
    "hostile": _ordinary, "cdn": build_video_host,
}
"""role -> builder; an unknown role gets a piracy site of its category."""

__all__ = ["BUILDERS", "build_piracy", "section_of"]
