"""``isop ui``: browse the store in Datasette, read-only."""

from __future__ import annotations

import click

from collector.cli import cli
from collector.cli.common import config_of, exit_codes


@cli.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--open/--no-open", "open_browser", default=False, help="Open a browser on the page.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (the store becomes readable "
                                                     "by anyone who can reach it).")
@click.pass_context
def ui(ctx: click.Context, host: str, port: int, open_browser: bool, allow_remote: bool) -> None:
    """Browse the SQLite store in Datasette (read-only), with the analyst views and questions."""
    from collector.ui import run_ui

    config = config_of(ctx)
    with exit_codes():  # no store at the path is bad usage (exit 2), the rest a failure
        code = run_ui(config.storage.url, host=host, port=port, open_browser=open_browser, allow_remote=allow_remote)
    if code:
        raise SystemExit(code)
