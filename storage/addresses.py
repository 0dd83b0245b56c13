"""Special-purpose IP addresses: which ones are not the public Internet.

One table for every layer that must know: the crawl's destination guard
(:mod:`spiders.destinations`) refuses them, enrichment never looks them up as hosting
(:mod:`enrich.hosting`, :mod:`enrich.cymru`) nor probes them (:mod:`enrich.run`).
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_RESERVED: tuple[tuple[str, str], ...] = (
    # most specific first; (network, kind)
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "reserved"),  # "this network"
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),  # former 6to4 relay anycast
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),  # benchmarking
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "private"),  # local-use NAT64
    ("64:ff9b::/96", "reserved"),  # NAT64 well-known prefix
    ("100::/64", "reserved"),  # discard-only
    ("2001::/23", "reserved"),  # IETF protocol assignments (Teredo, ORCHID, ...)
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link-local"),
    ("fec0::/10", "reserved"),  # deprecated site-local
    ("ff00::/8", "multicast"),
)
_RESERVED_NETS = tuple((ipaddress.ip_network(n), kind) for n, kind in _RESERVED)
_GLOBAL_UNICAST6 = ipaddress.ip_network("2000::/3")


def as_address(ip: str | IPAddress) -> IPAddress:
    """``ip`` parsed (``ValueError`` if it is not an address); IPv4-mapped IPv6 as IPv4."""
    addr = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def parse_address(ip: object) -> IPAddress | None:
    """:func:`as_address` for anything, None instead of ``ValueError`` if it is no address."""
    try:
        return as_address(ip)  # type: ignore[arg-type]
    except ValueError:
        return None


def is_reserved(ip: str | IPAddress) -> str | None:
    """The kind of special-purpose address ``ip`` is, or None for an ordinary public one.

    Kinds: ``unspecified``, ``loopback``, ``private``, ``link-local``, ``cgnat``
    (100.64.0.0/10), ``documentation``, ``multicast``, ``reserved`` (everything else the
    IANA special-purpose registries set apart, and IPv6 outside 2000::/3). An explicit table,
    so the answer does not depend on the Python version's ``ipaddress`` flags. IPv4-mapped
    IPv6 addresses are judged as IPv4. Raises ``ValueError`` if ``ip`` is not an address.
    """
    addr = as_address(ip)
    for net, kind in _RESERVED_NETS:
        if addr.version == net.version and addr in net:
            return kind
    if addr.version == 6 and addr not in _GLOBAL_UNICAST6:
        return "reserved"
    return None
