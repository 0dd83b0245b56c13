"""Discovery and targeted crawls of the sandbox world, end to end.

The crawl runs as ``isop crawl`` in a subprocess (with the network guard installed in
it), against the session's sandbox, into a SQLite store; the tests read the store, the
evidence folder and the exit codes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.world_crawl import WORLD, isop, write_config
from sqlalchemy import create_engine, func, select, text

from storage.models import (
    CrawlRun,
    Download,
    Indicator,
    Link,
    Page,
    Site,
)


@pytest.fixture(scope="session")
def discovery(sandbox, tmp_path_factory):
    """One discovery crawl of the world from its seeds, shared by the tests below."""
    tmp = tmp_path_factory.mktemp("discovery")
    config = write_config(tmp, sandbox, max_pages=1500, site_pages=40, depth=5, download_timeout=10.0,
                          render_max_pages=20)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent / "guard"))
    env.pop("ISOP_CONFIG", None)
    result = isop(["crawl", "--seeds", str(WORLD.seeds_path())], config, env, tmp)
    engine = create_engine(f"sqlite:///{tmp / 'isop.db'}")
    yield result, engine, tmp
    engine.dispose()


def sites_crawled(engine) -> set[str]:
    with engine.connect() as c:
        return set(c.scalars(select(Site.domain).join(Page, Page.site_id == Site.id).distinct()))


def test_discovery_exits_ok_and_records_the_run(discovery):
    result, engine, _ = discovery
    assert result.returncode == 0, result.stdout + result.stderr
    assert "flagged sites" in result.stdout
    assert "network guard" not in result.stderr
    with engine.connect() as c:
        run = c.execute(select(CrawlRun)).one()
    assert run.outcome == "ok" and run.finished_at is not None
    assert run.counts["isop/pages/stored"] > 50


def test_every_reachable_piracy_site_is_found(discovery):
    _, engine, _ = discovery
    expected = {d.name for d in WORLD.domains.values()
                if d.truth.piracy and d.sites and d.name != "hostile-range.net"
                and not all(s.redirect for s in d.sites) and not d.faults.dns}
    found = sites_crawled(engine)
    assert expected - found == set()


def test_classification_precision_and_recall_on_the_world(discovery):
    from collector.sandbox.grading import grade
    from storage.db import session_factory

    _, engine, _ = discovery
    with session_factory(engine)() as session:
        g = grade(session, WORLD)
    print(g.summary(), *g.notes, sep="\n  ")
    assert g.precision >= 0.9, g.notes
    assert g.recall >= 0.9, g.notes


def test_hard_negatives_stay_negative(discovery):
    from storage.db import session_factory
    from storage.queries import latest_verdicts

    _, engine, _ = discovery
    with session_factory(engine)() as session:
        verdicts = {v.domain: v for v in latest_verdicts(session)}
    negatives = [d.name for d in WORLD.domains.values() if d.sites and not d.truth.piracy and d.name in verdicts]
    assert len(negatives) >= 6
    assert [n for n in negatives if verdicts[n].is_piracy] == []


def test_hop_chain_redirects_notices_and_numbered_successor(discovery):
    _, engine, _ = discovery
    with engine.connect() as c:
        rows = c.execute(text("""
            SELECT f.domain, t.domain, r.kind FROM site_relations r
            JOIN sites f ON f.id = r.from_site_id JOIN sites t ON t.id = r.to_site_id""")).all()
    relations = {(f, t, k) for f, t, k in rows}
    assert ("baytorrents.to", "baytorrents.cc", "redirect") in relations
    assert ("baytorrents.cc", "baytorrents.se", "announced") in relations
    assert ("ddalgitoon103.com", "ddalgitoon104.com", "numbered") in relations
    assert any(f == "ddalgitoon101.com" and k == "redirect" for f, _, k in relations)


def test_javascript_only_links_are_rendered_and_followed(discovery):
    _, engine, _ = discovery
    with engine.connect() as c:
        rendered = c.scalar(select(func.count()).select_from(Page).where(Page.rendered.is_(True)))
        js_links = set(c.scalars(select(Link.target_host).where(Link.kind == "js")))
    assert rendered >= 1
    assert any(h and h.endswith("gudanglaguz.xyz") for h in js_links)
    assert "gudanglaguz.xyz" in sites_crawled(engine)


def test_trap_and_big_site_stay_within_budget(discovery):
    _, engine, _ = discovery
    with engine.connect() as c:
        per_site = dict(c.execute(select(Site.domain, func.count(Page.id)).join(Page, Page.site_id == Site.id)
                                  .group_by(Site.domain)).all())
        run = c.execute(select(CrawlRun)).one()
    assert per_site["cinemadispatch.com"] <= 40
    assert max(per_site.values()) <= 40 + 5  # renders and retries of the same URLs are exempt
    assert sum(v for k, v in run.counts.items() if k.startswith("isop/budget/")) > 0


def test_indicators_found_and_look_alikes_rejected(discovery):
    _, engine, _ = discovery
    with engine.connect() as c:
        found = set(c.execute(select(Indicator.type, Indicator.value)).all())
        shared = c.execute(text("""
            SELECT i.type, i.value, count(DISTINCT s.site_id) FROM indicators i
            JOIN indicator_sightings s ON s.indicator_id = i.id GROUP BY i.id HAVING count(DISTINCT s.site_id) > 1
        """)).all()
    types = {t for t, _ in found}
    assert {"ga", "adsense", "btc", "eth", "telegram", "favicon_mmh3"} <= types
    assert shared, "the operator network shares identifiers across sites"
    # bookzlib.me's FAQ carries look-alikes that fail validation
    values = {v for _, v in found}
    assert "1QG1rxve9Wz4NwnAsjz7TmL47C3XYLS72t" in values
    for fake in ("1QG1rxve9Wz4NwnAsjz7TmL47C3XYLS72A", "bc1qm6y3fany39guxzmmuravwaq29a4nfapcpcfe5q",
                 "G-READER", "G-SERIES", "G-FORCES"):
        assert fake not in values and fake.lower() not in values


def test_downloads_are_metadata_only(discovery):
    _, engine, tmp = discovery
    with engine.connect() as c:
        downloads = c.execute(select(Download.url, Download.sha256, Download.size)).all()
    assert downloads
    assert not list(tmp.rglob("*.exe")) and not list(tmp.rglob("*.apk"))


def test_evidence_is_written_and_verifies(discovery):
    _, engine, tmp = discovery
    from spiders.evidence import verify

    warcs = list((tmp / "evidence").rglob("*.warc.gz"))
    assert warcs
    assert verify(tmp / "evidence") == []
    with engine.connect() as c:
        missing = c.scalar(select(func.count()).select_from(Page)
                           .where(Page.status.is_not(None), Page.warc_file.is_(None)))
    assert missing == 0


def test_a_malformed_seed_file_is_reported_by_line(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox)
    bad = tmp_path / "bad-seeds.txt"
    bad.write_text("# only bad lines\nftp://x.example/\nhttp://bad host/\n\x00\n")
    result = isop(["crawl", "--seeds", str(bad)], config, guarded_env, tmp_path, timeout=120)
    assert result.returncode == 2
    assert "no valid URL" in result.stderr
    missing = isop(["crawl", "--seeds", str(tmp_path / "nope.txt")], config, guarded_env, tmp_path, timeout=120)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_a_second_run_of_the_same_job_is_locked_out(sandbox, tmp_path, guarded_env):
    from collector.locks import JobLock

    config = write_config(tmp_path, sandbox)
    with JobLock(tmp_path / "data" / "locks", "nightly"):
        result = isop(["crawl", "--url", "https://streamora.com/", "--job", "nightly"], config, guarded_env,
                      tmp_path, timeout=120)
    assert result.returncode == 3
    assert "already running" in result.stderr


def test_hostile_pages_are_recorded_not_fatal(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox, download_timeout=4.0, max_response_bytes=2_000_000, retries=0)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://hostile-range.net/\n")
    result = isop(["crawl", "--seeds", str(seeds), "--max-pages", "60"], config, guarded_env, tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with engine.connect() as c:
        pages = c.execute(select(Page.url, Page.status, Page.error, Page.title)).all()
    engine.dispose()
    errors = [p for p in pages if p.error]
    assert errors, "the huge, slow and looping pages are recorded as failed fetches"
    assert any(p.status == 200 for p in pages)


def children_of(pid: int) -> list[int]:
    """Python child processes of ``pid`` (its analysis workers), from /proc."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid) and "python" in fields.get("Name", ""):
            out.append(int(status.parent.name))
    return out


def test_killed_crawl_resumes_without_loss_or_duplicates(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox, concurrency=2, per_domain_concurrency=1, url_shape_limit=10000,
                          autothrottle=False)
    args = ["crawl", "--url", "https://cinemadispatch.com/archive/", "--max-pages", "150", "--job", "resume-test"]
    proc = subprocess.Popen([sys.executable, "-m", "collector.cli", "--config", str(config), *args],
                            env=guarded_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            with db.connect() as c:
                stored = c.scalar(select(func.count()).select_from(Page))
        except Exception:  # noqa: BLE001 - the store may not exist yet
            continue
        if stored >= 30:
            break
    assert proc.poll() is None, "the crawl finished before it could be killed"
    workers = children_of(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert workers and not any(Path(f"/proc/{pid}").exists() for pid in workers), \
        "the analysis workers of a killed crawl leave too"
    with db.connect() as c:
        before = set(c.scalars(select(Page.url)))
    assert len(before) >= 30

    result = subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(config), *args],
                            env=guarded_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(resumed)" in result.stdout
    with db.connect() as c:
        urls = c.execute(select(Page.url, Page.rendered)).all()
        runs = c.execute(select(CrawlRun.outcome)).all()
    db.dispose()
    assert [r.outcome for r in runs] == ["ok"]
    assert len(urls) == len(set(urls)), "no page stored twice"
    assert before <= {u for u, _ in urls}, "nothing stored before the kill is lost"
    assert len({u for u, _ in urls}) >= 140, "the resumed run finishes the budget"
    from spiders.evidence import verify

    assert verify(tmp_path / "evidence") == [], "evidence of both halves of the run verifies"


def test_scrapy_crawl_from_the_repo_root_uses_the_same_pipelines(sandbox, tmp_path, guarded_env):
    repo = Path(__file__).resolve().parents[1]
    db = tmp_path / "scrapy.db"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "discover", "-a", "urls=https://rlsbay.net/",
         "-s", f"ISOP_STORAGE_URL=sqlite:///{db}", "-s", f"ISOP_PROXY={sandbox.proxy_url}",
         "-s", f"ISOP_RESOLVERS={sandbox.resolvers[0]}", "-s", f"ISOP_EVIDENCE_DIR={tmp_path / 'evidence'}",
         "-s", "ISOP_MAX_PAGES=15", "-s", "ISOP_RENDER_ENABLED=false", "-s", "ISOP_SCREENSHOTS=false",
         "-s", "LOG_LEVEL=WARNING"],
        cwd=repo, env=guarded_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as c:
        run = c.execute(select(CrawlRun)).one()
        pages = c.scalar(select(func.count()).select_from(Page))
        flagged = c.execute(text("SELECT s.domain FROM classifications c JOIN sites s ON s.id = c.site_id "
                                 "WHERE c.is_piracy")).scalars().all()
    engine.dispose()
    assert run.job == "scrapy" and run.outcome == "ok"
    assert 1 <= pages <= 15
    assert "rlsbay.net" in flagged
    assert list((tmp_path / "evidence").rglob("manifest.json"))


def test_targeted_crawl_stays_on_the_site_and_its_hops(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox, render=False, screenshots=False)
    result = isop(["crawl", "--url", "https://baytorrents.to/", "--max-pages", "60"], config, guarded_env,
                  tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    crawled = sites_crawled(engine)
    with engine.connect() as c:
        kind = c.scalar(select(CrawlRun.kind))
    engine.dispose()
    assert kind == "targeted"
    assert {"baytorrents.cc", "baytorrents.se"} <= crawled, "follows the redirect and the announced move"
    assert crawled <= {"baytorrents.to", "baytorrents.cc", "baytorrents.se"}, crawled


def test_the_operator_network_is_one_cluster(discovery):
    from storage.clusters import network_of

    _, engine, _ = discovery
    operator = {d.name for d in WORLD.domains.values() if d.truth.operator == "nightjar"}
    assert len(operator) >= 3
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        nets = {network_of(session, name)["cluster"] for name in operator}
        members = set(network_of(session, sorted(operator)[0])["sites"])
    assert len(nets) == 1 and None not in nets, "the crawl stored one cluster for the operator's sites"
    assert members == operator, "no site joins the operator's network for a shared CDN, hub or ad network"


def test_analyst_commands_on_the_crawled_store(discovery, guarded_env):
    import json

    _, _, tmp = discovery
    config = tmp / "isop.toml"
    r = isop(["sites", "--piracy", "--format", "json"], config, guarded_env, tmp)
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)
    assert listed and all(s["is_piracy"] for s in listed)
    assert "fmovix.xyz" in {s["domain"] for s in listed}
    r = isop(["network", "fmovix.xyz", "--format", "json"], config, guarded_env, tmp)
    assert r.returncode == 0, r.stderr
    assert {"fmovix.xyz", "rlsbay.net"} <= set(json.loads(r.stdout)["sites"])
    assert isop(["network", "a..b"], config, guarded_env, tmp).returncode == 2
    assert isop(["network", "never-seen.example"], config, guarded_env, tmp).returncode == 1
    r = isop(["export", "--output", str(tmp / "export.json"), "--piracy"], config, guarded_env, tmp)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp / "export.json").read_text())
    assert {s["domain"] for s in doc["sites"]} == {s["domain"] for s in listed}


def test_takedown_packet_has_reasons_and_verifiable_evidence(discovery, guarded_env):
    import json

    from collector.writers.markdown import md, to_markdown

    _, engine, tmp = discovery
    r = isop(["takedown", "fmovix.xyz", "--format", "json"], tmp / "isop.toml", guarded_env, tmp)
    assert r.returncode == 0, r.stderr
    packet = json.loads(r.stdout)
    assert packet["classification"]["is_piracy"] and packet["classification"]["signals"]
    first = packet["evidence"][0]
    assert first["url"] == "https://fmovix.xyz/" and first["screenshot"] and first["screenshot_sha256"]
    import hashlib

    for e in packet["evidence"]:
        warc = tmp / "evidence" / e["warc_file"]
        assert hashlib.sha256(warc.read_bytes()).hexdigest() == e["warc_file_sha256"] or \
            e["warc_file_sha256"] is None, "the WARC's recorded hash is the file's (when sealed)"
    assert len({e["url"] for e in packet["evidence"]}) == len(packet["evidence"])
    assert isop(["takedown", "never-seen.example"], tmp / "isop.toml", guarded_env, tmp).returncode == 1
    hostile = dict(packet, evidence=[dict(first, title="x", url="https://e.x/<script>alert(1)</script>[a](b)*c*")])
    text = to_markdown(hostile)
    assert "<script>" not in text and "&lt;script&gt;" in text and "\\[a\\]" in text and "\\*c\\*" in text
    assert md(None) == "-"
