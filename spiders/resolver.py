"""DNS resolvers aimed at ``[network] resolvers`` (each ``host:port``), or the system's.

The crawler asks them whether names resolve (:mod:`spiders.site_spider`); enrichment builds
its strict ones here too (:mod:`enrich.dns_lookup`, :mod:`enrich.hosting`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import dns.asyncbackend
import dns.asyncquery
import dns.asyncresolver
import dns.message
import dns.nameserver
import dns.resolver


def parse_host_port(value: str, default_port: int = 53) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``, or a bare address) into its parts."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.lstrip(":") or str(default_port)
    elif value.count(":") == 1:
        host, port = value.split(":")
    else:
        host, port = value, str(default_port)
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address with an optional :port") from None
    if not 0 < number < 65536:
        raise ValueError(f"{value!r} has a port out of range")
    return host, number


class StrictDo53Nameserver(dns.nameserver.Do53Nameserver):
    """A plain DNS (port 53 style) nameserver whose unparseable UDP replies are errors.

    dnspython's own :class:`~dns.nameserver.Do53Nameserver` drops a UDP reply that does not
    parse (``ignore_errors=True``) and keeps waiting, so a server answering garbage looks
    exactly like a server not answering at all. Enrichment wants to tell the two apart: with
    this class the parse error (a :class:`dns.exception.FormError` or another
    :class:`dns.exception.DNSException`) reaches the resolver, which records it in the
    ``errors`` of the ``NoNameservers``/``LifetimeTimeout`` it raises. Replies from other
    addresses are still ignored. TCP is unchanged.
    """

    async def async_query(
        self,
        request: dns.message.QueryMessage,
        timeout: float,
        source: str | None,
        source_port: int,
        max_size: bool,
        backend: dns.asyncbackend.Backend,
        one_rr_per_rrset: bool = False,
        ignore_trailing: bool = False,
    ) -> dns.message.Message:
        if max_size:
            return await super().async_query(request, timeout, source, source_port, max_size,
                                             backend, one_rr_per_rrset, ignore_trailing)
        return await dns.asyncquery.udp(
            request, self.address, timeout=timeout, port=self.port, source=source,
            source_port=source_port, raise_on_truncation=True, backend=backend,
            one_rr_per_rrset=one_rr_per_rrset, ignore_trailing=ignore_trailing,
            ignore_errors=False, ignore_unexpected=True)


def _nameservers(resolvers: Sequence[str], strict: bool = False) -> list[dns.nameserver.Nameserver]:
    cls = StrictDo53Nameserver if strict else dns.nameserver.Do53Nameserver
    return [cls(*parse_host_port(r)) for r in resolvers]


def _strict_system(resolver: dns.asyncresolver.Resolver) -> None:
    """Swap the system configuration's plain Do53 nameservers for strict ones."""
    servers: list[dns.nameserver.Nameserver] = []
    for ns in resolver.nameservers:
        if type(ns) is dns.nameserver.Do53Nameserver:
            servers.append(StrictDo53Nameserver(ns.address, ns.port))
        elif isinstance(ns, dns.nameserver.Nameserver):
            servers.append(ns)
        else:  # a bare address string
            servers.append(StrictDo53Nameserver(ns, resolver.port))
    resolver.nameservers = servers


def make_async_resolver(resolvers: Sequence[str], timeout: float = 5.0, *,
                        strict: bool = False) -> dns.asyncresolver.Resolver:
    """An asyncio resolver; ``resolvers`` empty means the system's configuration.

    ``strict``: use :class:`StrictDo53Nameserver`, so a server sending malformed UDP
    replies fails fast with the parse error instead of timing out (enrichment wants that;
    the crawler, which only asks "does this name resolve?", does not need it).
    """
    if resolvers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = _nameservers(resolvers, strict)
    else:
        resolver = dns.asyncresolver.Resolver()
        if strict:
            _strict_system(resolver)
    resolver.lifetime = timeout
    resolver.timeout = min(timeout, 2.0)
    return resolver


def make_resolver(resolvers: Sequence[str], timeout: float = 5.0) -> dns.resolver.Resolver:
    """A blocking resolver (for threads and for libraries such as ipwhois)."""
    if resolvers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = _nameservers(resolvers)
    else:
        resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    resolver.timeout = min(timeout, 2.0)
    return resolver
