"""A CLI runner on a fresh SQLite store filled by ``test_export.build_store`` (for command tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from collector.cli import cli
from storage.db import open_engine, session_factory


def store_runner(tmp_path: Path, monkeypatch, tweak: Callable | None = None) -> CliRunner:
    """``tmp_path`` as the working folder, ``ISOP_STORAGE_URL`` a migrated SQLite store there
    holding the export fixture's sites; ``tweak(session)`` may change them before the commit."""
    from helpers.export_store import build_store

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOP_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'isop.db'}"
    monkeypatch.setenv("ISOP_STORAGE_URL", url)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    engine = open_engine(url)
    with session_factory(engine)() as s:
        build_store(s)
        if tweak is not None:
            tweak(s)
        s.commit()
    engine.dispose()
    return runner
