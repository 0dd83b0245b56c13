"""Asynchronous DNS lookups for enrichment: records of a domain and its hosts, CNAME chains,
Team Cymru's IP-to-ASN service over DNS, and a rate limiter for all of them.

Protocol code only (query and parse); caching and mapping to rows live in the glue.

Every lookup returns a :class:`DnsAnswer` whose ``status`` says how it went; DNS-level
failures (no such name, no data, SERVFAIL, REFUSED, timeouts, garbage on the wire, lame
servers) are results, never exceptions. Exceptions are kept for the caller's mistakes: an
unknown record type, a string that is not an IP address, a reserved address handed to
:func:`cymru_origin`.

Resolvers come from :func:`enrich.resolver.make_async_resolver`; build them with
``strict=True`` (as :func:`make_resolver` here does) so a server that answers garbage over
UDP is reported as ``"malformed"`` rather than, after the whole timeout, ``"timeout"``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Literal

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.resolver
import dns.rrset

from enrich.resolver import make_async_resolver
from storage.addresses import IPAddress, as_address, is_reserved

Status = Literal["ok", "nodata", "nxdomain", "servfail", "timeout", "refused", "malformed", "lame"]
STATUSES: tuple[str, ...] = ("ok", "nodata", "nxdomain", "servfail", "timeout", "refused",
                             "malformed", "lame")

DOMAIN_TYPES = ("A", "AAAA", "NS", "MX", "TXT", "SOA")
"""Asked for a registered domain (besides its CNAME chain)."""
HOST_TYPES = ("A", "AAAA")
"""Asked for every crawled host (besides its CNAME chain)."""

CYMRU_ORIGIN4 = "origin.asn.cymru.com"
CYMRU_ORIGIN6 = "origin6.asn.cymru.com"
CYMRU_ASN = "asn.cymru.com"


def make_resolver(resolvers: Sequence[str], timeout: float = 5.0) -> dns.asyncresolver.Resolver:
    """The resolver enrichment wants: ``[network] resolvers``, malformed replies reported."""
    return make_async_resolver(resolvers, timeout, strict=True)


# -- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsAnswer:
    """The outcome of one query (one name, one type)."""

    name: str
    """The name asked, lower-case, without the final dot."""
    rtype: str
    """The record type asked (``"A"``, ``"MX"``, ...)."""
    status: Status
    """``ok``; ``nodata`` (the name exists, no record of that type); ``nxdomain``;
    ``servfail``; ``timeout``; ``refused``; ``malformed`` (a reply that does not parse, or
    makes no sense, e.g. a CNAME loop); ``lame`` (the server answered neither with authority
    nor as a recursive resolver, or sent a referral instead of an answer)."""
    values: tuple[str, ...] = ()
    """Normalised record data, sorted (see :func:`rdata_text`). Empty unless ``ok`` (a
    ``lame`` answer keeps what the server said)."""
    ttl: int | None = None
    """TTL of the answer; for ``nodata``/``nxdomain`` the negative-caching TTL taken from
    the SOA in the authority section (RFC 2308), if there was one."""
    error: str | None = None
    """What went wrong, for people (None when ``ok``)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _host(name: dns.name.Name) -> str:
    """A target name as text: lower-case, no final dot; the root (null MX) is ``"."``."""
    if name == dns.name.root:
        return "."
    return name.to_text(omit_final_dot=True).lower()


def norm_name(name: str) -> str:
    """``name`` as :attr:`DnsAnswer.name` holds it."""
    return name.strip().rstrip(".").lower()


def rdata_text(rdata: dns.rdata.Rdata) -> str:
    """One record's data in the normalised text :attr:`DnsAnswer.values` uses.

    A/AAAA: the address (IPv6 compressed); CNAME/NS/PTR: the target; MX: ``"pref host"``;
    TXT: its strings joined, decoded as UTF-8 (bad bytes replaced); SOA: ``"mname rname
    serial refresh retry expire minimum"``; anything else: dnspython's presentation form.
    Names are lower-case without the final dot.
    """
    rdtype = rdata.rdtype
    if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return str(ipaddress.ip_address(rdata.address))  # type: ignore[attr-defined]
    if rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR, dns.rdatatype.DNAME):
        return _host(rdata.target)  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.MX:
        return f"{rdata.preference} {_host(rdata.exchange)}"  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.SOA:
        r: Any = rdata
        return (f"{_host(r.mname)} {_host(r.rname)} {r.serial} {r.refresh} {r.retry} "
                f"{r.expire} {r.minimum}")
    return rdata.to_text()


def _sort_key(rtype: str) -> Callable[[str], Any]:
    if rtype == "MX":
        def mx_key(value: str) -> tuple[int, str]:
            pref, _, host = value.partition(" ")
            return (int(pref) if pref.isdigit() else 1 << 16, host)
        return mx_key
    return lambda value: value


def _values(rtype: str, rrset: dns.rrset.RRset | None) -> tuple[str, ...]:
    if rrset is None:
        return ()
    return tuple(sorted({rdata_text(r) for r in rrset}, key=_sort_key(rtype)))


def _rdtype(rtype: str) -> dns.rdatatype.RdataType:
    try:
        return dns.rdatatype.from_text(rtype)
    except dns.exception.DNSException:
        raise ValueError(f"{rtype!r} is not a DNS record type") from None


# -- classifying responses and errors ----------------------------------------------------------


def _negative_ttl(response: dns.message.Message | None) -> int | None:
    """RFC 2308: min(SOA TTL, SOA minimum) from the authority section."""
    if response is None:
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return min(rrset.ttl, rrset[0].minimum)  # type: ignore[attr-defined]
    return None


def _lameness(response: dns.message.Message, qname: dns.name.Name, answered: bool) -> str | None:
    """Why ``response`` is lame, or None.

    A server is lame for us when it answers neither authoritatively (AA) nor as a recursive
    resolver (RA): it has no business answering. A referral (NS records in the authority
    section, no SOA, no answer) is lame whatever the flags say, because a stub asking a
    resolver expects an answer; an *upward* or sideways referral (to a zone that does not
    contain the name, e.g. the root) is the classic misconfiguration and says so.
    """
    flags = response.flags
    if not answered:
        ns = [r for r in response.authority if r.rdtype == dns.rdatatype.NS]
        soa = any(r.rdtype == dns.rdatatype.SOA for r in response.authority)
        if ns and not soa and not flags & dns.flags.AA:
            zone = ns[0].name
            what = "a delegation to" if qname.is_subdomain(zone) and zone != dns.name.root \
                else "an unrelated referral to"
            return f"{what} {zone.to_text()} instead of an answer"
    if not flags & (dns.flags.AA | dns.flags.RA):
        return "the server answered without authority (AA) and without recursion (RA)"
    return None


def _error_kind(err: object) -> Status:
    """The status one entry of a resolver's ``errors`` list stands for."""
    if isinstance(err, str):  # an rcode the resolver did not like
        return "refused" if err == "REFUSED" else "servfail"
    if isinstance(err, dns.exception.Timeout):
        return "timeout"
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    if isinstance(err, OSError):
        return "servfail"
    if isinstance(err, dns.exception.DNSException | EOFError | UnicodeError):
        return "malformed"  # a reply that did not parse (FormError, BadEDNS, ...) or made no sense
    return "servfail"


_KIND_PRIORITY: tuple[Status, ...] = ("malformed", "servfail", "refused", "timeout")


def _from_errors(errors: Iterable[tuple], default: Status) -> tuple[Status, str | None]:
    """The status and error text for a resolver's ``errors`` list: one kind if they agree,
    else the most telling (malformed > servfail > refused > timeout)."""
    kinds: set[Status] = set()
    texts: list[str] = []
    for entry in errors:
        server, _tcp, _port, err = entry[0], entry[1], entry[2], entry[3]
        kinds.add(_error_kind(err))
        text = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
        if f"{server}: {text}" not in texts:
            texts.append(f"{server}: {text}")
    status = next((k for k in _KIND_PRIORITY if k in kinds), default)
    return status, "; ".join(texts) or None


# -- lookups -----------------------------------------------------------------------------------


class RateLimiter:
    """At most ``max_concurrent`` queries in flight and ``per_second`` started per second
    (a token bucket holding up to ``burst`` tokens), asyncio only.

    ``async with limiter:`` around each query. ``per_second`` 0 means no rate limit.
    ``clock`` and ``sleep`` can be swapped for tests. ``in_flight`` and ``max_in_flight``
    count holders (for stats and tests).
    """

    def __init__(self, max_concurrent: int = 20, per_second: float = 100.0,
                 burst: int | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if per_second < 0:
            raise ValueError("per_second must not be negative")
        self.max_concurrent = max_concurrent
        self.per_second = per_second
        self.burst = burst if burst is not None else max(1, min(max_concurrent, int(per_second) or 1))
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max_concurrent)
        self._bucket = asyncio.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()
        self.in_flight = 0
        self.max_in_flight = 0

    async def _token(self) -> None:
        if not self.per_second:
            return
        async with self._bucket:  # waiters queue here in order
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.per_second)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self.per_second)

    async def acquire(self) -> None:
        await self._slots.acquire()
        try:
            await self._token()
        except BaseException:
            self._slots.release()
            raise
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def release(self) -> None:
        self.in_flight -= 1
        self._slots.release()

    async def __aenter__(self) -> RateLimiter:
        await self.acquire()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.release()


async def lookup(resolver: dns.asyncresolver.Resolver, name: str, rtype: str, timeout: float,
                 *, limiter: RateLimiter | None = None) -> DnsAnswer:
    """Ask ``resolver`` for ``name``/``rtype`` within ``timeout`` seconds.

    Never raises for DNS-level failures: they come back as the answer's ``status``.
    Raises ``ValueError`` for an unknown record type.
    """
    rdtype = _rdtype(rtype)
    rtype = dns.rdatatype.to_text(rdtype)
    shown = norm_name(name)
    try:
        qname = dns.name.from_text(name)
    except dns.exception.DNSException as e:
        return DnsAnswer(shown, rtype, "malformed", error=f"bad name: {e}")
    if limiter is None:
        return await _lookup(resolver, qname, shown, rdtype, rtype, timeout)
    async with limiter:
        return await _lookup(resolver, qname, shown, rdtype, rtype, timeout)


async def _lookup(resolver: dns.asyncresolver.Resolver, qname: dns.name.Name, shown: str,
                  rdtype: dns.rdatatype.RdataType, rtype: str, timeout: float) -> DnsAnswer:
    def answer(status: Status, values: tuple[str, ...] = (), ttl: int | None = None,
               error: str | None = None) -> DnsAnswer:
        return DnsAnswer(shown, rtype, status, values, ttl, error)

    try:
        result = await resolver.resolve(qname, rdtype, lifetime=timeout, search=False)
    except dns.resolver.NXDOMAIN as e:
        response = e.responses().get(qname) if e.kwargs.get("responses") else None
        lame = _lameness(response, qname, True) if response is not None else None
        if lame:
            return answer("lame", error=f"NXDOMAIN, but {lame}")
        return answer("nxdomain", ttl=_negative_ttl(response))
    except dns.resolver.NoAnswer as e:
        response = e.response()
        lame = _lameness(response, qname, False)
        if lame:
            return answer("lame", error=lame)
        return answer("nodata", ttl=_negative_ttl(response))
    except dns.resolver.NoNameservers as e:
        status, error = _from_errors(e.kwargs.get("errors", ()), "servfail")
        return answer(status, error=error)
    except dns.resolver.LifetimeTimeout as e:
        # A server that only ever sent garbage also ends here (the resolver kept trying).
        status, error = _from_errors(e.kwargs.get("errors", ()), "timeout")
        if status != "malformed":
            status = "timeout"
        return answer(status, error=error or str(e))
    except dns.exception.Timeout as e:
        return answer("timeout", error=str(e))
    except dns.exception.DNSException as e:  # BadEDNS, FormError, YXDOMAIN, ChainTooLong, ...
        return answer("malformed", error=f"{type(e).__name__}: {e}")
    except (EOFError, UnicodeError) as e:  # wire data dnspython could not make sense of
        return answer("malformed", error=f"{type(e).__name__}: {e}")
    values = _values(rtype, result.rrset)
    ttl = result.rrset.ttl if result.rrset is not None else None
    lame = _lameness(result.response, qname, True)
    if lame:
        return answer("lame", values, ttl, lame)
    return answer("ok", values, ttl)


async def _cname_steps(resolver: dns.asyncresolver.Resolver, name: str, timeout: float,
                       max_depth: int, limiter: RateLimiter | None) -> list[DnsAnswer]:
    """One CNAME answer per step of the chain from ``name``: the first always (``nodata``
    when there is no CNAME), then one per target followed, until a name without a CNAME, a
    failure, a name already seen, or ``max_depth`` hops."""
    steps: list[DnsAnswer] = []
    seen = {norm_name(name)}
    current = name
    for _ in range(max_depth):
        step = await lookup(resolver, current, "CNAME", timeout, limiter=limiter)
        steps.append(step)
        if not step.ok or not step.values:
            break
        target = step.values[0]
        if target in seen:
            break
        seen.add(target)
        current = target
    return steps


async def cname_chain(resolver: dns.asyncresolver.Resolver, name: str, timeout: float,
                      max_depth: int = 8, *, limiter: RateLimiter | None = None) -> list[str]:
    """The names ``name`` leads to through CNAME records, in order, ``name`` itself not
    included: ``[]`` when it has no CNAME (or the first lookup failed).

    Loop-safe: a chain that loops ends with the first name repeated (``a -> b -> a`` gives
    ``["b", "a"]``). At most ``max_depth`` hops are followed; ``timeout`` is per query.
    """
    steps = await _cname_steps(resolver, name, timeout, max_depth, limiter)
    return [s.values[0] for s in steps if s.ok and s.values]


async def lookup_domain(resolver: dns.asyncresolver.Resolver, domain: str, hosts: Iterable[str],
                        timeout: float, limiter: RateLimiter | None) -> list[DnsAnswer]:
    """Everything enrichment records about a registered domain and its crawled hosts.

    For ``domain``: A, AAAA, its CNAME chain, NS, MX, TXT, SOA; for each host (duplicates
    and the domain itself skipped): A, AAAA and its CNAME chain. All queries run at once
    under ``limiter``. The answers come in that order (domain first, hosts as given), each
    CNAME step as its own ``CNAME`` answer; each (name, type) once.
    """
    apex = norm_name(domain)
    names: list[str] = []
    for host in hosts:
        host = norm_name(host)
        if host and host != apex and host not in names:
            names.append(host)

    async def one(name: str, rtype: str) -> list[DnsAnswer]:
        return [await lookup(resolver, name, rtype, timeout, limiter=limiter)]

    async def chain(name: str) -> list[DnsAnswer]:
        return await _cname_steps(resolver, name, timeout, 8, limiter)

    jobs: list[Awaitable[list[DnsAnswer]]] = [one(apex, "A"), one(apex, "AAAA"), chain(apex)]
    jobs += [one(apex, t) for t in DOMAIN_TYPES if t not in HOST_TYPES]
    for host in names:
        jobs += [one(host, t) for t in HOST_TYPES]
        jobs.append(chain(host))
    results = await asyncio.gather(*jobs)
    seen: set[tuple[str, str]] = set()
    answers = []
    for answer in (a for group in results for a in group):
        if (answer.name, answer.rtype) not in seen:  # chains end on names asked already
            seen.add((answer.name, answer.rtype))
            answers.append(answer)
    return answers


# -- Team Cymru --------------------------------------------------------------------------------


class CymruFormatError(ValueError):
    """A Team Cymru TXT line without the expected fields; ``str()`` is the reason."""


@dataclass(frozen=True)
class CymruOrigin:
    """Who announces the prefix an address is in (``<ip>.origin[6].asn.cymru.com`` TXT)."""

    asns: tuple[int, ...]
    """Origin AS numbers (more than one for a multi-origin prefix)."""
    prefix: str
    """The announced prefix, CIDR notation (the most specific one)."""
    country: str
    """Country code of the allocation ("" if Cymru gave none)."""
    rir: str
    """Registry: ``arin``, ``ripencc``, ``apnic``, ``lacnic``, ``afrinic`` (as Cymru prints it)."""
    allocated: str
    """Allocation date ``YYYY-MM-DD`` ("" if Cymru gave none)."""
    as_names: tuple[str, ...] = ()
    """One AS description per ``asns`` entry (``"GOOGLE - Google Inc., US"``), "" where
    that lookup failed; empty when names were not asked for."""


@dataclass(frozen=True)
class CymruAsn:
    """An AS as ``AS<n>.asn.cymru.com`` TXT describes it."""

    asn: int
    country: str
    rir: str
    allocated: str
    name: str
    """The description, ``"AS_NAME - Org, CC"`` (or whatever the registry holds)."""

    @property
    def handle(self) -> str:
        """The short AS name, before ``" - "`` (``"GOOGLE"``)."""
        return self.name.split(" - ", 1)[0].strip()


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_RIR = re.compile(r"^[a-z]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_ASN = 2**32 - 1


def _fields(line: str, count: int, what: str) -> list[str]:
    if "\n" in line.strip():
        raise CymruFormatError(f"{what}: one line expected")
    fields = [f.strip() for f in line.split("|", count - 1)]
    if len(fields) != count:
        raise CymruFormatError(f"{what}: {len(fields)} fields, {count} expected in {line!r}")
    return fields


def _asn(text: str, line: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= _MAX_ASN:
        raise CymruFormatError(f"{text!r} is not an AS number in {line!r}")
    return int(text)


def _common(country: str, rir: str, allocated: str, line: str) -> None:
    if country and not _COUNTRY.match(country):
        raise CymruFormatError(f"{country!r} is not a country code in {line!r}")
    if not _RIR.match(rir):
        raise CymruFormatError(f"{rir!r} is not a registry name in {line!r}")
    if allocated:
        try:
            if not _DATE.match(allocated):
                raise ValueError
            dt.date.fromisoformat(allocated)
        except ValueError:
            raise CymruFormatError(f"{allocated!r} is not a YYYY-MM-DD date in {line!r}") from None


def _origin_line(line: str) -> CymruOrigin:
    asns_text, prefix, country, rir, allocated = _fields(line, 5, "origin")
    if "|" in allocated:
        raise CymruFormatError(f"origin: more than 5 fields in {line!r}")
    tokens = asns_text.split()
    if not tokens:
        raise CymruFormatError(f"no AS number in {line!r}")
    asns = tuple(dict.fromkeys(_asn(t, line) for t in tokens))
    try:
        network = ipaddress.ip_network(prefix, strict=True)
    except ValueError:
        raise CymruFormatError(f"{prefix!r} is not a network prefix in {line!r}") from None
    if "/" not in prefix:
        raise CymruFormatError(f"{prefix!r} has no prefix length in {line!r}")
    _common(country, rir, allocated, line)
    return CymruOrigin(asns, network.with_prefixlen, country, rir, allocated)


def _prefixlen(origin: CymruOrigin) -> int:
    return ipaddress.ip_network(origin.prefix).prefixlen


def parse_cymru_origin(txt: str) -> CymruOrigin:
    """Parse an origin answer: ``"15169 | 74.125.225.0/24 | US | arin | 2007-03-13"``.

    ``txt`` may hold several lines (one per TXT record, for overlapping announcements): the
    most specific prefix wins (the first one on a tie). Raises :class:`CymruFormatError`
    with the reason if any line is malformed.
    """
    lines = [line for line in txt.splitlines() if line.strip()]
    if not lines:
        raise CymruFormatError("empty origin answer")
    origins = [_origin_line(line) for line in lines]
    return max(origins, key=_prefixlen)  # max keeps the first of equals


def parse_cymru_asn(txt: str) -> CymruAsn:
    """Parse an AS answer: ``"15169 | US | arin | 2007-03-13 | GOOGLE - Google Inc., US"``.

    Raises :class:`CymruFormatError` with the reason if it is malformed.
    """
    line = txt.strip()
    if not line:
        raise CymruFormatError("empty AS answer")
    asn, country, rir, allocated, name = _fields(line, 5, "AS")
    number = _asn(asn, line)
    _common(country, rir, allocated, line)
    if not name:
        raise CymruFormatError(f"no AS name in {line!r}")
    return CymruAsn(number, country, rir, allocated, name)


def cymru_origin_name(ip: str | IPAddress) -> str:
    """The query name for ``ip``: reversed octets under ``origin.asn.cymru.com``, or all 32
    reversed nibbles under ``origin6.asn.cymru.com``."""
    addr = as_address(ip)
    if addr.version == 4:
        return ".".join(reversed(str(addr).split("."))) + "." + CYMRU_ORIGIN4
    return ".".join(reversed(addr.exploded.replace(":", ""))) + "." + CYMRU_ORIGIN6


async def cymru_asn(resolver: dns.asyncresolver.Resolver, asn: int, timeout: float,
                    *, limiter: RateLimiter | None = None) -> CymruAsn | DnsAnswer:
    """The AS's registration and name from ``AS<n>.asn.cymru.com`` TXT, or the failed
    :class:`DnsAnswer` (``malformed`` if no line parsed or none was about ``asn``)."""
    answer = await lookup(resolver, f"AS{int(asn)}.{CYMRU_ASN}", "TXT", timeout, limiter=limiter)
    if not answer.ok:
        return answer
    reasons = []
    for value in answer.values:
        try:
            parsed = parse_cymru_asn(value)
        except CymruFormatError as e:
            reasons.append(str(e))
            continue
        if parsed.asn == asn:
            return parsed
        reasons.append(f"answer is about AS{parsed.asn}, not AS{asn}")
    return replace(answer, status="malformed", error="; ".join(reasons) or "no TXT data")


async def cymru_origin(resolver: dns.asyncresolver.Resolver, ip: str | IPAddress, timeout: float,
                       *, names: bool = True, limiter: RateLimiter | None = None,
                       ) -> CymruOrigin | DnsAnswer:
    """Who announces ``ip``, from Team Cymru's origin zones; with ``names``, each origin AS's
    description too (one ``AS<n>.asn.cymru.com`` query per AS, concurrently).

    Several TXT records (overlapping announcements): the most specific prefix containing
    ``ip`` wins; malformed ones and ones not containing ``ip`` are skipped. Returns the
    failed :class:`DnsAnswer` when the lookup failed (``nxdomain``: nobody announces it) or
    nothing usable came back (``malformed``). Raises ``ValueError`` if ``ip`` is not an
    address or is reserved (see :func:`is_reserved`): those are never looked up.
    """
    addr = as_address(ip)
    kind = is_reserved(addr)
    if kind is not None:
        raise ValueError(f"{addr} is a {kind} address: not looked up")
    answer = await lookup(resolver, cymru_origin_name(addr), "TXT", timeout, limiter=limiter)
    if not answer.ok:
        return answer
    found: list[CymruOrigin] = []
    reasons: list[str] = []
    for value in answer.values:
        try:
            origin = parse_cymru_origin(value)
        except CymruFormatError as e:
            reasons.append(str(e))
            continue
        if addr not in ipaddress.ip_network(origin.prefix):
            reasons.append(f"{origin.prefix} does not contain {addr}")
            continue
        found.append(origin)
    if not found:
        return replace(answer, status="malformed", error="; ".join(reasons) or "no TXT data")
    # values are sorted, so order among equals is stable but not Cymru's: most specific wins
    best = max(found, key=_prefixlen)
    if not names:
        return best
    described = await asyncio.gather(*(cymru_asn(resolver, n, timeout, limiter=limiter)
                                       for n in best.asns))
    return replace(best, as_names=tuple(d.name if isinstance(d, CymruAsn) else ""
                                        for d in described))
