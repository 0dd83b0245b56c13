"""Redirects are recorded where they happen (issue 10): every 3xx at the response, whatever
then happens to its target (already crawled, a duplicate, over a budget); a redirecting
domain is a site with status ``redirecting``, its 3xx archived, due for enrichment."""

from __future__ import annotations

import json

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from helpers.redirect_hops import hops
from sqlalchemy import select

from storage.models import Page, Site, SiteStatusObservation

HUB = """<html><head><title>Link list</title></head><body>
<a href="https://hopc.net/">The final site</a>
<a href="https://hopb.net/other.html">Something on B</a>
<a href="https://hopa.net/">The old address</a>
</body></html>"""


@pytest.fixture(scope="module")
def chain_world(tmp_path_factory):
    """hopa.net 301 -> hopb.net 302 -> hopc.net, and a hub linking all three."""
    root = extended_world(tmp_path_factory.mktemp("chain") / "w", {
        "hoplinks.net": registered(ip="88.198.20.1") + '[[site]]\nhost = "hoplinks.net"\n',
        "hopa.net": registered(ip="88.198.20.2") + '[[site]]\nhost = "hopa.net"\nredirect = "https://hopb.net"\n',
        "hopb.net": registered(ip="88.198.20.3") + '[[site]]\nhost = "hopb.net"\n\n[site.routes]\n'
                                                  '"/" = { redirect = "https://hopc.net/", status = 302 }\n'
                                                  '"/other.html" = { file = "other.html" }\n',
        "hopc.net": registered(ip="88.198.20.4") + '[[site]]\nhost = "hopc.net"\n',
    }, {
        "hoplinks.net/index.html": HUB,
        "hopb.net/other.html": "<html><title>B</title><body>b</body></html>",
        "hopc.net/index.html": "<html><title>C</title><body><p>the final site</p></body></html>",
    })
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("chain-state")) as running:
        yield running




def latest_status(db) -> dict[str, str]:
    with db.connect() as c:
        out = {}
        for domain, status in c.execute(select(Site.domain, SiteStatusObservation.status)
                                        .join(Site, Site.id == SiteStatusObservation.site_id)
                                        .order_by(SiteStatusObservation.last_seen)):
            out[domain] = str(status)
        return out


@pytest.mark.parametrize("site_pages", [40, 1], ids=["hub-first", "middle-hop-over-budget"])
def test_a_redirect_chain_is_recorded_at_each_hop(chain_world, tmp_path, guarded_env, site_pages, store_url):
    config = write_config(tmp_path, chain_world, storage_url=store_url, concurrency=1, site_pages=site_pages)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://hoplinks.net/\n")
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1", "--max-pages", "20")
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    from storage.db import open_engine

    db = open_engine(store_url)
    assert {("hopa.net", "hopb.net", "redirect"), ("hopb.net", "hopc.net", "redirect")} <= hops(db), hops(db)
    status = latest_status(db)
    assert status["hopa.net"] == "redirecting" and status["hopb.net"] == "redirecting", status
    assert status["hopc.net"] == "active"
    with db.connect() as c:
        three = c.execute(select(Page.url, Page.status, Page.warc_file, Page.warc_record_id, Page.redirects)
                          .where(Page.status.between(300, 399))).all()
    by_url = {r.url: r for r in three}
    assert by_url["https://hopa.net/"].status == 301 and by_url["https://hopb.net/"].status == 302
    for row in (by_url["https://hopa.net/"], by_url["https://hopb.net/"]):
        assert row.warc_file and row.warc_record_id, "the 3xx is archived"
    assert by_url["https://hopa.net/"].redirects == [["https://hopb.net/", 301]]

    # the 3xx answers are in the WARC, headers included, and the evidence verifies
    from warcio.archiveiterator import ArchiveIterator

    locations = {}
    for warc in (tmp_path / "evidence").rglob("*.warc.gz"):
        with warc.open("rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "response" and record.http_headers.get_statuscode().startswith("3"):
                    locations[record.rec_headers.get_header("WARC-Target-URI")] = \
                        record.http_headers.get_header("Location")
    assert locations["https://hopa.net/"] == "https://hopb.net/" and locations["https://hopb.net/"] == \
        "https://hopc.net/"
    assert isop(config, guarded_env, tmp_path, "evidence", "verify").returncode == 0

    # the redirecting domains are due for enrichment and get it like any other site
    enrich = isop(config, guarded_env, tmp_path, "enrich", "--only", "dns,hosting,whois")
    assert enrich.returncode == 0, enrich.stdout + messages(enrich.stderr)[-2000:]
    exported = isop(config, guarded_env, tmp_path, "export", "--format", "json", "--output", "-")
    assert exported.returncode == 0, exported.stderr[-2000:]
    records = {r["domain"]: r for r in json.loads(exported.stdout)["sites"]}
    a = records["hopa.net"]
    assert a["status"] == "redirecting" and a["redirects_to"] == "hopb.net"
    assert a["dns"]["A"] == ["88.198.20.2"] and a["hosting"][0]["asn"], a["hosting"]
    assert a["whois"]["registrar"] == "NameCheap, Inc."
    db.dispose()
