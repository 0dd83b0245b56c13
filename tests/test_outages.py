"""Our own outages are never facts about a site (issue 10).

"We could not get out" (the proxy refusing connections, the resolvers silent) stops the
run: recorded ``failed`` with the reason, exit 1, nothing recorded about the sites it
could not reach, what was collected before kept. "The site failed" (the proxy answering
an upstream error for that host only) is a fact, and a site is *down* only after a second
failed attempt (two runs in a row, or attempts minutes apart).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers.fault_runs import (
    ARCHIVE,
    closed_udp_port,
    isop,
    isop_args,
    messages,
    no_traceback,
    runs,
    write_config,
)
from sqlalchemy import create_engine, func, select

from storage.models import Page, Site, SiteStatusObservation

DEFAULT_WORLD = Path(__file__).resolve().parents[1] / "config" / "sandbox" / "default"


@pytest.fixture
def world_with_a_failing_site(tmp_path_factory):
    """The default world plus a site whose every page answers 503 (a site in trouble)."""
    root = tmp_path_factory.mktemp("world") / "w"
    shutil.copytree(DEFAULT_WORLD, root)
    (root / "domains" / "stalledflix.net.toml").write_text('''
[dns]
"@" = { A = ["203.0.113.77"] }

[[site]]
host = "stalledflix.net"
https = true

[site.routes]
"/" = { status = 503 }

[truth]
piracy = false
category = "none"
''')
    (root / "sites" / "stalledflix.net").mkdir()
    (root / "sites" / "stalledflix.net" / "index.html").write_text("<title>x</title>")
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("world-state")) as running:
        yield running


@pytest.fixture
def own_sandbox(tmp_path_factory):
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(None, state_dir=tmp_path_factory.mktemp("own-sandbox")) as running:
        yield running


@pytest.fixture
def slow_sandbox(tmp_path_factory):
    """A sandbox whose pages take 100 ms each: a crawl is still running when the proxy goes."""
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(None, state_dir=tmp_path_factory.mktemp("slow-sandbox"), latency={"http": 100}) as running:
        yield running


def close_proxy(sb) -> None:
    asyncio.run_coroutine_threadsafe(sb.running.proxy.close(), sb.loop).result(10)


def open_proxy(sb) -> None:
    asyncio.run_coroutine_threadsafe(sb.running.proxy.start("127.0.0.1", sb.proxy_port), sb.loop).result(10)


def facts(db) -> tuple[int, int, int]:
    """(pages, pages without an answer, status observations) in the store."""
    with db.connect() as c:
        return (c.scalar(select(func.count()).select_from(Page)),
                c.scalar(select(func.count()).select_from(Page).where(Page.status.is_(None))),
                c.scalar(select(func.count()).select_from(SiteStatusObservation)))


def statuses(db) -> dict[str, list[str]]:
    with db.connect() as c:
        out: dict[str, list[str]] = {}
        for domain, status in c.execute(select(Site.domain, SiteStatusObservation.status)
                                        .join(Site, Site.id == SiteStatusObservation.site_id)
                                        .order_by(SiteStatusObservation.last_seen)):
            out.setdefault(domain, []).append(str(status))
        return out


def test_proxy_closed_before_a_crawl_fails_the_run_and_records_nothing(own_sandbox, tmp_path, guarded_env):
    sb = own_sandbox
    config = write_config(tmp_path, sb, download_timeout=5.0, retries=1)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://torrentwang.net/\nhttps://fmovix.xyz/\nhttps://cuevanahd.io/\n")
    close_proxy(sb)
    try:
        result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--max-pages", "12",
                      "--depth", "1", timeout=120)
    finally:
        open_proxy(sb)
    no_traceback(result)
    assert result.returncode == 1, messages(result.stderr)[-2000:]
    assert f"the proxy {sb.proxy_url} could not be reached" in result.stderr
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    (_, outcome, error), = runs(db)
    assert outcome == "failed" and error.startswith(f"the proxy {sb.proxy_url} could not be reached")
    assert facts(db) == (0, 0, 0), "nothing is recorded about sites the crawl could not reach"

    again = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--max-pages", "12", "--depth", "1")
    no_traceback(again)
    assert again.returncode == 0, messages(again.stderr)[-2000:]
    assert runs(db)[-1][1] == "ok"
    pages, unanswered, _ = facts(db)
    assert pages >= 3 and unanswered == 0
    assert all(s == ["active"] for s in statuses(db).values()), statuses(db)
    db.dispose()


def test_proxy_closed_mid_crawl_keeps_what_was_collected_and_fails_the_run(slow_sandbox, tmp_path, guarded_env):
    sb = slow_sandbox
    config = write_config(tmp_path, sb, download_timeout=5.0, retries=1, concurrency=4)
    proc = subprocess.Popen(isop_args(config, "crawl", "--url", ARCHIVE, "--max-pages", "3000", "--job", "mid"),
                            env=guarded_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                if facts(db)[0] >= 20:
                    break
            except Exception:  # noqa: BLE001 - the store may not exist yet
                continue
        assert proc.poll() is None, "the crawl ended before the proxy went away"
        close_proxy(sb)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        open_proxy(sb)
    assert "Traceback" not in err, messages(err)[-3000:]
    assert proc.returncode == 1, messages(err)[-2000:]
    (_, outcome, error), = runs(db)
    assert outcome == "failed" and "could not be reached" in error, error
    pages, unanswered, _ = facts(db)
    assert pages >= 20, "the pages fetched before the outage are kept"
    assert unanswered == 0, "no fetch that failed for want of the proxy is stored as the site's failure"
    assert "down" not in {s for ss in statuses(db).values() for s in ss}
    db.dispose()


def test_resolvers_gone_during_a_recheck_fail_it(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox)
    crawl = isop(config, guarded_env, tmp_path, "crawl", "--url", "https://torrentwang.net/", "--max-pages", "15")
    assert crawl.returncode == 0, messages(crawl.stderr)[-2000:]
    dead = write_config(tmp_path, sandbox, resolvers=[f"127.0.0.1:{closed_udp_port()}"])
    result = isop(dead, guarded_env, tmp_path, "recheck", timeout=180)
    no_traceback(result)
    assert result.returncode == 1, result.stdout + messages(result.stderr)[-2000:]
    assert "the resolvers 127.0.0.1:" in result.stderr, result.stderr[-2000:]
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    assert any(o == "failed" for _, o, _ in runs(db)), runs(db)
    assert "down" not in {s for ss in statuses(db).values() for s in ss}
    db.dispose()


def test_one_site_failing_is_a_fact_and_down_only_on_the_second_run(world_with_a_failing_site, tmp_path,
                                                                   guarded_env, store_url):
    from storage.db import open_engine

    sb = world_with_a_failing_site
    config = write_config(tmp_path, sb, storage_url=store_url, download_timeout=5.0, retries=1)
    seeds = tmp_path / "seeds.txt"
    # a 503 from the site, a host the proxy cannot tunnel to, and sites that work
    seeds.write_text("https://stalledflix.net/\nhttps://ddalgitoon100.com/\nhttps://torrentwang.net/\n"
                     "https://fmovix.xyz/\n")
    db = open_engine(store_url)
    for run in (1, 2):
        result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--max-pages", "10",
                      "--depth", "0", "--fresh")
        no_traceback(result)
        assert result.returncode == 0, messages(result.stderr)[-2000:]
        assert runs(db)[-1][1] == "ok"
        got = statuses(db)
        if run == 1:
            assert "stalledflix.net" not in got and "ddalgitoon100.com" not in got, \
                "one failed visit is not a takedown"
            with db.connect() as c:
                stored = dict(c.execute(select(Page.url, Page.status).where(Page.run_id == 1)).all())
            assert stored["https://stalledflix.net/"] == 503, "the site's own answer is kept as a page"
            assert stored["https://ddalgitoon100.com/"] is None
        else:
            assert got["stalledflix.net"] == ["down"] and got["ddalgitoon100.com"] == ["down"], got
        assert got["torrentwang.net"][-1] == "active" and got["fmovix.xyz"][-1] == "active"
    db.dispose()


def test_the_proxy_refusing_every_tunnel_is_an_outage_not_dead_sites(own_sandbox, tmp_path, guarded_env):
    """CONNECT answered 502 for every host and nothing ever worked: the run fails; the same
    dead hosts after a site that worked are the sites' own failures (the working one still
    gets a tunnel)."""
    sb = own_sandbox
    config = write_config(tmp_path, sb, download_timeout=5.0, retries=0, concurrency=1)
    dead = "".join(f"https://no-such-host-{i}.net/\n" for i in range(4))
    seeds = tmp_path / "dead.txt"
    seeds.write_text(dead)
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "0", "--job", "dead")
    no_traceback(result)
    assert result.returncode == 1, messages(result.stderr)[-2000:]
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    (_, outcome, error), = runs(db)
    assert outcome == "failed" and "fails every host" in error and "none worked" in error, error
    assert facts(db)[0] == 0, "nothing recorded about the hosts"

    seeds.write_text("https://torrentwang.net/\n" + dead)
    again = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "0", "--job", "mixed")
    no_traceback(again)
    assert again.returncode == 0, messages(again.stderr)[-2000:]
    assert runs(db)[-1][1] == "ok"
    with db.connect() as c:
        failed = set(c.scalars(select(Page.url).where(Page.run_id == 2, Page.status.is_(None))))
    assert failed == {f"https://no-such-host-{i}.net/" for i in range(4)}, "the dead hosts are facts now"
    db.dispose()
