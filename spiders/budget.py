"""Crawl budgets and trap defences, as a spider middleware on outgoing requests.

A huge legitimate site or a crawler trap must not eat the crawl: requests are dropped
(and counted in stats under ``isop/budget/...``) when they would exceed the global page
budget, the per-site budget, or look like a trap — an over-long URL, a deep or repeating
path, too many query parameters, or too many URLs of the same *shape* on one site (the
path with digit runs blanked and the query reduced to its sorted keys: an endless
calendar or query permutations all share a few shapes).

Before any of that, every request leaving the spider — re-renders and favicons too — must
have a valid host name (:func:`storage.names.parse_host`: LDH labels, IDNA) and a URL no
longer than ``ISOP_MAX_URL_LENGTH``, so nothing unusable reaches the scheduler's queue;
the others are counted under ``isop/dropped/invalid_host`` and the first ones logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from w3lib.url import canonicalize_url

from storage.names import HostNameError, parse_host

_DIGITS = re.compile(r"\d+")
MAX_INVALID_LOGGED = 50
"""Links to invalid hosts logged per crawl (all are counted)."""
log = logging.getLogger("isop.budget")
EXEMPT = "isop_budget_exempt"
"""Request meta key: already counted (a re-render, a retry of the same URL)."""


def url_shape(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return _DIGITS.sub("N", parts.path.lower()) + ("?" + "&".join(keys) if keys else "")


def trap_reason(url: str, max_url_length: int = 1024, max_path_depth: int = 12,
                max_query_params: int = 8) -> str | None:
    """Why ``url`` looks like a crawler trap on its own, or None."""
    if len(url) > max_url_length:
        return "url_length"
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > max_path_depth:
        return "path_depth"
    if segments and max(Counter(segments).values()) >= 3:
        return "repeating_path"
    if len(parse_qsl(parts.query, keep_blank_values=True)) > max_query_params:
        return "query_params"
    return None


class CrawlBudget:
    """Drops requests beyond the budgets; the spider may narrow crawling to some sites.

    Settings: ``ISOP_BUDGET_ENABLED``, ``ISOP_MAX_PAGES``, ``ISOP_SITE_PAGES``,
    ``ISOP_URL_SHAPE_LIMIT``, ``ISOP_MAX_URL_LENGTH``, ``ISOP_MAX_PATH_DEPTH``.
    A spider with an ``allowed_sites`` set (registered domains) is kept inside it.
    """

    def __init__(self, stats, max_pages: int, site_pages: int, shape_limit: int,
                 max_url_length: int = 1024, max_path_depth: int = 12) -> None:
        self.stats = stats
        self.max_pages = max_pages
        self.site_pages = site_pages
        self.shape_limit = shape_limit
        self.max_url_length = max_url_length
        self.max_path_depth = max_path_depth
        self.scheduled = 0
        self.per_site: Counter[str] = Counter()
        self.per_shape: Counter[tuple[str, str]] = Counter()
        self.seen: set[bytes] = set()
        self.invalid_logged = 0
        self.crawler = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("ISOP_BUDGET_ENABLED", True):
            raise NotConfigured("ISOP_BUDGET_ENABLED is off")
        mw = cls(crawler.stats, s.getint("ISOP_MAX_PAGES", 2000), s.getint("ISOP_SITE_PAGES", 40),
                 s.getint("ISOP_URL_SHAPE_LIMIT", 30), s.getint("ISOP_MAX_URL_LENGTH", 1024),
                 s.getint("ISOP_MAX_PATH_DEPTH", 12))
        mw.crawler = crawler
        return mw

    def _drop(self, reason: str) -> None:
        self.stats.inc_value(f"isop/budget/{reason}")

    def _invalid_host(self, request: Request, error: Exception, found_on: str | None) -> None:
        """A link whose host is no host name (``<``, ``"``, empty labels, too long): never
        requested; counted under ``isop/dropped/invalid_host``, the first ones logged."""
        self.stats.inc_value("isop/dropped/invalid_host")
        self.invalid_logged += 1
        if self.invalid_logged <= MAX_INVALID_LOGGED:
            log.info("dropped a link to an invalid host: %s (found on %s)%s", error,
                     found_on or request.meta.get("isop_found_on") or "a start URL",
                     "; further ones are only counted" if self.invalid_logged == MAX_INVALID_LOGGED else "")

    @staticmethod
    def _key(url: str) -> bytes:
        return hashlib.blake2b(canonicalize_url(url).encode(), digest_size=16).digest()

    def already_admitted(self, url: str) -> bool:
        """Whether a request for ``url`` was admitted before (a duplicate)."""
        try:
            return self._key(url) in self.seen
        except ValueError:
            return False

    def admit(self, request: Request, allowed_sites: set[str] | None = None, site_pages: int | None = None,
              found_on: str | None = None) -> bool:
        """Count ``request`` (a link on ``found_on``) against the budgets; False when it must be dropped."""
        try:
            site = parse_host(urlsplit(request.url).hostname or "").domain
        except (HostNameError, ValueError) as e:
            self._invalid_host(request, e, found_on)
            return False
        if len(request.url) > self.max_url_length:  # even a re-render or a favicon: never queued
            self._drop("trap/url_length")
            return False
        if request.meta.get(EXEMPT):
            return True
        if allowed_sites is not None and site not in allowed_sites:
            self._drop("offsite")
            return False
        key = self._key(request.url)
        if key in self.seen and not request.dont_filter:
            return False  # a duplicate: the scheduler would drop it anyway, don't count it
        if not self._has_room(site, site_pages or self.site_pages):
            return False
        reason = trap_reason(request.url, self.max_url_length, self.max_path_depth)
        if reason:
            self._drop(f"trap/{reason}")
            return False
        shape = (site, url_shape(request.url))
        if self.per_shape[shape] >= self.shape_limit:
            self._drop("trap/url_shape")
            return False
        self.seen.add(key)
        self.scheduled += 1
        self.per_site[site] += 1
        self.per_shape[shape] += 1
        request.meta[EXEMPT] = True
        self._admitted(request, site, site_pages or self.site_pages)
        return True

    def _has_room(self, site: str, site_pages: int) -> bool:
        """The global and per-site page budgets (a shared crawl counts them elsewhere)."""
        if self.scheduled >= self.max_pages:
            self._drop("global")
            return False
        if self.per_site[site] >= site_pages:
            self._drop("site")
            return False
        return True

    def _admitted(self, request: Request, site: str, site_pages: int) -> None:
        """Hook: ``request`` was admitted for ``site`` under ``site_pages``."""

    async def process_start(self, start):
        async for o in start:
            if not isinstance(o, Request) or self._admit_for_spider(o):
                yield o

    async def process_spider_output_async(self, response, result):
        async for o in result:
            if not isinstance(o, Request) or self._admit_for_spider(o, response):
                yield o

    def process_spider_output(self, response, result):
        for o in result:
            if not isinstance(o, Request) or self._admit_for_spider(o, response):
                yield o

    def _admit_for_spider(self, request: Request, response=None) -> bool:
        spider = self.crawler.spider if self.crawler else None
        allowed = getattr(spider, "allowed_sites", None)
        budget = getattr(spider, "site_page_budget", None)
        return self.admit(request, allowed, budget, getattr(response, "url", None))
