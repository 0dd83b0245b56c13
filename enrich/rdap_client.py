"""RDAP domain lookups over the network: the IANA bootstrap (RFC 9224) and the queries
(RFC 7480/9082) through ``[network] proxy``.

Protocol code only: :class:`RdapClient` finds the registry's RDAP server in a
:class:`Bootstrap`, asks it for ``domain/<name>`` and says how it went in an
:class:`RdapAnswer`; :func:`enrich.rdap_parse.parse_rdap_domain` turns the JSON into a
:class:`~enrich.registration.Registration`. Caching and mapping to rows live in the glue.

The bootstrap is a snapshot shipped in ``config/enrich/rdap_dns_bootstrap.json`` (see the
README there); :func:`fetch_bootstrap` fetches a fresh one but is never called implicitly.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from enrich.ratelimit import RateLimiter
from enrich.registration import normalise_domain, one_line
from enrich.transport import HttpResponse, TransportError, http_get
from spiders.browser_privacy import BROWSER_USER_AGENT

DEFAULT_BOOTSTRAP = Path(__file__).resolve().parents[1] / "config" / "enrich" / "rdap_dns_bootstrap.json"
IANA_DNS_BOOTSTRAP = "https://data.iana.org/rdap/dns.json"
ACCEPT = "application/rdap+json, application/json;q=0.9"
MAX_RDAP_BYTES = 2_000_000

Status = Literal["ok", "not_found", "throttled", "no_rdap", "timeout", "malformed", "error"]


class BootstrapError(ValueError):
    """A bootstrap file that is missing, unreadable or not RFC 9224; one line."""


# -- the bootstrap ---------------------------------------------------------------------------------


def _ascii_name(domain: str) -> str:
    """``domain`` in A-labels (IDNA), lower-case, no trailing dot."""
    name = normalise_domain(domain)
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _validate(doc: object, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise BootstrapError(f"{where}: not an RDAP bootstrap file (no \"services\" list)")
    for i, service in enumerate(doc["services"]):
        if (not isinstance(service, list) or len(service) < 2
                or not isinstance(service[0], list) or not isinstance(service[1], list)
                or not all(isinstance(v, str) for v in service[0] + service[1])):
            raise BootstrapError(f"{where}: service #{i} is not [[labels], [urls]]")
    return doc


class Bootstrap:
    """IANA's DNS bootstrap: which RDAP base URLs serve which TLD (or longer suffix)."""

    def __init__(self, doc: dict[str, Any], source: str = "") -> None:
        """``doc`` is the parsed ``dns.json``; raises :class:`BootstrapError` if it is not one."""
        self.doc = _validate(doc, source or "bootstrap")
        self.source = source
        """Where the file came from (a path or URL; empty when built in code)."""
        self._bases: dict[str, tuple[str, ...]] = {}
        for labels, urls in (s[:2] for s in self.doc["services"]):
            # https first (RFC 7481: clients SHOULD prefer it), order otherwise kept
            ordered = tuple(sorted(urls, key=lambda u: not u.lower().startswith("https://")))
            for label in labels:
                key = label.lower().strip(".")
                self._bases[key] = self._bases.get(key, ()) + tuple(
                    u for u in ordered if u not in self._bases.get(key, ()))

    @property
    def publication(self) -> str | None:
        """The file's ``publication`` timestamp, as IANA wrote it."""
        value = self.doc.get("publication")
        return value if isinstance(value, str) else None

    def suffixes(self) -> Iterable[str]:
        """Every suffix (TLD or longer) the file names."""
        return self._bases.keys()

    def base_urls(self, domain: str) -> list[str]:
        """The RDAP base URLs for ``domain`` (the longest matching label suffix; https ones
        first); empty when the bootstrap names no RDAP service for it."""
        labels = _ascii_name(domain).split(".")
        for i in range(len(labels)):
            urls = self._bases.get(".".join(labels[i:]))
            if urls:
                return list(urls)
        return []

    @classmethod
    def load(cls, path: str | Path | None = None) -> Bootstrap:
        """Read a bootstrap file (default: the snapshot shipped in ``config/enrich/``).
        Raises :class:`BootstrapError`."""
        where = Path(path) if path is not None else DEFAULT_BOOTSTRAP
        try:
            doc = json.loads(where.read_text(encoding="utf-8"))
        except OSError as e:
            raise BootstrapError(f"cannot read RDAP bootstrap {where}: {e.strerror or e}") from None
        except ValueError as e:
            raise BootstrapError(f"RDAP bootstrap {where} is not JSON: {e}") from None
        return cls(doc, str(where))

    def save(self, path: str | Path) -> None:
        """Write the file as read (atomically: a temporary file renamed over ``path``)."""
        where = Path(path)
        tmp = where.with_name(where.name + ".tmp")
        tmp.write_text(json.dumps(self.doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(where)


async def fetch_bootstrap(*, proxy: str | None, tls_context: ssl.SSLContext | None,
                          timeout: float, url: str = IANA_DNS_BOOTSTRAP) -> dict[str, Any]:
    """Download and validate IANA's DNS bootstrap file (for ``isop refresh bootstrap``; never
    called implicitly). Raises :class:`BootstrapError` (bad answer) or
    :class:`~enrich.transport.TransportError` (no answer)."""
    response = await http_get(url, proxy=proxy, tls_context=tls_context, timeout=timeout,
                              headers={"Accept": "application/json"}, max_bytes=8_000_000)
    if response.status != 200:
        raise BootstrapError(f"{url}: HTTP {response.status}")
    try:
        doc = json.loads(response.body)
    except ValueError as e:
        raise BootstrapError(f"{url}: not JSON: {e}") from None
    return _validate(doc, url)


# -- answers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RdapAnswer:
    """The outcome of one domain lookup (retries included)."""

    status: Status
    """``ok`` (200 with a JSON object); ``not_found`` (404); ``throttled`` (429 after every
    retry); ``no_rdap`` (the bootstrap names no server for the TLD); ``timeout``;
    ``malformed`` (a 200 whose body is not a JSON object); ``error`` (anything else: other
    HTTP statuses, refused connections, TLS failures, bodies over the limit)."""
    data: dict[str, Any] | None = None
    """The parsed JSON answer (for ``ok``; for ``not_found`` and ``error`` when the server
    sent an RDAP error object)."""
    url: str | None = None
    """The last URL asked (after redirects)."""
    http_status: int | None = None
    """The last HTTP status received."""
    error: str | None = None
    """One line saying what went wrong (None for ``ok`` and ``not_found``)."""
    queries: int = 0
    """HTTP requests sent for this lookup (retries and redirects included)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP-date); None when
    absent or unreadable. Past dates give 0."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text[:9]))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delta)


LimiterFactory = Callable[[], RateLimiter]


class RdapClient:
    """Domain lookups against the registries' RDAP servers, one rate limiter per server host.

    ``per_host`` is a factory of :class:`~enrich.ratelimit.RateLimiter` (called once per RDAP
    host) or ``(max_concurrent, per_second)``; ``per_second`` (``[enrich] rdap_rate``) overrides
    the rate of the tuple form. A 429 (or a 503 with ``Retry-After``) is retried
    up to ``max_retries`` times after waiting what ``Retry-After`` asks (or 1, 2, 4 ... s),
    never more than ``max_retry_wait`` seconds; waits happen outside the limiter, with
    ``sleep`` (swap it in tests). :attr:`sent` counts requests per host; :attr:`waits` records
    every back-off (host, seconds).
    """

    def __init__(self, proxy: str | None, tls_context: ssl.SSLContext | None, timeout: float,
                 bootstrap: Bootstrap, per_host: LimiterFactory | tuple[int, float] = (2, 2.0),
                 max_retries: int = 3, *, per_second: float | None = None,
                 max_retry_wait: float = 30.0, user_agent: str | None = None,
                 refuse_host: Callable[[str], str | None] | None = None,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.proxy = proxy
        self.tls_context = tls_context
        self.timeout = timeout
        self.bootstrap = bootstrap
        if callable(per_host):
            self._new_limiter: LimiterFactory = per_host
        else:
            concurrency, rate = per_host
            rate = rate if per_second is None else per_second
            self._new_limiter = lambda: RateLimiter(concurrency, rate)
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        # [network] user_agent/attributable (NetworkConfig.effective_user_agent): a browser's
        # by default, never the tool's name unless configured
        self.headers = {"Accept": ACCEPT, "User-Agent": user_agent or BROWSER_USER_AGENT}
        self._sleep = sleep
        self.refuse_host = refuse_host
        """Redirect targets this refuses (it returns why) are not followed ([network] allow_destinations)."""
        self._limiters: dict[str, RateLimiter] = {}
        self.sent: Counter[str] = Counter()
        """HTTP requests sent, per host."""
        self.waits: list[tuple[str, float]] = []
        """Every back-off taken: (host, seconds)."""

    def limiter(self, host: str) -> RateLimiter:
        """The rate limiter of one RDAP server host (made on first use)."""
        limiter = self._limiters.get(host)
        if limiter is None:
            limiter = self._limiters[host] = self._new_limiter()
        return limiter

    def domain_url(self, name: str) -> str | None:
        """The URL asked for ``name`` (first base URL of the bootstrap), or None."""
        bases = self.bootstrap.base_urls(name)
        if not bases:
            return None
        base = bases[0] if bases[0].endswith("/") else bases[0] + "/"
        return f"{base}domain/{quote(_ascii_name(name), safe='.-')}"

    async def domain(self, name: str) -> RdapAnswer:
        """Look ``name`` up at its registry's RDAP server. Never raises for network or
        server failures: they are the answer's ``status``."""
        url = self.domain_url(name)
        if url is None:
            tld = _ascii_name(name).rsplit(".", 1)[-1]
            return RdapAnswer("no_rdap", error=f"no RDAP service for .{tld} in the bootstrap")
        host = (urlsplit(url).hostname or "").lower()
        queries = 0
        attempt = 0
        while True:
            try:
                async with self.limiter(host):
                    response = await self._get(url)
            except TransportError as e:
                queries += 1
                self.sent[host] += 1
                status: Status = "timeout" if e.kind == "timeout" else "error"
                return RdapAnswer(status, url=url, error=one_line(str(e)), queries=queries)
            queries += 1 + len(response.history)
            for hop in (*response.history, response.url):
                self.sent[(urlsplit(hop).hostname or "").lower()] += 1
            wait = self._retry_wait(response, attempt)
            if wait is None:
                return self._answer(response, queries)
            if attempt >= self.max_retries:
                return RdapAnswer("throttled", _json_object(response.body), response.url,
                                  response.status,
                                  f"HTTP {response.status} from {host} after {queries} queries",
                                  queries)
            attempt += 1
            self.waits.append((host, wait))
            await self._sleep(wait)

    async def _get(self, url: str) -> HttpResponse:
        return await http_get(url, proxy=self.proxy, tls_context=self.tls_context,
                              timeout=self.timeout, headers=self.headers,
                              max_bytes=MAX_RDAP_BYTES, refuse=self.refuse_host)

    def _retry_wait(self, response: HttpResponse, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the answer is final."""
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if response.status == 429 or (response.status == 503 and retry_after is not None):
            wait = retry_after if retry_after is not None else float(2 ** attempt)
            return min(max(wait, 0.0), self.max_retry_wait)
        return None

    def _answer(self, response: HttpResponse, queries: int) -> RdapAnswer:
        status, url = response.status, response.url
        data = _json_object(response.body)
        if status == 200:
            if data is None:
                return RdapAnswer("malformed", None, url, status,
                                  _json_problem(response.body, url), queries)
            return RdapAnswer("ok", data, url, status, None, queries)
        if status == 404:
            return RdapAnswer("not_found", data, url, status, None, queries)
        return RdapAnswer("error", data, url, status, f"HTTP {status} from {url}", queries)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _json_problem(body: bytes, url: str) -> str:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as e:
        return one_line(f"invalid JSON from {url}: {e}")
    return f"JSON from {url} is a {type(value).__name__}, not an object"


__all__ = ["DEFAULT_BOOTSTRAP", "IANA_DNS_BOOTSTRAP", "Bootstrap", "BootstrapError", "RdapAnswer",
           "RdapClient", "fetch_bootstrap", "retry_after_seconds"]
