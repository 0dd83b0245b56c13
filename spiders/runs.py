"""Records the crawl run when Scrapy is started directly (``scrapy crawl discover ...``).

``isop crawl`` creates the run itself and passes ``ISOP_RUN_ID``; started from the
``scrapy`` command there is none, so this extension creates one before the pipelines
open (they read ``crawler.isop_run_id``) and records its outcome when the spider closes.
"""

from __future__ import annotations

from scrapy import signals


def run_id_of(crawler) -> int:
    """The run this crawl writes to (0 when there is none)."""
    return getattr(crawler, "isop_run_id", 0) or crawler.settings.getint("ISOP_RUN_ID", 0)


class RunRecorder:
    def __init__(self, crawler, url: str) -> None:
        self.crawler = crawler
        self.url = url
        self.owned = False

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, crawler.settings.get("ISOP_STORAGE_URL"))
        if not crawler.settings.getint("ISOP_RUN_ID", 0) and crawler.settings.getbool("ISOP_STORE_ENABLED", True):
            crawler.isop_run_id = ext._start()
            ext.owned = True
            crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def _start(self) -> int:
        # Runs once while the crawler is built, before the reactor starts: blocking is fine here.
        from storage.migrate import ensure_store
        from storage.runs import start_run

        engine = ensure_store(self.url)
        try:
            return start_run(engine, "discovery", "scrapy", {"started_by": "scrapy crawl"})
        finally:
            engine.dispose()

    async def closed(self, spider, reason: str) -> None:
        import asyncio

        await asyncio.to_thread(self._finish, reason, dict(self.crawler.stats.get_stats()))

    def _finish(self, reason: str, stats: dict) -> None:
        from storage.db import open_engine
        from storage.runs import finish_run

        engine = open_engine(self.url)
        try:
            counts = {k: v for k, v in stats.items() if k.startswith("isop/") and isinstance(v, int | float)}
            finish_run(engine, run_id_of(self.crawler), "ok" if reason == "finished" else "interrupted", counts)
        finally:
            engine.dispose()
