"""Crawls shared by several processes through Redis, and enrichment workers on PostgreSQL.

Real components only: the local Redis (each test in a namespace of its own, deleted
afterwards), the local PostgreSQL server (a throw-away database), the sandbox world.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import conftest
import pytest
from sqlalchemy import create_engine, func, select, text

from storage.models import CrawlRun, Lookup, Page, RunKind, Site

REDIS_URL = os.environ.get("ISOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def redis_ns():
    """A Redis client and a crawl key of this test's own; its keys are deleted afterwards."""
    from spiders.distributed import clear_crawl, redis_client

    client = redis_client(REDIS_URL)
    try:
        client.ping()
    except Exception as e:  # noqa: BLE001 - no server: say so clearly
        pytest.fail(f"Redis at {REDIS_URL} is not usable: {e}")
    prefix, key = "isop", f"test-{uuid.uuid4().hex[:12]}"
    yield client, prefix, key
    clear_crawl(client, prefix, key)
    client.close()


@pytest.fixture
def pg_url():
    """A migrated, empty PostgreSQL store."""
    from storage.migrate import upgrade

    gen = conftest._postgres_database()
    url = next(gen)
    upgrade(url)
    yield url
    gen.close()


def test_cli_commands_register_with_help_on_every_option():
    from collector.cli import cli
    from collector.cli.distributed import COMMANDS

    for command in COMMANDS:
        assert cli.commands[command.name] is command
        assert all(p.help for p in command.params if hasattr(p, "help") and p.name != "help"), command.name


# --- (b) the reliable queue against real Redis ---------------------------------------------


def _worker(prefix: str, key: str, worker: str, ttl: float = 2.0, max_pages: int = 1000):
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from spiders.distributed import DistributedScheduler, distributed_settings

    settings = distributed_settings(REDIS_URL, key, prefix=prefix, worker_id=worker, heartbeat_ttl=ttl)
    settings.update({"ISOP_MAX_PAGES": max_pages, "ISOP_STORAGE_URL": "", "EXTENSIONS": {}, "SPIDER_MIDDLEWARES": {}})
    crawler = get_crawler(Spider, settings)

    class S(Spider):
        name = "t"

        def parse(self, response):
            pass

    spider = S.from_crawler(crawler)
    scheduler = DistributedScheduler.from_crawler(crawler)
    scheduler.open(spider)
    return crawler, spider, scheduler


def _request(spider, url: str, priority: int = 0, site: str | None = None):
    from scrapy import Request

    from spiders.distributed import SHARED_BUDGET

    meta = {SHARED_BUDGET: (site, 2)} if site else {}
    return Request(url, callback=spider.parse, priority=priority, meta=meta)


def test_reliable_queue_requeues_the_in_flight_requests_of_a_dead_worker(redis_ns):
    client, prefix, key = redis_ns
    crawler1, spider1, one = _worker(prefix, key, "one")
    for i in range(3):
        assert one.enqueue_request(_request(spider1, f"https://a.example/{i}", priority=10 - i))
    assert not one.enqueue_request(_request(spider1, "https://a.example/0")), "a duplicate is filtered"
    first, second = one.next_request(), one.next_request()
    assert [first.url, second.url] == ["https://a.example/0", "https://a.example/1"], "by priority"
    state = crawler1.isop_distributed
    assert client.hlen(state.keys.processing("one")) == 2 and len(one) == 1

    # a live worker's requests are left alone
    crawler2, spider2, two = _worker(prefix, key, "two")
    assert crawler2.isop_distributed.reap() == 0
    assert client.hlen(state.keys.processing("one")) == 2

    # worker one dies: no more heartbeats, its key expires
    state._stop.set()
    state._beat.join(5)
    client.delete(state.keys.alive("one"))
    assert crawler2.isop_distributed.reap() == 2
    assert crawler2.isop_distributed.reap() == 0, "re-queued once"
    assert not client.exists(state.keys.processing("one"))
    assert client.smembers(state.keys.workers) == {b"two"}
    assert crawler2.stats.get_value("isop/distributed/requeued") == 2
    assert crawler2.isop_distributed.reaped[0]["worker"] == "one"

    got = [two.next_request() for _ in range(3)]
    assert [r.url for r in got[:2]] == ["https://a.example/0", "https://a.example/1"], "re-queued served first"
    assert got[2].url == "https://a.example/2" and two.next_request() is None
    assert got[0].callback == spider2.parse
    assert crawler2.isop_distributed.snapshot() == (0, 3)
    crawler2.isop_distributed.outstanding.clear()
    crawler2.isop_distributed.ack(client.hkeys(state.keys.processing("two")))
    assert crawler2.isop_distributed.snapshot() == (0, 0)
    two.close("finished")
    assert not client.exists(state.keys.alive("two"))


def test_a_restarted_worker_takes_back_what_it_left_and_shared_budgets_hold(redis_ns):
    client, prefix, key = redis_ns
    crawler, spider, first = _worker(prefix, key, "w", max_pages=3)
    state = crawler.isop_distributed
    assert first.enqueue_request(_request(spider, "https://a.example/1", site="a.example"))
    assert first.enqueue_request(_request(spider, "https://a.example/2", site="a.example"))
    assert not first.enqueue_request(_request(spider, "https://a.example/3", site="a.example")), "site budget"
    assert first.enqueue_request(_request(spider, "https://b.example/1", site="b.example"))
    assert not first.enqueue_request(_request(spider, "https://c.example/1", site="c.example")), "global budget"
    assert crawler.stats.get_value("isop/budget/site") == 1 and crawler.stats.get_value("isop/budget/global") == 1
    assert first.enqueue_request(_request(spider, "https://a.example/4")), "not counted (a render, a favicon)"
    assert first.next_request() is not None
    state._stop.set()
    client.delete(state.keys.alive("w"))

    crawler2, _, again = _worker(prefix, key, "w")  # same worker id, after a crash
    assert not client.exists(state.keys.processing("w")) or client.hlen(state.keys.processing("w")) == 0
    assert len(again) == 4
    assert crawler2.isop_distributed.snapshot() == (4, 0)
    again.close("shutdown")


# --- (a) two crawler processes, one killed ----------------------------------------------------


def _config(tmp: Path, sandbox, store_url: str) -> Path:
    path = tmp / "isop.toml"
    path.write_text(f"""
[storage]
url = "{store_url}"
batch_size = 10
[network]
proxy = "{sandbox.proxy_url}"
resolvers = ["{sandbox.resolvers[0]}"]
ca_bundle = "{sandbox.ca_path}"
timeout = 5
[evidence]
dir = "{tmp / 'evidence'}"
[crawl]
max_pages = 1000
site_pages = 1000
url_shape_limit = 10000
depth = 3
render = false
screenshots = false
analysis_workers = 0
concurrency = 2
per_domain_concurrency = 1
autothrottle = false
download_timeout = 5.0
retries = 0
""")
    return path


def _isop(module: str, config: Path, args: list[str], env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, "--config", str(config), *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_crawlers_share_a_crawl_and_a_killed_one_loses_nothing(sandbox, tmp_path, guarded_env, redis_ns,
                                                                   pg_url):
    client, prefix, key = redis_ns
    from spiders.distributed import CrawlKeys

    keys = CrawlKeys(prefix, key)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://streamora.com/\nhttps://jusoya.kr/\n")
    env = dict(guarded_env)
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(REPO)])

    # the reference: one ordinary crawl of the same seeds, into SQLite, at the same time
    (ref_dir := tmp_path / "reference").mkdir()
    reference = _isop("collector.cli", _config(ref_dir, sandbox, f"sqlite:///{ref_dir / 'isop.db'}"),
                      ["crawl", "--seeds", str(seeds), "--no-progress"], env, ref_dir)

    workers = {}
    for name in ("victim", "survivor"):
        (cwd := tmp_path / name).mkdir()
        workers[name] = _isop("collector.cli", _config(cwd, sandbox, pg_url),
                              ["crawl-distributed", "--seeds", str(seeds), "--crawl-key", key, "--redis-url",
                               REDIS_URL, "--worker-id", name, "--heartbeat-ttl", "3", "--idle-seconds", "2",
                               "--no-progress"], env, cwd)
    victim, survivor = workers["victim"], workers["survivor"]
    db = create_engine(pg_url)
    try:
        deadline = time.monotonic() + 90
        stored = 0
        while time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.2)
            with db.connect() as c:
                stored = c.scalar(select(func.count()).select_from(Page).join(CrawlRun, CrawlRun.id == Page.run_id)
                                  .where(CrawlRun.pid == victim.pid))
            if stored >= 15:
                break
        assert victim.poll() is None, "the victim finished before it could be killed: " + victim.stderr.read()
        in_flight = client.hgetall(keys.processing("victim"))
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(30)

        out, err = survivor.communicate(timeout=180)
        assert survivor.returncode == 0, out[-2000:] + err[-3000:]
        ref_out, ref_err = reference.communicate(timeout=180)
        assert reference.returncode == 0, ref_err[-3000:]

        with db.connect() as c:
            runs = {r.pid: r for r in c.execute(select(CrawlRun.id, CrawlRun.pid, CrawlRun.outcome, CrawlRun.counts,
                                                       CrawlRun.job, CrawlRun.error))}
            rows = c.execute(select(Page.url, Page.rendered, Page.run_id, Page.final_url, Page.redirects)).all()
            dupes = c.execute(text("SELECT url, rendered, count(*) FROM pages GROUP BY url, rendered "
                                   "HAVING count(*) > 1")).all()
        lost, kept = runs[victim.pid], runs[survivor.pid]
        assert lost.job == key and kept.job == key
        assert kept.outcome == "ok" and kept.counts["isop/distributed/workers_lost"] == 1
        assert lost.outcome == "interrupted" and "re-queued" in lost.error
        assert {r.run_id for r in rows} == {lost.id, kept.id}, "both workers stored pages"
        assert dupes == [], "no page fetched twice"

        ref_db = create_engine(f"sqlite:///{ref_dir / 'isop.db'}")
        with ref_db.connect() as c:
            expected = set(c.scalars(select(Page.url).where(Page.rendered.is_(False))))
        ref_db.dispose()
        crawled = {r.url for r in rows if not r.rendered}
        assert len(expected) > 150
        assert crawled == expected, (sorted(expected - crawled)[:10], sorted(crawled - expected)[:10])

        # what the victim had in flight when it died was crawled by the survivor
        fetched = crawled | {r.final_url for r in rows} | {u for r in rows for u, _ in r.redirects}
        for value in in_flight.values():
            request = pickle.loads(value.split(b":", 1)[1])
            if request["callback"] == "parse":
                url = (request["meta"].get("redirect_urls") or [request["url"]])[0]
                assert url in fetched, url

        assert client.zcard(keys.queue) == 0 and client.zcard(keys.requeued) == 0
        assert not list(client.scan_iter(match=f"{keys.processing_prefix}*"))
        assert client.get(keys.seeded) == b"done"
    finally:
        for proc in (victim, survivor, reference):
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
        db.dispose()


# --- (c) enrichment workers -------------------------------------------------------------------


def _store_with_crawled_sites(url: str, domains: list[str], unpaged: list[str] = ()) -> None:
    from storage.crawl import sha256_text
    from storage.db import open_engine, session_factory
    from storage.sites import record_hosts

    engine = open_engine(url)
    now = datetime.now(UTC)
    with session_factory(engine)() as s, s.begin():
        run = CrawlRun(kind=RunKind.DISCOVERY, job="test", arguments={})
        s.add(run)
        s.flush()
        ids = record_hosts(s, [*domains, *unpaged], now, run.id)
        for d in domains:
            site_id, host_id = ids[d]
            s.add(Page(run_id=run.id, site_id=site_id, host_id=host_id, url=f"https://{d}/",
                       url_sha256=sha256_text(f"https://{d}/"), final_url=f"https://{d}/", status=200,
                       fetched_at=now))
    engine.dispose()


def test_claims_skip_locked_sites_and_do_not_block_writers(store_url):
    from enrich.worker import claim_due_sites
    from storage.db import open_engine, session_factory
    from storage.migrate import upgrade

    upgrade(store_url)
    domains = ["a-site.com", "b-site.com", "c-site.com", "d-site.com"]
    _store_with_crawled_sites(store_url, domains, unpaged=["linked-only.com"])
    engine = open_engine(store_url)
    Session = session_factory(engine)
    now = datetime.now(UTC)
    with Session() as s, s.begin():  # b-site is fresh for dns, not for whois
        s.add(Lookup(service="site:dns", target="b-site.com", outcome="ok", at=now))
    stale = now - timedelta(hours=1)
    with Session() as s:
        assert [d for _, d in claim_due_sites(s, ["dns"], stale, 10)] == ["a-site.com", "c-site.com", "d-site.com"]
        assert [d for _, d in claim_due_sites(s, ["dns", "whois"], stale, 10)] == domains
        assert [d for _, d in claim_due_sites(s, ["dns"], stale, 1, after=1)] != ["a-site.com"]
    if engine.dialect.name == "postgresql":
        first, second = Session(), Session()
        try:
            first.begin()
            mine = claim_due_sites(first, ["dns"], stale, 2)
            second.begin()
            theirs = claim_due_sites(second, ["dns"], stale, 10)
            assert {d for _, d in mine} == {"a-site.com", "c-site.com"}
            assert [d for _, d in theirs] == ["d-site.com"], "locked sites are skipped, not waited for"
            # a crawler inserting a page of a claimed site (FK check: KEY SHARE) is not blocked
            with engine.connect() as crawler:
                crawler.execute(text("SET lock_timeout = '2s'"))
                site_id = mine[0][0]
                host_id = crawler.scalar(text("SELECT id FROM hosts WHERE site_id = :s"), {"s": site_id})
                crawler.execute(text("INSERT INTO pages (run_id, site_id, host_id, url, url_sha256, fetched_at, "
                                     "depth, rendered, redirects) SELECT id, :s, :h, 'https://x/', 'x', now(), 0, "
                                     "false, '[]' FROM crawl_runs LIMIT 1"), {"s": site_id, "h": host_id})
                crawler.commit()
        finally:
            first.rollback()
            second.rollback()
            first.close()
            second.close()
    engine.dispose()


@pytest.mark.postgres
def test_two_enrichment_workers_enrich_each_site_once(sandbox, tmp_path, pg_url):
    from collector.config import load_config
    from collector.enrich_worker import run_worker
    from enrich.worker import WorkerRequest
    from storage.db import open_engine

    sample = ["torrentwang.net", "fmovix.xyz", "cuevanahd.io", "jusoya.kr", "baytorrents.to", "torrentbaza.ru",
              "tvnamu.me", "iptvbrasuca.tv", "lumenos.org", "cinemadispatch.com", "vidtape.xyz", "baytorrents.se"]
    _store_with_crawled_sites(pg_url, sample)
    (tmp_path / "isop.toml").write_text(sandbox.config_text(pg_url), encoding="utf-8")
    config = load_config(tmp_path / "isop.toml", env={})
    results, errors = {}, []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        engine = open_engine(pg_url)
        try:
            start.wait()
            results[name] = run_worker(config, WorkerRequest(batch=2), engine=engine)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    one, two = results["one"], results["two"]
    assert one.locking and two.locking
    assert one.claimed and two.claimed, "both workers had work"
    assert not set(one.claimed) & set(two.claimed), "no site claimed twice"
    engine = open_engine(pg_url)
    with engine.connect() as c:
        ids = set(c.scalars(select(Site.id).where(Site.domain.in_(sample))))
        markers = c.execute(select(Lookup.target, Lookup.service, func.count())
                            .where(Lookup.service.like("site:%")).group_by(Lookup.target, Lookup.service)).all()
    engine.dispose()
    assert set(one.claimed) | set(two.claimed) == ids
    per = {(t, s): n for t, s, n in markers}
    for domain in sample:
        for service in ("dns", "whois", "tls"):
            assert per.get((domain, f"site:{service}")) == 1, (domain, service, per.get((domain, f"site:{service}")))
        assert per.get((domain, "site:hosting"), 0) <= 1
    assert one.sites + two.sites == len(sample)
