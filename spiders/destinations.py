"""Destinations a crawl refuses: a crawler must never be turned against its own network.

A hostile page can link to ``http://127.0.0.1:6379/``, ``http://169.254.169.254/``,
``http://10.0.0.1/admin`` or a name whose DNS answer is one of those. This downloader
middleware refuses such requests before anything is sent:

* an IP address in any spelling (``127.1``, ``0x7f.1``, ``2130706433``, ``017700000001``,
  ``[::1]``, ``[::ffff:127.0.0.1]``, 6to4 addresses embedding one, trailing dots) that is
  loopback, private, link-local, CGNAT, documentation, multicast, unspecified or
  otherwise reserved (the table of :func:`enrich.dns_lookup.is_reserved`);
* names that are never public sites: ``localhost`` and ``*.localhost``, ``.local``
  (mDNS), ``.internal``, ``.home.arpa``, ``.localdomain``, and single-label names (a
  local search domain completes them);
* host names that are not host names (:func:`storage.names.parse_host`);
* when no proxy is configured: names that resolve to such an address. They are resolved
  with the resolver the download itself uses (Scrapy's, on a thread, cached with
  ``DNSCACHE_ENABLED``, the default), so the connection goes to the address that was checked. Through a proxy, names are not
  resolved here (the proxy resolves them; resolving them ourselves would ask a resolver
  outside the two knobs), literal addresses and the names above are still refused: the
  proxy's own address is the way out, not a destination.

``[network] allow_destinations`` (``ISOP_ALLOW_DESTINATIONS``, CIDR ranges) lets named
ranges through: the sandbox world's tests allow ``127.0.0.0/8``.

A refused request fails with :class:`RefusedDestination` (an ``IgnoreRequest``: never
retried, not an egress failure), so the spider's errback records it as a page with the
error ``RefusedDestination: refused destination 127.0.0.1 (loopback)``; stats count them
under ``isop/refused/<kind>``. Rendered pages load their resources in the browser, not
through Scrapy: :func:`abort_browser_request` (``PLAYWRIGHT_ABORT_REQUEST``) applies the
same rules, without resolving, to every request the browser makes.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from storage.names import HostNameError, ip_literal, parse_host

log = logging.getLogger("isop.destinations")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
LOCAL_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "localdomain", "lan", "intranet", "home", "corp")
"""Special-use and customary private names (RFC 6761, 6762, 8375; ICANN's .internal and
the never-delegated .home and .corp): never a public site, often something on the
crawler's own network."""
MAX_LOGGED = 50
_LOOPBACK_V4, _LOOPBACK_V6 = ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1")


class RefusedDestination(IgnoreRequest):
    """A request for a destination on the crawler's own network (or no valid host)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR ranges (``127.0.0.0/8``, ``::1/128``, a bare address); ValueError naming the bad one."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an address range (CIDR, e.g. 127.0.0.0/8)") from None
    return tuple(out)


def address_kind(addr: IPAddress) -> str | None:
    """Why ``addr`` is not a public destination (``loopback``, ``private``, ...), or None."""
    from storage.addresses import is_reserved

    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        elif addr.sixtofour is not None and is_reserved(addr.sixtofour):
            return f"6to4 {is_reserved(addr.sixtofour)}"
    return is_reserved(addr)


@dataclass(frozen=True)
class DestinationPolicy:
    allowed: tuple[IPNetwork, ...] = ()

    def allows_address(self, addr: IPAddress) -> bool:
        plain = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped else addr
        return any(plain.version == net.version and plain in net for net in self.allowed)

    def address_refusal(self, addr: IPAddress) -> str | None:
        """The kind of refusal for ``addr``, or None when it may be fetched."""
        if self.allows_address(addr):
            return None
        return address_kind(addr)

    def host_refusal(self, host: str) -> tuple[str, str] | None:
        """(message, kind) when ``host`` is refused without resolving it; None for an
        address that may be fetched or a name (which may still resolve somewhere refused)."""
        shown = host if len(host) <= 80 else host[:77] + "..."
        try:
            addr = ip_literal(host)
            name = None if addr is not None else parse_host(host).fqdn
            if name is not None and (ip := ip_literal(name)) is not None:
                addr = ip
        except HostNameError as e:
            return f"refused destination: {e}", "invalid_host"
        if addr is not None:
            kind = self.address_refusal(addr)
            if kind is None:
                return None
            canonical = str(addr.ipv4_mapped or addr) if isinstance(addr, ipaddress.IPv6Address) else str(addr)
            spelled = host.strip("[]").rstrip(".").lower()
            same = spelled == canonical or spelled == str(addr)
            return (f"refused destination {canonical if same else f'{shown} = {canonical}'} ({kind})",
                    kind.replace(" ", "_"))
        if name in LOCAL_NAMES or name.endswith(tuple("." + s for s in LOCAL_SUFFIXES)) or \
                name in LOCAL_SUFFIXES:
            if self.allows_address(_LOOPBACK_V4) or self.allows_address(_LOOPBACK_V6):
                return None
            return f"refused destination {shown} (local name)", "local_name"
        if "." not in name:
            return f"refused destination {shown} (single-label name, completed by local search domains)", \
                "local_name"
        return None


class DestinationGuard:
    """The downloader middleware; settings ``ISOP_ALLOW_DESTINATIONS`` (CIDR list) and
    ``ISOP_PROXY`` (with a proxy, names are left to it)."""

    def __init__(self, crawler, policy: DestinationPolicy, proxy: str) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.policy = policy
        self.proxy = proxy
        self.logged = 0

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        policy = DestinationPolicy(parse_networks(s.getlist("ISOP_ALLOW_DESTINATIONS")))
        global _BROWSER_POLICY
        _BROWSER_POLICY = policy
        return cls(crawler, policy, s.get("ISOP_PROXY", ""))

    def _proxied(self, request) -> bool:
        if request.meta.get("playwright"):
            return bool(self.proxy)  # the browser is launched with [network] proxy
        return bool(request.meta.get("proxy"))

    async def process_request(self, request):
        host = urlsplit(request.url).hostname or ""
        refusal = self.policy.host_refusal(host)
        if refusal is None and not self._proxied(request) and ip_literal(host) is None:
            refusal = await self._resolved_refusal(parse_host(host).fqdn)
        if refusal is not None:
            self._refuse(request, *refusal)
        return None

    async def _resolved_refusal(self, name: str) -> tuple[str, str] | None:
        for addr in await resolve(name):
            kind = self.policy.address_refusal(addr)
            if kind is not None:
                return f"refused destination {name} -> {addr} ({kind})", kind.replace(" ", "_")
        return None

    def _refuse(self, request, message: str, kind: str):
        self.stats.inc_value(f"isop/refused/{kind}")
        self.logged += 1
        if self.logged <= MAX_LOGGED:  # the first on the terminal too, the others in the run's log
            log.log(logging.WARNING if self.logged == 1 else logging.INFO, "%s: %s%s", message, request.url[:200],
                    "; further ones are only counted (isop/refused/...)" if self.logged == MAX_LOGGED else "")
        raise RefusedDestination(message, kind)


async def resolve(name: str) -> list[IPAddress]:
    """The addresses of ``name`` from the reactor's resolver (the one downloads use:
    Scrapy's caching resolver, getaddrinfo on a thread); raises Twisted's DNSLookupError."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import defer, reactor
    from twisted.internet.error import DNSLookupError

    done: defer.Deferred = defer.Deferred()
    found: list[IPAddress] = []

    class Receiver:
        def resolutionBegan(self, resolution):
            pass

        def addressResolved(self, address):
            try:
                found.append(ipaddress.ip_address(address.host.split("%", 1)[0]))
            except (AttributeError, ValueError):
                pass

        def resolutionComplete(self):
            if not done.called:
                done.callback(None)

    from twisted.internet.interfaces import IResolutionReceiver
    from zope.interface import directlyProvides

    receiver = Receiver()
    directlyProvides(receiver, IResolutionReceiver)
    reactor.nameResolver.resolveHostName(receiver, name, 0)
    await maybe_deferred_to_future(done)
    if not found:
        raise DNSLookupError(f"no address for {name}")
    return found


_BROWSER_POLICY = DestinationPolicy()
"""The running crawl's policy (set by :class:`DestinationGuard`), for the browser's requests."""


def abort_browser_request(request) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: whether a request the browser makes (a page's script,
    image, frame, XHR) goes to a refused destination. Chromium connects to loopback
    directly even with a proxy set, so this is the only place that sees those."""
    try:
        host = urlsplit(request.url).hostname
    except ValueError:
        return True
    if host is None:  # data:, blob:, about: ...
        return False
    refusal = _BROWSER_POLICY.host_refusal(host)
    if refusal is not None:
        log.info("browser request aborted, %s: %s", refusal[0], request.url[:200])
    return refusal is not None
