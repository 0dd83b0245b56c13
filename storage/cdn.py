"""Which addresses are CDN edges, by the published ranges of ``config/enrich/cdn.toml``.

Operator networks must never link sites through an address thousands of customers share.
Enrichment marks the networks it looked up (``Network.cdn``), but an address inside a CDN's
published range is an edge whether or not its network lookup succeeded (or ever ran), so
the store's readers ask this module too; likewise a name CNAMEd into a CDN
(:func:`cdn_of_cname`) and a CDN's own nameservers (:func:`cdn_of_nameserver`), read once
per file. ``enrich.cdn.CdnList`` reads the same file for enrichment (ASNs, AS names), with
the same name matching (:func:`norm_host`, :func:`suffix_match`).
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from storage.addresses import parse_address

CDN_FILE = Path(__file__).resolve().parents[1] / "config" / "enrich" / "cdn.toml"


@lru_cache(maxsize=4)
def _providers(path: Path = CDN_FILE) -> tuple[dict, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError):
        return ()  # enrichment reports a bad file (CdnListError); readers fall back to Network.cdn
    items = data.get("provider", [])
    return tuple(p for p in items if isinstance(p, dict)) if isinstance(items, list) else ()


@lru_cache(maxsize=4)
def _suffixes(key: str, path: Path = CDN_FILE) -> tuple[tuple[str, str], ...]:
    return tuple((norm_host(str(s)), str(p.get("name", "CDN"))) for p in _providers(path)
                 for s in (p.get(key) or []) if isinstance(s, str) and s.strip().strip("."))


def norm_host(name: str) -> str:
    """A host name as the CDN file's suffixes are kept: lower-case, no dots at either end."""
    return name.strip().strip(".").lower()


def suffix_match(name: str, suffixes: Iterable[str]) -> bool:
    """``name`` is one of ``suffixes`` or lies under one, on a label boundary (so
    ``notcloudflare.net`` is not under ``cloudflare.net``)."""
    name = norm_host(name)
    return bool(name) and any(name == s or name.endswith("." + s) for s in suffixes)


def _suffix_of(name: str, key: str) -> str | None:
    name = norm_host(name)
    return next((cdn for s, cdn in _suffixes(key) if name and (name == s or name.endswith("." + s))), None)


def cdn_of_cname(target: str) -> str | None:
    """The CDN a CNAME target points into (``x.cdn.cloudflare.net``), or None."""
    return _suffix_of(target, "cnames")


def cdn_of_nameserver(name: str) -> str | None:
    """The CDN whose authoritative nameservers ``name`` is one of (``kiki.ns.cloudflare.com``)."""
    return _suffix_of(name, "nameservers")


@lru_cache(maxsize=4)
def _ranges(path: Path = CDN_FILE) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    out = []
    for provider in _providers(path):
        for cidr in provider.get("cidrs", []) or []:
            try:
                out.append((ipaddress.ip_network(str(cidr), strict=False), str(provider.get("name", "CDN"))))
            except ValueError:
                continue
    return tuple(sorted(out, key=lambda item: -item[0].prefixlen))


def cdn_of(ip: str) -> str | None:
    """The CDN whose published range holds ``ip`` (IPv4 or IPv6), or None."""
    addr = parse_address(ip)
    if addr is None:
        return None
    for net, name in _ranges():
        if net.version == addr.version and addr in net:
            return name
    return None


def cdn_edges(ips: Iterable[str]) -> set[str]:
    """The addresses of ``ips`` inside a CDN's published range."""
    return {ip for ip in ips if cdn_of(ip)}
