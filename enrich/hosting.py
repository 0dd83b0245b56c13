"""Hosting enrichment for IP addresses: who announces each address (ASN, prefix, country via
Team Cymru DNS) and who holds it (network, owner, abuse contact via the RIR's RDAP), with
ipwhois doing the protocol work, and the CDN each is behind (:class:`enrich.cdn.CdnList`).

Glue, not protocol: ipwhois queries and parses; this module points it at ``[network]
resolvers`` and ``[network] proxy`` (and nothing else), runs it on worker threads, reuses
networks already known (:class:`enrich.network_cache.NetworkCache`), counts what it sends
(:mod:`enrich.ipwhois_http`) and turns every failure into a status on
:class:`enrich.network_facts.NetworkFacts`.

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

Every HTTP request goes through an opener built from a few urllib handlers only (no FTP,
file or data handlers, no ``no_proxy`` bypass; :func:`enrich.ipwhois_http.build_opener`):
with a proxy configured nothing can leave any other way, redirects included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import TracebackType
from typing import Any

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

from enrich.cdn import CdnList, short_as_name
from enrich.ipwhois_http import CountingResolver, ProxyOnly, Recorder, build_opener
from enrich.network_cache import DEFAULT_MAX_AGE, NetworkCache
from enrich.network_facts import NetworkFacts, Status
from enrich.ratelimit import RateLimiter
from enrich.rdap_parse import NetworkInfo, parse_rdap_network
from enrich.registration import clean_text, country_code, email_address, one_line
from enrich.transport import ssl_context
from spiders.browser_privacy import BROWSER_USER_AGENT
from spiders.resolver import make_resolver
from storage.addresses import IPAddress, is_reserved, parse_address

MAX_RAW_CHARS = 32_000
"""How large (as JSON) :attr:`NetworkFacts.raw` may be; bigger answers are trimmed."""
DEFAULT_FAILURE_MAX_AGE = 300.0
"""How long a failed lookup (``asn_failed``, ``rdap_failed``) is remembered for its address."""


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
            ProxyOnly(self.proxy)  # validate now: one clear error, not one per lookup
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
        self._context = ssl_context(ca_bundle)
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
        addr = parse_address(ip)
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

    def _work(self, addr: IPAddress) -> tuple[NetworkFacts, Counter[str]]:
        recorder = Recorder()
        try:
            facts = self._query(addr, recorder)
        except Exception as e:  # noqa: BLE001 - a bug or an ipwhois surprise is a status too
            facts = NetworkFacts(ip=str(addr), status="error",
                                 error=one_line(f"{type(e).__name__}: {e}"))
        return facts, recorder.sent

    def _query(self, addr: IPAddress, recorder: Recorder) -> NetworkFacts:
        ip = str(addr)
        try:
            opener = build_opener(recorder, self.user_agent, self._context, self.proxy)
            obj = IPWhois(ip, timeout=self.timeout, proxy_opener=opener)
        except IPDefinedError as e:  # a block ipwhois sets apart that is_reserved does not
            return NetworkFacts(ip=ip, reserved="reserved", status="reserved", error=one_line(str(e)))
        obj.net.dns_resolver = CountingResolver(make_resolver(self.resolvers, self.timeout), recorder)

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
            asn_name=short_as_name(description) if description else None,
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
    addr = parse_address(value) if isinstance(value, str) else None
    return str(addr) if addr is not None else None


def _pick_cidr(ip: str, ipwhois_cidr: object, parsed: Sequence[str]) -> str | None:
    """Of the network's blocks (ipwhois joins several with ", "), the one holding ``ip``,
    else the first."""
    texts = [t.strip() for t in ipwhois_cidr.split(",")] if isinstance(ipwhois_cidr, str) else []
    blocks = [c for c in (_cidr_text(t) for t in [*texts, *parsed]) if c]
    addr = parse_address(ip)
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
