"""Alembic environment: the store's URL is handed in, never read from isop's configuration.

Where the URL comes from, first match wins: the ``isop_url`` attribute
:func:`storage.migrate.alembic_config` sets (isop's commands pass ``[storage] url``), the
``ISOP_STORAGE_URL`` environment variable (``alembic -c storage/alembic.ini upgrade head``,
as ``make migrations-check`` runs it), then ``sqlalchemy.url`` of the alembic config.
"""

from __future__ import annotations

import os

from alembic import context

from storage.db import normalise_url, open_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("isop_url")
    if url:
        return url
    url = os.environ.get("ISOP_STORAGE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no store URL: set ISOP_STORAGE_URL (or sqlalchemy.url in the alembic config)")
    return normalise_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = open_engine(_url())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    if connection.dialect.name == "sqlite":
        # batch_alter_table rebuilds a table by copy, drop and rename; with the analyst
        # views (0002) in place SQLite refuses the rename unless the legacy rule is on.
        connection.exec_driver_sql("PRAGMA legacy_alter_table=ON")
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
