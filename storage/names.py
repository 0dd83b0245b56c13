"""Host names and registered domains, the way the store keys them.

The registered domain (eTLD+1) comes from tldextract's bundled Public Suffix List
snapshot; it is never fetched at run time (``suffix_list_urls=()``).

Host names are validated before they become keys: LDH labels (letters, digits, hyphens
not at either end, with the usual leniency for ``_``), 1-63 characters each, 253 in all,
Unicode names converted to punycode (IDNA 2008 with UTS 46 mapping). Anything else —
``<``, ``"``, ``=``, ``+``, spaces, empty labels — is a :class:`HostNameError` whose
message is one line saying why. IP addresses are recognised in every spelling a browser
or ``inet_aton`` accepts (``127.1``, ``0x7f.1``, ``2130706433``, ``[::ffff:127.0.0.1]``)
and keyed by their canonical form.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)

MAX_HOST = 253
MAX_LABEL = 63
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_SUB_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
"""Labels left of the last two may start or end with a hyphen: registries refuse such names,
but hosting platforms hand them out (``foo-.tumblr.com``) and browsers open them."""
_NUMBER = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def _shown(host: str) -> str:
    return repr(host if len(host) <= 80 else host[:77] + "...")


def _idna(host: str) -> str:
    """IDNA 2008 with UTS 46 mapping; names only IDNA 2003 allows (symbols, which browsers
    still open) by Python's codec."""
    import idna

    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        return host.encode("idna").decode("ascii")


def to_ascii(host: str) -> str:
    """Lower-case, IDNA-encode (punycode) and strip the trailing dot of a host name;
    raises :class:`HostNameError` for anything that is not a valid host name."""
    original = host
    host = host.strip()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise HostNameError("empty host name")
    if len(host) > 4 * MAX_HOST:
        raise HostNameError(f"host name {_shown(original)} is longer than {MAX_HOST} characters")
    host = host.lower()
    if not host.isascii():
        try:
            host = _idna(host)
        except (UnicodeError, ValueError) as e:
            reason = str(e).splitlines()[0][:120] if str(e) else "not valid IDNA"
            raise HostNameError(f"host name {_shown(original)} is not a valid internationalised name ({reason})") \
                from None
    if len(host) > MAX_HOST:
        raise HostNameError(f"host name {_shown(original)} is longer than {MAX_HOST} characters")
    labels = host.split(".")
    for i, label in enumerate(labels):
        if not label:
            raise HostNameError(f"host name {_shown(original)} has an empty label")
        if len(label) > MAX_LABEL:
            raise HostNameError(f"host name {_shown(original)} has a label longer than {MAX_LABEL} characters")
        if not (_LABEL if i >= len(labels) - 2 else _SUB_LABEL).fullmatch(label):
            bad = next((c for c in label if not (c.isascii() and (c.isalnum() or c in "-_"))), None)
            why = f"the character {bad!r}" if bad else "a hyphen at the start or end of a label"
            raise HostNameError(f"host name {_shown(original)} is not a valid host name ({why})")
        if label.startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                raise HostNameError(f"host name {_shown(original)} has a label that is not valid punycode") \
                    from None
    return host


def _ipv4_number(part: str) -> int | None:
    if not _NUMBER.fullmatch(part):
        return None
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part)


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form browsers and ``inet_aton`` accept, or None
    for a name. ``[v6]`` and zone ids are accepted; IPv4-mapped IPv6 stays IPv6 here.
    Raises :class:`HostNameError` for something that looks numeric but is no address
    (``1.2.3.4.5``, ``256.1.1.1``, ``09.1``)."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise HostNameError(f"{_shown(host)} is not a valid IPv6 address") from None
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    parts = host.split(".")
    if not parts or not _NUMBER.fullmatch(parts[-1]):
        return None  # the WHATWG rule: a host whose last label is a number is an IPv4 address
    numbers = [_ipv4_number(p) for p in parts]
    if len(parts) > 4 or any(n is None for n in numbers) or \
            any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(parts)):
        raise HostNameError(f"{_shown(host)} is not a valid IPv4 address")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def is_ip(host: str) -> bool:
    try:
        return ip_literal(host) is not None
    except HostNameError:
        return False


@lru_cache(maxsize=65536)
def parse_host(host: str) -> HostName:
    """Split a host name into the keys the store uses; raises :class:`HostNameError`."""
    ip = ip_literal(host)
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        text = str(ip)
        return HostName(text, text, "", known_suffix=False)
    fqdn = to_ascii(host)
    if (ip := ip_literal(fqdn)) is not None:  # an address spelled in Unicode digits, mapped by IDNA
        return parse_host(str(ip))
    ext = _EXTRACT(fqdn)
    if ext.suffix and ext.domain:
        return HostName(fqdn, f"{ext.domain}.{ext.suffix}", ext.suffix)
    # No known public suffix (a private or sandbox-only TLD): the last two labels.
    labels = fqdn.split(".")
    return HostName(fqdn, ".".join(labels[-2:]), labels[-1] if len(labels) > 1 else "", known_suffix=False)


def registered_domain(host: str) -> str:
    return parse_host(host).domain


def site_of(url: str) -> str | None:
    """The registered domain of ``url``'s host; None when the host is no host name."""
    try:
        return parse_host(urlsplit(url).hostname or "").domain
    except (HostNameError, ValueError):
        return None


def brand_of(domain: str) -> str:
    """The brand in a registered domain: its first label without digits and hyphens."""
    return re.sub(r"[\d-]+", "", domain.split(".", 1)[0].lower())


def same_brand(a: str, b: str) -> bool:
    """Whether two domains carry the same brand (baytorrents.to, baytorrents-proxy.net,
    xbaytorrents.ws; toon101.com, toon102.com) — what makes a listed domain a mirror."""
    ba, bb = brand_of(a), brand_of(b)
    if min(len(ba), len(bb)) < 4:
        return ba == bb and bool(ba)
    return ba in bb or bb in ba
