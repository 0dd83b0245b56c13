"""The ``isop`` command line: a thin layer over the packages that do the work.

This package holds the root click group (:data:`cli`) and the console-script entry point
(:func:`main`). Each command lives in a module of this package named for its group
(``crawl.py``, ``sandbox.py``, ``jobs.py``, ...) and registers itself by importing the
group from here (``from collector.cli import cli``); this module never imports them by
name, it walks the package once, below, so that every command is registered. Shared
helpers (config, store sessions, the one mapping of exceptions to exit codes, option
types) are in :mod:`collector.cli.common`.

Exit codes are :class:`collector.exitcodes.ExitCode`: 0 ok, 1 failure, 2 bad usage or
configuration, 3 locked by another run.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from collector import __version__
from collector.exitcodes import ExitCode


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="ISOP_CONFIG",
              help="Config file (TOML). Default: $ISOP_CONFIG, else config/isop.toml.")
@click.version_option(__version__, prog_name="isop", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """isop: find piracy sites, see who runs and hosts them, keep the evidence.

    An open-source intelligence collector for online-piracy investigators.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="isop", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(ExitCode.FAILURE)


def _register_commands() -> None:
    """Import every module of this package (``__main__`` and other ``_``-names aside): each
    adds its commands to :data:`cli` (or to a group of its own added to it) as it loads."""
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if not module.name.rsplit(".", 1)[1].startswith("_"):
            importlib.import_module(module.name)


_register_commands()
