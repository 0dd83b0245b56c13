"""WebService: static files, redirects, routes and generated pages (no sockets)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from pathlib import Path

import pytest
from helpers.sandbox_worlds import LATIN1, build_world

from collector.sandbox.http import Request, Response
from collector.sandbox.web import WebService, content_type_for, huge_page
from collector.sandbox.world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path / "world")


@pytest.fixture
def web(world: World) -> WebService:
    return WebService(world)


def get(web: WebService, url: str, method: str = "GET") -> Response:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    request = Request(method, scheme, host, 443 if scheme == "https" else 80, "/" + path)
    return asyncio.run(web.handle(request))


def header(response: Response, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


def body(response: Response) -> bytes:
    assert isinstance(response.body, bytes)
    return response.body


def test_hosts(web: WebService) -> None:
    assert web.hosts() == {"pirate.test", "www.pirate.test", "plain.test", "off.test"}
    assert web.serves("pirate.test", "https") and web.serves("pirate.test", "http")
    assert not web.serves("plain.test", "https") and web.serves("plain.test", "http")
    assert not web.serves("off.test", "http") and web.serves("off.test", "https")


def test_static_paths_and_types(web: WebService) -> None:
    r = get(web, "https://pirate.test/")
    assert r.status == 200 and b"movies/a.html" in body(r)
    assert header(r, "Content-Type") == "text/html"  # the page declares its own charset
    assert body(get(web, "https://pirate.test/movies/a")) == b"<html>movie A</html>"
    assert body(get(web, "https://pirate.test/movies/a.html")) == b"<html>movie A</html>"
    assert body(get(web, "https://pirate.test/movies/")) == b"<html>movies</html>"
    assert body(get(web, "https://pirate.test/movies")) == b"<html>movies</html>"
    assert header(get(web, "https://pirate.test/style.css"), "Content-Type") == "text/css"
    r = get(web, "https://pirate.test/file.torrent")
    assert header(r, "Content-Type") == "application/x-bittorrent"
    assert body(r) == b"d8:announce0:e"
    assert content_type_for("x.apk") == "application/vnd.android.package-archive"


def test_site_headers_on_every_answer(web: WebService) -> None:
    for url in ("https://pirate.test/", "https://pirate.test/nope", "https://pirate.test/old.html"):
        r = get(web, url)
        assert header(r, "X-Powered-By") == "PHP/7.4"
        assert header(r, "Server") == "cloudflare"


def test_bytes_served_verbatim_with_route_content_type(web: WebService) -> None:
    r = get(web, "https://pirate.test/latin1.html")
    assert body(r) == LATIN1
    assert header(r, "Content-Type") == "text/html; charset=utf-8"


def test_404_and_traversal(web: WebService) -> None:
    r = get(web, "https://pirate.test/missing.html")
    assert r.status == 404 and b"404" in body(r)
    assert get(web, "https://pirate.test/../plain.test/index.html").status == 404
    assert get(web, "https://pirate.test/%2e%2e/%2e%2e/world.toml").status == 404
    r = get(web, "http://plain.test/nothing-here")
    assert r.status == 404 and body(r) == b"<html>custom not found</html>"


def test_http_modes(web: WebService) -> None:
    r = get(web, "http://pirate.test/movies/a.html?x=1")
    assert r.status == 301
    assert header(r, "Location") == "https://pirate.test/movies/a.html?x=1"
    assert get(web, "http://plain.test/").status == 200
    assert get(web, "https://plain.test/").status == 502
    assert get(web, "http://off.test/").status == 502
    assert get(web, "https://off.test/").status == 200


def test_whole_host_redirect(web: WebService) -> None:
    r = get(web, "https://www.pirate.test/movies/a.html")
    assert r.status == 302
    assert header(r, "Location") == "https://pirate.test/movies/a.html"


def test_route_redirects_status_and_unknown_generator(web: WebService) -> None:
    r = get(web, "https://pirate.test/old.html")
    assert (r.status, header(r, "Location")) == (301, "/mid.html")
    r = get(web, "https://pirate.test/mid.html")
    assert (r.status, header(r, "Location")) == (302, "https://pirate.test/new.html")
    assert get(web, "https://pirate.test/broken").status == 500
    assert get(web, "https://pirate.test/weird/x").status == 500


def test_delay(web: WebService) -> None:
    start = time.perf_counter()
    r = get(web, "https://pirate.test/slow.html")
    assert r.status == 200 and body(r) == b"<html>slow</html>"
    assert time.perf_counter() - start >= 0.19


def test_latency(world: World) -> None:
    slow = WebService(dataclasses.replace(world, latency_ms={"http": 150}))
    start = time.perf_counter()
    assert get(slow, "https://pirate.test/").status == 200
    assert time.perf_counter() - start >= 0.14


HREF = re.compile(rb'href="([^"]+)"')


def test_calendar_is_endless(web: WebService) -> None:
    r = get(web, "https://pirate.test/calendar/2024/01/")
    links = {h.decode().replace("&amp;", "&") for h in HREF.findall(body(r))}
    assert "/calendar/2023/12/" in links and "/calendar/2024/02/" in links
    assert {f"/calendar/2024/01/{d:02d}/" for d in range(1, 32)} <= links
    assert any("?view=" in link and "&sort=" in link for link in links)
    # Following "next month" 300 times: every page brings links never seen before.
    seen: set[str] = set(links)
    url = "/calendar/2024/01/"
    for _ in range(300):
        page = body(get(web, f"https://pirate.test{url}"))
        found = {h.decode() for h in HREF.findall(page)}
        assert found - seen
        seen |= found
        nxt = re.search(rb'href="([^"]+)" rel="next"', page)
        assert nxt is not None
        url = nxt.group(1).decode()
    assert len(seen) > 300 * 28
    day = get(web, "https://pirate.test/calendar/2024/02/29/?view=week&sort=desc")
    assert day.status == 200 and b"/calendar/2024/03/01/" in body(day)
    assert get(web, "https://pirate.test/calendar/").status == 200
    assert get(web, "https://pirate.test/calendar/2023/02/30/").status == 404
    assert get(web, "https://pirate.test/calendar/x/").status == 404


def test_bigsite_pages(web: WebService) -> None:
    seen: set[str] = set()
    url = "/archive/"
    while url:
        page = body(get(web, f"https://pirate.test{url}"))
        seen.update(h.decode() for h in re.findall(rb'href="(/archive/\d+\.html)"', page))
        nxt = re.search(rb'href="([^"]+)" rel="next"', page)
        url = nxt.group(1).decode() if nxt else ""
    assert len(seen) == 5000
    one = get(web, "https://pirate.test/archive/1234.html")
    text = body(one)
    assert one.status == 200 and 300 <= len(text) <= 2000
    assert 3 <= len(re.findall(rb'href="/archive/\d+\.html"', text)) <= 5
    assert body(get(web, "https://pirate.test/archive/1234.html")) == text  # deterministic
    assert get(web, "https://pirate.test/archive/5000.html").status == 200
    assert get(web, "https://pirate.test/archive/5001.html").status == 404
    assert get(web, "https://pirate.test/archive/0.html").status == 404
    assert get(web, "https://pirate.test/archive/?page=51").status == 404


def test_huge_is_streamed(web: WebService) -> None:
    r = get(web, "https://pirate.test/huge.html")
    assert r.status == 200 and not isinstance(r.body, bytes)

    async def take(n: int) -> tuple[int, int]:
        total = largest = 0
        async for chunk in r.body:  # type: ignore[union-attr]
            total += len(chunk)
            largest = max(largest, len(chunk))
            if total >= n:
                break
        return total, largest

    total, largest = asyncio.run(take(1 << 20))
    assert total >= 1 << 20 and largest <= 64 * 1024


def test_huge_exact_size(world: World) -> None:
    route = dataclasses.replace(world.sites["pirate.test"].route_for("/huge.html"), bytes=1_000_000)
    response = huge_page(route, Request("GET", "https", "pirate.test", 443, "/huge.html"))

    async def size() -> int:
        return sum([len(c) async for c in response.body])  # type: ignore[union-attr]

    assert asyncio.run(size()) == 1_000_000
