"""Team Cymru's IP-to-ASN service over DNS: who announces an address
(``<ip>.origin[6].asn.cymru.com`` TXT) and what an AS is called (``AS<n>.asn.cymru.com``).

Protocol code only (query and parse), on top of :func:`enrich.dns_lookup.lookup`: failures
come back as the failed :class:`~enrich.dns_lookup.DnsAnswer`, never as exceptions, except
for the caller's mistakes (a string that is not an IP address, a reserved address handed to
:func:`cymru_origin`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, replace

import dns.asyncresolver

from enrich.dns_lookup import DnsAnswer, lookup
from enrich.ratelimit import RateLimiter
from storage.addresses import IPAddress, as_address, is_reserved

CYMRU_ORIGIN4 = "origin.asn.cymru.com"
CYMRU_ORIGIN6 = "origin6.asn.cymru.com"
CYMRU_ASN = "asn.cymru.com"


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
