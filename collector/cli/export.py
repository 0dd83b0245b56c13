"""``isop export``: the sites with everything known about them, as JSON, CSV, STIX or MISP."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import (
    EXPORT_LIMIT,
    Failure,
    UsageProblem,
    filter_options,
    site_filter,
    store_session,
)

EXPORT_WRITERS = {
    "json": ("collector.writers.json_export", "write_json"),
    "csv": ("collector.writers.csv_writer", "write_csv"),
    "stix": ("collector.writers.stix", "write_stix"),
    "misp": ("collector.writers.misp", "write_misp"),
}


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_WRITERS)), default="json", show_default=True,
              help="json: the public contract (docs/export.schema.json); csv: one row per site; "
                   "stix: a STIX 2.1 bundle; misp: a MISP event.")
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="File to write ('-' for stdout).")
@filter_options
@click.option("--limit", type=EXPORT_LIMIT, help="At most this many sites.")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str, limit: int | None, **filters) -> None:
    """Write the sites with everything known about them, streaming (constant memory)."""
    import importlib

    from storage.export import site_records

    chosen = site_filter(limit=limit, **filters)
    module, name = EXPORT_WRITERS[fmt]
    writer = getattr(importlib.import_module(module), name)
    from collector.writers.output_file import OutputError, open_output

    with store_session(ctx) as session:
        try:
            with open_output(output, newline="") as out:
                if fmt == "json":
                    count = writer(session, out, filters=chosen)
                else:
                    count = writer(site_records(session, chosen), out)
        except OutputError as e:  # the --output path itself: bad usage, not a failure
            raise UsageProblem(str(e)) from None
        except OSError as e:  # while writing: a full disk, a closed pipe
            raise Failure(f"--output {output}: {e.strerror or e}") from None
    if output != "-":
        click.echo(f"{count} sites written to {output}")
