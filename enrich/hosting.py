"""Hosting enrichment for IP addresses: who announces each address (ASN, prefix, country via
Team Cymru DNS) and who holds it (network, owner, abuse contact via the RIR's RDAP), with
ipwhois doing the protocol work, plus CDN recognition (:class:`CdnList`).

Glue, not protocol: ipwhois queries and parses; this module points it at ``[network]
resolvers`` and ``[network] proxy`` (and nothing else), runs it on worker threads, reuses
networks already known (:class:`NetworkCache`), counts what it sends and turns every failure
into a status on :class:`NetworkFacts`.

How ipwhois is driven (ipwhois 1.3): ``IPWhois(ip, timeout, proxy_opener)`` builds a
``Net``; its ``dns_resolver`` is replaced by a resolver aimed at the configured servers, and
the two halves of ``IPWhois.lookup_rdap`` are called one after the other,
``ipasn.lookup(asn_methods=["dns"])`` (``<ip>.origin[6].asn.cymru.com`` and
``AS<n>.asn.cymru.com`` TXT) then ``RDAP(net).lookup(depth=0, inc_raw=True)``, because
``lookup_rdap`` raises on an RDAP failure and loses the ASN facts already found, and would
ask JPNIC/KRNIC over WHOIS unless ``inc_nir=False``. ipwhois asks the RIR that Cymru names
(``https://rdap.arin.net/registry/ip/<ip>``, ``https://rdap.db.ripe.net/ip/<ip>``, ...);
when Cymru knows nothing it falls back here to ARIN's bootstrap service
(``https://rdap-bootstrap.arin.net/bootstrap/ip/<ip>``, which redirects to the right RIR),
so an address that is registered but not announced still gets its owner.

Every HTTP request goes through an opener built here from a few urllib handlers only (no
FTP, file or data handlers, no ``no_proxy`` bypass): with a proxy configured nothing can
leave any other way, redirects included.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import ssl
import time
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
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
from ipwhois import IPWhois
from ipwhois.exceptions import (
    ASNLookupError,
    ASNParseError,
    ASNRegistryError,
    BaseIpwhoisException,
    HTTPLookupError,
    HTTPRateLimitError,
    IPDefinedError,
    WhoisRateLimitError,
)
from ipwhois.rdap import RDAP

from enrich.dns_lookup import RateLimiter, is_reserved
from enrich.rdap_parse import NetworkInfo, parse_rdap_network
from enrich.registration import clean_text, country_code, email_address, one_line
from enrich.resolver import make_resolver
from spiders.browser_privacy import BROWSER_USER_AGENT

Status = Literal["ok", "reserved", "asn_failed", "rdap_failed", "timeout", "error"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_CDN_FILE = Path(__file__).resolve().parents[1] / "config" / "enrich" / "cdn.toml"
MAX_RAW_CHARS = 32_000
"""How large (as JSON) :attr:`NetworkFacts.raw` may be; bigger answers are trimmed."""
MAX_BODY = 4_000_000
"""Largest RDAP answer read, in bytes."""
DEFAULT_MAX_AGE = 7 * 86400.0
"""How long a known network answers for its addresses without a new lookup (seconds)."""
DEFAULT_FAILURE_MAX_AGE = 300.0
"""How long a failed lookup (``asn_failed``, ``rdap_failed``) is remembered for its address."""
CYMRU_SUFFIX = "asn.cymru.com"


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkFacts:
    """Who announces and who holds one IP address."""

    ip: str
    """The address asked, normalised (IPv6 compressed; IPv4-mapped IPv6 as IPv4)."""
    reserved: str | None = None
    """The kind of special-purpose address (``private``, ``loopback``, ``documentation``, ...;
    see :func:`enrich.dns_lookup.is_reserved`); such addresses are never looked up."""
    asn: int | None = None
    """The origin AS number (the first one of a multi-origin prefix)."""
    asn_cidr: str | None = None
    """The announced prefix, as Team Cymru gives it."""
    asn_country: str | None = None
    """The country code Team Cymru gives for the prefix."""
    asn_registry: str | None = None
    """The RIR Team Cymru names: ``arin``, ``ripencc``, ``apnic``, ``lacnic``, ``afrinic``."""
    asn_date: str | None = None
    """The prefix's allocation date, ``YYYY-MM-DD``."""
    asn_name: str | None = None
    """The short AS name from ``AS<n>.asn.cymru.com`` (``CLOUDFLARENET``: the text before
    ``" - "`` of Cymru's ``"CLOUDFLARENET - Cloudflare, Inc., US"``)."""
    cidr: str | None = None
    """The RDAP network as a CIDR block: of several, the one holding :attr:`ip`, else the first."""
    start_address: str | None = None
    """First address of the RDAP network."""
    end_address: str | None = None
    """Last address of the RDAP network."""
    handle: str | None = None
    """The RIR's handle for the network (``NET-104-21-0-0-1``)."""
    name: str | None = None
    """The network's name (``CLOUDFLARENET``)."""
    org: str | None = None
    """The network's holder (the registrant organisation)."""
    country: str | None = None
    """The network's country (ISO 3166 alpha-2), else its holder's."""
    abuse_email: str | None = None
    """The abuse contact's e-mail address, lower-case."""
    rir: str | None = None
    """The RIR whose RDAP answered (from the answer's links), else Cymru's registry."""
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The RDAP network object as received, notices dropped, trimmed to
    :data:`MAX_RAW_CHARS` of JSON."""
    status: Status = "ok"
    """``ok``: both the ASN and the network are known; ``reserved``: a special-purpose address,
    nothing sent; ``asn_failed``: Team Cymru had no origin (network facts may still be there,
    from the RDAP bootstrap); ``rdap_failed``: the ASN is known, the RDAP lookup failed;
    ``timeout``: a query timed out; ``error``: anything else (not an IP address, a bug)."""
    error: str | None = None
    """What went wrong, one line (None when ``ok``)."""
    reused: bool = False
    """Answered from the network cache (or the failure cache): no query was sent."""
    cdn: str | None = None
    """The CDN or DDoS-protection provider the address belongs to (see :class:`CdnList`)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# -- CDNs ------------------------------------------------------------------------------------------


class CdnListError(ValueError):
    """The CDN file cannot be used; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class CdnProvider:
    """One provider of :class:`CdnList`."""

    name: str
    asns: frozenset[int] = frozenset()
    cidrs: tuple[IPNetwork, ...] = ()
    cnames: tuple[str, ...] = ()
    """CNAME target suffixes, lower-case, no dots at either end."""
    nameservers: tuple[str, ...] = ()
    """Name server suffixes, lower-case, no dots at either end."""
    as_names: frozenset[str] = frozenset()
    """Short AS names, upper-case."""


def _norm_host(name: str) -> str:
    return name.strip().strip(".").lower()


def _suffix_match(name: str, suffixes: Iterable[str]) -> bool:
    """``name`` is one of ``suffixes`` or lies under one, on a label boundary."""
    name = _norm_host(name)
    return bool(name) and any(name == s or name.endswith("." + s) for s in suffixes)


def _short_as_name(as_name: str) -> str:
    return as_name.split(" - ", 1)[0].strip().upper()


def _address(ip: object) -> IPAddress | None:
    """``ip`` as an address (IPv4-mapped IPv6 as IPv4), None if it is not one."""
    try:
        addr = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)  # type: ignore[arg-type]
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class CdnList:
    """CDN and DDoS-protection providers and how to recognise them (``config/enrich/cdn.toml``)."""

    def __init__(self, providers: Iterable[CdnProvider]) -> None:
        self.providers: tuple[CdnProvider, ...] = tuple(providers)
        self._by_asn: dict[int, str] = {}
        self._by_as_name: dict[str, str] = {}
        for p in self.providers:
            for asn in p.asns:
                self._by_asn.setdefault(asn, p.name)
            for as_name in p.as_names:
                self._by_as_name.setdefault(as_name, p.name)
        self._cidrs = [(net, p.name) for p in self.providers for net in p.cidrs]
        self._cidrs.sort(key=lambda item: -item[0].prefixlen)  # most specific first

    @classmethod
    def load(cls, path: Path | str | None = None) -> CdnList:
        """Read a CDN file (default: ``config/enrich/cdn.toml``). Raises :class:`CdnListError`."""
        path = Path(path) if path is not None else DEFAULT_CDN_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, tomllib.TOMLDecodeError) as e:
            raise CdnListError(one_line(f"{path}: {e}")) from None
        items = data.get("provider", [])
        if not isinstance(items, list):
            raise CdnListError(f"{path}: 'provider' must be an array of tables ([[provider]])")
        return cls(_provider(item, f"{path}: provider {i + 1}") for i, item in enumerate(items))

    def match(self, asn: int | None = None, ip: str | IPAddress | None = None,
              cnames: Iterable[str] = (), nameservers: Iterable[str] = (),
              as_name: str | None = None) -> str | None:
        """The provider whatever is given points at, or None.

        Tried in order: the AS number, the address (published ranges, most specific first),
        CNAME targets and name servers (suffixes on label boundaries, so
        ``notcloudflare.net`` is not ``cloudflare.net``), the AS name (the short name, or
        Cymru's ``"NAME - Org, CC"``). Values that are not what they claim to be (an ``ip``
        that is no address) are ignored.
        """
        if isinstance(asn, int) and not isinstance(asn, bool) and asn in self._by_asn:
            return self._by_asn[asn]
        addr = _address(ip) if ip is not None else None
        if addr is not None:
            for net, name in self._cidrs:
                if net.version == addr.version and addr in net:
                    return name
        cnames = [c for c in cnames if isinstance(c, str)]
        nameservers = [n for n in nameservers if isinstance(n, str)]
        for p in self.providers:
            if p.cnames and any(_suffix_match(c, p.cnames) for c in cnames):
                return p.name
        for p in self.providers:
            if p.nameservers and any(_suffix_match(n, p.nameservers) for n in nameservers):
                return p.name
        if isinstance(as_name, str) and as_name.strip():
            return self._by_as_name.get(_short_as_name(as_name))
        return None


def _provider(item: object, where: str) -> CdnProvider:
    if not isinstance(item, dict):
        raise CdnListError(f"{where}: not a table")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CdnListError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"

    def strings(key: str) -> list[str]:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise CdnListError(f"{where}: {key!r} must be a list of non-empty strings")
        return value

    asns = item.get("asns", [])
    if not isinstance(asns, list) or not all(
            isinstance(a, int) and not isinstance(a, bool) and 0 < a < 2**32 for a in asns):
        raise CdnListError(f"{where}: 'asns' must be a list of AS numbers")
    cidrs = []
    for text in strings("cidrs"):
        try:
            cidrs.append(ipaddress.ip_network(text.strip()))
        except ValueError as e:
            raise CdnListError(one_line(f"{where}: bad CIDR {text!r}: {e}")) from None
    unknown = set(item) - {"name", "asns", "cidrs", "cnames", "nameservers", "as_names"}
    if unknown:
        raise CdnListError(f"{where}: unknown keys {sorted(unknown)}")
    return CdnProvider(
        name=name.strip(), asns=frozenset(asns), cidrs=tuple(cidrs),
        cnames=tuple(_norm_host(c) for c in strings("cnames")),
        nameservers=tuple(_norm_host(n) for n in strings("nameservers")),
        as_names=frozenset(_short_as_name(a) for a in strings("as_names")))


# -- the network cache ---------------------------------------------------------------------------


def cache_network(facts: NetworkFacts) -> IPNetwork | None:
    """The network ``facts`` speak for: the more specific of the RDAP network and the announced
    prefix (an address inside the RDAP network but outside the prefix may be announced by
    someone else), holding :attr:`NetworkFacts.ip` when that is an address. None if neither
    is usable."""
    nets: list[IPNetwork] = []
    for text in (facts.cidr, facts.asn_cidr):
        if text:
            try:
                nets.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError:
                continue
    addr = _address(facts.ip) if facts.ip else None
    if addr is not None:
        nets = [n for n in nets if n.version == addr.version and addr in n]
    elif len(nets) == 2 and not (nets[0].version == nets[1].version
                                 and (nets[0].subnet_of(nets[1]) or nets[1].subnet_of(nets[0]))):  # type: ignore[arg-type]
        return None  # two unrelated networks and no address to choose by
    return max(nets, key=lambda n: n.prefixlen, default=None)


def _epoch(when: dt.datetime | float | None) -> float:
    if when is None:
        return time.time()
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:  # the store keeps naive UTC
            when = when.replace(tzinfo=dt.UTC)
        return when.timestamp()
    return float(when)


class NetworkCache:
    """Networks already known, with their facts and when they were fetched.

    :meth:`get` answers for any address inside a network fetched less than ``max_age``
    seconds ago (the most specific one, if several hold it). Seed it with :meth:`add` from the
    store so a run does not ask again about networks it already has. ``clock`` (wall-clock
    seconds, like the store's timestamps) can be swapped for tests.
    """

    def __init__(self, max_age: float | dt.timedelta = DEFAULT_MAX_AGE, *,
                 clock: Any = time.time) -> None:
        self.max_age = max_age.total_seconds() if isinstance(max_age, dt.timedelta) else float(max_age)
        self._clock = clock
        # (version, prefix length) -> network address as int -> (network, facts, fetched at)
        self._nets: dict[tuple[int, int], dict[int, tuple[IPNetwork, NetworkFacts, float]]] = {}

    def add(self, facts: NetworkFacts, fetched_at: dt.datetime | float | None = None) -> bool:
        """Remember ``facts`` for their network (see :func:`cache_network`); ``fetched_at``
        (an aware or naive-UTC datetime, or epoch seconds; default now) dates them. A newer
        entry for the same network replaces an older one. False when the facts name no
        usable network (nothing is stored)."""
        net = cache_network(facts)
        if net is None:
            return False
        when = _epoch(fetched_at)
        bucket = self._nets.setdefault((net.version, net.prefixlen), {})
        key = int(net.network_address)
        old = bucket.get(key)
        if old is None or old[2] <= when:
            bucket[key] = (net, facts, when)
        return True

    def add_stored(self, row: Any) -> bool:
        """:meth:`add` for a stored network (a ``storage.models.Network`` row, or anything with
        its attributes: ``cidr``, ``asn``, ``org``, ..., ``last_seen``), dated by ``last_seen``.
        The store keeps the RDAP network, not the announced prefix, so the seeded entry
        covers the whole RDAP network. False (nothing stored) for a row without a usable
        ``cidr``."""
        def text(name: str) -> str | None:
            value = getattr(row, name, None)
            return value if isinstance(value, str) and value else None

        asn = getattr(row, "asn", None)
        raw = getattr(row, "raw", None)
        facts = NetworkFacts(
            ip="", asn=asn if isinstance(asn, int) and not isinstance(asn, bool) else None,
            cidr=text("cidr"), start_address=text("start_address"), end_address=text("end_address"),
            handle=text("handle"), name=text("name"), org=text("org"), country=text("country"),
            abuse_email=text("abuse_email"), rir=text("rir"), cdn=text("cdn"),
            raw=raw if isinstance(raw, dict) else None)
        last_seen = getattr(row, "last_seen", None)
        return self.add(facts, last_seen if isinstance(last_seen, dt.datetime | int | float) else None)

    def get(self, ip: str | IPAddress) -> NetworkFacts | None:
        """The facts of the most specific fresh network holding ``ip``, or None."""
        addr = _address(ip)
        if addr is None:
            return None
        now = self._clock()
        value = int(addr)
        bits = addr.max_prefixlen
        for (version, plen) in sorted(self._nets, key=lambda k: -k[1]):
            if version != addr.version:
                continue
            mask = ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)
            entry = self._nets[(version, plen)].get(value & mask)
            if entry is not None and now - entry[2] <= self.max_age:
                return entry[1]
        return None

    def __len__(self) -> int:
        return sum(len(b) for b in self._nets.values())

    def networks(self) -> list[tuple[str, NetworkFacts, float]]:
        """Every entry as ``(cidr, facts, fetched_at)``, fresh or not."""
        return [(net.with_prefixlen, facts, when)
                for bucket in self._nets.values() for net, facts, when in bucket.values()]


# -- what one lookup sends -----------------------------------------------------------------------


class _Recorder:
    """Queries sent and errors seen by one lookup; used by one worker thread only."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.dns_errors: list[BaseException] = []
        self.http_errors: list[tuple[str, BaseException]] = []

    def dns_query(self, qname: object) -> None:
        name = _norm_host(str(qname))
        self.sent["cymru" if _suffix_match(name, [CYMRU_SUFFIX]) else "dns"] += 1

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


class _CountingResolver:
    """A blocking dnspython resolver that counts and records what goes through ``resolve``
    (ipwhois only calls ``resolve`` and sets ``lifetime``).

    ipwhois sets ``lifetime`` to the per-server timeout times its retry count before each
    ASN lookup; that write is ignored, so the lookup's ``timeout`` stays the DNS budget.
    """

    def __init__(self, inner: dns.resolver.Resolver, recorder: _Recorder) -> None:
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


class _ProxyOnly(ProxyHandler):
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


def _bounded_read(read: Any, host: str, recorder: _Recorder) -> Any:
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
    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self._recorder = recorder

    def http_open(self, req: Request) -> Any:
        return _counted_open(self._recorder, req, super().http_open)


class _CountingHTTPSHandler(HTTPSHandler):
    def __init__(self, recorder: _Recorder, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._recorder = recorder

    def https_open(self, req: Request) -> Any:
        return _counted_open(self._recorder, req, super().https_open)


def _counted_open(recorder: _Recorder, req: Request, open_: Any) -> Any:
    host = recorder.http_request(req)
    try:
        response = open_(req)
    except Exception as e:
        recorder.http_errors.append((host, e))
        raise
    response.read = _bounded_read(response.read, host, recorder)
    return response


def _ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's trusted CAs plus ``ca_bundle`` (the sandbox CA, a corporate CA)."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


# -- the lookup ----------------------------------------------------------------------------------


def _neighbourhood(addr: IPAddress) -> tuple[int, int]:
    """The /16 (IPv4) or /32 (IPv6) an address is in: lookups there run one at a time so the
    second address of a network finds the first one's answer in the cache."""
    return (addr.version, int(addr) >> (16 if addr.version == 4 else 96))


class HostingLookup:
    """Hosting facts for IP addresses via ipwhois, through ``resolvers`` and ``proxy`` only.

    ``resolvers``: ``host:port`` DNS servers (empty: the system's); ``proxy``:
    ``http://host:port`` every RDAP request goes through (None: direct); ``ca_bundle``: a CA
    file trusted besides the system's; ``timeout``: seconds per DNS query and per HTTP
    connection; ``workers``: threads running ipwhois (it blocks), and lookups in flight;
    ``cdn``: providers to recognise (default: ``config/enrich/cdn.toml``).

    Keyword-only: ``retry_count`` (ipwhois's retries on socket errors and rate limits),
    ``rate_limit_timeout`` (seconds ipwhois sleeps on a 429 before retrying), ``per_second``
    (lookups started per second, 0: unlimited), ``cache`` (a seeded :class:`NetworkCache`),
    ``max_age`` (for the cache made when none is given), ``failure_max_age``.

    ``sent`` counts queries by service: ``cymru`` (Team Cymru DNS queries), ``rdap:<host>``
    (HTTP requests, redirects and retries included). ``outcomes`` counts results by status,
    with ``reused`` for answers from the caches. Use as ``async with`` or call :meth:`close`.
    """

    def __init__(self, resolvers: Sequence[str], proxy: str | None, ca_bundle: str | None,
                 timeout: float, workers: int = 8, cdn: CdnList | None = None, *,
                 retry_count: int = 1, rate_limit_timeout: float = 5.0, per_second: float = 20.0,
                 cache: NetworkCache | None = None, max_age: float = DEFAULT_MAX_AGE,
                 failure_max_age: float = DEFAULT_FAILURE_MAX_AGE, user_agent: str | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.resolvers = list(resolvers)
        self.proxy = proxy or None
        if self.proxy:
            _ProxyOnly(self.proxy)  # validate now: one clear error, not one per lookup
        self.timeout = float(timeout)
        self.workers = workers
        self.retry_count = max(0, int(retry_count))
        self.rate_limit_timeout = rate_limit_timeout
        self.per_second = per_second
        self.cdn = cdn if cdn is not None else CdnList.load()
        self.cache = cache if cache is not None else NetworkCache(max_age)
        self.failure_max_age = failure_max_age
        self.user_agent = user_agent or BROWSER_USER_AGENT  # RDAP over urllib says this, not Python-urllib
        self.sent: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self._context = _ssl_context(ca_bundle)
        self._executor: ThreadPoolExecutor | None = None
        self._failures: dict[str, tuple[float, NetworkFacts]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiter: RateLimiter | None = None
        self._locks: dict[tuple[int, int], tuple[asyncio.Lock, list[int]]] = {}

    # -- lifecycle --

    async def __aenter__(self) -> HostingLookup:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker threads (lookups still queued are cancelled; none is waited for)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _bind(self) -> None:
        """Asyncio primitives belong to one loop: make them anew for a new loop."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._limiter = RateLimiter(self.workers, self.per_second)
            self._locks = {}
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="isop-hosting")

    # -- public API --

    async def lookup_many(self, ips: Iterable[str]) -> list[NetworkFacts]:
        """:meth:`lookup` for each address, concurrently, results in the order given."""
        return list(await asyncio.gather(*(self.lookup(ip) for ip in ips)))

    async def lookup(self, ip: str) -> NetworkFacts:
        """Hosting facts for ``ip``; never raises for anything the address or the network
        does (see :attr:`NetworkFacts.status`)."""
        self._bind()
        facts = await self._lookup(ip)
        self.outcomes[facts.status] += 1
        if facts.reused:
            self.outcomes["reused"] += 1
        return facts

    async def _lookup(self, ip: str) -> NetworkFacts:
        addr = _address(ip)
        if addr is None:
            return NetworkFacts(ip=one_line(str(ip), 60), status="error",
                                error=one_line(f"{ip!r} is not an IP address", 120))
        kind = is_reserved(addr)
        if kind is not None:
            return NetworkFacts(ip=str(addr), reserved=kind, status="reserved",
                                error=f"{kind} address: not looked up")
        cached = self._cached(addr)
        if cached is not None:
            return cached
        key = _neighbourhood(addr)
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                cached = self._cached(addr)
                if cached is not None:
                    return cached
                assert self._limiter is not None and self._executor is not None
                async with self._limiter:
                    loop = asyncio.get_running_loop()
                    facts, sent = await loop.run_in_executor(self._executor, self._work, addr)
                self.sent.update(sent)
                self._remember(facts)
                return facts
        finally:
            users[0] -= 1
            if not users[0]:
                self._locks.pop(key, None)

    # -- caches --

    def _cached(self, addr: IPAddress) -> NetworkFacts | None:
        facts = self.cache.get(addr)
        if facts is not None:
            return replace(facts, ip=str(addr), reused=True,
                           cdn=self.cdn.match(asn=facts.asn, ip=addr, as_name=facts.asn_name))
        failed = self._failures.get(str(addr))
        if failed is not None:
            if time.monotonic() - failed[0] <= self.failure_max_age:
                return replace(failed[1], reused=True)
            del self._failures[str(addr)]
        return None

    def _remember(self, facts: NetworkFacts) -> None:
        if facts.status == "ok":
            self.cache.add(facts)
        elif facts.status in ("asn_failed", "rdap_failed") and self.failure_max_age > 0:
            self._failures[facts.ip] = (time.monotonic(), facts)

    # -- on a worker thread --

    def _opener(self, recorder: _Recorder) -> OpenerDirector:
        """Only these handlers: no FTP/file/data, so nothing bypasses the proxy."""
        opener = OpenerDirector()
        opener.addheaders = [("User-agent", self.user_agent)]
        handlers: list[Any] = [UnknownHandler(), _CountingHTTPHandler(recorder),
                               _CountingHTTPSHandler(recorder, self._context),
                               HTTPDefaultErrorHandler(), HTTPRedirectHandler(), HTTPErrorProcessor()]
        if self.proxy:
            handlers.insert(0, _ProxyOnly(self.proxy))
        for handler in handlers:
            opener.add_handler(handler)
        return opener

    def _work(self, addr: IPAddress) -> tuple[NetworkFacts, Counter[str]]:
        recorder = _Recorder()
        try:
            facts = self._query(addr, recorder)
        except Exception as e:  # noqa: BLE001 - a bug or an ipwhois surprise is a status too
            facts = NetworkFacts(ip=str(addr), status="error",
                                 error=one_line(f"{type(e).__name__}: {e}"))
        return facts, recorder.sent

    def _query(self, addr: IPAddress, recorder: _Recorder) -> NetworkFacts:
        ip = str(addr)
        try:
            obj = IPWhois(ip, timeout=self.timeout, proxy_opener=self._opener(recorder))
        except IPDefinedError as e:  # a block ipwhois sets apart that is_reserved does not
            return NetworkFacts(ip=ip, reserved="reserved", status="reserved", error=one_line(str(e)))
        obj.net.dns_resolver = _CountingResolver(make_resolver(self.resolvers, self.timeout), recorder)

        asn_data: dict[str, Any] | None = None
        asn_error = ""
        try:
            asn_data = obj.ipasn.lookup(inc_raw=False, retry_count=max(1, self.retry_count),
                                        asn_methods=["dns"], get_asn_description=True)
        except (ASNRegistryError, ASNLookupError, ASNParseError) as e:
            reason = recorder.dns_reason() or one_line(str(e), 120)
            asn_error = f"Team Cymru has no origin for {ip}: {reason}"

        rdap_data: dict[str, Any] | None = None
        rdap_error = ""
        try:
            rdap_data = RDAP(obj.net).lookup(
                inc_raw=True, retry_count=self.retry_count, asn_data=asn_data, depth=0,
                excluded_entities=[], bootstrap=asn_data is None,
                rate_limit_timeout=self.rate_limit_timeout)
        except (HTTPLookupError, HTTPRateLimitError, WhoisRateLimitError) as e:
            detail = recorder.http_reason()
            rdap_error = one_line(f"RDAP: {e}" + (f" ({detail})" if detail else ""), 240)
        except (BaseIpwhoisException, KeyError, TypeError, ValueError) as e:
            rdap_error = one_line(f"RDAP answer not usable: {type(e).__name__}: {e}", 240)

        facts = _facts(ip, asn_data, rdap_data)
        facts = replace(facts, cdn=self.cdn.match(asn=facts.asn, ip=addr, as_name=facts.asn_name))
        if asn_data is None:
            status: Status = "timeout" if recorder.dns_timed_out() else "asn_failed"
            errors = [asn_error] + ([rdap_error] if rdap_error else [])
            return replace(facts, status=status, error=one_line("; ".join(errors), 300))
        if rdap_data is None or rdap_error:
            status = "timeout" if recorder.http_timed_out() else "rdap_failed"
            return replace(facts, status=status, error=rdap_error or "RDAP: no answer")
        if not facts.cidr:
            return replace(facts, status="rdap_failed", error="RDAP answer has no usable address range")
        return facts


# -- mapping ipwhois's results -------------------------------------------------------------------


def _facts(ip: str, asn_data: dict[str, Any] | None, rdap_data: dict[str, Any] | None) -> NetworkFacts:
    facts = NetworkFacts(ip=ip)
    if asn_data:
        description = clean_text(asn_data.get("asn_description"), 300)
        facts = replace(
            facts,
            asn=_first_asn(asn_data.get("asn")),
            asn_cidr=_cidr_text(asn_data.get("asn_cidr")),
            asn_country=country_code(asn_data.get("asn_country_code")),
            asn_registry=clean_text(asn_data.get("asn_registry"), 20),
            asn_date=clean_text(asn_data.get("asn_date"), 10),
            asn_name=_short_as_name(description) if description else None,
            rir=clean_text(asn_data.get("asn_registry"), 20))
    if rdap_data:
        raw = rdap_data.get("raw") if isinstance(rdap_data.get("raw"), dict) else None
        info = parse_rdap_network(raw) if raw is not None else NetworkInfo(error="no raw answer")
        network = rdap_data.get("network") if isinstance(rdap_data.get("network"), dict) else {}
        objects = rdap_data.get("objects") if isinstance(rdap_data.get("objects"), dict) else {}
        org, abuse = _from_objects(objects)
        facts = replace(
            facts,
            cidr=_pick_cidr(ip, network.get("cidr"), info.cidrs),
            start_address=_address_text(network.get("start_address")) or _address_text((raw or {}).get("startAddress")),
            end_address=_address_text(network.get("end_address")) or _address_text((raw or {}).get("endAddress")),
            handle=clean_text(network.get("handle"), 100) or info.handle,
            name=clean_text(network.get("name"), 200) or info.name,
            org=org or info.owner_org,
            country=country_code(network.get("country")) or info.country,
            abuse_email=abuse or info.abuse_email,
            rir=info.source_rir or facts.rir,
            raw=_bounded_raw(raw))
    return facts


def _first_asn(value: object) -> int | None:
    """``"13335"`` or a multi-origin ``"13335 209242"``: the first number."""
    for part in str(value or "").replace(",", " ").split():
        part = part.upper().removeprefix("AS")
        if part.isdigit() and 0 < int(part) < 2**32:
            return int(part)
    return None


def _cidr_text(value: object) -> str | None:
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False).with_prefixlen if value else None
    except ValueError:
        return None


def _address_text(value: object) -> str | None:
    addr = _address(value) if isinstance(value, str) else None
    return str(addr) if addr is not None else None


def _pick_cidr(ip: str, ipwhois_cidr: object, parsed: Sequence[str]) -> str | None:
    """Of the network's blocks (ipwhois joins several with ", "), the one holding ``ip``,
    else the first."""
    texts = [t.strip() for t in ipwhois_cidr.split(",")] if isinstance(ipwhois_cidr, str) else []
    blocks = [c for c in (_cidr_text(t) for t in [*texts, *parsed]) if c]
    addr = _address(ip)
    for block in blocks:
        net = ipaddress.ip_network(block)
        if addr is not None and net.version == addr.version and addr in net:
            return block
    return blocks[0] if blocks else None


def _from_objects(objects: dict[str, Any]) -> tuple[str | None, str | None]:
    """The registrant's name and the abuse contact's e-mail, from ipwhois's parsed entities."""
    org = abuse = None
    for obj in objects.values():
        if not isinstance(obj, dict):
            continue
        roles = obj.get("roles") or []
        contact = obj.get("contact") if isinstance(obj.get("contact"), dict) else {}
        if org is None and "registrant" in roles:
            org = clean_text(contact.get("name"), 200)
        if abuse is None and "abuse" in roles:
            for item in contact.get("email") or []:
                value = item.get("value") if isinstance(item, dict) else None
                abuse = email_address(value) if isinstance(value, str) else None
                if abuse:
                    break
    return org, abuse


_RAW_KEEP = ("objectClassName", "handle", "startAddress", "endAddress", "ipVersion", "name", "type",
             "country", "parentHandle", "cidr0_cidrs", "status", "events", "port43", "links")


def _bounded_raw(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """The RDAP network object without its notices, at most :data:`MAX_RAW_CHARS` as JSON:
    first nested entities, then all entities are dropped, then all but the core members."""
    if not isinstance(raw, dict):
        return None
    out = {k: v for k, v in raw.items() if k != "notices"}

    def size(obj: dict[str, Any]) -> int:
        try:
            return len(json.dumps(obj, ensure_ascii=False, default=str))
        except (TypeError, ValueError, RecursionError):
            return MAX_RAW_CHARS + 1

    if size(out) <= MAX_RAW_CHARS:
        return out
    if isinstance(out.get("entities"), list):
        out["entities"] = [{k: v for k, v in e.items() if k not in ("entities", "notices", "remarks")}
                           for e in out["entities"][:20] if isinstance(e, dict)]
        if size(out) <= MAX_RAW_CHARS:
            return out
    core = {k: out[k] for k in _RAW_KEEP if k in out}
    return core if size(core) <= MAX_RAW_CHARS else {k: core[k] for k in ("handle", "startAddress", "endAddress") if k in core}
