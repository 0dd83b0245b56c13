"""The world's web sites: static files, redirects, faults and generated pages.

:class:`WebService` answers for every ``[[site]]`` of the world. It knows nothing about
sockets: the proxy hands it a :class:`~collector.sandbox.http.Request` and writes back the
:class:`~collector.sandbox.http.Response`. The files of every site are indexed once at
construction (no file system walk per request); contents are read off the event loop and
small files are cached.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import html
import os
import time
from collections import deque
from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote

from collector.sandbox.http import Request, Response
from collector.sandbox.world import Route, Site, World

CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".svg": "image/svg+xml",
    ".torrent": "application/x-bittorrent",
    ".m3u": "audio/x-mpegurl",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
    ".exe": "application/vnd.microsoft.portable-executable",
    ".zip": "application/zip",
    ".apk": "application/vnd.android.package-archive",
    ".mp4": "video/mp4",
    ".mp3": "audio/mpeg",
    ".epub": "application/epub+zip",
}
"""Content type by file extension; anything else is ``application/octet-stream``.

HTML files are served as plain ``text/html`` with no charset in the header, so a page
declares its own (``<meta charset>``), as most real sites do; a route's ``content_type``
can still send a header that lies. Text files are ``charset=utf-8``.
"""
DEFAULT_TYPE = "application/octet-stream"
CACHE_LIMIT = 1 << 20
"""Files up to this size are kept in memory after the first read."""
HUGE_CHUNK = 64 * 1024

CALENDAR_VIEWS = ("month", "week", "day", "list")
CALENDAR_SORTS = ("date", "title", "asc", "desc")
BIGSITE_PER_INDEX = 100
BIGSITE_LINKS = 5
COOKIE_LOG = 10_000
TRICKLE_SECONDS = 1.0
"""A ``trickle`` route sends one byte this often (``?ms=N`` on the URL: every N ms)."""


def content_type_for(name: str) -> str:
    """The content type a file is served with, by its extension."""
    return CONTENT_TYPES.get(os.path.splitext(name)[1].lower(), DEFAULT_TYPE)


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head>\n<body>\n{body}\n</body></html>\n")


def error_page(status: int, message: str = "") -> Response:
    """A plain HTML error page."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    text = f"{status} {phrase}"
    body = f"<h1>{html.escape(text)}</h1>" + (f"\n<p>{html.escape(message)}</p>" if message else "")
    return Response.text(status, _page(text, body), "text/html; charset=utf-8")


def _index_files(root: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every regular file under ``root``."""
    files: dict[str, Path] = {}
    if not root.is_dir():
        return files
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path
    return files


class WebService:
    """Every virtual web host of a world (``[[site]]`` tables)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._sites: dict[str, Site] = world.sites
        self._files: dict[str, dict[str, Path]] = {
            host: _index_files(site.root) for host, site in self._sites.items()}
        self._cache: dict[Path, bytes] = {}
        self.cookies: deque[tuple[str, str]] = deque(maxlen=COOKIE_LOG)
        """(URL, Cookie header) of the latest requests that sent cookies: what tests check."""
        self.requests: deque[tuple[float, str]] = deque(maxlen=COOKIE_LOG)
        """(time.monotonic(), URL) of the latest requests: when tests need to know what came when."""

    def hosts(self) -> set[str]:
        """Host names this service answers for."""
        return set(self._sites)

    def site(self, host: str) -> Site | None:
        return self._sites.get(host.lower().rstrip("."))

    def serves(self, host: str, scheme: str) -> bool:
        """Whether ``host`` accepts connections for ``scheme`` (the proxy refuses others)."""
        site = self.site(host)
        if site is None:
            return False
        return site.https if scheme == "https" else site.http != "off"

    # --- dispatch -------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Answer one request for one of the world's sites."""
        latency = self.world.latency_ms.get("http", 0)
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        site = self.site(request.host)
        if site is None:
            return error_page(502, f"no web site at {request.host}")
        self.requests.append((time.monotonic(), request.url))
        if "cookie" in request.headers:
            self.cookies.append((request.url, request.headers["cookie"]))
        response = await self._answer(site, request)
        if site.headers:
            response.headers.extend(site.headers)
        return response

    async def _answer(self, site: Site, request: Request) -> Response:
        """Scheme checks, host redirect, then the route (or the static file) for the path.

        ``http = "redirect"`` on a site without HTTPS serves over HTTP: a redirect to a
        port that refuses TLS would only be a dead end.
        """
        if not self.serves(site.host, request.scheme):
            return error_page(502, f"{site.host} refuses {request.scheme} connections")
        if request.scheme == "http" and site.http == "redirect" and site.https:
            return Response.redirect(f"https://{site.host}{request.target}", 301)
        if site.redirect:
            return Response.redirect(site.redirect.rstrip("/") + request.target,
                                     site.redirect_status or 301)
        path = request.path
        route = site.route_for(path)
        if route is None:
            return await self._static(site, path)
        if route.delay > 0:
            await asyncio.sleep(route.delay)
        if route.redirect:
            return Response.redirect(route.redirect, route.status or 301)
        if route.generator:
            return self._generate(route, request)
        if route.file:
            response = await self._file(site, route.file, route.content_type)
            if response is None:
                return await self._not_found(site)
        elif route.status and not route.content_type:
            return error_page(route.status)
        else:
            response = await self._static(site, path, route.content_type)
        if route.status:
            response.status = route.status
        return response

    # --- static files ---------------------------------------------------------------------

    def _lookup(self, site: Site, path: str) -> str | None:
        """The indexed file a URL path maps to: ``/`` -> index.html, ``/a`` -> a, a.html, a/index.html."""
        files = self._files.get(site.host, {})
        rel = unquote(path).lstrip("/")
        if any(part in ("..", ".") for part in rel.split("/")):
            return None
        if rel == "" or rel.endswith("/"):
            candidates = [f"{rel}index.html"]
        else:
            candidates = [rel, f"{rel}.html", f"{rel}/index.html"]
        return next((c for c in candidates if c in files), None)

    async def _read(self, path: Path) -> bytes:
        data = self._cache.get(path)
        if data is None:
            data = await asyncio.to_thread(path.read_bytes)
            if len(data) <= CACHE_LIMIT:
                self._cache[path] = data
        return data

    async def _file(self, site: Site, rel: str, content_type: str = "") -> Response | None:
        path = self._files.get(site.host, {}).get(rel.lstrip("/"))
        if path is None:
            return None
        data = await self._read(path)
        return Response(200, [("Content-Type", content_type or content_type_for(rel))], data)

    async def _static(self, site: Site, path: str, content_type: str = "") -> Response:
        rel = self._lookup(site, path)
        if rel is None:
            return await self._not_found(site)
        response = await self._file(site, rel, content_type)
        return response if response is not None else await self._not_found(site)

    async def _not_found(self, site: Site) -> Response:
        """The site's own ``404.html`` if it has one, else a plain 404 page."""
        custom = await self._file(site, "404.html")
        if custom is None:
            return error_page(404, "The page you requested was not found.")
        custom.status = 404
        return custom

    # --- generators -----------------------------------------------------------------------

    def _generate(self, route: Route, request: Request) -> Response:
        generator = {"calendar": calendar_page, "bigsite": bigsite_page,
                     "huge": huge_page, "trickle": trickle_page,
                     "cookie_flood": cookie_flood_page, "cookie_check": cookie_check_page,
                     "endless": endless_page,
                     "gzipbomb": gzip_bomb_page, "download": download_file,
                     "download-noranges": download_file_without_ranges}.get(route.generator)
        if generator is None:
            return error_page(500, f"unknown generator {route.generator!r}")
        return generator(route, request)


def _prefix(route: Route) -> str:
    return route.path if route.path.endswith("/") else route.path + "/"


def calendar_page(route: Route, request: Request) -> Response:
    """An endless crawler trap: ``<prefix>YYYY/MM/`` and ``<prefix>YYYY/MM/DD/`` pages.

    Every month links the previous and next month, each of its days and the
    ``?view=&sort=`` permutations of itself; every day links its neighbours and month.
    ``<prefix>`` alone shows the current month.
    """
    prefix = _prefix(route)
    rest = request.path[len(prefix):] if request.path.startswith(prefix) else ""
    parts = [p for p in rest.split("/") if p]
    today = dt.date.today()
    try:
        numbers = [int(p) for p in parts]
        if not parts:
            year, month, day = today.year, today.month, 0
        elif len(numbers) == 2:
            (year, month), day = numbers, 0
        elif len(numbers) == 3:
            year, month, day = numbers
        else:
            raise ValueError
        dt.date(year, month, day or 1)
    except ValueError:
        return error_page(404, "No such date.")
    query = request.query
    view = query.get("view", ["month"])[0]
    sort = query.get("sort", ["date"])[0]

    def month_url(y: int, m: int) -> str:
        return f"{prefix}{y:04d}/{m:02d}/"

    prev_m = (year - 1, 12) if month == 1 else (year, month - 1)
    next_m = (year + 1, 1) if month == 12 else (year, month + 1)
    links = []
    if year > 1 or month > 1:
        links.append(f'<a href="{month_url(*prev_m)}" rel="prev">previous month</a>')
    if year < 9999 or month < 12:
        links.append(f'<a href="{month_url(*next_m)}" rel="next">next month</a>')
    if day:
        current = dt.date(year, month, day)
        title = f"Events on {current.isoformat()}"
        for delta, label in ((-1, "previous day"), (1, "next day")):
            try:
                other = current + dt.timedelta(days=delta)
            except OverflowError:
                continue
            links.append(f'<a href="{prefix}{other.year:04d}/{other.month:02d}/{other.day:02d}/">'
                         f"{label}</a>")
        links.append(f'<a href="{month_url(year, month)}">whole month</a>')
        base = f"{prefix}{year:04d}/{month:02d}/{day:02d}/"
    else:
        title = f"Calendar {calendar.month_name[month]} {year}"
        days = calendar.monthrange(year, month)[1]
        links.extend(f'<a href="{prefix}{year:04d}/{month:02d}/{d:02d}/">{d}</a>'
                     for d in range(1, days + 1))
        base = month_url(year, month)
    links.extend(f'<a href="{base}?view={v}&amp;sort={s}">{v}/{s}</a>'
                 for v in CALENDAR_VIEWS for s in CALENDAR_SORTS
                 if (v, s) != (view, sort))
    body = (f"<h1>{html.escape(title)}</h1>\n<p>View: {html.escape(view)}, sorted by "
            f"{html.escape(sort)}. No events.</p>\n<nav>\n" + "\n".join(links) + "\n</nav>")
    return Response.text(200, _page(title, body), "text/html; charset=utf-8")


_WORDS = ("episode", "season", "watch", "online", "free", "stream", "download", "hd", "full",
          "movie", "series", "torrent", "magnet", "mirror", "link", "subtitles", "release",
          "archive", "new", "latest")


def bigsite_page(route: Route, request: Request) -> Response:
    """One page of a deterministic site of ``route.pages`` small linked pages.

    ``<prefix>`` (and ``?page=N``) lists 100 pages per index page with next/previous
    links; ``<prefix>N.html`` (1 <= N <= pages) has some text and links to 5 other pages.
    """
    prefix = _prefix(route)
    total = max(route.pages, 0)
    rest = request.path[len(prefix):] if request.path.startswith(prefix) else ""
    if rest in ("", "index.html"):
        try:
            index = int(request.query.get("page", ["1"])[0])
        except ValueError:
            index = 0
        last = max(1, -(-total // BIGSITE_PER_INDEX))
        if not 1 <= index <= last:
            return error_page(404, "No such index page.")
        first = (index - 1) * BIGSITE_PER_INDEX + 1
        items = "\n".join(f'<li><a href="{prefix}{n}.html">Page {n}</a></li>'
                          for n in range(first, min(first + BIGSITE_PER_INDEX, total + 1)))
        nav = []
        if index > 1:
            nav.append(f'<a href="{prefix}?page={index - 1}" rel="prev">previous</a>')
        if index < last:
            nav.append(f'<a href="{prefix}?page={index + 1}" rel="next">next</a>')
        body = f"<h1>Archive, page {index} of {last}</h1>\n<ul>\n{items}\n</ul>\n" + " ".join(nav)
        return Response.text(200, _page(f"Archive page {index}", body), "text/html; charset=utf-8")
    number = rest[:-5] if rest.endswith(".html") else ""
    if not number.isdigit() or not 1 <= int(number) <= total or number != str(int(number)):
        return error_page(404, "No such archive page.")
    n = int(number)
    words = " ".join(_WORDS[(n * 7 + i * 13) % len(_WORDS)] for i in range(40))
    targets = sorted({(n * 31 + k * 977 + k * k * 61) % total + 1 for k in range(1, BIGSITE_LINKS + 1)} - {n})
    links = "\n".join(f'<li><a href="{prefix}{t}.html">Page {t}</a></li>' for t in targets)
    body = (f"<h1>Page {n}</h1>\n<p>{words}.</p>\n<ul>\n{links}\n</ul>\n"
            f'<p><a href="{prefix}?page={(n - 1) // BIGSITE_PER_INDEX + 1}">back to the archive</a></p>')
    return Response.text(200, _page(f"Page {n}", body + _padding(n, route.bytes - len(body) - 200)),
                         "text/html; charset=utf-8")


def _padding(n: int, size: int) -> str:
    """About ``size`` characters of ordinary page weight (navigation, article text, an
    inline script), so a generated site can weigh what real pages weigh (``bytes``)."""
    if size <= 0:
        return ""
    nav = "<nav>" + "".join(f'<a href="/section/{k}/">Section {k}</a> ' for k in range(12)) + "</nav>\n"
    script = ("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
              "gtag('js',new Date());var cfg={page:" + str(n) + ",lazy:true,sizes:[320,640,1280]};</script>\n")
    parts, used, k = [nav, script], len(nav) + len(script), 0
    while used < size:
        sentence = " ".join(_WORDS[(n + k * 3 + i * 5) % len(_WORDS)] for i in range(24))
        para = f"<p class=\"para-{k % 7}\">{sentence.capitalize()}. {sentence}.</p>\n"
        parts.append(para)
        used += len(para)
        k += 1
    return "".join(parts)


def huge_page(route: Route, request: Request) -> Response:
    """``route.bytes`` bytes of HTML, streamed in 64 KiB chunks (never built whole)."""
    return Response(200, [("Content-Type", "text/html; charset=utf-8")], _huge_body(max(route.bytes, 0)))


async def _huge_body(size: int) -> AsyncIterator[bytes]:
    head = b"<!DOCTYPE html>\n<html><head><title>Huge page</title></head><body>\n"
    tail = b"\n</body></html>\n"
    if size <= len(head) + len(tail):
        yield (head + tail)[:size]
        return
    line = b"<p>" + b"filler text " * 20 + b"</p>\n"
    chunk = (line * (HUGE_CHUNK // len(line) + 1))[:HUGE_CHUNK]
    yield head
    remaining = size - len(head) - len(tail)
    while remaining > 0:
        piece = chunk if remaining >= HUGE_CHUNK else chunk[:remaining]
        remaining -= len(piece)
        yield piece
    yield tail


def trickle_page(route: Route, request: Request) -> Response:
    """A slow site: the headers at once, then one byte of HTML a second (``?ms=N``: every N
    ms), ``route.bytes`` bytes in all (0: for ever)."""
    try:
        every = max(float(request.query.get("ms", [""])[0]) / 1000, 0.001)
    except ValueError:
        every = TRICKLE_SECONDS
    return Response(200, [("Content-Type", "text/html; charset=utf-8")], _trickle_body(max(route.bytes, 0), every))


async def _trickle_body(size: int, every: float) -> AsyncIterator[bytes]:
    text = b"<!DOCTYPE html>\n<html><head><title>Slow page</title></head><body>\n<p>" + b"loading " * 64
    sent = 0
    while not size or sent < size:
        yield text[sent % len(text):sent % len(text) + 1]
        sent += 1
        await asyncio.sleep(every)


def cookie_flood_page(route: Route, request: Request) -> Response:
    """A page that sets ``route.pages`` cookies (default 2000) of ``route.bytes`` bytes each
    (default 1000), and links a page beyond it on the same site, to see what comes back."""
    count, size = route.pages or 2000, route.bytes or 1000
    value = ("c" * size)[:size]
    headers = [("Set-Cookie", f"flood{n}={value}; path=/") for n in range(count)]
    body = f'<h1>Cookies</h1>\n<p>{count} cookies set.</p>\n<a href="{_prefix(route)}next.html">next</a>'
    return Response.text(200, _page("Cookies", body), "text/html; charset=utf-8", headers)


def cookie_check_page(route: Route, request: Request) -> Response:
    """An anti-bot cookie check: without the cookie, a 302 to the same URL setting it; with
    it, the page."""
    cookies = request.headers.get("cookie", "")
    if "isop_check=passed" not in cookies:
        response = Response.redirect(request.url, 302)
        response.headers.append(("Set-Cookie", "isop_check=passed; path=/"))
        return response
    body = '<h1>Welcome</h1>\n<p>You passed the check.</p>'
    return Response.text(200, _page("Checked", body), "text/html; charset=utf-8")


# --- hostile bodies (tests/hostile): a stream that never ends, a bomb, big files --------------


def endless_page(route: Route, request: Request) -> Response:
    """HTML that never ends: chunks of 64 KiB for as long as the client reads."""
    return Response(200, [("Content-Type", "text/html; charset=utf-8")], _endless_body())


async def _endless_body() -> AsyncIterator[bytes]:
    yield b"<!DOCTYPE html>\n<html><head><title>Endless page</title></head><body>\n"
    line = b"<p>more and more " + b"filler text " * 20 + b"</p>\n"
    chunk = (line * (HUGE_CHUNK // len(line) + 1))[:HUGE_CHUNK]
    while True:
        yield chunk


_BOMB_MEMBER_BYTES = 1 << 20


def _bomb_member() -> bytes:
    """One gzip member holding 1 MiB of zeros (about 1 KiB); a bomb repeats it."""
    import gzip

    return gzip.compress(b"\0" * _BOMB_MEMBER_BYTES, compresslevel=9, mtime=0)


def gzip_bomb_page(route: Route, request: Request) -> Response:
    """``Content-Encoding: gzip`` of ``route.bytes`` (default 1 GiB) zeros behind an HTML
    start: gzip members sent one after the other (a valid gzip stream), never built whole."""
    size = route.bytes if route.bytes > 0 else 1 << 30
    return Response(200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
                    _bomb_body(size))


async def _bomb_body(size: int) -> AsyncIterator[bytes]:
    import gzip

    yield gzip.compress(b"<!DOCTYPE html>\n<html><head><title>Bomb</title></head><body>\n", mtime=0)
    member = _bomb_member()
    for _ in range(max(size // _BOMB_MEMBER_BYTES, 1)):
        yield member


def _file_bytes(offset: int, size: int) -> bytes:
    """Bytes ``offset`` to ``offset + size`` of a deterministic file (each 64 KiB block
    differs, so a hash of it tells the blocks' order)."""
    out = bytearray()
    while size > 0:
        block, within = divmod(offset, HUGE_CHUNK)
        data = (b"%016x" % block) * (HUGE_CHUNK // 16)
        piece = data[within:within + size]
        out += piece
        offset += len(piece)
        size -= len(piece)
    return bytes(out)


def download_file(route: Route, request: Request, ranges: bool = True) -> Response:
    """A binary file of ``route.bytes`` bytes, generated, streamed in 64 KiB chunks, with
    ``Range: bytes=a-b`` answered by 206 (as any web server and CDN does)."""
    total = max(route.bytes, 0)
    headers = [("Content-Type", route.content_type or content_type_for(request.path)),
               ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")]
    start, end, status = 0, total - 1, 200
    wanted = request.headers.get("range", "")
    if ranges:
        headers.append(("Accept-Ranges", "bytes"))
        if wanted.startswith("bytes=") and "," not in wanted:
            first, _, last = wanted[6:].strip().partition("-")
            try:
                start = int(first) if first else max(total - int(last), 0)
                end = min(int(last), total - 1) if first and last else total - 1
            except ValueError:
                start, end = 0, total - 1
            else:
                if start >= total:
                    return Response(416, [("Content-Range", f"bytes */{total}"), *headers], b"")
                status = 206
                headers.append(("Content-Range", f"bytes {start}-{end}/{total}"))
    headers.append(("Content-Length", str(end - start + 1)))
    if request.method == "HEAD":
        return Response(status, headers, b"")
    return Response(status, headers, _file_body(start, end + 1))


def download_file_without_ranges(route: Route, request: Request) -> Response:
    """:func:`download_file` from a server that ignores ``Range`` (always the whole file)."""
    return download_file(route, request, ranges=False)


async def _file_body(start: int, stop: int) -> AsyncIterator[bytes]:
    while start < stop:
        size = min(HUGE_CHUNK - start % HUGE_CHUNK, stop - start)
        yield _file_bytes(start, size)
        start += size
