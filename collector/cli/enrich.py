"""``isop enrich``: DNS, hosting, registration and TLS for the sites in the store."""

from __future__ import annotations

import sys

import click

from collector.cli import cli
from collector.cli.common import Failure, UsageProblem, config_of, exit_codes
from collector.cli.distributed import enrich_worker


@cli.command("enrich")
@click.option("--domain", "domains", multiple=True, help="Enrich this site (repeatable); default: every site due.")
@click.option("--stale-after", help="Redo sites enriched longer ago than this (90m, 12h, 7d); "
                                    "default from [enrich] stale_after.")
@click.option("--only", help="Comma-separated services: dns,hosting,whois,tls (default: all).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on when stderr is a terminal, off under cron).")
@click.option("--worker", is_flag=True, help="Work as one of several enrichment workers: claim due sites in "
                                             "batches (PostgreSQL: FOR NO KEY UPDATE SKIP LOCKED).")
@click.pass_context
def enrich(ctx: click.Context, domains: tuple[str, ...], stale_after: str | None, only: str | None,
           progress: bool | None, worker: bool) -> None:
    """DNS, hosting (ASN, network owner, abuse contact), registration and TLS for known sites."""
    if worker:
        if domains:
            raise UsageProblem("--domain does not apply to --worker (workers take every due site)")
        ctx.invoke(enrich_worker, stale_after=stale_after, only=only, progress=progress)
        return
    from collector.config import parse_duration
    from collector.enrichment import EnrichRequest, parse_only, run_enrich
    from storage.names import parse_host

    config = config_of(ctx)
    with exit_codes(usage=(ValueError,)):  # parse_duration's
        services = parse_only(only)
        stale = parse_duration(stale_after) if stale_after is not None else None
        names = [parse_host(d).domain for d in domains]
    show = sys.stderr.isatty() if progress is None else progress

    def report(phase: str, done: int, total: int) -> None:
        if show:
            click.echo(f"\r{phase}: {done}/{total} sites", nl=done == total, err=True)

    with exit_codes():
        result = run_enrich(config, EnrichRequest(domains=names, stale_after=stale, only=services, progress=report))
    from collector.views import print_enrich_summary

    print_enrich_summary(result)
    if result.outcome != "ok":
        raise Failure(f"enrich run {result.run_id} ended {result.outcome}: {result.error or 'see its lookups'}")
