"""Scheduled jobs on the command line: ``isop run-due``, ``jobs``, ``cron`` and ``recheck``."""

from __future__ import annotations

import json
import sys

import click

from collector.cli import cli
from collector.cli.common import (
    Failure,
    FiniteFloatRange,
    UsageProblem,
    config_of,
    exit_codes,
    store_session,
)


@cli.command("run-due")
@click.option("--job", "names", multiple=True, help="Only this job (repeatable); default: every job in the config.")
@click.option("--force", is_flag=True, help="With --job: run it now even if its time has not come.")
@click.option("--wait", type=FiniteFloatRange(0, 86400), default=30.0, show_default=True,
              help="Seconds to wait for another run-due to finish deciding what is due.")
@click.pass_context
def run_due_command(ctx: click.Context, names: tuple[str, ...], force: bool, wait: float) -> None:
    """Start the scheduled jobs whose time has come (run this every minute from cron).

    Each due job runs once, under its own lock, and is recorded in the store; a job still
    running from its previous time is skipped (recorded, with the reason). Exit 0 when every
    job was ok or skipped, 1 when any failed, 3 when another run-due held the lock too long.
    """
    from collector.schedule import run_due
    from storage.safe_text import inert

    config = config_of(ctx)
    unknown = [n for n in names if config.job(n) is None]
    if unknown:
        raise UsageProblem(f"--job {unknown[0]}: no such job in the config "
                           f"(jobs: {', '.join(j.name for j in config.jobs) or 'none'})")
    if force and not names:
        raise UsageProblem("--force needs --job NAME")
    if not config.jobs:
        click.echo(f"no [[jobs]] in the config ({config.source or 'built-in defaults'}): nothing to do", err=True)
        return
    with exit_codes(locked="another run-due is still deciding what is due: "):
        outcomes = run_due(config, names=names, force=force, lock_wait=wait)
    for outcome in outcomes:
        click.echo(inert(outcome.line()), err=outcome.outcome not in ("ok",))  # errors may quote pages
    failed = [o.job for o in outcomes if o.outcome not in ("ok", "skipped")]
    if failed:
        raise Failure(f"{len(failed)} job(s) did not end ok: {', '.join(failed)} (see `isop jobs`)")


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return value[:16].replace("T", " ") if value[:2].isdigit() else value


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@cli.command("jobs")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def jobs_command(ctx: click.Context, fmt: str) -> None:
    """List the scheduled jobs: schedule, last run, its outcome and duration, next run (UTC)."""
    from collector.schedule import jobs_table

    config = config_of(ctx)
    with store_session(ctx) as session:
        rows = jobs_table(config, session)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no [[jobs]] in the config ({config.source or 'built-in defaults'})")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="scheduled jobs (times in UTC)")
    for column in ("job", "kind", "cron", "last run", "outcome", "duration", "next run", "note"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(escape(r["name"]), r["kind"], escape(r["cron"]), _when(r["last_run"]), r["outcome"] or "-",
                      _duration(r["duration_seconds"]), _when(r["next_run"]) if r["enabled"] else "disabled",
                      escape((r["error"] or "")[:120]))
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@cli.command("cron")
@click.option("--log-file", type=click.Path(dir_okay=False),
              help="Where run-due's output goes (default: data/logs/run-due.log in the working directory).")
@click.pass_context
def cron_command(ctx: click.Context, log_file: str | None) -> None:
    """Print the crontab line that runs `isop run-due` every minute from this folder.

    Install it with `(crontab -l; isop cron) | crontab -`. Paths are absolute; the store,
    evidence and state paths in the config are relative to this working directory.
    """
    from collector.schedule import crontab_lines

    config = config_of(ctx)
    if not config.jobs:
        click.echo(f"# note: no [[jobs]] in {config.source or 'the built-in defaults'} yet; "
                   "run-due will do nothing until you add some", err=True)
    for line in crontab_lines(config.source or None, log_file=log_file):
        click.echo(line)


@cli.command("recheck")
@click.option("--job", default="recheck", show_default=True,
              help="Job name for the lock and the run records.")
@click.pass_context
def recheck_command(ctx: click.Context, job: str) -> None:
    """Re-check every known piracy site and its successors: up, down, redirecting, parked,
    and their DNS (IPs, name servers); see the changes with `isop changes`."""
    from collector.recheck import run_recheck

    config = config_of(ctx)
    with exit_codes():
        result = run_recheck(config, job=job)
    if not result.sites:
        click.echo("no flagged site in the store: nothing to re-check")
        return
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(result.statuses.items())) or "no front page stored"
    click.echo(f"re-checked {result.sites} sites (crawl run {result.crawl_run_id}: {result.crawl_outcome}; "
               f"DNS run {result.enrich_run_id or '-'}: {result.enrich_outcome}): {statuses}")
    if result.outcome != "ok":
        raise Failure(result.error or "the re-check did not end ok")


COMMANDS = (run_due_command, jobs_command, cron_command, recheck_command)
