"""Suite-wide fixtures: the network guard, stores on SQLite and PostgreSQL, the sandbox."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

GUARD_DIR = Path(__file__).resolve().parent / "guard"
sys.path.insert(0, str(GUARD_DIR))
import netguard  # noqa: E402

netguard.install()

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("ISOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def network_guard() -> Iterator[None]:
    """Fail any test whose code tried to reach an address outside 127.0.0.0/8."""
    netguard.take_violations()
    yield
    violations = netguard.take_violations()
    if violations:
        pytest.fail("\n".join(violations), pytrace=False)


@pytest.fixture
def guarded_env(tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses: the guard installed, config isolated in tmp_path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD_DIR), env.get("PYTHONPATH", "")]))
    env.pop("ISOP_CONFIG", None)
    return env


def _postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import normalise_url

    admin_url = make_url(normalise_url(POSTGRES_URL))
    name = f"isop_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - no server: say so clearly
        admin.dispose()
        pytest.fail(f"PostgreSQL at {admin_url.render_as_string(hide_password=True)} is not usable: {e}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty store, once on SQLite and once on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'isop.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def store(store_url: str):
    """An engine on a store migrated to head (never ``create_all``)."""
    from storage.db import open_engine
    from storage.migrate import upgrade

    upgrade(store_url)
    engine = open_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The default sandbox world, served on loopback for the whole session."""
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(None, state_dir=tmp_path_factory.mktemp("sandbox-state")) as running:
        yield running
