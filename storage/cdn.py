"""Which addresses are CDN edges, by the published ranges of ``config/enrich/cdn.toml``.

Operator networks must never link sites through an address thousands of customers share.
Enrichment marks the networks it looked up (``Network.cdn``), but an address inside a CDN's
published range is an edge whether or not its network lookup succeeded (or ever ran), so
the store's readers ask this module too. ``enrich.hosting.CdnList`` reads the same file
for everything else it holds (ASNs, CNAMEs, name servers, AS names).
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

CDN_FILE = Path(__file__).resolve().parents[1] / "config" / "enrich" / "cdn.toml"


@lru_cache(maxsize=4)
def _ranges(path: Path = CDN_FILE) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError):
        return ()  # enrichment reports a bad file (CdnListError); readers fall back to Network.cdn
    out = []
    for provider in data.get("provider", []) if isinstance(data.get("provider"), list) else []:
        if not isinstance(provider, dict):
            continue
        for cidr in provider.get("cidrs", []) or []:
            try:
                out.append((ipaddress.ip_network(str(cidr), strict=False), str(provider.get("name", "CDN"))))
            except ValueError:
                continue
    return tuple(sorted(out, key=lambda item: -item[0].prefixlen))


def cdn_of(ip: str) -> str | None:
    """The CDN whose published range holds ``ip`` (IPv4 or IPv6), or None."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for net, name in _ranges():
        if net.version == addr.version and addr in net:
            return name
    return None


def cdn_edges(ips: Iterable[str]) -> set[str]:
    """The addresses of ``ips`` inside a CDN's published range."""
    return {ip for ip in ips if cdn_of(ip)}
