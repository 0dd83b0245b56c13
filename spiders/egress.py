"""Tells "we could not get out" from "the site failed".

Every fetch goes through ``[network] proxy``. When a fetch fails, this downloader
middleware asks whether the way out itself is broken before the failure may become a
fact about the site:

- a connection-level failure (refused, reset, timed out, lost): is the proxy still
  accepting connections? A quick TCP probe of the proxy answers;
- the proxy refusing to tunnel (``CONNECT`` answered with an error) or answering 502/504
  for several different hosts in a row with nothing working in between: does a host that
  worked earlier in this run still get a tunnel? If none ever worked, three different
  hosts failing the same way is taken as the proxy's own failure.

A broken way out stops the crawl (finish reason ``egress_unreachable``, the reason in the
``isop/egress/reason`` stat); the run is recorded ``failed`` and the failed fetches are
dropped (:class:`EgressUnreachable`), so nothing about any site comes from them. Fetches
that failed at the proxy while the watch was still counting hosts are held by the store
pipeline (:meth:`EgressWatch.suspects`) and written only once the watch clears the proxy.
Pages fetched before the outage stay. A failure while the way out works is the site's, and
goes on to the retry middleware and the spider as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

log = logging.getLogger(__name__)

PROXY_ERROR_STATUSES = frozenset({502, 504})
"""Answers a proxy gives when it cannot reach the upstream."""
STREAK_HOSTS = 3
"""Different hosts failing in a row (nothing working between) before the proxy is suspected."""
PROBE_TIMEOUT = 5.0
PROBE_CACHE_SECONDS = 2.0


class EgressUnreachable(IgnoreRequest):
    """The fetch failed because the way out (proxy, resolvers) is down, not the site."""


def _split(proxy: str) -> tuple[str, int]:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


class EgressWatch:
    """Downloader middleware (after the proxy middleware, before retries see a failure)."""

    def __init__(self, crawler, proxy: str) -> None:
        self.crawler = crawler
        self.proxy = proxy
        self.proxy_host, self.proxy_port = _split(proxy)
        self.outage: str | None = None
        self.worked = False
        """Whether anything came back through the proxy in this run."""
        self.last_tunnel: tuple[str, int] | None = None
        """An https host:port the proxy tunnelled to in this run: the reference a CONNECT probe
        asks for (proxies commonly refuse CONNECT to other ports, so plain-http hosts are not one)."""
        self.streak: set[str] = set()
        """Hosts that failed at the proxy since the last success."""
        self._probe: asyncio.Future | None = None
        self._probe_at = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        proxy = crawler.settings.get("ISOP_PROXY", "")
        if not proxy:
            raise NotConfigured("no ISOP_PROXY: nothing to watch")
        return cls(crawler, proxy)

    # --- Scrapy hooks ----------------------------------------------------------------------

    def process_request(self, request):
        if self.outage is not None:
            raise EgressUnreachable(self.outage)
        return None

    async def process_response(self, request, response):
        if self.outage is not None:
            raise EgressUnreachable(self.outage)
        host = urlsplit(request.url).hostname or ""
        if response.status in PROXY_ERROR_STATUSES and not request.meta.get("playwright"):
            await self._proxy_failed(host, f"HTTP {response.status} for {host}")
            if self.outage is not None:
                raise EgressUnreachable(self.outage)
            return response
        self.streak.clear()
        self.worked = True
        parts = urlsplit(request.url)
        if parts.scheme == "https" and not request.meta.get("playwright"):
            self.last_tunnel = (host, parts.port or 443)
        return response

    async def process_exception(self, request, exception):
        if isinstance(exception, IgnoreRequest):
            return None
        if self.outage is None:
            host = urlsplit(request.url).hostname or ""
            if _is_tunnel_error(exception):
                await self._proxy_failed(host, f"CONNECT refused for {host}: {exception}")
            else:
                problem = await self._probe_proxy()
                if problem:
                    self._stop(f"the proxy {self.proxy} could not be reached ({problem})")
        if self.outage is not None:
            raise EgressUnreachable(self.outage)
        return None

    def suspects(self, page) -> bool:
        """Whether a failed fetch (``spiders.items.PageItem``) may be the proxy's doing and
        must wait for the watch's decision: a failure at the proxy while other hosts are
        failing there too, with nothing working in between."""
        failed_at_proxy = page.status is None or page.status in PROXY_ERROR_STATUSES
        return failed_at_proxy and (urlsplit(page.url).hostname or "") in self.streak

    # --- deciding ---------------------------------------------------------------------------

    async def _proxy_failed(self, host: str, what: str) -> None:
        """The proxy answered with an error for ``host``: one site's failure, or every site's?"""
        self.streak.add(host)
        if len(self.streak) < STREAK_HOSTS:
            return
        problem = await self._probe_proxy()
        if problem:
            self._stop(f"the proxy {self.proxy} could not be reached ({problem})")
            return
        if not self.worked:
            self._stop(f"the proxy {self.proxy} fails every host ({len(self.streak)} hosts, none worked; "
                       f"last: {what})"[:500])
            return
        if self.last_tunnel is None or self.last_tunnel[0] in self.streak:
            self.streak.clear()  # nothing to compare with: these are the sites' failures
            return
        problem = await self._probe_tunnel(*self.last_tunnel)
        if problem:
            self._stop(f"the proxy {self.proxy} fails every host ({len(self.streak)} hosts in a row, and "
                       f"{self.last_tunnel[0]}, which worked earlier, now gets {problem})"[:500])
        else:
            self.streak.clear()

    def _stop(self, reason: str) -> None:
        if self.outage is None:
            self.outage = reason
            stop_for_outage(self.crawler, reason)

    # --- probes -------------------------------------------------------------------------------

    async def _probe_proxy(self) -> str | None:
        """None when the proxy accepts a TCP connection, else what went wrong (shared by
        failures that arrive together, and remembered for a moment)."""
        loop = asyncio.get_running_loop()
        if self._probe is not None and (not self._probe.done() or time.monotonic() - self._probe_at
                                        < PROBE_CACHE_SECONDS):
            return await asyncio.shield(self._probe)
        self._probe_at = time.monotonic()
        self._probe = loop.create_task(self._connect_once())
        return await asyncio.shield(self._probe)

    async def _connect_once(self) -> str | None:
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.proxy_host, self.proxy_port), PROBE_TIMEOUT)
        except (OSError, TimeoutError) as e:
            return f"{type(e).__name__}: {e}"[:200] if str(e) else type(e).__name__
        writer.close()
        return None

    async def _probe_tunnel(self, host: str, port: int) -> str | None:
        """None when the proxy still opens a tunnel to ``host:port``."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.proxy_host, self.proxy_port), PROBE_TIMEOUT)
        except (OSError, TimeoutError) as e:
            return f"no connection to the proxy ({type(e).__name__})"
        try:
            writer.write(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), PROBE_TIMEOUT)
        except (OSError, TimeoutError) as e:
            return f"no answer to CONNECT ({type(e).__name__})"
        finally:
            writer.close()
        parts = line.decode("latin-1").split()
        if len(parts) >= 2 and parts[1] == "200":
            return None
        return " ".join(parts[1:3])[:80] or "an empty answer"


def stop_for_outage(crawler, reason: str) -> None:
    """End the crawl because the way out is down: finish reason ``egress_unreachable``,
    the run recorded ``failed`` with ``reason``."""
    if crawler.stats.get_value("isop/egress/reason"):
        return
    log.error("stopping the crawl: %s; nothing is recorded about the sites it could not reach", reason)
    crawler.stats.set_value("isop/egress/reason", reason)
    crawler.stats.set_value("isop/errors/egress_unreachable", 1)
    if crawler.engine is not None:
        asyncio.get_running_loop().create_task(crawler.engine.close_spider_async(reason="egress_unreachable"))


def _is_tunnel_error(exception: BaseException) -> bool:
    return type(exception).__name__ == "TunnelError"
