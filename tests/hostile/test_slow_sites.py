"""Slow sites (issue 11): a site that sends a byte a second cannot hold a crawl. Its time
budget (``[crawl] site_seconds``) ends its requests, its timeouts are retried at most
``site_timeout_retries`` times in all, and SIGTERM (or Ctrl-C) stops the crawl at once:
no new request, out within the download timeout, one line and no traceback, what was
stored kept, the run interrupted and resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import (
    isop,
    isop_args,
    messages,
    no_traceback,
    runs,
    wait_for_pages,
    write_config,
)
from sqlalchemy import create_engine, func, select

from storage.models import CrawlRun, Page

SLOW_LINKS = "\n".join(f'<a href="/t/{n}.html">part {n}</a>' for n in range(1, 31))
SLOW = '[[site]]\nhost = "slowdrip.net"\n\n[site.routes]\n"/t/" = { generator = "trickle" }\n'
FAST = '[[site]]\nhost = "fastfarm.net"\n\n[site.routes]\n"/a/" = { generator = "bigsite", pages = 400 }\n'
DOWNLOAD_TIMEOUT = 3.0
STOP_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def slow_world(tmp_path_factory):
    root = extended_world(tmp_path_factory.mktemp("slow") / "w", {
        "slowdrip.net": registered(ip="88.198.20.21") + SLOW,
        "fastfarm.net": registered(ip="88.198.20.22") + FAST,
    }, {"slowdrip.net/index.html": f"<html><head><title>Slow</title></head><body><p>parts</p>{SLOW_LINKS}</body></html>"})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("slow-state")) as running:
        yield running


def counts_of(db) -> dict:
    with db.connect() as c:
        return c.scalar(select(CrawlRun.counts).order_by(CrawlRun.id.desc()).limit(1)) or {}


def test_a_trickling_site_spends_its_budget_and_the_crawl_ends(slow_world, tmp_path, guarded_env):
    config = write_config(tmp_path, slow_world, concurrency=8, per_domain_concurrency=4, render=False,
                          screenshots=False, autothrottle=False, download_timeout=DOWNLOAD_TIMEOUT, retries=2,
                          site_seconds=4.0, site_timeout_retries=1)
    started = time.monotonic()
    result = isop(config, guarded_env, tmp_path, "crawl", "--url", "https://slowdrip.net/", "--depth", "1",
                  "--max-pages", "40", timeout=240)
    took = time.monotonic() - started
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    counts = counts_of(db)
    with db.connect() as c:
        timeouts = c.scalar(select(func.count()).select_from(Page).where(Page.error.like("%TimeoutError%")))
    db.dispose()
    assert counts.get("isop/budget/site_time", 0) > 0, counts
    assert counts.get("isop/retry/site_timeout_capped", 0) > 0, counts
    # Without the caps: 30 parts x 3 attempts x the timeout, 4 at a time (about 70 s here).
    assert counts["downloader/request_count"] < 30, counts
    assert timeouts >= 1, "a timed-out part is recorded as a failure of the site"
    assert took < 200


def test_sigterm_stops_at_once_without_a_traceback_and_keeps_what_was_stored(slow_world, tmp_path, guarded_env):
    # one download at a time per site: the slow site's further requests wait in the downloader,
    # and used to go out one after another after the stop, a download timeout each
    config = write_config(tmp_path, slow_world, concurrency=6, per_domain_concurrency=1, render=False,
                          screenshots=False, autothrottle=False, download_timeout=STOP_TIMEOUT, site_seconds=0.0,
                          url_shape_limit=10000)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://slowdrip.net/\nhttps://fastfarm.net/a/\n")
    args = ["crawl", "--seeds", str(seeds), "--depth", "3", "--max-pages", "400", "--job", "slow"]
    proc = subprocess.Popen(isop_args(config, *args), env=guarded_env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    try:
        assert wait_for_pages(db, 15, proc) >= 15
        time.sleep(1.0)  # trickling parts in flight
        assert proc.poll() is None, "the crawl finished before it could be stopped"
        os.kill(proc.pid, signal.SIGTERM)
        stopped = time.monotonic()
        out, err = proc.communicate(timeout=120)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err and "Traceback" not in out, messages(err)[-3000:]
    assert proc.returncode != 0
    sent_after = [url for at, url in slow_world.running.web.requests if at > stopped + 1.0]
    assert sent_after == [], "nothing new is sent once the crawl is stopping"
    # within the download timeout of the part in flight (plus closing: flush, seal), not
    # after every queued part in turn (several download timeouts)
    assert took < STOP_TIMEOUT + 15, f"took {took:.1f} s after SIGTERM"
    with db.connect() as c:
        stored = c.scalar(select(func.count()).select_from(Page))
    assert stored >= 15
    assert runs(db)[-1][1] == "interrupted", runs(db)
    db.dispose()
    # the same command resumes (a new run), the stored pages stay
    config2 = write_config(tmp_path, slow_world, concurrency=6, per_domain_concurrency=3, render=False,
                           screenshots=False, autothrottle=False, download_timeout=DOWNLOAD_TIMEOUT, site_seconds=3.0,
                           url_shape_limit=10000)
    again = isop(config2, guarded_env, tmp_path, *args[:-4], "--max-pages", "40", "--job", "slow", timeout=240)
    no_traceback(again)
    assert "resumed" in again.stdout, messages(again.stderr)[-3000:]
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        assert c.scalar(select(func.count()).select_from(Page).where(Page.run_id == 1)) == stored
    db.dispose()


def test_the_site_clock_and_the_timeout_cap():
    from scrapy import Request, Spider
    from scrapy.exceptions import DownloadTimeoutError
    from scrapy.utils.test import get_crawler

    from spiders.site_time import SiteOverTime, SiteTime

    crawler = get_crawler(Spider)
    now = [100.0]
    mw = SiteTime(crawler, seconds=10, timeout_retries=1, clock=lambda: now[0])
    assert mw.process_request(Request("https://www.slowdrip.net/a")) is None  # the clock starts
    now[0] += 9
    assert mw.process_request(Request("https://slowdrip.net/b")) is None
    assert mw.process_request(Request("https://fastfarm.net/")) is None  # another site, its own clock
    first, second = Request("https://slowdrip.net/c"), Request("https://slowdrip.net/d")
    mw.process_exception(first, DownloadTimeoutError())
    mw.process_exception(second, DownloadTimeoutError())
    assert not first.meta.get("dont_retry") and second.meta.get("dont_retry"), "one timeout retry per site"
    now[0] += 2
    with pytest.raises(SiteOverTime):
        mw.process_request(Request("https://slowdrip.net/e"))
    assert mw.process_request(Request("https://fastfarm.net/next")) is None
    late = Request("https://fastfarm.net/slow")
    mw.process_exception(late, ValueError("not a timeout"))
    assert not late.meta.get("dont_retry")
    assert crawler.stats.get_value("isop/budget/site_time") == 1
    assert crawler.stats.get_value("isop/retry/site_timeout_capped") == 1
