"""``isop network``: the operator network around one site, as a table, JSON, HTML or DOT."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import Failure, config_of, site_name, store_session, write_text


@cli.command("network")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "dot"]), default="table",
              show_default=True, help="html: a self-contained picture to explore; dot: for Graphviz.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_context
def network(ctx: click.Context, domain: str, fmt: str, output: str | None) -> None:
    """The operator network around DOMAIN: sites tied by shared identifiers, with strengths."""
    from storage.network_view import known_network, network_site_facts
    from storage.safe_text import json_text

    name = site_name(domain)
    extra = None
    with store_session(ctx) as session:
        net = known_network(session, name, rules=config_of(ctx).clusters)
        if net is not None and fmt == "html":
            extra = network_site_facts(session, net)
    if net is None:
        raise Failure(f"{name} is not in the store (crawl or enrich it first)")
    if fmt == "json":
        write_text(output, json_text(net, indent=1, default=str))
    elif fmt == "html":
        from collector.writers.network_html import to_html

        write_text(output, to_html(net, extra=extra))
    elif fmt == "dot":
        from collector.writers.dot import to_dot

        write_text(output, to_dot(net))
    else:
        from collector.views import print_network

        print_network(net)
    if output and output != "-":
        click.echo(f"network of {name} ({len(net['sites'])} sites) written to {output}", err=True)
