"""``isop config show`` and ``isop config check``: the effective configuration."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import config_of, exit_codes
from collector.config import as_toml


@cli.group("config")
def config_group() -> None:
    """Show and check the configuration."""


@config_group.command("show")
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Print the effective configuration (file plus environment overrides) as TOML."""
    click.echo(as_toml(config_of(ctx)), nl=False)


@config_group.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration; exit 2 with the problem if it is not usable."""
    config = config_of(ctx)
    from storage.nameservers import check

    with exit_codes():
        check()  # config/enrich/nameservers.toml: the shared nameservers of the network rules
    click.echo(f"config ok ({config.source or 'built-in defaults'})")
