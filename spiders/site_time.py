"""A slow site cannot hold the crawl: a time budget per site and a cap on its timeout retries.

A site that sends a byte a second keeps every request to it busy for the whole download
timeout, and Scrapy retries each timed-out request ``RETRY_TIMES`` times. This downloader
middleware (just outside Scrapy's RetryMiddleware) bounds both, per site (registered
domain):

- ``ISOP_SITE_SECONDS`` (``[crawl] site_seconds``): once that long has passed since the
  site's first request, its further requests are dropped before they are sent (stat
  ``isop/budget/site_time``, one warning per site). They are not a fact about the site, so
  no page is recorded for them (:class:`SiteOverTime`, like a budget).
- ``ISOP_SITE_TIMEOUT_RETRIES`` (``[crawl] site_timeout_retries``): timed-out requests of
  a site are retried this many times, all its requests together; later timeouts go to the
  spider as failures at once (stat ``isop/retry/site_timeout_capped``), and so does a
  timeout once the site's time is up (its retry would only be dropped, unrecorded).

Scrapy's ``DOWNLOAD_TIMEOUT`` is for the whole download (connection, headers and body),
so a body trickling in forever still ends at the timeout.
"""

from __future__ import annotations

import logging
import time

from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet import defer, error

from storage.names import site_of

log = logging.getLogger(__name__)

try:
    from scrapy.exceptions import DownloadTimeoutError
except ImportError:  # Scrapy before 2.14 raises Twisted's TimeoutError
    DownloadTimeoutError = error.TimeoutError

TIMEOUTS = (DownloadTimeoutError, error.TimeoutError, error.TCPTimedOutError, defer.TimeoutError, TimeoutError)


class NotSent(IgnoreRequest):
    """A request dropped before it was sent (by isop's own limits, not the site): the spider
    records nothing for it."""


class SiteOverTime(NotSent):
    """The request's site has spent its time budget; the request was never sent."""


class SiteTime:
    """Downloader middleware; see the module docstring."""

    def __init__(self, crawler, seconds: float, timeout_retries: int, clock=time.monotonic) -> None:
        self.crawler = crawler
        self.seconds = seconds
        self.timeout_retries = timeout_retries
        self.clock = clock
        self.first: dict[str, float] = {}
        self.timeouts: dict[str, int] = {}
        self.over: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        seconds = s.getfloat("ISOP_SITE_SECONDS", 0.0)
        retries = s.getint("ISOP_SITE_TIMEOUT_RETRIES", -1)
        if seconds <= 0 and retries < 0:
            raise NotConfigured
        return cls(crawler, seconds, retries)

    def _spent(self, site: str, start: bool = False) -> bool:
        """Whether ``site`` has spent its time budget (``start``: its clock starts now if it had not)."""
        if self.seconds <= 0:
            return False
        now = self.clock()
        first = self.first.setdefault(site, now) if start else self.first.get(site, now)
        return now - first > self.seconds

    def process_request(self, request):
        if request.meta.get("isop_raw_body"):
            return None  # a download's hash range: bounded by hash_downloads_up_to and the crawl's hash budget
        site = site_of(request.url)
        if site is None or not self._spent(site, start=True):
            return None
        stats = self.crawler.stats
        stats.inc_value("isop/budget/site_time")
        if site not in self.over:
            self.over.add(site)
            stats.inc_value("isop/budget/site_time_sites")
            log.warning("site %s spent its time budget (%.0f s since its first request); its further "
                        "requests are dropped", site, self.seconds)
        raise SiteOverTime(f"{site}: time budget of {self.seconds:g} s spent")

    def process_exception(self, request, exception):
        if not isinstance(exception, TIMEOUTS) or (self.timeout_retries < 0 and self.seconds <= 0):
            return None
        site = site_of(request.url) or ""
        self.timeouts[site] = self.timeouts.get(site, 0) + 1
        # over the site's retries, or its time is up (a retry would only be dropped unrecorded):
        # the timeout goes to the spider now, and is recorded as the site's failure
        capped = 0 <= self.timeout_retries < self.timeouts[site]
        if (capped or self._spent(site)) and not request.meta.get("dont_retry"):
            request.meta["dont_retry"] = True  # read by RetryMiddleware, which sees the failure next
            self.crawler.stats.inc_value("isop/retry/site_timeout_capped")
        return None
