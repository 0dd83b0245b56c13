"""Terminal views shared by commands: tables of what was found, every scraped string escaped."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from collector.config import Config


def print_crawl_summary(config: Config, result, console: Console | None = None, limit: int = 50) -> None:
    """The run's outcome and its flagged sites with category, score and top signals."""
    from storage.db import open_engine, session_factory
    from storage.queries import latest_verdicts

    console = console or Console()
    c = result.counts
    console.print(f"crawl run {result.run_id} {'(resumed) ' if result.resumed else ''}{result.outcome}: "
                  f"{c.get('isop/pages/stored', 0)} pages, {c.get('isop/sites/seen', 0)} sites, "
                  f"{c.get('isop/sites/flagged', 0)} flagged")
    engine = open_engine(config.storage.url)
    with session_factory(engine)() as session:
        flagged = latest_verdicts(session, run_id=result.run_id, piracy_only=True, limit=limit)
    engine.dispose()
    if not flagged:
        return
    table = Table(title="flagged sites")
    for col in ("site", "category", "score", "top signals"):
        table.add_column(col, overflow="fold")
    for v in flagged:
        table.add_row(escape(v.domain), v.category, f"{v.score:.2f}", escape("; ".join(v.signals[:3])))
    console.print(table)
