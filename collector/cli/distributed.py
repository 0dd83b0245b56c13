"""Commands for crawls and enrichment spread over several processes and machines.

``crawl-distributed`` runs this process as one worker of a crawl shared through Redis
(``collector.distributed``); ``enrich-worker`` runs one of several enrichment workers
that claim due sites from the store (``enrich.worker``). ``isop crawl --distributed`` and
``isop enrich --worker`` invoke them.
"""

from __future__ import annotations

import sys

import click

from collector.cli import cli
from collector.cli.common import (
    DEPTH,
    PAGES,
    Failure,
    FiniteFloatRange,
    UsageProblem,
    config_of,
    exit_codes,
)


@cli.command("crawl-distributed")
@click.option("--seeds", "seeds_file", type=click.Path(dir_okay=False),
              help="Seed file: one URL a line, # comments (read by the worker that seeds the crawl).")
@click.option("--url", help="Targeted crawl of one site: deeper, its redirects and mirrors only.")
@click.option("--crawl-key", required=True,
              help="Name of the shared crawl: every worker given the same key works on the same crawl "
                   "(letters, digits, '_', '.', ':', '-').")
@click.option("--redis-url", help="Redis holding the shared frontier (default: [distributed] redis_url, "
                                  "else redis://127.0.0.1:6379/0).")
@click.option("--max-pages", type=PAGES,
              help="Page budget of the whole shared crawl, all workers together (default from [crawl]).")
@click.option("--depth", type=DEPTH, help="Link depth limit (default from [crawl]).")
@click.option("--worker-id", help="This worker's name in the shared crawl (default: host-pid-random). "
                                  "A restarted worker given its old id takes back what it left in flight.")
@click.option("--heartbeat-ttl", type=FiniteFloatRange(1.0, 3600.0), default=15.0, show_default=True,
              help="Seconds without a heartbeat after which a worker counts as dead and its in-flight "
                   "requests are re-queued by the others.")
@click.option("--idle-seconds", type=FiniteFloatRange(0.0, 86400.0), default=3.0, show_default=True,
              help="A worker exits once the shared crawl has had no queued or in-flight request for this long.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on when stderr is a terminal, off under cron).")
@click.pass_context
def crawl_distributed(ctx: click.Context, seeds_file: str | None, url: str | None, crawl_key: str,
                      redis_url: str | None, max_pages: int | None, depth: int | None, worker_id: str | None,
                      heartbeat_ttl: float, idle_seconds: float, progress: bool | None) -> None:
    """Work on a crawl shared through Redis with other processes and machines, until it is done."""
    from collector.crawl import CrawlRequest
    from collector.distributed import run_distributed_crawl
    from storage.safe_text import inert

    if bool(seeds_file) == bool(url):
        raise UsageProblem("give exactly one of --seeds FILE or --url URL")
    config = config_of(ctx)
    req = CrawlRequest(seeds_file=seeds_file, url=url, max_pages=max_pages, depth=depth, job=crawl_key,
                       progress=sys.stderr.isatty() if progress is None else progress)
    with exit_codes():
        result = run_distributed_crawl(config, req, redis_url, crawl_key, worker_id, heartbeat_ttl=heartbeat_ttl,
                                       idle_seconds=idle_seconds)
    for problem in result.seed_problems:
        click.echo(f"warning: {inert(problem)}", err=True)
    from collector.views import print_crawl_summary

    print_crawl_summary(config, result)
    lost = result.counts.get("isop/distributed/workers_lost", 0)
    if lost:
        click.echo(f"{lost} worker(s) stopped answering; this worker re-queued "
                   f"{result.counts.get('isop/distributed/requeued', 0)} of their in-flight requests", err=True)
    if result.outcome != "ok":
        raise Failure(f"crawl run {result.run_id} ended {result.outcome}; run a worker with crawl key "
                      f"{crawl_key!r} again to continue the shared crawl")


@cli.command("enrich-worker")
@click.option("--batch", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="Sites claimed (and locked) at a time; other workers skip them.")
@click.option("--stale-after", help="Redo sites enriched longer ago than this (90m, 12h, 7d); "
                                    "default from [enrich] stale_after.")
@click.option("--only", help="Comma-separated services: dns,hosting,whois,tls (default: all).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on when stderr is a terminal, off under cron).")
@click.pass_context
def enrich_worker(ctx: click.Context, batch: int, stale_after: str | None, only: str | None,
                  progress: bool | None) -> None:
    """Enrich due sites alongside other workers (PostgreSQL: each site claimed by one worker), until none is due."""
    from collector.config import parse_duration
    from collector.enrich_worker import run_worker
    from collector.enrichment import parse_only
    from enrich.worker import WorkerRequest

    config = config_of(ctx)
    with exit_codes(usage=(ValueError,)):  # parse_duration's
        services = parse_only(only)
        stale = parse_duration(stale_after) if stale_after is not None else None
    show = sys.stderr.isatty() if progress is None else progress

    def report(done_sites: int, batches: int) -> None:
        if show:
            click.echo(f"\r{done_sites} sites enriched in {batches} batches", err=True, nl=False)

    with exit_codes():
        result = run_worker(config, WorkerRequest(batch=batch, stale_after=stale, only=services, progress=report))
    if show:
        click.echo(err=True)
    click.echo(f"enrichment worker run {result.run_id}: {result.sites} sites in {result.batches} batches, "
               f"{result.seconds:.1f}s" + (" (SQLite: single worker, no row locks)" if not result.locking else ""))
    if result.outcome != "ok":
        raise Failure(f"enrichment worker run {result.run_id} ended {result.outcome}: {result.error}")


COMMANDS = (crawl_distributed, enrich_worker)

