"""The analyst's reading commands: ``isop sites`` (the list), ``isop site`` (one dossier)
and ``isop changes`` (what changed over a period)."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import (
    LIMIT,
    Failure,
    UsageProblem,
    exit_codes,
    filter_options,
    site_filter,
    site_name,
    store_session,
    write_text,
)


@cli.command("sites")
@filter_options
@click.option("--limit", type=LIMIT, default=200, show_default=True, help="At most this many sites.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def sites(ctx: click.Context, limit: int, fmt: str, **filters) -> None:
    """Known sites with their latest classification and status, highest score first."""
    from collector.analyst import emit
    from storage.queries import list_sites

    chosen = site_filter(limit=limit, **filters)
    with store_session(ctx) as session:
        rows = list_sites(session, chosen)
    for r in rows:
        r["score"] = None if r["score"] is None else round(r["score"], 3)
        if fmt == "table":
            r["signals"] = r["signals"][:1]
            r["last_seen"] = r["last_seen"].date() if r["last_seen"] else None
    text = emit(rows, ["domain", "is_piracy", "category", "score", "status", "signals", "last_seen"]
                + ([] if fmt == "table" else ["first_seen", "classified_at"]), fmt, title=f"{len(rows)} sites")
    if text is not None:
        click.echo(text)


@cli.command("site")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table", show_default=True,
              help="table: for the terminal; md: Markdown for a case file; json: for tools.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_context
def site(ctx: click.Context, domain: str, fmt: str, output: str | None) -> None:
    """The dossier of DOMAIN: verdict, hosts, DNS now and before, hosting, registration,
    certificates, indicators, hops, network, evidence and a timeline."""
    from storage.dossier import dossier
    from storage.safe_text import json_text

    name = site_name(domain)
    with store_session(ctx) as session:
        d = dossier(session, name)
    if d is None:
        raise Failure(f"{name} is not in the store (crawl or enrich it first)")
    if fmt == "json":
        write_text(output, json_text(d, indent=1, default=str))
    elif fmt == "md":
        from collector.dossier_view import dossier_markdown

        write_text(output, dossier_markdown(d))
    else:
        from rich.console import Console

        from collector.dossier_view import print_dossier
        from collector.writers.output_file import OutputError, open_output

        if output:
            try:
                with open_output(output) as fh:
                    print_dossier(d, Console(file=fh, width=120))
            except OSError as e:
                raise Failure(str(e) if isinstance(e, OutputError) else f"--output {output}: {e.strerror or e}") \
                    from None
        else:
            print_dossier(d)


@cli.command("changes")
@click.option("--since", required=True, help="From this time (2026-11-01, 2026-11-01T08:00Z, or an age like 7d).")
@click.option("--until", help="Up to this time (default: now; same forms).")
@click.option("--limit", type=LIMIT, default=500, show_default=True, help="At most this many per kind.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def changes(ctx: click.Context, since: str, until: str | None, limit: int, fmt: str) -> None:
    """What changed: new sites and hops, changed IPs, hosts, registrars and nameservers,
    sites gone down or back up, verdicts that flipped."""
    from storage.changes import changes as find_changes
    from storage.filters import parse_when
    from storage.safe_text import json_text

    with exit_codes():
        start = parse_when(since)
        end = parse_when(until) if until else None
    if end is not None and end <= start:
        raise UsageProblem("--until must be after --since")
    with store_session(ctx) as session:
        found = find_changes(session, start, until=end, limit=limit)
    if fmt == "json":
        click.echo(json_text(found, indent=1, default=str))
        return
    from collector.dossier_view import print_changes

    print_changes(found)
