"""``isop report``: a self-contained HTML report of what the store holds."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import TOP, exit_codes, store_session, write_text


@cli.command("report")
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@click.option("--since", help="Only activity from this time (2026-11-01 or an age like 30d); default: everything.")
@click.option("--top", type=TOP, default=20, show_default=True,
              help="Rows per ranking (countries, providers, registrars, newest finds).")
@click.pass_context
def report(ctx: click.Context, output: str, since: str | None, top: int) -> None:
    """A self-contained HTML report: figures, categories, countries, providers, networks, newest finds."""
    from collector.writers.html_report import render_report
    from storage.filters import parse_when
    from storage.report_data import report_data
    from storage.types import utcnow

    with exit_codes():
        start = parse_when(since) if since else None
    with store_session(ctx) as session:
        data = report_data(session, since=start, top=top)
    write_text(output, render_report(data, generated_at=utcnow()))
    click.echo(f"report written to {output}")
