"""Host names and registered domains, the way the store keys them.

The registered domain (eTLD+1) comes from tldextract's bundled Public Suffix List
snapshot; it is never fetched at run time (``suffix_list_urls=()``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


class HostNameError(ValueError):
    """A host name that cannot be stored (empty, too long, bad characters)."""


@dataclass(frozen=True)
class HostName:
    fqdn: str
    """Lower-case, IDN as punycode, no trailing dot."""
    domain: str
    """Registered domain (eTLD+1); for an IP address, the address itself."""
    suffix: str
    """Public suffix; for an unknown suffix the last label; empty for an IP address."""
    known_suffix: bool = True
    """Whether the suffix is on the Public Suffix List (``a.b.sandbox``'s is not)."""


def to_ascii(host: str) -> str:
    """Lower-case, IDNA-encode (punycode) and strip the trailing dot of a host name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise HostNameError("empty host name")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise HostNameError(f"{host!r} is not a valid internationalised host name") from None
    if len(ascii_host) > 253 or any(not label or len(label) > 63 for label in ascii_host.split(".")):
        raise HostNameError(f"{host!r} is not a valid host name")
    return ascii_host


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


@lru_cache(maxsize=65536)
def parse_host(host: str) -> HostName:
    """Split a host name into the keys the store uses; raises :class:`HostNameError`."""
    if is_ip(host):
        ip = str(ipaddress.ip_address(host.strip("[]")))
        return HostName(ip, ip, "", known_suffix=False)
    fqdn = to_ascii(host)
    ext = _EXTRACT(fqdn)
    if ext.suffix and ext.domain:
        return HostName(fqdn, f"{ext.domain}.{ext.suffix}", ext.suffix)
    # No known public suffix (a private or sandbox-only TLD): the last two labels.
    labels = fqdn.split(".")
    return HostName(fqdn, ".".join(labels[-2:]), labels[-1] if len(labels) > 1 else "", known_suffix=False)


def registered_domain(host: str) -> str:
    return parse_host(host).domain
