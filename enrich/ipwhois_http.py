"""What one hosting lookup sends, and the only ways it can send it: the DNS resolver and
the urllib opener handed to ipwhois.

:class:`Recorder` counts the queries of one lookup by service (``cymru``, ``dns``,
``rdap:<host>``) and keeps the errors seen, for the reasons a failed lookup gives.
:func:`build_opener` builds an opener from a few urllib handlers only (no FTP, file or data
handlers, no ``no_proxy`` bypass): with a proxy configured nothing can leave any other way,
redirects included. Every answer read through it is bounded (:data:`MAX_BODY`).
"""

from __future__ import annotations

import base64
import ssl
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import (
    HTTPDefaultErrorHandler,
    HTTPErrorProcessor,
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    UnknownHandler,
)

import dns.exception
import dns.resolver

from enrich.cymru import CYMRU_ASN
from storage.cdn import norm_host, suffix_match

MAX_BODY = 4_000_000
"""Largest RDAP answer read, in bytes."""


class Recorder:
    """Queries sent and errors seen by one lookup; used by one worker thread only."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.dns_errors: list[BaseException] = []
        self.http_errors: list[tuple[str, BaseException]] = []

    def dns_query(self, qname: object) -> None:
        name = norm_host(str(qname))
        self.sent["cymru" if suffix_match(name, [CYMRU_ASN]) else "dns"] += 1

    def http_request(self, req: Request) -> str:
        host = (urlsplit(req.full_url).hostname or "?").lower()
        self.sent[f"rdap:{host}"] += 1
        return host

    def dns_timed_out(self) -> bool:
        return any(isinstance(e, dns.exception.Timeout) for e in self.dns_errors)

    def http_timed_out(self) -> bool:
        return any(_is_timeout(e) for _, e in self.http_errors)

    def dns_reason(self) -> str:
        if not self.dns_errors:
            return ""
        e = self.dns_errors[-1]
        if isinstance(e, dns.resolver.NXDOMAIN):
            return "no such name"
        if isinstance(e, dns.resolver.NoAnswer):
            return "no TXT record"
        if isinstance(e, dns.exception.Timeout):
            return "timed out"
        return f"{type(e).__name__}: {e}"

    def http_reason(self) -> str:
        if not self.http_errors:
            return ""
        host, e = self.http_errors[-1]
        reason = getattr(e, "reason", None)
        text = f"{type(reason).__name__}: {reason}" if isinstance(reason, BaseException) else f"{type(e).__name__}: {e}"
        return f"{host}: {text}"


def _is_timeout(e: BaseException) -> bool:
    return isinstance(e, TimeoutError) or isinstance(getattr(e, "reason", None), TimeoutError)


class CountingResolver:
    """A blocking dnspython resolver that counts and records what goes through ``resolve``
    (ipwhois only calls ``resolve`` and sets ``lifetime``).

    ipwhois sets ``lifetime`` to the per-server timeout times its retry count before each
    ASN lookup; that write is ignored, so the lookup's ``timeout`` stays the DNS budget.
    """

    def __init__(self, inner: dns.resolver.Resolver, recorder: Recorder) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_recorder", recorder)

    def resolve(self, qname: Any, rdtype: Any = "A", *args: Any, **kwargs: Any) -> dns.resolver.Answer:
        self._recorder.dns_query(qname)
        try:
            return self._inner.resolve(qname, rdtype, *args, **kwargs)
        except Exception as e:
            self._recorder.dns_errors.append(e)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "lifetime":
            setattr(self._inner, name, value)


class ProxyOnly(ProxyHandler):
    """Send http and https through ``proxy`` always: unlike :class:`ProxyHandler`, no
    ``no_proxy`` bypass (an environment variable must not open a side door)."""

    def __init__(self, proxy: str) -> None:
        parts = urlsplit(proxy)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise ValueError(f"proxy must be http://host:port, not {proxy!r}")
        self._hostport = f"{parts.hostname}:{parts.port}" if ":" not in parts.hostname \
            else f"[{parts.hostname}]:{parts.port}"
        self._auth = None
        if parts.username is not None:
            creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._auth = "Basic " + base64.b64encode(creds.encode()).decode("ascii")
        super().__init__({"http": proxy, "https": proxy})

    def proxy_open(self, req: Request, proxy: str, type: str) -> None:
        if self._auth:
            req.add_header("Proxy-authorization", self._auth)
        req.set_proxy(self._hostport, "http")
        return None  # the HTTP(S) handler sends it: plain through the proxy, TLS by CONNECT


def _bounded_read(read: Any, host: str, recorder: Recorder) -> Any:
    def bounded(amt: int | None = None) -> bytes:
        try:
            data = read(MAX_BODY + 1 if amt is None or amt < 0 else min(amt, MAX_BODY + 1))
        except Exception as e:
            recorder.http_errors.append((host, e))
            raise
        if len(data) > MAX_BODY:
            err = ValueError(f"answer larger than {MAX_BODY} bytes")
            recorder.http_errors.append((host, err))
            raise err
        return data
    return bounded


class _CountingHTTPHandler(HTTPHandler):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self._recorder = recorder

    def http_open(self, req: Request) -> Any:
        return _counted_open(self._recorder, req, super().http_open)


class _CountingHTTPSHandler(HTTPSHandler):
    def __init__(self, recorder: Recorder, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._recorder = recorder

    def https_open(self, req: Request) -> Any:
        return _counted_open(self._recorder, req, super().https_open)


def _counted_open(recorder: Recorder, req: Request, open_: Any) -> Any:
    host = recorder.http_request(req)
    try:
        response = open_(req)
    except Exception as e:
        recorder.http_errors.append((host, e))
        raise
    response.read = _bounded_read(response.read, host, recorder)
    return response


def build_opener(recorder: Recorder, user_agent: str, context: ssl.SSLContext,
                 proxy: str | None) -> OpenerDirector:
    """An opener of these handlers only (no FTP/file/data, so nothing bypasses the proxy),
    counting into ``recorder``, saying ``user_agent``, through ``proxy`` when given."""
    opener = OpenerDirector()
    opener.addheaders = [("User-agent", user_agent)]
    handlers: list[Any] = [UnknownHandler(), _CountingHTTPHandler(recorder),
                           _CountingHTTPSHandler(recorder, context),
                           HTTPDefaultErrorHandler(), HTTPRedirectHandler(), HTTPErrorProcessor()]
    if proxy:
        handlers.insert(0, ProxyOnly(proxy))
    for handler in handlers:
        opener.add_handler(handler)
    return opener
