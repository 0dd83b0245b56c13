"""CDN and DDoS-protection providers and how enrichment recognises them (:class:`CdnList`,
read from ``config/enrich/cdn.toml``): by AS number, published ranges, CNAME targets, name
servers and AS names.

The store's readers use the same file through :mod:`storage.cdn` (published ranges, CNAME
and nameserver suffixes, forgiving a bad file); this module checks the file strictly
(:class:`CdnListError`) and also knows ASNs and AS names.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from enrich.registration import one_line
from storage.addresses import IPAddress, parse_address
from storage.cdn import CDN_FILE, norm_host, suffix_match

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_CDN_FILE = CDN_FILE


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


def short_as_name(as_name: str) -> str:
    """The short AS name, upper-case: ``"CLOUDFLARENET"`` from Cymru's
    ``"CLOUDFLARENET - Cloudflare, Inc., US"``."""
    return as_name.split(" - ", 1)[0].strip().upper()


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
        addr = parse_address(ip) if ip is not None else None
        if addr is not None:
            for net, name in self._cidrs:
                if net.version == addr.version and addr in net:
                    return name
        cnames = [c for c in cnames if isinstance(c, str)]
        nameservers = [n for n in nameservers if isinstance(n, str)]
        for p in self.providers:
            if p.cnames and any(suffix_match(c, p.cnames) for c in cnames):
                return p.name
        for p in self.providers:
            if p.nameservers and any(suffix_match(n, p.nameservers) for n in nameservers):
                return p.name
        if isinstance(as_name, str) and as_name.strip():
            return self._by_as_name.get(short_as_name(as_name))
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
        cnames=tuple(norm_host(c) for c in strings("cnames")),
        nameservers=tuple(norm_host(n) for n in strings("nameservers")),
        as_names=frozenset(short_as_name(a) for a in strings("as_names")))
