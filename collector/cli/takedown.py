"""``isop takedown``: a takedown packet for one site, recorded as handed out."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import exit_codes, site_name, store_session


@cli.command("takedown")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="Markdown for a letter, JSON for a case system.")
@click.pass_context
def takedown(ctx: click.Context, domain: str, fmt: str) -> None:
    """A takedown packet for DOMAIN: hosting and registrar abuse contacts, CDN, reasons, evidence."""
    from collector.writers.markdown import to_markdown
    from storage.retention import record_takedown
    from storage.safe_text import json_text
    from storage.takedown import takedown_packet

    name = site_name(domain)
    with exit_codes(), store_session(ctx, begin=True) as session:
        packet = takedown_packet(session, name)
        text = json_text(packet, indent=1) if fmt == "json" else to_markdown(packet)
        # Recorded as handed out: the evidence it cites is never pruned.
        record_takedown(session, packet, fmt, rendered=text)
    click.echo(text)
