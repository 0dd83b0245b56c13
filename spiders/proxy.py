"""Sends every request through ``[network] proxy`` (``ISOP_PROXY``).

Scrapy's own HttpProxyMiddleware does the CONNECT tunnelling for https and absolute
URIs for http once ``meta["proxy"]`` is set; this middleware only sets it, so the proxy
comes from isop's config rather than from environment variables.
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured


class ConfiguredProxy:
    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler):
        proxy = crawler.settings.get("ISOP_PROXY", "")
        if not proxy:
            raise NotConfigured("no ISOP_PROXY: connecting directly")
        return cls(proxy)

    def process_request(self, request):
        if not request.meta.get("playwright"):
            request.meta.setdefault("proxy", self.proxy)
        return None
