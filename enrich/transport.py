"""Connections for enrichment: through ``[network] proxy`` (HTTP CONNECT) or direct, with
optional TLS, and a small bounded HTTP/1.1 GET on top (for RDAP).

Every connection RDAP, WHOIS and the TLS probe open goes through :func:`open_connection`:
with a proxy it connects to the proxy and asks ``CONNECT host:port`` (for port 43 too), then
starts TLS on the tunnel when asked to. Everything is bounded: the time (one ``timeout`` per
call), the size of a response head and of a body.

Failures are :class:`TransportError` with a one-line message and a :attr:`~TransportError.kind`
the clients map to their statuses. Protocol code only: no retries, no caching.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit

from spiders.browser_privacy import BROWSER_USER_AGENT

MAX_HEAD = 64 * 1024
"""Bytes allowed for a response's status line plus headers."""
MAX_HEADERS = 200
"""Header lines allowed in one response head."""
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_READ = 64 * 1024

ErrorKind = Literal["timeout", "refused", "proxy", "tls", "protocol", "too_large", "error"]


class TransportError(Exception):
    """A connection or HTTP exchange that failed; ``str(e)`` is one line for people."""

    def __init__(self, message: str, kind: ErrorKind = "error", status: int | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.kind: ErrorKind = kind
        """``timeout``; ``refused`` (connection refused, or the proxy has no route: 502, 403,
        ...); ``proxy`` (the proxy answered something that is not HTTP, or wants
        authentication); ``tls`` (handshake or verification failed); ``protocol`` (the
        server's HTTP does not parse); ``too_large`` (a head or body over its limit);
        ``error`` (anything else, e.g. an unusable URL or DNS failure)."""
        self.status = status
        """The proxy's HTTP status when it refused the CONNECT."""


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying client context: the system's CAs plus the PEM file ``ca_bundle`` (if any).

    Raises ``OSError``/``ssl.SSLError`` when ``ca_bundle`` cannot be read or holds no
    certificate (the configuration has already checked that the file exists).
    """
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


# -- connections ----------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


async def close_stream(writer: asyncio.StreamWriter, wait: float = 1.0) -> None:
    """Close ``writer`` and give the transport up to ``wait`` seconds to finish (a TLS
    close_notify), so no socket outlives its caller; never raises (cancellation excepted)."""
    _close(writer)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), wait)


async def _read_head(reader: asyncio.StreamReader, what: str) -> tuple[str, int, str, dict[str, str]]:
    """One HTTP response head: (version, status, reason, lower-case headers)."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            raise TransportError(f"{what} closed the connection without answering", "protocol") from None
        raise TransportError(f"{what} sent a truncated status line", "protocol") from None
    except asyncio.LimitOverrunError:
        raise TransportError(f"{what} sent a status line over {MAX_HEAD} bytes", "too_large") from None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() \
            or len(parts[1]) != 3:
        raise TransportError(f"{what} did not answer HTTP: {line[:60]!r}", "protocol")
    version, status, reason = parts[0], int(parts[1]), (parts[2] if len(parts) > 2 else "")
    headers: dict[str, str] = {}
    size = len(line)
    count = 0
    while True:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise TransportError(f"{what} sent truncated headers", "protocol") from None
        except asyncio.LimitOverrunError:
            raise TransportError(f"{what} sent a header line over {MAX_HEAD} bytes", "too_large") from None
        size += len(raw)
        count += 1
        if size > MAX_HEAD or count > MAX_HEADERS:
            raise TransportError(f"{what} sent a response head over {MAX_HEAD} bytes or "
                                 f"{MAX_HEADERS} lines", "too_large")
        if raw in (b"\r\n", b"\n"):
            return version, status, reason.strip(), headers
        name, sep, value = raw.partition(b":")
        if not sep or not name.strip() or name != name.strip():
            raise TransportError(f"{what} sent a malformed header line: {raw[:60]!r}", "protocol")
        key = name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text


def _proxy_parts(proxy: str) -> tuple[str, str, int, str | None]:
    parts = urlsplit(proxy)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"proxy {proxy!r} is not an http://host:port URL", "error")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 8080)
    except ValueError:
        raise TransportError(f"proxy {proxy!r} has a bad port", "error") from None
    auth = None
    if parts.username is not None:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(user_pass.encode()).decode("ascii")
    return parts.scheme, parts.hostname, port, auth


def _ascii_host(host: str) -> str:
    """``host`` in A-labels (IDNA) for the wire; raises :class:`TransportError` if impossible."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise TransportError(f"{host[:100]!r} is not a valid host name", "error") from None


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _tunnel(host: str, port: int, proxy: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    scheme, proxy_host, proxy_port, auth = _proxy_parts(proxy)
    where = f"proxy {proxy_host}:{proxy_port}"
    try:
        reader, writer = await asyncio.open_connection(
            proxy_host, proxy_port, limit=MAX_HEAD,
            ssl=ssl.create_default_context() if scheme == "https" else None)
    except ConnectionRefusedError as e:
        raise TransportError(f"{where} refused the connection: {_describe(e)}", "refused") from None
    except ssl.SSLError as e:
        raise TransportError(f"TLS to {where} failed: {_describe(e)}", "tls") from None
    except OSError as e:
        raise TransportError(f"cannot reach {where}: {_describe(e)}", "error") from None
    target = _authority(host, port)
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if auth:
        lines.append(f"Proxy-Authorization: {auth}")
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        await writer.drain()
        _version, status, reason, _headers = await _read_head(reader, where)
    except TransportError as e:
        _close(writer)
        kind = e.kind if e.kind == "too_large" else "proxy"
        raise TransportError(f"CONNECT {target}: {e}", kind) from None
    except (OSError, UnicodeError) as e:
        _close(writer)
        raise TransportError(f"CONNECT {target} via {where} failed: {_describe(e)}", "proxy") from None
    except BaseException:  # cancelled
        _close(writer)
        raise
    if status != 200:
        _close(writer)
        kind: ErrorKind = "proxy" if status == 407 else "refused"
        raise TransportError(f"{where} refused CONNECT {target}: {status} {reason}".rstrip(),
                             kind, status)
    return reader, writer


async def open_connection(host: str, port: int, *, proxy: str | None, timeout: float,
                          tls: ssl.SSLContext | None = None, server_hostname: str | None = None,
                          ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A stream to ``host:port`` within ``timeout`` seconds: a CONNECT tunnel through the
    ``http://`` ``proxy`` when one is set, else a direct connection; then TLS with ``tls``
    (SNI and verification against ``server_hostname``, default ``host``) when given.

    Raises :class:`TransportError` (one line, with a :attr:`~TransportError.kind`).
    """
    host = _ascii_host(host)
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            if proxy:
                reader, writer = await _tunnel(host, port, proxy)
            else:
                try:
                    reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEAD)
                except ConnectionRefusedError as e:
                    raise TransportError(f"{host}:{port} refused the connection: {_describe(e)}",
                                         "refused") from None
                except OSError as e:
                    raise TransportError(f"cannot connect to {host}:{port}: {_describe(e)}",
                                         "error") from None
            if tls is not None:
                try:
                    await writer.start_tls(tls, server_hostname=server_hostname or host)
                except ssl.SSLCertVerificationError as e:
                    raise TransportError(f"TLS to {host}:{port}: certificate not trusted: "
                                         f"{e.verify_message or _describe(e)}", "tls") from None
                except (ssl.SSLError, ConnectionError) as e:
                    raise TransportError(f"TLS handshake with {host}:{port} failed: {_describe(e)}",
                                         "tls") from None
    except TimeoutError:
        if writer is not None:
            _close(writer)
        via = f" via {proxy}" if proxy else ""
        raise TransportError(f"connecting to {host}:{port}{via} timed out after {timeout:g}s",
                             "timeout") from None
    except BaseException:  # TransportError, or cancelled from outside: no stream left open
        if writer is not None:
            _close(writer)
        raise
    return reader, writer


# -- HTTP GET -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    """The final response of :func:`http_get` (after redirects)."""

    status: int
    """HTTP status code."""
    headers: dict[str, str]
    """Response headers, names lower-case; repeated headers joined with ``", "``."""
    body: bytes
    """The body, de-chunked (content codings are not undone: we ask for ``identity``)."""
    url: str
    """The URL that gave this response."""
    history: tuple[str, ...] = field(default=())
    """URLs fetched before :attr:`url` (each answered a redirect), in order."""


async def _read_chunked(reader: asyncio.StreamReader, max_bytes: int, where: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise TransportError(f"{where}: chunked body ended early", "protocol") from None
        except asyncio.LimitOverrunError:
            raise TransportError(f"{where}: chunk size line too long", "protocol") from None
        text = line.split(b";", 1)[0].strip()
        try:
            size = int(text, 16)
        except ValueError:
            raise TransportError(f"{where}: malformed chunk size {text[:20]!r}", "protocol") from None
        if size < 0 or len(text) > 16:
            raise TransportError(f"{where}: malformed chunk size {text[:20]!r}", "protocol")
        if size == 0:
            trailer = 0
            while True:  # trailers are read and dropped
                try:
                    raw = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as e:
                    if not e.partial:  # a server that closes right after the last chunk
                        return b"".join(parts)
                    raise TransportError(f"{where}: truncated chunked trailer", "protocol") from None
                except asyncio.LimitOverrunError:
                    raise TransportError(f"{where}: chunked trailer too long", "too_large") from None
                trailer += len(raw)
                if raw in (b"\r\n", b"\n"):
                    return b"".join(parts)
                if trailer > MAX_HEAD:
                    raise TransportError(f"{where}: chunked trailer too long", "too_large")
        total += size
        if total > max_bytes:
            raise TransportError(f"{where}: body over {max_bytes} bytes", "too_large")
        try:
            parts.append(await reader.readexactly(size))
            end = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise TransportError(f"{where}: chunked body ended early", "protocol") from None
        except asyncio.LimitOverrunError:
            raise TransportError(f"{where}: malformed chunk end", "protocol") from None
        if end not in (b"\r\n", b"\n"):
            raise TransportError(f"{where}: malformed chunk end", "protocol")


async def _read_to_close(reader: asyncio.StreamReader, max_bytes: int, where: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        try:
            data = await reader.read(_READ)
        except ssl.SSLError as e:
            if parts and "UNEXPECTED_EOF" in str(e).upper():  # servers that skip close_notify
                break
            raise TransportError(f"{where}: {_describe(e)}", "tls") from None
        if not data:
            break
        total += len(data)
        if total > max_bytes:
            raise TransportError(f"{where}: body over {max_bytes} bytes", "too_large")
        parts.append(data)
    return b"".join(parts)


async def _read_body(reader: asyncio.StreamReader, status: int, headers: dict[str, str],
                     max_bytes: int, where: str) -> bytes:
    if status in (204, 304) or 100 <= status < 200:
        return b""
    encoding = headers.get("transfer-encoding", "").lower()
    if encoding:
        codings = [c.strip() for c in encoding.split(",") if c.strip()]
        if codings[-1:] != ["chunked"]:
            raise TransportError(f"{where}: unsupported Transfer-Encoding {encoding!r}", "protocol")
        return await _read_chunked(reader, max_bytes, where)
    length = headers.get("content-length")
    if length is not None:
        values = {v.strip() for v in length.split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise TransportError(f"{where}: malformed Content-Length {length[:30]!r}", "protocol")
        size = int(values.pop())
        if size > max_bytes:
            raise TransportError(f"{where}: body of {size} bytes is over {max_bytes}", "too_large")
        try:
            return await reader.readexactly(size)
        except asyncio.IncompleteReadError as e:
            raise TransportError(f"{where}: body ended after {len(e.partial)} of {size} bytes",
                                 "protocol") from None
    return await _read_to_close(reader, max_bytes, where)


def _split_url(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TransportError(f"bad URL {url[:100]!r}", "error") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url[:100]!r}", "error")
    host = _ascii_host(parts.hostname.rstrip("."))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target


async def _get_once(url: str, *, proxy: str | None, tls_context: ssl.SSLContext | None,
                    timeout: float, headers: dict[str, str], max_bytes: int) -> HttpResponse:
    scheme, host, port, target = _split_url(url)
    tls = None
    if scheme == "https":
        tls = tls_context if tls_context is not None else ssl.create_default_context()
    reader, writer = await open_connection(host, port, proxy=proxy, timeout=timeout, tls=tls)
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else _authority(host, port)
    lines = [f"GET {target} HTTP/1.1", f"Host: {host_header}"]
    sent = {"host"}
    for name, value in headers.items():
        if name.lower() in sent or name.lower() in ("connection", "accept-encoding"):
            continue
        if any(c in f"{name}{value}" for c in "\r\n"):
            raise TransportError(f"header {name!r} holds a line break", "error")
        lines.append(f"{name}: {value}")
        sent.add(name.lower())
    lines += ["Accept-Encoding: identity", "Connection: close"]
    where = url if len(url) <= 120 else url[:119] + "…"
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await writer.drain()
        while True:
            _version, status, _reason, head = await _read_head(reader, where)
            if not 100 <= status < 200:
                break  # 1xx interim answers (100 Continue, 103 Early Hints) are skipped
        body = await _read_body(reader, status, head, max_bytes, where)
    except TransportError:
        raise
    except ssl.SSLError as e:
        raise TransportError(f"{where}: {_describe(e)}", "tls") from None
    except OSError as e:
        raise TransportError(f"{where}: {_describe(e)}", "error") from None
    finally:
        await close_stream(writer)
    return HttpResponse(status, head, body, url)


async def http_get(url: str, *, proxy: str | None, tls_context: ssl.SSLContext | None,
                   timeout: float, headers: dict[str, str] | None = None,
                   max_bytes: int = 2_000_000, max_redirects: int = MAX_REDIRECTS,
                   refuse: Callable[[str], str | None] | None = None) -> HttpResponse:
    """GET ``url`` over HTTP/1.1 (one connection per request, through ``proxy``), following up
    to ``max_redirects`` redirects; the whole call, redirects included, takes at most
    ``timeout`` seconds. Bodies may be sized by Content-Length, chunked or read to close, and
    must not exceed ``max_bytes``. ``tls_context`` verifies https (None: the system's CAs).

    Raises :class:`TransportError` (one line): connection failures, timeouts, a head or body
    over its limit, HTTP that does not parse, too many redirects, a redirect to a host that
    ``refuse(host)`` refuses (it returns why: a hostile server must not turn the client
    against our own network).
    """
    sent_headers = {"User-Agent": BROWSER_USER_AGENT, "Accept": "*/*", **(headers or {})}
    history: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                response = await _get_once(url, proxy=proxy, tls_context=tls_context,
                                           timeout=timeout, headers=sent_headers,
                                           max_bytes=max_bytes)
                location = response.headers.get("location")
                if response.status not in REDIRECT_STATUSES or not location:
                    return HttpResponse(response.status, response.headers, response.body, url,
                                        tuple(history))
                if len(history) >= max_redirects:
                    raise TransportError(f"{url}: more than {max_redirects} redirects", "protocol")
                history.append(url)
                url = urljoin(url, location.strip())
                if refuse is not None and (why := refuse(urlsplit(url).hostname or "")) is not None:
                    raise TransportError(f"redirect from {history[-1]} not followed: {why}", "error")
    except TimeoutError:
        raise TransportError(f"GET {url} timed out after {timeout:g}s", "timeout") from None
