"""Site filters (``isop sites``/``export``): the latest facts count, values are bound, bad input is a usage error.

The store tests run twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from helpers.cli_store import store_runner
from helpers.export_store import T0, T1, build_store

from collector.cli import cli
from storage.db import session_factory
from storage.export import site_records
from storage.filters import FilterError, SiteFilter, parse_asn, parse_country, parse_when
from storage.queries import list_sites


def domains(s, **filters) -> list[str]:
    return sorted(r["domain"] for r in list_sites(s, SiteFilter(**filters)))


@pytest.fixture
def filled(store):
    with session_factory(store)() as s:
        build_store(s)
        s.commit()
    return store


def test_hosting_filters_use_the_current_answer_and_network(filled):
    with session_factory(filled)() as s:
        # 185.212.40.10 moved from an NL network to a PA one; 185.212.40.11 left the answer;
        # the cdn host resolves into Cloudflare (US, AS13335).
        assert domains(s, country="PA") == ["toonmoa101.com"]
        assert domains(s, country="NL") == []
        assert domains(s, country="US") == ["toonmoa101.com"]
        assert domains(s, asn=209588) == ["toonmoa101.com"]
        assert domains(s, asn=64500) == []


def test_registration_status_and_classification_filters(filled):
    with session_factory(filled)() as s:
        assert domains(s, registrar="namesilo") == ["toonmoa101.com"]
        assert domains(s, registrar="Old Registrar") == []          # only the latest registration counts
        assert domains(s, registrar="%") == []                      # a LIKE wildcard is a literal here
        assert domains(s, status="active") == ["toonmoa101.com"]
        assert domains(s, status="down") == []                       # it was down before, not now
        assert domains(s, piracy=True, category="manga") == ["toonmoa101.com"]
        assert domains(s, min_score=0.95) == []
        assert domains(s, piracy=False) == []                        # its older verdict said no


def test_filters_combine_and_unclassified_sites_only_match_unfiltered(filled):
    with session_factory(filled)() as s:
        everything = domains(s)
        assert "toonmoa102.com" in everything and len(everything) >= 5
        assert domains(s, piracy=True, country="PA", status="active") == ["toonmoa101.com"]
        assert domains(s, piracy=True, country="NL") == []
        assert domains(s, first_since=T1 + timedelta(days=1)) == []
        assert domains(s, domains=("toonmoa102.com", "nowhere.example")) == ["toonmoa102.com"]
        rows = list_sites(s, SiteFilter(limit=2))
        assert rows[0]["domain"] == "toonmoa101.com" and rows[0]["status"] == "active" and len(rows) == 2


def test_export_takes_the_same_filters(filled):
    with session_factory(filled)() as s:
        assert [r["domain"] for r in site_records(s, SiteFilter(country="PA"))] == ["toonmoa101.com"]
        assert [r["domain"] for r in site_records(s, SiteFilter(country="NL"))] == []


def test_parsers_give_one_line_errors():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_when("7d", now) == now - timedelta(days=7)
    assert parse_when("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_when("2026-11-01T08:00Z") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_when(T0.isoformat()) == T0
    assert parse_asn("AS13335") == parse_asn("13335") == 13335
    assert parse_country(" nl ") == "NL"
    for bad, parser in [("yesterday", parse_when), ("2026-13-01", parse_when), ("AS", parse_asn),
                        ("-1", parse_asn), ("4294967296", parse_asn), ("NLD", parse_country), ("N1", parse_country)]:
        with pytest.raises(FilterError) as e:
            parser(bad)
        assert "\n" not in str(e.value)
    with pytest.raises(FilterError):
        SiteFilter(category="films")
    with pytest.raises(FilterError):
        SiteFilter(status="gone")


def test_cli_filters(tmp_path, monkeypatch):
    runner = store_runner(tmp_path, monkeypatch)

    result = runner.invoke(cli, ["sites", "--country", "pa", "--asn", "AS209588", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["domain"] for r in json.loads(result.stdout)] == ["toonmoa101.com"]
    result = runner.invoke(cli, ["sites", "--since", "last tuesday"])
    assert result.exit_code == 2 and result.output.strip().splitlines()[-1].startswith("Error: not a date")
    assert runner.invoke(cli, ["sites", "--asn", "AS-X"]).exit_code == 2

    out = tmp_path / "pa.json"
    result = runner.invoke(cli, ["export", "--output", str(out), "--country", "PA", "--piracy"])
    assert result.exit_code == 0, result.output
    assert [r["domain"] for r in json.loads(out.read_text())["sites"]] == ["toonmoa101.com"]
    assert not (tmp_path / "pa.json.partial").exists()
