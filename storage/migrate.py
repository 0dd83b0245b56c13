"""Alembic, driven from code: the caller hands in the store's URL (isop's ``[storage] url``);
``storage/migrations/env.py`` reads it from the alembic config's attributes."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.db import StoreError, normalise_url, open_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    """The alembic config of isop's migrations, aimed at the store at ``url``."""
    cfg = AlembicConfig(str(MIGRATIONS.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["isop_url"] = normalise_url(url)
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> str:
    """Bring the store at ``url`` to ``revision``; returns the revision it is at."""
    cfg = alembic_config(url)
    try:
        engine = open_engine(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        rev = current_revision(engine)
        engine.dispose()
    except SQLAlchemyError as e:
        raise StoreError(f"store {_redact(url)}: {_first_line(e)}") from None
    return rev or ""


class StoreMissing(StoreError):
    """A command that only reads found no store where ``[storage] url`` points."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - open_engine reports a bad URL
        return None
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def open_existing_store(url: str) -> Engine:
    """Open the store at ``url`` for a command that only reads: never creates one (raises
    :class:`StoreMissing`), upgrades an existing one that is behind."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise StoreMissing(f"no store at {path} (crawl first, or check [storage] url)")
    engine = open_engine(url)
    try:
        revision = current_revision(engine)
        if revision is not None and revision != head_revision():
            upgrade(url)
    except SQLAlchemyError as e:
        engine.dispose()
        raise StoreError(f"store {_redact(url)}: {_first_line(e)}") from None
    if revision is None:
        engine.dispose()
        raise StoreMissing(f"no store at {_redact(url)}: the database holds no isop tables "
                           "(crawl first, or check [storage] url)")
    return engine


def ensure_store(url: str) -> Engine:
    """Open the store at ``url``, upgrading it to head first if it is behind."""
    engine = open_engine(url)
    try:
        if current_revision(engine) != head_revision():
            upgrade(url)
    except SQLAlchemyError as e:
        raise StoreError(f"store {_redact(url)}: {_first_line(e)}") from None
    return engine


def _first_line(e: Exception) -> str:
    text = str(getattr(e, "orig", None) or e)
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL too broken to parse is shown as given
        return url
