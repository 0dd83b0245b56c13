"""``isop prune``: the ``[retention]`` policy, run on request.

Deleting evidence cannot be undone, so a real prune runs only when ``[retention] enabled =
true`` (what a scheduled job checks too) or with ``--force``; ``--dry-run`` always runs and
changes nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from collector.cli import cli
from collector.cli.common import Failure, UsageProblem, config_of, store_session

log = logging.getLogger("isop.retention")

DEFAULTS = {"enabled": False, "pages_after": "180d", "evidence_after": "365d", "lookups_after": "90d"}


def retention_settings(config: Any) -> dict[str, Any]:
    """``[retention]`` of the config, with the defaults for keys (or a section) it lacks."""
    section = getattr(config, "retention", None)
    return {k: getattr(section, k, v) if section is not None else v for k, v in DEFAULTS.items()}


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


@cli.command("prune")
@click.option("--dry-run", is_flag=True, help="Report what would be pruned and change nothing.")
@click.option("--pages-after", metavar="AGE",
              help="Prune pages fetched longer ago than AGE, e.g. 180d (default: [retention] pages_after).")
@click.option("--evidence-after", metavar="AGE",
              help="Prune WARC files and screenshots older than AGE, e.g. 365d "
                   "(default: [retention] evidence_after).")
@click.option("--lookups-after", metavar="AGE",
              help="Prune enrichment lookup records older than AGE, e.g. 90d (default: [retention] lookups_after).")
@click.option("--force", is_flag=True, help="Prune even though [retention] enabled is false.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def prune_command(ctx: click.Context, dry_run: bool, pages_after: str | None, evidence_after: str | None,
                  lookups_after: str | None, force: bool, fmt: str) -> None:
    """Delete old pages, evidence files and lookups; never derived facts or takedown evidence.

    Sites, verdicts, indicators, DNS, hosting, registrations, certificates and networks are
    kept; so is everything a recorded takedown packet cited, each site's newest page and
    newest front page, and every evidence file a kept page points at. A run that loses
    files gets a pruned.json note (path, SHA-256) next to its manifest.
    """
    from collector.config import parse_duration
    from storage.retention import cutoffs, prune

    settings = retention_settings(config_of(ctx))
    ages: dict[str, float] = {}
    for key, flag, given in (("pages_after", "--pages-after", pages_after),
                             ("evidence_after", "--evidence-after", evidence_after),
                             ("lookups_after", "--lookups-after", lookups_after)):
        text = given if given is not None else settings[key]
        try:
            ages[key] = parse_duration(text)
        except ValueError as e:
            where = flag if given is not None else f"[retention] {key}"
            raise UsageProblem(f"{where} {text!r}: {e}") from None
    if not dry_run and not settings["enabled"] and not force:
        raise UsageProblem("retention is disabled ([retention] enabled = false): "
                           "use --dry-run to see what would go, or --force to prune anyway")
    config = config_of(ctx)
    with store_session(ctx, begin=True) as s:
        when = cutoffs(datetime.now(UTC), ages["pages_after"], ages["evidence_after"], ages["lookups_after"])
        try:
            report = prune(s, Path(config.evidence.dir), dry_run=dry_run, **when)
        except OSError as e:
            raise Failure(f"evidence folder {config.evidence.dir}: {e}") from None
    log.info("prune %s: %d pages, %d evidence files (%d bytes), %d lookups",
             "dry run" if dry_run else "done", report.pages, report.evidence_files, report.bytes_freed,
             report.lookups, extra={"prune": {k: v for k, v in report.as_dict().items() if k != "paths"}})
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    verb = "would prune" if dry_run else "pruned"
    click.echo(f"{verb}:")
    click.echo(f"  pages     {report.pages:>8}  (and {report.links} links), fetched before "
               f"{report.pages_before:%Y-%m-%d %H:%M}Z")
    click.echo(f"  evidence  {report.evidence_files:>8}  files, {_size(report.bytes_freed)} freed"
               + (f", {report.files_missing} already missing on disk" if report.files_missing else "")
               + f", created before {report.evidence_before:%Y-%m-%d %H:%M}Z")
    click.echo(f"  lookups   {report.lookups:>8}  made before {report.lookups_before:%Y-%m-%d %H:%M}Z")
    click.echo(f"kept: {report.pages_held} old pages cited by takedowns, {report.pages_latest} as sites' "
               f"newest pages, {report.evidence_kept} old evidence files still referenced")
    if report.runs:
        click.echo(f"runs with pruned files (see runs/NNNNNN/pruned.json): "
                   f"{', '.join(str(r) for r in report.runs)}")
