"""Row counts of the store's tables (for ``isop db status``)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from storage.models import Base


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in sorted(Base.metadata.tables.items())}
