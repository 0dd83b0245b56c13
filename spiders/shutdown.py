"""A stopping crawl sends nothing new: Ctrl-C, SIGTERM (or any close) ends it at once.

Scrapy's graceful shutdown stops taking requests from the scheduler, but every request
already handed to the downloader still goes out, one after another, behind the downloads
in flight: behind a site that sends a byte a second, that is a download timeout per round
of them. This extension watches for the engine closing; then the requests waiting in the
downloader's per-site queues are put back into the scheduler (its disk queue under
``JOBDIR``, so the run that resumes fetches them) and dropped from this run as
:class:`Stopped`, never sent and recorded nowhere. Only the downloads in flight finish (each
within ``DOWNLOAD_TIMEOUT``), then the run closes as before: items flushed, evidence sealed,
the run recorded ``interrupted`` and resumable.
"""

from __future__ import annotations

import logging

from scrapy import signals
from twisted.internet import task
from twisted.python.failure import Failure

from spiders.site_time import NotSent

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.2


class Stopped(NotSent):
    """The crawl is stopping: the request was never sent (it waits in JOBDIR for the resume)."""


class PromptStop:
    """Extension; see the module docstring."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def engine_started(self) -> None:
        self.loop = task.LoopingCall(self.watch)
        self.loop.start(WATCH_SECONDS, now=False).addErrback(lambda f: log.error("shutdown watch failed: %s",
                                                                               f.getErrorMessage()))

    def spider_closed(self, spider=None, reason: str = "") -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def watch(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is None or slot.closing is None:
            return
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        kept = self.drain(engine, slot.scheduler)
        if kept:
            self.crawler.stats.set_value("isop/stop/kept_for_resume", kept)
            log.info("crawl stopping: %d queued requests not sent (kept for the resume)", kept)

    def drain(self, engine, scheduler) -> int:
        """Every request waiting in a downloader slot: back to the scheduler, failed here as Stopped."""
        kept = 0
        for dslot in list(engine.downloader.slots.values()):
            while dslot.queue:
                request, deferred = dslot.queue.popleft()
                # a request that never came from the scheduler (a download's hash range, awaited
                # by its own callback; robots.txt) has no page to resume: it is only failed
                if request.callback is None or request.meta.get("isop_raw_body"):
                    deferred.errback(Failure(Stopped("crawl stopping: not sent")))
                    continue
                try:
                    scheduler.enqueue_request(request.replace(dont_filter=True))
                    kept += 1
                except Exception as e:  # noqa: BLE001 - a request the disk queue cannot hold is lost, not fatal
                    log.warning("could not keep %s for the resume: %s", request.url[:200], e)
                deferred.errback(Failure(Stopped("crawl stopping: not sent")))
        return kept
