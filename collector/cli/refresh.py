"""``isop refresh``: update data files isop ships, only when asked."""

from __future__ import annotations

import json
from pathlib import Path

import click

from collector.cli import cli
from collector.cli.common import config_of, exit_codes, write_text


@cli.group("refresh")
def refresh_group() -> None:
    """Update data files isop ships (only when asked: never fetched implicitly)."""


@refresh_group.command("bootstrap")
@click.option("--output", type=click.Path(dir_okay=False), help="Where to write it (default: the file isop reads).")
@click.option("--url", default=None, help="Bootstrap URL (default: IANA's dns.json).")
@click.pass_context
def refresh_bootstrap(ctx: click.Context, output: str | None, url: str | None) -> None:
    """Download IANA's RDAP bootstrap (which server answers for which TLD) through the proxy."""
    import asyncio

    from enrich.rdap_client import DEFAULT_BOOTSTRAP, IANA_DNS_BOOTSTRAP, Bootstrap, fetch_bootstrap
    from enrich.transport import ssl_context
    from storage.safe_text import inert

    config = config_of(ctx)
    net = config.network
    with exit_codes():
        doc = asyncio.run(fetch_bootstrap(proxy=net.proxy or None, tls_context=ssl_context(net.ca_bundle or None),
                                          timeout=net.timeout, url=url or IANA_DNS_BOOTSTRAP))
    target = Path(output) if output else DEFAULT_BOOTSTRAP
    bootstrap = Bootstrap(doc, str(url))
    if output:  # the user's path: a link or device is written in place (collector/writers/output_file.py)
        write_text(output, json.dumps(bootstrap.doc, indent=1, ensure_ascii=False))
    else:
        bootstrap.save(target)
    click.echo(inert(f"RDAP bootstrap ({doc.get('publication', 'no publication date')}, "
                     f"{len(doc.get('services', []))} services) written to {target}"))
