"""``isop evidence verify``: re-check the evidence files crawls kept against their manifests."""

from __future__ import annotations

from pathlib import Path

import click

from collector.cli import cli
from collector.cli.common import RUN_ID, Failure, config_of


@cli.group("evidence")
def evidence_group() -> None:
    """Check the evidence kept by crawls (WARC files, screenshots, manifests)."""


@evidence_group.command("verify")
@click.option("--run", "run_id", type=RUN_ID, help="Only this crawl run (default: every run).")
@click.option("--quick", is_flag=True, help="Hash files only; skip re-reading every WARC record.")
@click.pass_context
def evidence_verify(ctx: click.Context, run_id: int | None, quick: bool) -> None:
    """Re-check evidence files against their manifests; exit 1 on any mismatch."""
    from rich.markup import escape

    from spiders.evidence import verify
    from storage.safe_text import inert

    config = config_of(ctx)
    folder = Path(config.evidence.dir)
    if not folder.is_dir():
        raise Failure(f"evidence folder {folder} does not exist")
    problems = verify(folder, run_id, deep=not quick)
    for p in problems:
        click.echo(inert(f"{p.kind}: {escape(p.path)}: {p.detail}"))
    runs = sorted(d.name for d in (folder / "runs").iterdir()) if (folder / "runs").is_dir() else []
    if problems:
        raise Failure(f"{len(problems)} problem(s) in {folder}")
    click.echo(f"evidence ok: {len(runs) if run_id is None else 1} run(s) in {folder} match their manifests")
