"""DNS resolvers aimed at ``[network] resolvers`` (each ``host:port``), or the system's."""

from __future__ import annotations

from collections.abc import Sequence

import dns.asyncresolver
import dns.nameserver
import dns.resolver

from collector.config import parse_host_port


def _nameservers(resolvers: Sequence[str]) -> list[dns.nameserver.Nameserver]:
    return [dns.nameserver.Do53Nameserver(*parse_host_port(r)) for r in resolvers]


def make_async_resolver(resolvers: Sequence[str], timeout: float = 5.0) -> dns.asyncresolver.Resolver:
    """An asyncio resolver; ``resolvers`` empty means the system's configuration."""
    if resolvers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = _nameservers(resolvers)
    else:
        resolver = dns.asyncresolver.Resolver()
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
