"""A response status outside 100-599 is recorded as a malformed response (issue 11): a page
row with no status and an error naming the status, the response archived as it came. It
used to make the evidence pipeline raise, and the page vanished."""

from __future__ import annotations

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import select

from storage.models import Page

SITE = "oddstatus.net"
FRONT = "oddfront.net"
"""Its front page answers 999: the site answered, so it is never "down" for it."""
ODD = {"/nines.html": 999, "/small.html": 42, "/large.html": 1000, "/negative.html": -1}


@pytest.fixture(scope="module")
def odd_world(tmp_path_factory):
    routes = "".join(f'"{path}" = {{ file = "odd.html", status = {status} }}\n' for path, status in ODD.items())
    links = " ".join(f'<a href="{path}">{status}</a>' for path, status in ODD.items())
    root = extended_world(tmp_path_factory.mktemp("odd") / "w", {
        SITE: registered(ip="88.198.30.2") + f'[[site]]\nhost = "{SITE}"\n\n[site.routes]\n' + routes,
        FRONT: registered(ip="88.198.30.3") + f'[[site]]\nhost = "{FRONT}"\n\n[site.routes]\n'
                                              '"/" = { file = "index.html", status = 999 }\n',
    }, {f"{SITE}/index.html": f"<html><head><title>Odd</title></head><body>{links}</body></html>",
        f"{FRONT}/index.html": "<html><head><title>Front</title></head><body>odd</body></html>",
        f"{SITE}/odd.html": '<html><head><title>Odd answer</title></head><body><a href="/never.html">x</a></body></html>'})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("odd-state")) as running:
        yield running


def test_statuses_outside_100_599_are_recorded_as_malformed(odd_world, tmp_path, guarded_env):
    config = write_config(tmp_path, odd_world, render=False, analysis_workers=0)
    result = isop(config, guarded_env, tmp_path, "crawl", "--url", f"https://{SITE}/", "--depth", "2", timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    from storage.db import open_engine

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rows = {r.url.split(SITE, 1)[1]: r for r in c.execute(
            select(Page.url, Page.status, Page.error, Page.warc_file, Page.warc_record_id, Page.content_sha256))}
    db.dispose()
    for path, status in ODD.items():
        row = rows.get(path)
        assert row is not None, f"{path}: no page row ({sorted(rows)})"
        assert row.status is None and row.error == f"malformed response: HTTP status {status} outside 100-599", row
        assert row.warc_file and row.warc_record_id and row.content_sha256, row
    assert "/never.html" not in rows, "links of a malformed response are not followed"
    assert rows["/"].status == 200

    from warcio.archiveiterator import ArchiveIterator

    statuses = {}
    for warc in (tmp_path / "evidence").rglob("*.warc.gz"):
        with warc.open("rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "response":
                    path = record.rec_headers.get_header("WARC-Target-URI").split(SITE, 1)[1]
                    statuses[path] = record.http_headers.get_statuscode()
    assert {p: statuses.get(p) for p in ODD} == {p: str(s) for p, s in ODD.items()}
    assert isop(config, guarded_env, tmp_path, "evidence", "verify").returncode == 0


def test_a_malformed_front_page_twice_is_not_a_site_down(odd_world, tmp_path, guarded_env):
    from storage.db import open_engine
    from storage.models import Site, SiteStatusObservation

    config = write_config(tmp_path, odd_world, render=False, analysis_workers=0)
    for _ in range(2):  # two runs in a row: what would confirm a failing site down
        result = isop(config, guarded_env, tmp_path, "crawl", "--url", f"https://{FRONT}/", "--depth", "0",
                      timeout=120)
        no_traceback(result)
        assert result.returncode == 0, messages(result.stderr)[-2000:]
    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        statuses = set(c.scalars(select(SiteStatusObservation.status).join(Site, Site.id == SiteStatusObservation.site_id)
                                 .where(Site.domain == FRONT)))
    db.dispose()
    assert statuses and "down" not in {str(getattr(s, "value", s)) for s in statuses}, statuses
    assert "active" in {str(getattr(s, "value", s)) for s in statuses}, statuses
