"""The analyst's listing commands: rows out of the store as a table, JSON or CSV.

Every cell is attacker-chosen text: tables show control and bidi characters escaped
(:func:`storage.safe_text.inert`), JSON escapes them (:func:`storage.safe_text.json_text`,
the same data), CSV cells are defused like the CSV export (:func:`collector.writers.csv_writer.cell`:
controls shown, formula-leading cells such as ``=HYPERLINK(...)`` quoted with ``'``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from storage.safe_text import inert, json_text

FORMATS = ("table", "json", "csv")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, title: str = "",
         console: Console | None = None) -> str | None:
    """Render ``rows``; JSON and CSV are returned as text (for stdout), tables printed."""
    if fmt == "json":
        return json_text([{c: _plain(r.get(c)) for c in columns} for r in rows], indent=1)
    if fmt == "csv":
        from collector.writers.csv_writer import cell, joined_cell

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([joined_cell(v, terminal=True) if isinstance(v, list | tuple) else
                             cell(_plain(v), terminal=True)
                             for v in (r.get(c) for c in columns)])
        return buf.getvalue()
    table = Table(title=title or None)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(escape(inert("; ".join(map(str, v)) if isinstance(v, list | tuple) else
                                     ("" if v is None else str(_plain(v))))) for v in (r.get(c) for c in columns)))
    (console or Console()).print(table)
    return None
