"""The sandbox proxy over real loopback sockets: absolute URIs, CONNECT + TLS, WHOIS, errors."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import ssl
import textwrap
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from helpers.sandbox_worlds import build_world

from collector.config import load_config
from collector.sandbox.http import Request, Response
from collector.sandbox.proxy import SandboxProxy
from collector.sandbox.server import ThreadedSandbox, isop_config_text, ports_info
from collector.sandbox.tls import SandboxCA
from collector.sandbox.web import WebService
from collector.sandbox.world import load_world


class FakeRdap:
    def hosts(self) -> set[str]:
        return {"rdap.arin.net"}

    async def handle(self, request: Request) -> Response:
        body = json.dumps({"scheme": request.scheme, "path": request.path}).encode()
        return Response(200, [("Content-Type", "application/rdap+json")], body)


class FakeWhois:
    def hosts(self) -> set[str]:
        return {"whois.iana.org"}

    async def answer(self, server: str, query: str) -> bytes | None:
        return f"% {server}\nrefer: whois.verisign-grs.com\ndomain: {query.upper()}\n".encode()


class Running:
    """A SandboxProxy on its own loop thread."""

    def __init__(self, proxy: SandboxProxy) -> None:
        self.proxy = proxy
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(proxy.start(), self.loop).result(30)
        self.port = proxy.port

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("proxy")
    world = build_world(root / "world")
    ca = SandboxCA(root / "state", wildcards=["pirate.test"])
    running = Running(SandboxProxy(ca, web=WebService(world), rdap=FakeRdap(), whois=FakeWhois()))
    yield running
    running.close()


@pytest.fixture
def tls_client(sandbox: Running) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sandbox.proxy.ca.ca_path))


# --- a tiny HTTP/1.1 client on raw sockets -------------------------------------------------


def connect(sandbox: Running) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
    return sock


def read_response(f: BinaryIO, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
    status_line = f.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_only:
        return status, headers, b""
    if headers.get("transfer-encoding") == "chunked":
        parts = []
        while (size := int(f.readline().strip(), 16)) > 0:
            parts.append(f.read(size))
            f.readline()
        f.readline()
        return status, headers, b"".join(parts)
    return status, headers, f.read(int(headers.get("content-length", "0")))


def tunnel(sandbox: Running, target: str) -> tuple[socket.socket, int, bytes]:
    """Send CONNECT; the socket, the status and the raw reply head."""
    sock = connect(sandbox)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(1)
        if not chunk:
            break
        reply += chunk
    return sock, int(reply.split()[1]), reply


def tls_tunnel(sandbox: Running, host: str, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    sock, status, reply = tunnel(sandbox, f"{host}:443")
    assert status == 200 and reply.startswith(b"HTTP/1.1 200 Connection established\r\n")
    return ctx.wrap_socket(sock, server_hostname=host)


def exchange(sock: socket.socket, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(raw)
    return read_response(sock.makefile("rb"))


# --- plain HTTP through the proxy ----------------------------------------------------------


def test_absolute_uri_get(sandbox: Running) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    conn.request("GET", "http://plain.test/")
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b"<html>plain</html>")
    conn.request("GET", "http://pirate.test/movies/a.html?q=1")  # same connection
    r = conn.getresponse()
    r.read()
    assert r.status == 301 and r.getheader("Location") == "https://pirate.test/movies/a.html?q=1"
    assert r.getheader("X-Powered-By") == "PHP/7.4"
    conn.close()


def test_origin_form_with_host_header(sandbox: Running) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    conn.request("GET", "/", headers={"Host": "plain.test"})
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b"<html>plain</html>")
    conn.close()


def test_unknown_host_502(sandbox: Running) -> None:
    with connect(sandbox) as sock:
        status, _, body = exchange(sock, b"GET http://unknown.example/ HTTP/1.1\r\nHost: unknown.example\r\n\r\n")
        assert status == 502 and b"unknown.example" in body
        # the connection stays usable
        status, _, _ = exchange(sock, b"GET http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\n\r\n")
        assert status == 200
    for target in ("unknown.example:443", "plain.test:443", "off.test:80", "pirate.test:43",
                   "whois.iana.org:443", "203.0.113.5:443"):
        sock, status, _ = tunnel(sandbox, target)
        assert status == 502, target
        sock.close()


@pytest.mark.parametrize("raw,expected", [
    (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),                       # no Host
    (b"GET / HTTP/9.9\r\nHost: plain.test\r\n\r\n", 400),
    (b"GET http://plain.test/ HTTP/1.1\r\nBad Header\r\n\r\n", 400),
    (b"GET ftp://plain.test/ HTTP/1.1\r\nHost: plain.test\r\n\r\n", 400),
    (b"CONNECT plain.test HTTP/1.1\r\n\r\n", 400),
    (b"GET http://plain.test/ HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
    (b"GET http://plain.test/ HTTP/1.1\r\n" + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (b"GET http://plain.test/ HTTP/1.1\r\n" + b"X-A: b\r\n" * 9000 + b"\r\n", 431),
])
def test_garbage_rejected(sandbox: Running, raw: bytes, expected: int) -> None:
    with connect(sandbox) as sock:
        sock.sendall(raw)
        f = sock.makefile("rb")
        status, headers, _ = read_response(f)
        assert status == expected
        assert headers.get("connection") == "close"
        assert f.read() == b""  # closed


def test_keep_alive_pipelining_head_and_bodies(sandbox: Running) -> None:
    with connect(sandbox) as sock:
        sock.sendall(
            b"GET http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\n\r\n"
            b"HEAD http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\n\r\n"
            b"POST http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
            b"POST http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\nContent-Length: 3\r\n\r\nabc"
            b"GET http://plain.test/missing HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n")
        f = sock.makefile("rb")
        assert read_response(f)[::2] == (200, b"<html>plain</html>")
        status, headers, _ = read_response(f, head_only=True)
        assert status == 200 and headers["content-length"] == str(len(b"<html>plain</html>"))
        assert read_response(f)[0] == 200
        assert read_response(f)[0] == 200
        status, headers, body = read_response(f)
        assert (status, body) == (404, b"<html>custom not found</html>")
        assert headers["connection"] == "close"
        assert f.read() == b""


def test_http10_closes(sandbox: Running) -> None:
    with connect(sandbox) as sock:
        sock.sendall(b"GET http://plain.test/ HTTP/1.0\r\n\r\n")
        f = sock.makefile("rb")
        status, headers, body = read_response(f)
        assert (status, body) == (200, b"<html>plain</html>")
        assert f.read() == b""


def test_rdap_over_http_and_https(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    conn.request("GET", "http://rdap.arin.net/registry/ip/185.212.41.7")
    r = conn.getresponse()
    assert json.loads(r.read()) == {"scheme": "http", "path": "/registry/ip/185.212.41.7"}
    conn.close()
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, context=tls_client, timeout=10)
    conn.set_tunnel("rdap.arin.net", 443)
    conn.request("GET", "/registry/ip/185.212.41.7")
    r = conn.getresponse()
    assert json.loads(r.read())["scheme"] == "https"
    conn.close()


def test_whois_tunnel(sandbox: Running) -> None:
    sock, status, _ = tunnel(sandbox, "whois.iana.org:43")
    assert status == 200
    sock.sendall(b"example.com\r\n")
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    assert data.decode() == "% whois.iana.org\nrefer: whois.verisign-grs.com\ndomain: EXAMPLE.COM\n"


def test_plain_http_tunnel(sandbox: Running) -> None:
    sock, status, _ = tunnel(sandbox, "plain.test:80")
    assert status == 200
    with sock:
        status, _, body = exchange(sock, b"GET / HTTP/1.1\r\nHost: plain.test\r\n\r\n")
        assert (status, body) == (200, b"<html>plain</html>")


# --- HTTPS through CONNECT -----------------------------------------------------------------


def test_connect_tls_verified_keep_alive(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, context=tls_client, timeout=10)
    conn.set_tunnel("pirate.test", 443)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 200 and b"movies/a.html" in r.read()
    sock = conn.sock
    cert = sock.getpeercert()
    assert ("DNS", "pirate.test") in cert["subjectAltName"]
    for path in ("/movies/a.html", "/style.css", "/nope", "/archive/17.html", "/calendar/2020/02/"):
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        assert r.status in (200, 404)
        assert conn.sock is sock  # same tunnel
    conn.close()


def test_sni_picks_the_host_certificate(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    for host in ("www.pirate.test", "rdap.arin.net", "off.test"):
        with tls_tunnel(sandbox, host, tls_client) as tls:
            names = [v for k, v in tls.getpeercert()["subjectAltName"] if k == "DNS"]
            assert host in names


def test_untrusted_client_fails(sandbox: Running) -> None:
    ctx = ssl.create_default_context()  # the system's CAs only
    sock, status, _ = tunnel(sandbox, "pirate.test:443")
    assert status == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(sock, server_hostname="pirate.test")
    sock.close()


def test_redirect_chain(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    """http://www.pirate.test/old.html -> https www -> https apex /old.html -> /mid.html -> /new.html."""
    url = "http://www.pirate.test/old.html"
    chain = []
    for _ in range(10):
        scheme, rest = url.split("://")
        host, _, path = rest.partition("/")
        if scheme == "http":
            conn: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
            conn.request("GET", url)
        else:
            conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, context=tls_client, timeout=10)
            conn.set_tunnel(host, 443)
            conn.request("GET", "/" + path)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        chain.append((r.status, url))
        if r.status not in (301, 302):
            break
        location = r.getheader("Location")
        url = location if "://" in location else f"{scheme}://{host}{location}"
    assert chain == [
        (301, "http://www.pirate.test/old.html"),
        (302, "https://www.pirate.test/old.html"),
        (301, "https://pirate.test/old.html"),
        (302, "https://pirate.test/mid.html"),
        (200, "https://pirate.test/new.html"),
    ]
    assert body == b"<html>new</html>"


def test_calendar_trap_through_proxy(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    with tls_tunnel(sandbox, "pirate.test", tls_client) as tls:
        f = tls.makefile("rb")
        seen: set[bytes] = set()
        path = "/calendar/2024/01/"
        for _ in range(30):
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: pirate.test\r\n\r\n".encode())
            status, _, body = read_response(f)
            assert status == 200
            links = set(re.findall(rb'href="([^"]+)"', body))
            assert links - seen
            seen |= links
            path = re.search(rb'href="([^"]+)" rel="next"', body).group(1).decode()


def test_bigsite_through_proxy(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    pages: set[bytes] = set()
    with tls_tunnel(sandbox, "pirate.test", tls_client) as tls:
        f = tls.makefile("rb")
        for index in range(1, 52):
            tls.sendall(f"GET /archive/?page={index} HTTP/1.1\r\nHost: pirate.test\r\n\r\n".encode())
            status, _, body = read_response(f)
            if index == 51:
                assert status == 404
            else:
                pages |= set(re.findall(rb'href="(/archive/\d+\.html)"', body))
        assert len(pages) == 5000
        for page in sorted(pages)[:200]:
            tls.sendall(b"GET " + page + b" HTTP/1.1\r\nHost: pirate.test\r\n\r\n")
            assert read_response(f)[0] == 200


def test_huge_streamed_prefix(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    started = time.perf_counter()
    tls = tls_tunnel(sandbox, "pirate.test", tls_client)
    tls.sendall(b"GET /huge.html HTTP/1.1\r\nHost: pirate.test\r\n\r\n")
    f = tls.makefile("rb")
    status, headers, _ = read_response(f, head_only=True)
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    got = 0
    while got < 2 << 20:
        size = int(f.readline().strip(), 16)
        got += len(f.read(size))
        f.readline()
    f.close()  # (a socket with an open makefile() stays open)
    tls.close()
    assert time.perf_counter() - started < 5
    # the proxy drops the stream and keeps serving
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    conn.request("GET", "http://plain.test/")
    assert conn.getresponse().status == 200
    conn.close()
    deadline = time.time() + 5
    while len(sandbox.proxy._tasks) > 0 and time.time() < deadline:
        time.sleep(0.05)
    assert not sandbox.proxy._tasks


def test_http_redirects_to_https_inside_port80_tunnel(sandbox: Running) -> None:
    sock, status, _ = tunnel(sandbox, "pirate.test:80")
    with sock:
        status, headers, _ = exchange(sock, b"GET /x?y=1 HTTP/1.1\r\nHost: pirate.test\r\n\r\n")
        assert (status, headers["location"]) == (301, "https://pirate.test/x?y=1")


def test_loopback_only(tmp_path: Path) -> None:
    proxy = SandboxProxy(SandboxCA(tmp_path / "state"))
    with pytest.raises(ValueError):
        asyncio.run(proxy.start("0.0.0.0", 0))


# --- the whole world on a thread -------------------------------------------------------------


def test_threaded_sandbox(tmp_path: Path) -> None:
    world = build_world(tmp_path / "world")
    with ThreadedSandbox(world, tmp_path / "state", latency={"http": 1}) as sb:
        assert sb.proxy_url == f"http://127.0.0.1:{sb.proxy_port}"
        assert sb.world.latency_ms["http"] == 1
        assert sb.ca_path == (tmp_path / "state" / "ca.pem").resolve()
        info = ports_info(sb.running)
        assert json.loads(json.dumps(info)) == info
        assert info["world"] == "testworld" and info["proxy"] == sb.proxy_url
        config_file = tmp_path / "isop.toml"
        config_file.write_text(isop_config_text(sb.running, "sqlite:///x.db"))
        raw = tomllib.loads(config_file.read_text())
        assert raw["network"]["proxy"] == sb.proxy_url
        config = load_config(config_file, env={})
        assert config.network.ca_bundle == str(sb.ca_path)
        assert config.storage.url == f"sqlite:///{tmp_path.resolve() / 'x.db'}", "beside its config file"
        if sb.dns_port:
            assert config.network.resolvers == (f"127.0.0.1:{sb.dns_port}",)
        ctx = ssl.create_default_context(cafile=str(sb.ca_path))
        conn = http.client.HTTPSConnection("127.0.0.1", sb.proxy_port, context=ctx, timeout=10)
        conn.set_tunnel("pirate.test", 443)
        conn.request("GET", "/movies/a.html")
        assert conn.getresponse().read() == b"<html>movie A</html>"
        conn.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", sb.proxy_port), timeout=2).close()


def build_rich_world(root: Path) -> Path:
    """build_world plus a registry, a registrar, a network and a registered domain."""
    build_world(root)
    (root / "registries.toml").write_text(textwrap.dedent("""
        [[registry]]
        tlds = ["com", "net"]
        operator = "VeriSign Global Registry Services"
        whois_server = "whois.verisign-grs.com"
        whois_format = "verisign"
        thin = true
        rdap_base = "https://rdap.verisign.com/com/v1/"
    """))
    (root / "registrars.toml").write_text(textwrap.dedent("""
        [[registrar]]
        name = "NameCheap, Inc."
        iana_id = 1068
        whois_server = "whois.namecheap.com"
        rdap_base = "https://rdap.namecheap.com/"
        abuse_email = "abuse@namecheap.com"
    """))
    (root / "networks.toml").write_text(textwrap.dedent("""
        [[network]]
        cidr = "185.212.40.0/22"
        asn = 209588
        as_name = "FLYSERV-AS"
        org = "Flyservers S.A."
        country = "PA"
        rir = "ripencc"
    """))
    (root / "domains" / "streamz.com.toml").write_text(textwrap.dedent("""
        [registration]
        registrar = "NameCheap, Inc."
        created = "2023-04-02T10:11:12Z"
        updated = "2025-03-01T08:00:00Z"
        expires = "2026-04-02T10:11:12Z"
        nameservers = ["ns1.example-dns.net"]
        [dns]
        "@" = { A = ["185.212.41.7"] }
        [[site]]
        host = "streamz.com"
    """))
    (root / "sites" / "streamz.com").mkdir(parents=True)
    (root / "sites" / "streamz.com" / "index.html").write_text("<html>streamz</html>")
    return root


def test_whole_world_with_real_services(tmp_path: Path) -> None:
    """DNS, RDAP and WHOIS of the other modules behind the proxy (when they exist)."""
    world = load_world(build_rich_world(tmp_path / "world"))
    with ThreadedSandbox(world, tmp_path / "state") as sb:
        running = sb.running
        ctx = ssl.create_default_context(cafile=str(sb.ca_path))
        conn = http.client.HTTPSConnection("127.0.0.1", sb.proxy_port, context=ctx, timeout=10)
        conn.set_tunnel("streamz.com", 443)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"<html>streamz</html>"
        conn.close()
        if running.rdap is not None:
            for url in ("https://rdap.verisign.com/com/v1/domain/streamz.com",
                        "http://rdap.db.ripe.net/ip/185.212.41.7"):
                host = url.split("/")[2]
                if url.startswith("https"):
                    conn = http.client.HTTPSConnection("127.0.0.1", sb.proxy_port, context=ctx, timeout=10)
                    conn.set_tunnel(host, 443)
                    conn.request("GET", "/" + url.split("/", 3)[3])
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", sb.proxy_port, timeout=10)
                    conn.request("GET", url)
                r = conn.getresponse()
                assert r.status == 200, url
                assert "rdap" in r.getheader("Content-Type", "")
                json.loads(r.read())
                conn.close()
        if running.whois is not None:
            sock = socket.create_connection(("127.0.0.1", sb.proxy_port), timeout=10)
            sock.sendall(b"CONNECT whois.verisign-grs.com:43 HTTP/1.1\r\n\r\n")
            f = sock.makefile("rb")
            assert f.readline().startswith(b"HTTP/1.1 200")
            f.readline()
            sock.sendall(b"streamz.com\r\n")
            answer = f.read()
            f.close()
            sock.close()
            assert b"STREAMZ.COM" in answer.upper()


def test_http10_keep_alive_with_stream_closes(sandbox: Running, tls_client: ssl.SSLContext) -> None:
    """HTTP/1.0 cannot take chunks: a length-less stream ends with the connection."""
    with tls_tunnel(sandbox, "pirate.test", tls_client) as tls:
        tls.sendall(b"GET /huge.html HTTP/1.0\r\nHost: pirate.test\r\nConnection: keep-alive\r\n\r\n")
        f = tls.makefile("rb")
        status, headers, _ = read_response(f, head_only=True)
        assert status == 200 and headers["connection"] == "close"
        assert "transfer-encoding" not in headers and "content-length" not in headers
        total = 0
        while chunk := f.read(1 << 20):
            total += len(chunk)
        f.close()
        assert total == 52428800
