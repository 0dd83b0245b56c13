"""``isop db upgrade`` and ``isop db status``: create, migrate and inspect the store."""

from __future__ import annotations

import json

import click

from collector.cli import cli
from collector.cli.common import config_of, exit_codes, store_engine


@cli.group("db")
def db_group() -> None:
    """Create and migrate the store (SQLite or PostgreSQL)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to go to.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create the store or bring it to the latest schema."""
    from storage.migrate import upgrade

    config = config_of(ctx)
    with exit_codes():
        rev = upgrade(config.storage.url, revision)
    click.echo(f"store at revision {rev}: {_safe_url(config.storage.url)}")


@db_group.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def db_status(ctx: click.Context, fmt: str) -> None:
    """Show the store's revision and how many rows each table holds."""
    from storage.migrate import current_revision
    from storage.stats import table_counts

    config = config_of(ctx)
    with store_engine(ctx, create=True) as engine:
        counts = table_counts(engine)
        info = {"url": _safe_url(config.storage.url), "revision": current_revision(engine), "tables": counts}
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"store {info['url']} at revision {info['revision']}")
    for name, n in counts.items():
        click.echo(f"  {name:<22} {n:>10}")


def _safe_url(url: str) -> str:
    from storage.migrate import _redact

    return _redact(url)
