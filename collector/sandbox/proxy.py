"""The sandbox's HTTP/1.1 proxy: the one door into the fake internet.

It listens on loopback and routes every request by host name to an in-process service:

- absolute-URI requests (``GET http://host/path HTTP/1.1``) and origin-form requests with a
  ``Host`` header (so the port also works as a plain HTTP origin in tests);
- ``CONNECT host:443`` (or any port of an HTTPS host): ``200 Connection established``, then
  TLS with a certificate from the :class:`~collector.sandbox.tls.SandboxCA` picked by SNI,
  then HTTP/1.1 requests inside the tunnel (keep-alive);
- ``CONNECT host:80``: plain HTTP inside the tunnel;
- ``CONNECT host:43``: one WHOIS query line, the answer, close.

A host no service owns gets ``502 Bad Gateway``. The proxy NEVER opens an outbound
connection: everything it answers is made in this process.

Every CONNECT and every HTTP request (inside tunnels too) is kept in :attr:`SandboxProxy.log`,
a bounded record of who asked for what with which headers: tests read it to check what a
client sent (only the hosts it should, the User-Agent it should).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol
from urllib.parse import urlsplit

from collector.sandbox.http import Request, Response
from collector.sandbox.tls import SandboxCA

log = logging.getLogger("isop.sandbox.proxy")

MAX_HEAD = 64 * 1024
"""Bytes allowed for a request line plus headers."""
MAX_HEADERS = 200
MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 120.0
"""Seconds a keep-alive connection may wait for its next request."""
HEAD_TIMEOUT = 30.0
"""Seconds a WHOIS query line may take to arrive after CONNECT."""
TLS_HANDSHAKE_TIMEOUT = 15.0

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_METHOD = re.compile(r"^[A-Z][A-Z-]{0,19}$")
_NO_BODY_STATUS = frozenset({204, 304})

Handler = Callable[[Request], Awaitable[Response]]


class HttpService(Protocol):
    """A service the proxy routes HTTP(S) requests to (web sites, RDAP)."""

    def hosts(self) -> set[str]: ...

    async def handle(self, request: Request) -> Response: ...


class WhoisLike(Protocol):
    """A service answering WHOIS queries on port 43."""

    def hosts(self) -> set[str]: ...

    async def answer(self, server: str, query: str) -> bytes | None: ...


class BadRequest(Exception):
    """A request that cannot be parsed; answered with ``status`` and the connection closed."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it: a ``CONNECT`` or an HTTP request (``kind``
    "connect" or "http"; ``tunnel`` True for a request inside a CONNECT tunnel)."""

    kind: str
    method: str
    host: str
    port: int
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    tunnel: bool = False


class RequestLog:
    """The last ``maxlen`` requests the proxy received, safe to read from another thread."""

    def __init__(self, maxlen: int = 5_000) -> None:
        self._items: deque[Seen] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def add(self, seen: Seen) -> None:
        with self._lock:
            self._items.append(seen)

    def entries(self) -> list[Seen]:
        with self._lock:
            return list(self._items)

    def hosts(self) -> set[str]:
        """Every host asked for, by CONNECT or by an HTTP request."""
        return {e.host for e in self.entries()}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass
class _Head:
    method: str
    target: str
    version: str
    headers: dict[str, str]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """``host[:port]`` (or ``[v6]:port``) -> (lower-case host, port); ValueError if bad."""
    parts = urlsplit(f"//{value}")
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    if not host or any(c in host for c in " /\\@"):
        raise ValueError(value)
    return host, port if port is not None else default_port


async def _read_head(reader: asyncio.StreamReader) -> _Head | None:
    """Read one request head; None on a clean EOF before any byte."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadRequest("truncated request line") from None
    except asyncio.LimitOverrunError:
        raise BadRequest("request line too long", 431) from None
    while line in (b"\r\n", b"\n"):  # tolerate blank lines between requests (RFC 9112 2.2)
        line = await reader.readuntil(b"\n")
    try:
        method, target, version = line.decode("ascii").rstrip("\r\n").split(" ")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("malformed request line") from None
    if not _METHOD.match(method) or version not in ("HTTP/1.1", "HTTP/1.0") or not target:
        raise BadRequest("malformed request line")
    headers: dict[str, str] = {}
    size = len(line)
    while True:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise BadRequest("header line too long", 431) from None
        except asyncio.IncompleteReadError:
            raise BadRequest("truncated headers") from None
        size += len(raw)
        if size > MAX_HEAD or len(headers) > MAX_HEADERS:
            raise BadRequest("request head too large", 431)
        if raw in (b"\r\n", b"\n"):
            break
        name, sep, value = raw.partition(b":")
        if not sep or not _TOKEN.match(name):
            raise BadRequest("malformed header")
        key = name.decode("ascii").lower()
        text = value.strip().decode("latin-1")
        if key in headers:
            if key in ("content-length", "host") and headers[key] != text:
                raise BadRequest(f"conflicting {key} headers")
            if key not in ("content-length", "host"):
                headers[key] = f"{headers[key]}, {text}"
        else:
            headers[key] = text
    return _Head(method, target, version, headers)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """Consume the request body (Content-Length or chunked)."""
    encoding = headers.get("transfer-encoding", "").lower()
    if encoding:
        if "content-length" in headers:
            raise BadRequest("both Content-Length and Transfer-Encoding")
        if encoding != "chunked":
            raise BadRequest("unsupported transfer encoding", 501)
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("malformed chunk size") from None
            if size < 0:
                raise BadRequest("malformed chunk size")
            if size == 0:
                while (await reader.readuntil(b"\n")) not in (b"\r\n", b"\n"):
                    pass  # trailers are ignored
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise BadRequest("request body too large", 413)
            parts.append(await reader.readexactly(size))
            if (await reader.readuntil(b"\n")) not in (b"\r\n", b"\n"):
                raise BadRequest("malformed chunk")
    length = headers.get("content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise BadRequest("malformed Content-Length")
    if int(length) > MAX_BODY:
        raise BadRequest("request body too large", 413)
    return await reader.readexactly(int(length)) if int(length) else b""


def _wants_close(head: _Head) -> bool:
    tokens = (head.headers.get("connection", "") + "," + head.headers.get("proxy-connection", "")).lower()
    if head.version == "HTTP/1.0":
        return "keep-alive" not in tokens
    return "close" in tokens


class SandboxProxy:
    """The proxy server. ``await start()``, read :attr:`port`, ``await close()``."""

    def __init__(self, ca: SandboxCA, web: HttpService | None = None,
                 rdap: HttpService | None = None, whois: WhoisLike | None = None) -> None:
        self.ca = ca
        self.web = web
        self.rdap = rdap
        self.whois = whois
        self._web_hosts = {h.lower() for h in web.hosts()} if web else set()
        self._rdap_hosts = {h.lower() for h in rdap.hosts()} if rdap else set()
        self._whois_hosts = {h.lower() for h in whois.hosts()} if whois else set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.log = RequestLog()
        """What clients asked for (see :class:`Seen`)."""
        self.host = "127.0.0.1"
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------

    def tls_hosts(self) -> set[str]:
        """Hosts that accept TLS (their certificates are worth making at start)."""
        return {h for h in self._web_hosts if self._web_serves(h, "https")} | self._rdap_hosts

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0: any free port, then read :attr:`port`).

        ``host`` must be a loopback address: the sandbox is never served to the network.
        """
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the sandbox proxy binds to loopback only, not {host}")
        await asyncio.to_thread(self.ca.prepare, sorted(self.tls_hosts()))
        self._server = await asyncio.start_server(self._on_client, host, port, limit=MAX_HEAD)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]
        log.info("sandbox proxy listening on %s:%d", self.host, self.port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    # --- routing --------------------------------------------------------------------------

    def _web_serves(self, host: str, scheme: str) -> bool:
        if host not in self._web_hosts:
            return False
        serves = getattr(self.web, "serves", None)
        return True if serves is None else bool(serves(host, scheme))

    def handler_for(self, host: str) -> Handler | None:
        """The service owning ``host`` for HTTP(S), or None."""
        if host in self._rdap_hosts and self.rdap is not None:
            return self.rdap.handle
        if host in self._web_hosts and self.web is not None:
            return self.web.handle
        return None

    def tunnel_mode(self, host: str, port: int) -> str | None:
        """What a ``CONNECT host:port`` tunnel carries: "tls", "http", "whois" or None (502)."""
        if port == 43:
            return "whois" if host in self._whois_hosts and self.whois is not None else None
        if port == 80:
            return "http" if host in self._rdap_hosts or self._web_serves(host, "http") else None
        if host in self._rdap_hosts or self._web_serves(host, "https"):
            return "tls"
        if port != 443 and self._web_serves(host, "http"):
            return "http"
        return None

    # --- connections ----------------------------------------------------------------------

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer, "http", None, 80)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError,
                asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:  # pragma: no cover - a bug: keep serving other clients
            log.exception("sandbox proxy: connection failed")
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            # never end cancelled: asyncio's stream callback would log the cancellation
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     scheme: str, tunnel_host: str | None, tunnel_port: int) -> None:
        """Answer requests on one connection (or tunnel) until it closes."""
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT):
                    head = await _read_head(reader)
                if head is None:
                    return
                body = b""
                if head.method != "CONNECT":
                    if head.headers.get("expect", "").lower() == "100-continue":
                        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    body = await _read_body(reader, head.headers)
            except BadRequest as e:
                await self._send_error(writer, e.status, str(e), close=True)
                return
            except TimeoutError:
                return
            if head.method == "CONNECT":
                if tunnel_host is not None:
                    await self._send_error(writer, 400, "CONNECT inside a tunnel", close=True)
                    return
                await self._connect(reader, writer, head)
                return
            keep = await self._request(writer, head, body, scheme, tunnel_host, tunnel_port)
            if not keep:
                return

    async def _request(self, writer: asyncio.StreamWriter, head: _Head, body: bytes,
                       scheme: str, tunnel_host: str | None, tunnel_port: int) -> bool:
        """Answer one HTTP request; returns whether the connection stays open."""
        started = time.perf_counter()
        close = _wants_close(head)
        target = head.target
        try:
            if target.startswith(("http://", "https://")):
                parts = urlsplit(target)
                scheme = parts.scheme
                host, port = _split_host_port(parts.netloc, 443 if scheme == "https" else 80)
                target = parts.path or "/"
                if parts.query:
                    target += "?" + parts.query
            elif target.startswith("/"):
                host_header = head.headers.get("host", "")
                default_port = tunnel_port if tunnel_host else (443 if scheme == "https" else 80)
                if host_header:
                    host, port = _split_host_port(host_header, default_port)
                elif tunnel_host is not None:
                    host, port = tunnel_host, tunnel_port
                else:
                    raise ValueError("no Host header")
            else:
                raise ValueError("bad request target")
        except ValueError as e:
            await self._send_error(writer, 400, str(e), close=True)
            return False
        self.log.add(Seen("http", head.method, host, port, target, dict(head.headers), tunnel_host is not None))
        request = Request(method=head.method, scheme=scheme, host=host, port=port,
                          target=target, headers=head.headers, body=body)
        handler = self.handler_for(host)
        if handler is None:
            response = Response.text(502, f"502 Bad Gateway: no sandbox service for {host}\n")
        else:
            try:
                response = await handler(request)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sandbox proxy: %s %s failed", head.method, request.url)
                response = Response.text(500, "500 Internal Server Error\n")
        sent, close = await self._send(writer, response, head, close)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d %dB %.1fms", head.method, request.url, response.status, sent,
                      (time.perf_counter() - started) * 1000)
        return not close

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       head: _Head) -> None:
        try:
            host, port = _split_host_port(head.target, -1)
            if port <= 0:
                raise ValueError(head.target)
        except ValueError:
            await self._send_error(writer, 400, "CONNECT needs host:port", close=True)
            return
        self.log.add(Seen("connect", "CONNECT", host, port, head.target, dict(head.headers)))
        mode = self.tunnel_mode(host, port)
        log.debug("CONNECT %s:%d -> %s", host, port, mode or "502")
        if mode is None:
            await self._send_error(writer, 502, f"no sandbox service at {host}:{port}", close=True)
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        if mode == "whois":
            await self._whois(reader, writer, host)
        elif mode == "http":
            await self._serve(reader, writer, "http", host, port)
        else:
            await writer.start_tls(self.ca.server_context(host),
                                   ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT)
            await self._serve(reader, writer, "https", host, port)

    async def _whois(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     host: str) -> None:
        assert self.whois is not None
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                line = await reader.readuntil(b"\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as e:
            line = getattr(e, "partial", b"") or b""
            if not line.strip():
                return
        query = line.decode("utf-8", "replace").strip()
        answer = await self.whois.answer(host, query)
        log.debug("WHOIS %s %r -> %s", host, query, "no answer" if answer is None else f"{len(answer)}B")
        if answer:
            writer.write(answer)
            await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()

    # --- responses ------------------------------------------------------------------------

    async def _send_error(self, writer: asyncio.StreamWriter, status: int, message: str,
                          close: bool) -> None:
        body = f"{status} {_reason(status)}: {message}\n".encode()
        head = (f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n")
        writer.write(head.encode("latin-1") + body)
        await writer.drain()

    async def _send(self, writer: asyncio.StreamWriter, response: Response, head: _Head,
                    close: bool) -> tuple[int, bool]:
        """Write ``response``; returns the body bytes sent and whether to close after it."""
        status = response.status
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        has_length = False
        for name, value in response.headers:
            low = name.lower()
            if low in ("connection", "transfer-encoding", "keep-alive"):
                continue
            if low == "content-length":
                has_length = True
            lines.append(f"{name}: {value}")
        body = response.body
        no_body = head.method == "HEAD" or status in _NO_BODY_STATUS or 100 <= status < 200
        stream = not isinstance(body, bytes | bytearray)
        chunked = False
        if stream:
            if not has_length and not no_body:
                if head.version == "HTTP/1.1":
                    lines.append("Transfer-Encoding: chunked")
                    chunked = True
                else:
                    close = True
        elif not has_length and status not in _NO_BODY_STATUS and not 100 <= status < 200:
            lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
        elif head.version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if not stream:
            if no_body:
                writer.write(data)
            else:
                writer.write(data + bytes(body) if len(body) < 65536 else data)
                if len(body) >= 65536:
                    writer.write(body)
            await writer.drain()
            return (0 if no_body else len(body)), close
        writer.write(data)
        iterator: AsyncIterator[bytes] = body  # type: ignore[assignment]
        sent = 0
        try:
            if not no_body:
                async for chunk in iterator:
                    if not chunk:
                        continue
                    sent += len(chunk)
                    if chunked:
                        writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                    else:
                        writer.write(chunk)
                    async with asyncio.timeout(IDLE_TIMEOUT):  # a client that stopped reading
                        await writer.drain()
                if chunked:
                    writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        return sent, close


async def start_proxy(ca: SandboxCA, web: HttpService | None = None,
                      rdap: HttpService | None = None, whois: WhoisLike | None = None,
                      host: str = "127.0.0.1", port: int = 0) -> SandboxProxy:
    """Create and start a :class:`SandboxProxy`."""
    proxy = SandboxProxy(ca, web=web, rdap=rdap, whois=whois)
    await proxy.start(host, port)
    return proxy
