"""Batched, idempotent writes of observations (``INSERT ... ON CONFLICT``).

Writing the same batch twice leaves the store as after the first write, except that
``last_seen`` moves to the latest time observed and ``first_seen`` stays the earliest.
Works on SQLite and PostgreSQL, which both speak ``ON CONFLICT DO UPDATE``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Base

MAX_PARAMS = 30_000
"""Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535."""


def fingerprint(facts: Mapping[str, Any]) -> str:
    """A stable SHA-256 of the facts of an observation, for history tables' keys."""
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def _insert_for(session: Session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert, func.greatest, func.least
    if name == "sqlite":
        return sqlite.insert, func.max, func.min
    raise NotImplementedError(f"no upsert for the {name} dialect")


def upsert(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]],
           key: Sequence[str], update: Sequence[str] = ()) -> int:
    """Insert ``rows`` of ``model``; on a ``key`` conflict keep the row and merge.

    Merging moves ``last_seen`` forward and ``first_seen`` back (when the model has them)
    and overwrites the columns named in ``update``. Rows are de-duplicated by key within
    the batch first (later rows win, times merged). Returns the number of distinct rows.
    """
    if not rows:
        return 0
    table = model.__table__
    observed = "last_seen" in table.c
    merged: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        if k in merged and observed:
            prev = merged[k]
            row = {**prev, **row,
                   "first_seen": min(prev.get("first_seen", row["first_seen"]), row["first_seen"]),
                   "last_seen": max(prev.get("last_seen", row["last_seen"]), row["last_seen"])}
        merged[k] = dict(row)
    batch = list(merged.values())
    columns = set().union(*(r.keys() for r in batch))
    batch = [{c: r.get(c) for c in columns} for r in batch] if any(len(r) != len(columns) for r in batch) else batch
    insert, greatest, least = _insert_for(session)
    stmt = insert(table)
    sets: dict[str, Any] = {c: stmt.excluded[c] for c in update}
    if observed:
        sets["last_seen"] = greatest(table.c.last_seen, stmt.excluded.last_seen)
        sets["first_seen"] = least(table.c.first_seen, stmt.excluded.first_seen)
    stmt = (stmt.on_conflict_do_update(index_elements=list(key), set_=sets) if sets
            else stmt.on_conflict_do_nothing(index_elements=list(key)))
    # executemany: one compiled statement, parameters streamed (psycopg pipelines them).
    session.execute(stmt, batch)
    return len(batch)


def ids_by_key(session: Session, model: type[Base], key: Sequence[str],
               values: Iterable[tuple]) -> dict[tuple, int]:
    """Map each key tuple in ``values`` to its row id (missing keys are absent)."""
    values = list(dict.fromkeys(values))
    cols = [getattr(model, c) for c in key]
    out: dict[tuple, int] = {}
    per_query = max(1, MAX_PARAMS // max(1, len(key)))
    for start in range(0, len(values), per_query):
        chunk = values[start:start + per_query]
        where = cols[0].in_([v[0] for v in chunk]) if len(key) == 1 else tuple_(*cols).in_(chunk)
        for row in session.execute(select(model.id, *cols).where(where)):
            out[tuple(row[1:])] = row[0]
    return out
