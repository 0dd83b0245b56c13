"""Networks already known to hosting enrichment (:class:`NetworkCache`): an address inside a
network fetched recently is answered from it, without a lookup. Seeded from the store
(``storage.models.Network`` rows) and filled by :class:`enrich.hosting.HostingLookup`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from typing import Any

from enrich.network_facts import NetworkFacts
from storage.addresses import IPAddress, parse_address

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MAX_AGE = 7 * 86400.0
"""How long a known network answers for its addresses without a new lookup (seconds)."""


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
    addr = parse_address(facts.ip) if facts.ip else None
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
        addr = parse_address(ip)
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
