"""Cookies, offline and bounded: Scrapy's cookie middleware with two changes.

Scrapy asks tldextract whether a cookie's domain is a public suffix with tldextract's
defaults, which, the first time on a machine, resolve and fetch the Public Suffix List
straight from the internet, past ``[network] proxy``. Here the question goes to the
suffix list tldextract bundles (no HTTP, no cache files), and Scrapy's own module-level
extractor is replaced with the same offline one, so no code path can fetch.

A hostile site can also set thousands of large cookies, and every later request would
carry them: cookies are capped per site (registered domain, ``[crawl] cookies_per_site``)
and the Cookie header per request (``[crawl] cookie_header_bytes``). What is dropped is
counted: ``isop/cookies/dropped`` (with ``isop/cookies/dropped/site_limit``, ``/too_large``
for cookies not kept, ``/header_size`` for cookies kept but left out of a request).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from http.cookiejar import Cookie

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
import tldextract
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

log = logging.getLogger("isop.cookies")

OFFLINE_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
"""The bundled Public Suffix List snapshot, private domains included (as Scrapy asks):
never fetched, never cached on disk."""

scrapy_cookies._split_domain = OFFLINE_EXTRACT  # Scrapy's own, fetching, extractor: never used

DEFAULT_PER_SITE = 50
DEFAULT_HEADER_BYTES = 8192


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is a public suffix (``co.uk``, ``github.io``): no cookie may be set for it."""
    return not OFFLINE_EXTRACT(domain).domain


def cookie_site(domain: str) -> str:
    """The registered domain a cookie domain belongs to (the domain itself when there is none)."""
    domain = domain.lower().lstrip(".")
    parts = OFFLINE_EXTRACT(domain)
    return f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else domain


class BoundedCookies(CookiesMiddleware):
    """Replaces ``scrapy.downloadermiddlewares.cookies.CookiesMiddleware`` (same priority)."""

    def __init__(self, debug: bool = False, per_site: int = DEFAULT_PER_SITE,
                 header_bytes: int = DEFAULT_HEADER_BYTES) -> None:
        super().__init__(debug)
        self.per_site = per_site
        self.header_bytes = header_bytes

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("COOKIES_ENABLED"):
            raise NotConfigured
        o = cls(s.getbool("COOKIES_DEBUG"), s.getint("ISOP_COOKIES_PER_SITE", DEFAULT_PER_SITE),
                s.getint("ISOP_COOKIE_HEADER_BYTES", DEFAULT_HEADER_BYTES))
        o.crawler = crawler
        return o

    def _dropped(self, why: str, n: int = 1) -> None:
        stats = self.crawler.stats
        stats.inc_value("isop/cookies/dropped", n)
        stats.inc_value(f"isop/cookies/dropped/{why}", n)

    def _process_cookies(self, cookies: Iterable[Cookie], *, jar, request) -> None:
        hostname = urlparse_cached(request).hostname
        if hostname is None:
            return
        request_domain = hostname.lower()
        counts: dict[str, int] = {}
        for cookie in cookies:
            cookie_domain = cookie.domain.removeprefix(".")
            if cookie_domain and is_public_suffix(cookie_domain):
                if cookie_domain != request_domain:
                    continue
                cookie.domain = request_domain
            if len(cookie.name or "") + len(cookie.value or "") + 1 > self.header_bytes:
                self._dropped("too_large")
                continue
            site = cookie_site(cookie.domain or request_domain)
            if site not in counts:
                counts[site] = self._count(jar, site)
            if counts[site] >= self.per_site and not self._replaces(jar, cookie):
                self._dropped("site_limit")
                continue
            before = len(jar._cookies.get(cookie.domain, {}).get(cookie.path, {}))
            jar.set_cookie_if_ok(cookie, request)
            if len(jar._cookies.get(cookie.domain, {}).get(cookie.path, {})) > before:
                counts[site] += 1

    @staticmethod
    def _count(jar, site: str) -> int:
        """Cookies the jar holds for ``site`` and its subdomains."""
        dot_site = "." + site
        return sum(len(names) for domain, paths in jar._cookies.items()
                   if (d := domain.lstrip(".")) == site or d.endswith(dot_site) for names in paths.values())

    @staticmethod
    def _replaces(jar, cookie: Cookie) -> bool:
        return cookie.name in jar._cookies.get(cookie.domain, {}).get(cookie.path, {})

    def process_request(self, request):
        out = super().process_request(request)
        header = request.headers.get("Cookie")
        if header is not None and len(header) > self.header_bytes:
            kept, size, left_out = [], 0, 0
            for pair in header.split(b"; "):  # the jar's own "; "-joined name=value pairs
                if size + len(pair) + (2 if kept else 0) <= self.header_bytes:
                    size += len(pair) + (2 if kept else 0)
                    kept.append(pair)
                else:
                    left_out += 1
            self._dropped("header_size", left_out)
            if kept:
                request.headers["Cookie"] = b"; ".join(kept)
            else:
                request.headers.pop("Cookie", None)
        return out
