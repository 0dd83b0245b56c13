"""One worker of a crawl shared through Redis (``isop crawl --distributed``).

Every worker process — on this machine or another — runs :func:`run_distributed_crawl`
with the same crawl key; they share the frontier, the duplicate filter and the page
budgets in Redis (``spiders.distributed``) and write to the same store. The first
worker seeds the crawl, the others join; a worker that dies loses nothing but its
in-flight requests, which a live worker re-queues once its heartbeat expires.

Each worker records its own crawl run (``crawl_runs`` row, ``job`` = the crawl key,
``arguments.distributed`` = crawl key and worker id), because pages, WARC files and the
evidence manifest belong to a run and two processes cannot seal one run's evidence. The
shared crawl is the set of runs with that job. A worker that finds a dead worker marks
that worker's run ``interrupted`` when it finishes. There is no JOBDIR and no job lock on
the crawl key (several workers run it at once); a lock on crawl key + worker id stops
the same worker id from running twice on one machine, and Redis refuses a worker id
that is alive elsewhere.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from collector.config import Config
from collector.crawl import (
    STATE_DIR,
    CrawlInputError,
    CrawlRequest,
    CrawlResult,
    _counts,
    _record_evidence,
    scrapy_settings,
)
from collector.locks import JobLock
from spiders.seeds import check_url, read_seed_file
from storage.runs import finish_run, start_run

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_KEY_PREFIX = "isop"


class DistributedError(RuntimeError):
    """Redis cannot be used (unreachable, refused): one line, exit code 1."""


def redis_options(config: Config, redis_url: str | None = None) -> tuple[str, str]:
    """The Redis URL (an explicit one wins) and key prefix, from ``[distributed]``."""
    section = getattr(config, "distributed", None)
    url = redis_url or getattr(section, "redis_url", None) or DEFAULT_REDIS_URL
    prefix = getattr(section, "key_prefix", None) or DEFAULT_KEY_PREFIX
    return url, prefix


def safe_redis_url(url: str) -> str:
    """The URL without its password, for logs and run records."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def seed_urls(req: CrawlRequest) -> tuple[list[str], list[str]]:
    """The crawl's start URLs and the seed file's problems (as ``run_crawl`` reads them)."""
    if req.url:
        try:
            return [check_url(req.url)], []
        except ValueError as e:
            raise CrawlInputError(f"--url {req.url!r}: {e}") from None
    if not req.seeds_file:
        raise CrawlInputError("give --seeds FILE or --url URL")
    from spiders.seeds import SeedFileError

    try:
        seeds = read_seed_file(req.seeds_file)
    except SeedFileError as e:
        raise CrawlInputError(str(e)) from None
    if not seeds.urls:
        raise CrawlInputError(f"seed file {req.seeds_file}: no valid URL" +
                              (f" ({len(seeds.problems)} bad lines)" if seeds.problems else ""))
    return seeds.urls, seeds.problems


def check_redis(url: str) -> None:
    from spiders.distributed import redis_client

    try:
        client = redis_client(url)
        client.ping()
        client.close()
    except Exception as e:  # noqa: BLE001 - any failure is one line for the analyst
        raise DistributedError(f"Redis at {safe_redis_url(url)} is not usable: {e}") from None


def run_distributed_crawl(config: Config, request: CrawlRequest, redis_url: str | None = None,
                          crawl_key: str = "", worker_id: str | None = None, *,
                          heartbeat_ttl: float | None = None, idle_seconds: float | None = None) -> CrawlResult:
    """Run this process as one worker of the shared crawl ``crawl_key`` until the crawl has
    no work left; raises CrawlInputError, DistributedError, LockHeld or StoreError."""
    from spiders.distributed import (
        DEFAULT_HEARTBEAT_TTL,
        DEFAULT_IDLE_SECONDS,
        check_crawl_key,
        default_worker_id,
    )
    try:
        check_crawl_key(crawl_key)
    except ValueError as e:
        raise CrawlInputError(str(e)) from None
    urls, problems = seed_urls(request)
    url, prefix = redis_options(config, redis_url)
    check_redis(url)
    worker = worker_id or default_worker_id()
    ttl = heartbeat_ttl if heartbeat_ttl is not None else DEFAULT_HEARTBEAT_TTL
    idle = idle_seconds if idle_seconds is not None else DEFAULT_IDLE_SECONDS

    with JobLock(STATE_DIR / "locks", f"distributed-{crawl_key}-{worker}"):
        engine = _ensure_store_once(config.storage.url, url, prefix)
        kind = "targeted" if request.url else "discovery"
        run_id = start_run(engine, kind, crawl_key, {
            "seeds_file": request.seeds_file, "url": request.url, "urls": urls, "max_pages": request.max_pages,
            "depth": request.depth,
            "distributed": {"crawl_key": crawl_key, "worker": worker, "redis": safe_redis_url(url),
                            "prefix": prefix}})
        outcome, error, stats, reaped = "failed", None, {}, []
        try:
            stats, reaped = _run_worker(config, request, urls, run_id, url, prefix, crawl_key, worker, ttl, idle)
            reason = stats.get("finish_reason", "")
            outcome = "ok" if reason in ("finished", "closespider_pagecount") else "interrupted"
            if outcome != "ok":
                error = f"crawl stopped: {reason}" + (f": {stats['isop/distributed/stopped']}"
                                                      if stats.get("isop/distributed/stopped") else "")
        except BaseException as e:
            error = f"{type(e).__name__}: {e}"[:1000]
            raise
        finally:
            counts = _counts(stats)
            counts.update({k: v for k, v in stats.items()
                           if k.startswith("isop/distributed/") and isinstance(v, int | float | str)})
            _record_evidence(engine, run_id, Path(config.evidence.dir))
            finish_run(engine, run_id, outcome, counts, error)
            _mark_lost_workers(engine, reaped, worker)
            engine.dispose()
    return CrawlResult(run_id, outcome, counts, problems, False)


def _ensure_store_once(store_url: str, redis_url: str, prefix: str):
    """``ensure_store``, one worker at a time: workers starting together on an empty
    PostgreSQL store would otherwise race to create the schema."""
    from spiders.distributed import redis_client
    from storage.migrate import ensure_store

    client = redis_client(redis_url)
    try:
        with client.lock(f"{prefix}:store-migration", timeout=600, blocking_timeout=600):
            return ensure_store(store_url)
    finally:
        client.close()


def _run_worker(config: Config, req: CrawlRequest, urls: list[str], run_id: int, redis_url: str, prefix: str,
                crawl_key: str, worker: str, ttl: float, idle: float) -> tuple[dict, list[dict]]:
    from scrapy.crawler import CrawlerProcess

    from spiders.distributed import distributed_settings
    from spiders.site_spider import SiteSpider

    settings = scrapy_settings(config, req, run_id, STATE_DIR / "jobs" / "unused")
    settings.setdict(distributed_settings(redis_url, crawl_key, prefix=prefix, worker_id=worker,
                                          heartbeat_ttl=ttl, idle_seconds=idle), priority="cmdline")
    (STATE_DIR / "logs").mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(settings)
    kwargs: dict[str, Any] = {"url": urls[0]} if req.url else {"urls": list(urls)}  # a list: never re-parsed
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, **kwargs)
    process.start()
    state = getattr(crawler, "isop_distributed", None)
    return dict(crawler.stats.get_stats()), list(getattr(state, "reaped", []))


def _mark_lost_workers(engine, reaped: list[dict], by: str) -> None:
    """Close the runs of workers that died (their outcome stays ``running`` otherwise)."""
    from datetime import UTC, datetime

    from storage.db import session_factory
    from storage.models import CrawlRun, RunOutcome

    if not reaped:
        return
    with session_factory(engine)() as s, s.begin():
        for lost in reaped:
            run = s.get(CrawlRun, lost["run_id"]) if lost.get("run_id") else None
            if run is None or run.outcome != RunOutcome.RUNNING:
                continue
            run.outcome = RunOutcome.INTERRUPTED
            run.finished_at = datetime.now(UTC)
            run.error = (f"worker {lost['worker']} stopped answering; worker {by} "
                         f"({socket.gethostname()}, pid {os.getpid()}) re-queued its "
                         f"{lost['requests']} in-flight requests")[:1000]


__all__ = ["DistributedError", "redis_options", "run_distributed_crawl", "safe_redis_url", "seed_urls"]
