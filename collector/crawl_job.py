"""A crawl job: what ``isop crawl`` and a scheduled ``crawl`` job both run.

The crawl (:func:`collector.crawl.run_crawl`), then the operator networks recomputed over
what the store now holds (whatever the crawl's outcome: what it stored is kept), then,
when ``[enrich] after_crawl`` is on and the crawl ended ``ok``, one enrichment run. The
callers only differ in how they report: the CLI prints, the scheduler records a job run.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.config import Config
from collector.crawl import CrawlRequest, CrawlResult, run_crawl
from collector.enrichment import EnrichRequest, recompute_clusters, run_enrich
from collector.locks import LockHeld
from enrich.run import EnrichResult


@dataclass
class CrawlJobResult:
    crawl: CrawlResult
    enriched: EnrichResult | None = None
    """The enrichment run after the crawl (None when it was not due or was skipped)."""
    enrich_skipped: str = ""
    """Why the enrichment after the crawl was skipped (another enrichment held its lock)."""


def run_crawl_job(config: Config, req: CrawlRequest) -> CrawlJobResult:
    """Crawl, recompute the operator networks, enrich if ``after_crawl`` and the crawl
    ended ok. Raises what :func:`run_crawl` raises (bad input, a held lock, the store)."""
    from storage.db import open_engine

    result = CrawlJobResult(run_crawl(config, req))
    engine = open_engine(config.storage.url)
    try:
        recompute_clusters(engine, config.clusters)
    finally:
        engine.dispose()
    if result.crawl.outcome == "ok" and config.enrich.after_crawl:
        try:
            result.enriched = run_enrich(config, EnrichRequest())
        except LockHeld as e:
            result.enrich_skipped = str(e)
    return result
