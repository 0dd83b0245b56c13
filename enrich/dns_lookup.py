"""Asynchronous DNS lookups for enrichment: records of a domain and its hosts, and CNAME
chains.

Protocol code only (query and parse); caching and mapping to rows live in the glue. Team
Cymru's IP-to-ASN service, built on :func:`lookup`, is :mod:`enrich.cymru`; the limiter
every lookup may run under is :class:`enrich.ratelimit.RateLimiter`.

Every lookup returns a :class:`DnsAnswer` whose ``status`` says how it went; DNS-level
failures (no such name, no data, SERVFAIL, REFUSED, timeouts, garbage on the wire, lame
servers) are results, never exceptions. Exceptions are kept for the caller's mistakes: an
unknown record type.

Resolvers come from :func:`spiders.resolver.make_async_resolver`; build them with
``strict=True`` (as :func:`make_resolver` here does) so a server that answers garbage over
UDP is reported as ``"malformed"`` rather than, after the whole timeout, ``"timeout"``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
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

from enrich.ratelimit import RateLimiter
from spiders.resolver import make_async_resolver

Status = Literal["ok", "nodata", "nxdomain", "servfail", "timeout", "refused", "malformed", "lame"]
STATUSES: tuple[str, ...] = ("ok", "nodata", "nxdomain", "servfail", "timeout", "refused",
                             "malformed", "lame")

DOMAIN_TYPES = ("A", "AAAA", "NS", "MX", "TXT", "SOA")
"""Asked for a registered domain (besides its CNAME chain)."""
HOST_TYPES = ("A", "AAAA")
"""Asked for every crawled host (besides its CNAME chain)."""

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
