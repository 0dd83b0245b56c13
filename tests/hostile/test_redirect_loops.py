"""Redirect loops and long chains are recorded (issue 11): the hop that closes a loop, or
goes past REDIRECT_MAX_TIMES, is a page with an error listing every URL and status seen;
the hops between sites are relations; the page a chain ends on keeps where it began. They
used to leave no trace (the repeated URL dropped as a duplicate, the long chain given up
silently)."""

from __future__ import annotations

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from helpers.redirect_hops import hops
from sqlalchemy import select

from storage.models import Page

CHAIN = "loopchain.net"
HUB = """<html><head><title>Hub</title></head><body>
<a href="https://loopa.net/">a</a> <a href="https://loopself.net/">self</a>
<a href="https://loopchain.net/c1">long chain</a> <a href="https://loopchain.net/s1">short chain</a>
</body></html>"""


@pytest.fixture(scope="module")
def loop_world(tmp_path_factory):
    chain = "".join(f'"/c{n}" = {{ redirect = "https://{CHAIN}/c{n + 1}" }}\n' for n in range(1, 13))
    root = extended_world(tmp_path_factory.mktemp("loops") / "w", {
        "loophub.net": registered(ip="88.198.31.1") + '[[site]]\nhost = "loophub.net"\n',
        "loopa.net": registered(ip="88.198.31.2") + '[[site]]\nhost = "loopa.net"\n\n[site.routes]\n'
                                                  '"/" = { redirect = "https://loopb.net/", status = 301 }\n',
        "loopb.net": registered(ip="88.198.31.3") + '[[site]]\nhost = "loopb.net"\n\n[site.routes]\n'
                                                  '"/" = { redirect = "https://loopa.net/", status = 302 }\n',
        "loopself.net": registered(ip="88.198.31.4") + '[[site]]\nhost = "loopself.net"\n\n[site.routes]\n'
                                                     '"/" = { redirect = "https://loopself.net/", status = 307 }\n',
        CHAIN: registered(ip="88.198.31.5") + f'[[site]]\nhost = "{CHAIN}"\n\n[site.routes]\n' + chain
        + f'"/s1" = {{ redirect = "https://{CHAIN}/s2" }}\n"/s2" = {{ redirect = "https://{CHAIN}/fin.html",'
          ' status = 302 }\n',
        "cookiegate.net": registered(ip="88.198.31.6") + '[[site]]\nhost = "cookiegate.net"\n\n[site.routes]\n'
                                                       '"/" = { generator = "cookie_check" }\n',
    }, {"loophub.net/index.html": HUB, f"{CHAIN}/fin.html": "<html><title>End</title><body>the end</body></html>"})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("loops-state")) as running:
        yield running


def test_loops_and_long_chains_are_recorded(loop_world, tmp_path, guarded_env):
    config = write_config(tmp_path, loop_world, render=False, analysis_workers=0, concurrency=1)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://loophub.net/\n")
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1",
                  "--max-pages", "60", timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    from storage.db import open_engine

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rows = {r.url: r for r in c.execute(select(Page.url, Page.status, Page.error, Page.redirects,
                                                   Page.warc_record_id))}
    relations = hops(db)
    db.dispose()

    a, b, me = "https://loopa.net/", "https://loopb.net/", "https://loopself.net/"
    assert rows[a].status == 301 and rows[a].error is None
    assert rows[b].status == 302 and rows[b].error == f"redirect loop: {a} (301) -> {b} (302) -> {a}"
    assert {("loopa.net", "loopb.net", "redirect"), ("loopb.net", "loopa.net", "redirect")} <= relations
    assert rows[me].status == 307 and rows[me].error == f"redirect loop: {me} (307) -> {me}"

    long = [f"https://{CHAIN}/c{n}" for n in range(1, 14)]
    for url in long[:10]:
        assert rows[url].status == 301 and rows[url].error is None and rows[url].warc_record_id, rows[url]
    last = rows[long[10]]
    assert last.status == 301 and last.error.startswith(f"redirect chain longer than 10: {long[0]} (301) -> ")
    assert last.error.endswith(f"{long[9]} (301) -> {long[10]} (301) -> {long[11]}"), last.error
    assert long[11] not in rows, "the chain is given up past the limit"

    end = rows[f"https://{CHAIN}/fin.html"]
    assert end.status == 200 and end.redirects == [[f"https://{CHAIN}/s1", 301], [f"https://{CHAIN}/s2", 302]]


def test_a_cookie_check_redirect_to_itself_is_not_a_loop(loop_world, tmp_path, guarded_env):
    """A 302 to the same URL that sets a cookie (anti-bot, CDN checks): the crawl comes back
    with the cookie once and stores the page; no loop error."""
    config = write_config(tmp_path, loop_world, render=False, analysis_workers=0)
    result = isop(config, guarded_env, tmp_path, "crawl", "--url", "https://cookiegate.net/", "--depth", "0",
                  timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    from storage.db import open_engine

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rows = c.execute(select(Page.url, Page.status, Page.error, Page.title)).all()
    db.dispose()
    # one URL, one page row: the answer it ended on (the 302 before it is in the WARC)
    assert [(r.url, r.status, r.error, r.title) for r in rows] == [("https://cookiegate.net/", 200, None, "Checked")]
