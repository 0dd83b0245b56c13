"""``isop crawl``: discover piracy sites from seeds, or crawl one site in depth."""

from __future__ import annotations

import sys

import click

from collector.cli import cli
from collector.cli.common import DEPTH, PAGES, Failure, UsageProblem, config_of, exit_codes
from collector.cli.distributed import crawl_distributed


@cli.command("crawl")
@click.option("--seeds", "seeds_file", type=click.Path(dir_okay=False), help="Seed file: one URL a line, # comments.")
@click.option("--url", help="Targeted crawl of one site: deeper, its redirects and mirrors only.")
@click.option("--max-pages", type=PAGES, help="Page budget for this crawl (default from [crawl]).")
@click.option("--depth", type=DEPTH, help="Link depth limit (default from [crawl]).")
@click.option("--job", help="Job name for the lock and resume state (default: derived from the arguments).")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted run of the same job.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on when stderr is a terminal, off under cron).")
@click.option("--distributed", "crawl_key", metavar="CRAWL_KEY",
              help="Join the shared crawl CRAWL_KEY: frontier and duplicate filter in Redis "
                   "([distributed] redis_url), as many processes and machines as you start.")
@click.pass_context
def crawl(ctx: click.Context, seeds_file: str | None, url: str | None, max_pages: int | None,
          depth: int | None, job: str | None, fresh: bool, progress: bool | None, crawl_key: str | None) -> None:
    """Discover piracy sites from seeds (--seeds) or crawl one site in depth (--url)."""
    from collector.crawl import CrawlRequest
    from collector.crawl_job import run_crawl_job

    if bool(seeds_file) == bool(url):
        raise UsageProblem("give exactly one of --seeds FILE or --url URL")
    if crawl_key:
        if job or fresh:
            raise UsageProblem("--job and --fresh do not apply to --distributed (the crawl key names the crawl)")
        ctx.invoke(crawl_distributed, seeds_file=seeds_file, url=url, crawl_key=crawl_key, max_pages=max_pages,
                   depth=depth, progress=progress)
        return
    config = config_of(ctx)
    req = CrawlRequest(seeds_file=seeds_file, url=url, max_pages=max_pages, depth=depth, job=job, fresh=fresh,
                       progress=sys.stderr.isatty() if progress is None else progress)
    with exit_codes():
        job = run_crawl_job(config, req)
    result = job.crawl
    from storage.safe_text import inert

    for problem in result.seed_problems:
        click.echo(f"warning: {inert(problem)}", err=True)
    from collector.views import print_crawl_summary

    print_crawl_summary(config, result)
    if result.outcome == "failed" and result.error:
        raise Failure(f"crawl run {result.run_id} failed: {result.error}; nothing was recorded about the sites "
                      "it could not reach; run the same command again to resume")
    if result.outcome != "ok":
        raise Failure(f"crawl run {result.run_id} ended {result.outcome}; run the same command again to resume")
    if job.enriched is not None:
        from collector.views import print_enrich_summary

        print_enrich_summary(job.enriched)
    elif job.enrich_skipped:
        click.echo(f"warning: enrichment skipped: {job.enrich_skipped}", err=True)
