"""``isop ui``: Datasette on the SQLite store, read-only, on loopback; refusals in one line."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from helpers.export_store import build_store

from collector import ui
from collector.ui import UiError, canned_queries, datasette_command, datasette_metadata, run_ui
from storage.db import open_engine, session_factory
from storage.migrate import current_revision, head_revision, upgrade

# Straight to loopback, whatever *_proxy variables the environment holds.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Path:
    """A populated SQLite store at head (so the views exist)."""
    path = tmp_path / "isop.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = open_engine(url)
    with session_factory(engine)() as s, s.begin():
        build_store(s)
    engine.dispose()
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with OPENER.open(url, timeout=10) as response:
        return json.loads(response.read())


def test_datasette_serves_the_views_read_only_on_loopback(sqlite_store, tmp_path, guarded_env):
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps(datasette_metadata("isop")))
    port = free_port()
    argv = datasette_command(sqlite_store, port=port, metadata_path=metadata)
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert "-i" not in argv and "--immutable" not in argv  # mode=ro, so a running crawl's writes show
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "datasette.log").open("w")
    child = subprocess.Popen(argv, env=guarded_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert child.poll() is None, (tmp_path / "datasette.log").read_text()
            try:
                get_json(f"{base}/-/versions.json")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "datasette did not start within 60 s"
                time.sleep(0.2)

        rows = {r["domain"]: r for r in get_json(f"{base}/isop/v_site_latest.json?_shape=array")}
        assert len(rows) == 6
        toon = rows["toonmoa101.com"]
        assert (toon["is_piracy"], toon["category"], toon["score"], toon["status"], toon["cluster_key"]) == (
            1, "manga", 0.93, "active", "op-7f3a")
        assert json.loads(toon["signals"]) == ["manga reader", "ads: popcash"]
        assert rows["toonmoa102.com"]["is_piracy"] is None

        facets = get_json(f"{base}/isop/v_site_latest.json")["facet_results"]
        assert {"category", "is_piracy", "status"} <= set(facets)

        # A canned query from docs/QUERIES.md, its parameter a form field.
        hops = get_json(f"{base}/isop/q4-which-domains-did-site-hop-to-and-when.json?_shape=array"
                        "&domain=toonmoa101.com")
        assert sorted(h["to_domain"] for h in hops) == ["toonmoa-mirror.net", "toonmoa102.com", "toonmoa103.com",
                                                         "toonmoa104.com"]

        # Nothing writes through it.
        delete = {"sql": "DELETE FROM sites"}
        with pytest.raises(urllib.error.HTTPError):
            get_json(f"{base}/isop.json?{urllib.parse.urlencode(delete)}")
        assert len(get_json(f"{base}/isop/v_site_latest.json?_shape=array")) == 6
    finally:
        child.terminate()
        child.wait(timeout=10)
        log.close()


def test_metadata_describes_every_view_and_has_the_ten_questions():
    metadata = datasette_metadata("store")
    database = metadata["databases"]["store"]
    assert set(database["tables"]) == set(ui.VIEWS)
    assert all(t["description"] for t in database["tables"].values())
    assert database["tables"]["v_site_latest"]["facets"] == ["category", "is_piracy", "status"]
    assert database["tables"]["v_site_hosting"]["facets"] == ["country", "org", "cdn"]
    queries = database["queries"]
    assert len(queries) == 10 and all(q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
                                      for q in queries.values())
    assert canned_queries(Path("/nonexistent/QUERIES.md")) == {}


def test_the_command_line(tmp_path):
    argv = datasette_command(tmp_path / "isop.db", host="::1", port=9001, metadata_path=tmp_path / "m.json",
                             open_browser=True)
    assert argv[1:5] == ["-m", "datasette", "serve", str(tmp_path / "isop.db")]
    assert argv[argv.index("--host") + 1] == "::1" and argv[argv.index("--port") + 1] == "9001"
    assert argv[argv.index("--metadata") + 1] == str(tmp_path / "m.json")
    assert "--open" in argv


def test_refusals_are_one_line_and_start_nothing(sqlite_store, tmp_path, monkeypatch):
    def no_child(*_args, **_kwargs):
        raise AssertionError("started datasette")

    monkeypatch.setattr(ui.subprocess, "Popen", no_child)
    url = f"sqlite:///{sqlite_store}"
    cases = {
        "postgresql://analyst@127.0.0.1/isop": "SQLite stores only, this store is postgresql",
        "postgresql+psycopg://analyst:secret@127.0.0.1/isop": "SQLite stores only",
        "sqlite://": "needs a SQLite store file",
        f"sqlite:///{tmp_path / 'missing.db'}": "no store at",
        "not a url": "not a store URL",
    }
    for storage_url, expected in cases.items():
        with pytest.raises(UiError) as error:
            run_ui(storage_url)
        assert expected in str(error.value) and "\n" not in str(error.value)
        assert "secret" not in str(error.value)
    assert not (tmp_path / "missing.db").exists()

    for host in ("0.0.0.0", "192.0.2.10", "example.org"):
        with pytest.raises(UiError, match="not a loopback address"):
            run_ui(url, host=host)

    monkeypatch.setattr(ui, "datasette_available", lambda: False)
    with pytest.raises(UiError, match=r"datasette is not installed: pip install 'isop\[ui\]'"):
        run_ui(url)
    assert issubclass(UiError, ValueError)


def test_run_ui_upgrades_the_store_and_runs_datasette_until_it_stops(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}", "0001")  # a store from before the views
    seen = {}

    class Child:
        def __init__(self, argv):
            seen["argv"] = argv
            seen["metadata"] = json.loads(Path(argv[argv.index("--metadata") + 1]).read_text())

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(ui.subprocess, "Popen", Child)
    assert run_ui(f"sqlite:///{path}", host="localhost", port=8123) == 0
    assert seen["argv"][seen["argv"].index("--port") + 1] == "8123"
    assert "--open" not in seen["argv"]
    assert set(seen["metadata"]["databases"]) == {"old"}  # Datasette names a database after its file
    engine = open_engine(f"sqlite:///{path}")
    assert current_revision(engine) == head_revision()
    engine.dispose()

    def interrupted(self, timeout=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Child, "wait", interrupted, raising=True)
    monkeypatch.setattr(Child, "poll", lambda self: 0)
    assert run_ui(f"sqlite:///{path}", open_browser=True) == 0
    assert "--open" in seen["argv"]
