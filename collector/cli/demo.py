"""``isop demo``: the main job end to end on SQLite against the sandbox world."""

from __future__ import annotations

import click

from collector.cli import cli


@cli.command("demo")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
def demo(world: str | None) -> None:
    """Run the main job end to end on SQLite against the sandbox world, and show the results."""
    from collector.demo import run_demo

    code = run_demo(world_dir=world)
    if code:
        raise SystemExit(code)
