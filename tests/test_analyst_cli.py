"""The analyst's commands end to end through the CLI: site, changes, network pictures, report, exports."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner
from helpers.cli_store import store_runner

from collector.cli import cli
from storage.db import open_engine


@pytest.fixture
def runner(tmp_path, monkeypatch):
    return store_runner(tmp_path, monkeypatch)


def test_site_dossier_in_three_formats(runner, tmp_path):
    result = runner.invoke(cli, ["site", "WWW.Toonmoa101.com.", "--format", "json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["domain"] == "toonmoa101.com"
    assert d["classification"]["category"] == "manga" and d["status"]["status"] == "active"
    assert d["registration"]["registrar"] == "NameSilo, LLC"
    result = runner.invoke(cli, ["site", "toonmoa101.com", "--format", "md", "--output", str(tmp_path / "d.md")])
    assert result.exit_code == 0, result.output
    assert "toonmoa101.com" in (tmp_path / "d.md").read_text()
    result = runner.invoke(cli, ["site", "toonmoa101.com"])
    assert result.exit_code == 0 and "NameSilo" in result.output
    result = runner.invoke(cli, ["site", "never-seen.example"])
    assert result.exit_code == 1 and "not in the store" in result.output
    assert runner.invoke(cli, ["site", "not a domain!"]).exit_code == 2


def test_changes_window_and_bad_dates(runner):
    result = runner.invoke(cli, ["changes", "--since", "2026-01-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert "toonmoa101.com" in {c["domain"] for c in found["new_sites"]}
    result = runner.invoke(cli, ["changes", "--since", "2030-01-01", "--format", "json"])
    assert json.loads(result.stdout)["new_sites"] == []
    assert runner.invoke(cli, ["changes", "--since", "soon"]).exit_code == 2
    assert runner.invoke(cli, ["changes", "--since", "2026-02-01", "--until", "2026-01-01"]).exit_code == 2


def test_network_html_and_dot_files(runner, tmp_path):
    html_path, dot_path = tmp_path / "net.html", tmp_path / "net.dot"
    assert runner.invoke(cli, ["network", "toonmoa101.com", "--format", "html", "--output", str(html_path)]).exit_code == 0
    assert runner.invoke(cli, ["network", "toonmoa101.com", "--format", "dot", "--output", str(dot_path)]).exit_code == 0
    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "toonmoa101.com" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert dot_path.read_text().lstrip().startswith("graph")
    assert runner.invoke(cli, ["network", "unknown.example", "--format", "html"]).exit_code == 1


def test_report_and_every_export_format(runner, tmp_path):
    result = runner.invoke(cli, ["report", "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "toonmoa101.com" in (tmp_path / "r.html").read_text()
    assert runner.invoke(cli, ["report", "--output", str(tmp_path / "r2.html"), "--since", "later"]).exit_code == 2

    for fmt in ("json", "csv", "stix", "misp"):
        out = tmp_path / f"x.{fmt}"
        result = runner.invoke(cli, ["export", "--format", fmt, "--output", str(out), "--piracy"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("1 sites written"), result.output
        assert not out.with_name(out.name + ".partial").exists()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "x.csv").read_text())))
    assert [r["domain"] for r in rows] == ["toonmoa101.com"]
    bundle = json.loads((tmp_path / "x.stix").read_text())
    assert bundle["type"] == "bundle" and any(o.get("value") == "toonmoa101.com" for o in bundle["objects"])
    event = json.loads((tmp_path / "x.misp").read_text())
    assert "Event" in event


def test_small_conveniences_a_new_user_meets(runner, tmp_path):
    # a URL names its site
    result = runner.invoke(cli, ["site", "https://www.toonmoa101.com/comic/12?page=3", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["domain"] == "toonmoa101.com"
    # categories in any case
    lower = runner.invoke(cli, ["sites", "--category", "manga", "--format", "json"])
    upper = runner.invoke(cli, ["sites", "--category", "MANGA", "--format", "json"])
    assert lower.exit_code == upper.exit_code == 0 and lower.stdout == upper.stdout and "toonmoa101.com" in lower.stdout
    # an export into a folder that does not exist: one line, exit 2, nothing left behind
    missing = tmp_path / "no" / "such" / "folder" / "out.json"
    result = runner.invoke(cli, ["export", "--output", str(missing)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.output.strip().count("\n") == 0 and "No such file or directory" in result.output
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", [["sites"], ["site", "x.com"], ["changes", "--since", "7d"], ["network", "x.com"],
                                     ["takedown", "x.com"], ["export", "--output", "-"],
                                     ["report", "--output", "r.html"], ["jobs"]])
def test_commands_that_only_read_never_create_a_store(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOP_CONFIG", raising=False)
    db = tmp_path / "nothing-here.db"
    monkeypatch.setenv("ISOP_STORAGE_URL", f"sqlite:///{db}")
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2, result.output
    assert f"no store at {db} (crawl first, or check [storage] url)" in result.output
    assert not db.exists()


def test_an_empty_database_is_no_store_either(tmp_path, monkeypatch, store_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOP_CONFIG", raising=False)
    monkeypatch.setenv("ISOP_STORAGE_URL", store_url)
    result = CliRunner().invoke(cli, ["sites"])
    assert result.exit_code == 2 and "no store at" in result.output and "crawl first" in result.output, result.output
    from sqlalchemy import inspect

    engine = open_engine(store_url)
    try:
        assert inspect(engine).get_table_names() == [], "nothing was created"
    finally:
        engine.dispose()
