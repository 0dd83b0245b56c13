"""Retention: old pages, evidence and lookups go; facts and takedown evidence stay.

Every store test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace as NS

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from collector.cli import cli
from collector.cli.retention import prune_command
from spiders.evidence import verify, write_manifest
from storage.crawl import CrawlBatch, record_evidence_files, write_batch
from storage.db import open_engine, session_factory
from storage.enrichment import record_dns, record_lookups
from storage.models import (
    Base,
    CrawlRun,
    EvidenceFile,
    IndicatorSighting,
    Link,
    Lookup,
    Page,
    RunKind,
    TakedownRecord,
)
from storage.retention import PRUNED_NOTE, prune, record_takedown
from storage.takedown import takedown_packet

if "prune" not in cli.commands:
    cli.add_command(prune_command)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)   # the old run
T1 = T0 + timedelta(days=400)                  # the recent run
NOW = T1 + timedelta(days=10)
CUT = {"pages_before": NOW - timedelta(days=180), "evidence_before": NOW - timedelta(days=365),
       "lookups_before": NOW - timedelta(days=90)}
PRUNED_TABLES = {"pages", "links", "lookups", "evidence_files"}
GA = NS(type="ga", value="G-AAA111", context="gtag")


def warc(run: int, seq: int) -> str:
    return f"runs/{run:06d}/isop-{run:06d}-{seq:05d}.warc.gz"


def shot(run: int, name: str) -> str:
    return f"runs/{run:06d}/screenshots/{hashlib.sha256(name.encode()).hexdigest()[:32]}.png"


def page(url: str, at: datetime, warc_file: str | None, n: int, *, status: int = 200, indicators=(),
         links=()) -> NS:
    return NS(url=url, final_url=url, status=status, error=None, fetched_at=at, depth=0, content_type="text/html",
              content_length=100, content_sha256=f"{n:064x}", title=f"page {n}", language="en", rendered=False,
              redirects=[], links=[NS(url=u, kind="anchor", text="x") for u in links], indicators=list(indicators),
              warc=NS(file=warc_file, record_id=f"<urn:uuid:{n:032x}>", offset=n, length=10) if warc_file else None)


def verdict() -> NS:
    return NS(is_piracy=True, category="streaming", score=0.9, signals=("player",), version="test-1")


def write_files(evidence: Path, run: int, paths: list[str], at: datetime) -> list[tuple[str, str, str, int]]:
    """Files on disk, sealed by a manifest, as (kind, path, sha256, size) for the store."""
    rows = []
    counts = {}
    for i, rel in enumerate(paths):
        p = evidence / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(1000 + i)
        p.write_bytes(data)
        kind = "screenshot" if rel.endswith(".png") else "warc"
        if kind == "warc":
            counts[Path(rel).name] = 1
        rows.append((kind, rel, hashlib.sha256(data).hexdigest(), len(data)))
    manifest = write_manifest(evidence / "runs" / f"{run:06d}", record_counts=counts)
    data = manifest.read_bytes()
    rows.append(("manifest", manifest.relative_to(evidence).as_posix(), hashlib.sha256(data).hexdigest(), len(data)))
    return rows


def build(s, evidence: Path) -> dict:
    """Run 1 (old): a.com, b.com, c.com; run 2 (recent): a.com again. c.com gets a takedown."""
    r1 = CrawlRun(kind=RunKind.DISCOVERY, started_at=T0)
    r2 = CrawlRun(kind=RunKind.DISCOVERY, started_at=T1)
    s.add_all([r1, r2])
    s.flush()
    assert (r1.id, r2.id) == (1, 2)
    old = [
        page("https://a.com/", T0, warc(1, 1), 1, links=["https://a.com/x", "https://b.com/"]),
        page("https://a.com/x", T0 + timedelta(minutes=1), warc(1, 1), 2, indicators=[GA],
             links=["https://a.com/"]),
        page("https://b.com/old", T0 - timedelta(hours=1), warc(1, 2), 3, links=["https://b.com/"]),
        page("https://b.com/", T0, warc(1, 2), 4),                       # b.com's newest front page
        page("https://b.com/z", T0 + timedelta(hours=1), warc(1, 3), 5),  # b.com's newest page
        page("https://c.com/", T0 - timedelta(hours=2), warc(1, 4), 6),
        page("https://c.com/q", T0 - timedelta(hours=3), warc(1, 4), 7),
        page("https://c.com/gone", T0 - timedelta(hours=3), None, 8, status=404),
    ]
    write_batch(s, 1, CrawlBatch(pages=old, verdicts={"a.com": verdict(), "c.com": verdict()},
                                 screenshots=[NS(url="https://a.com/", path=shot(1, "a")),
                                              NS(url="https://c.com/", path=shot(1, "c"))]), T0)
    recent = [page("https://a.com/", T1, warc(2, 1), 11, links=["https://a.com/x"]),
              page("https://a.com/x", T1, warc(2, 1), 12, indicators=[GA])]
    write_batch(s, 2, CrawlBatch(pages=recent, verdicts={"a.com": verdict()},
                                 screenshots=[NS(url="https://a.com/", path=shot(2, "a"))]), T1)
    record_evidence_files(s, 1, write_files(evidence, 1, [warc(1, n) for n in (1, 2, 3, 4)]
                                            + [shot(1, "a"), shot(1, "c")], T0), T0)
    record_evidence_files(s, 2, write_files(evidence, 2, [warc(2, 1), shot(2, "a")], T1), T1)
    record_dns(s, [("a.com", "A", "192.0.2.1", 300), ("c.com", "A", "192.0.2.3", 300)], T0)
    record_lookups(s, [
        {"service": "dns", "target": "a.com A", "outcome": "ok", "at": T0},
        {"service": "site:dns", "target": "a.com", "outcome": "ok", "at": T0},
        {"service": "site:dns", "target": "a.com", "outcome": "ok", "at": T0 + timedelta(days=1)},  # latest: kept
        {"service": "whois", "target": "c.com", "outcome": "timeout", "at": T1},
    ], None)
    packet = takedown_packet(s, "c.com")
    assert {e["url"] for e in packet["evidence"]} == {"https://c.com/", "https://c.com/q"}
    takedown_id = record_takedown(s, packet, "md", rendered="# Takedown request: c.com\n")
    return {"takedown": takedown_id}


def counts(s) -> dict[str, int]:
    return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def urls(s) -> set[tuple[int, str]]:
    return set(s.execute(select(Page.run_id, Page.url)))


def on_disk(evidence: Path) -> set[str]:
    return {p.relative_to(evidence).as_posix() for p in evidence.rglob("*") if p.is_file()}


@pytest.fixture
def built(store, tmp_path):
    evidence = tmp_path / "evidence"
    Session = session_factory(store)
    with Session() as s, s.begin():
        ids = build(s, evidence)
    return Session, evidence, ids


def test_a_takedown_is_recorded_with_what_it_cited(built):
    Session, _, ids = built
    with Session() as s:
        record = s.get(TakedownRecord, ids["takedown"])
        assert record.format == "md" and record.created_at is not None
        assert record.packet_sha256 == hashlib.sha256(b"# Takedown request: c.com\n").hexdigest()
        cited = {e["url"]: e for e in record.evidence}
        page_ids = dict(s.execute(select(Page.url, Page.id).where(Page.url.like("https://c.com/%"))).all())
        assert {u: e["page_id"] for u, e in cited.items()} == {u: page_ids[u] for u in cited}
        assert cited["https://c.com/"]["screenshot"] == shot(1, "c")
        assert {e["warc_file"] for e in cited.values()} == {warc(1, 4)}
        assert cited["https://c.com/q"]["warc_file_sha256"] == s.scalar(
            select(EvidenceFile.sha256).where(EvidenceFile.path == warc(1, 4)))
        packet = takedown_packet(s, "c.com")
        second = record_takedown(s, packet, "json")
        assert s.get(TakedownRecord, second).packet_sha256 == hashlib.sha256(
            json.dumps(packet, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        with pytest.raises(LookupError):
            record_takedown(s, {**packet, "domain": "never-seen.example"}, "md")
        s.rollback()


def test_prune_keeps_facts_takedown_evidence_and_each_sites_newest_page(built):
    Session, evidence, _ = built
    with Session() as s:
        before, files_before = counts(s), on_disk(evidence)
        sighting_pages = s.execute(select(IndicatorSighting.first_page_id, IndicatorSighting.last_page_id)).one()
    with Session() as s, s.begin():
        report = prune(s, evidence, dry_run=False, **CUT)
    assert report.removed

    # pages: a.com's old ones go (it has newer), b.com keeps its newest page and newest front page
    # (b.com/old goes), c.com's cited pages stay (the uncited 404 goes)
    with Session() as s:
        after = counts(s)
        assert urls(s) == {(1, "https://b.com/"), (1, "https://b.com/z"), (1, "https://c.com/"),
                           (1, "https://c.com/q"), (2, "https://a.com/"), (2, "https://a.com/x")}
        assert report.pages == 4 and before["pages"] - after["pages"] == 4
        assert report.links == 4 and before["links"] - after["links"] == 4
        assert report.pages_held == 2 and report.pages_latest == 2
        assert s.scalar(select(func.count()).select_from(Link).where(
            Link.page_id.not_in(select(Page.id)))) == 0
        # the sighting's first page (run 1) is gone, the fact stays with its latest page
        first, last = s.execute(select(IndicatorSighting.first_page_id, IndicatorSighting.last_page_id)).one()
        assert first is None and last == sighting_pages[1]
        # lookups: the old dns lookup and the older site:dns marker go
        assert report.lookups == 2
        assert sorted(s.execute(select(Lookup.service, Lookup.at))) == [
            ("site:dns", T0 + timedelta(days=1)), ("whois", T1)]
        # facts: every other table unchanged
        assert {t: n for t, n in after.items() if t not in PRUNED_TABLES} == {
            t: n for t, n in before.items() if t not in PRUNED_TABLES}
        assert after["sites"] == 3 and after["indicators"] == 1 and after["dns_observations"] == 2
        assert after["classifications"] == 3 and after["takedowns"] == 1
        # evidence: run 1's first WARC (a.com's old pages only) and a.com's old screenshot go;
        # the WARC holding b.com's kept page, the cited WARC and screenshot, manifests stay
        pruned = {warc(1, 1), shot(1, "a")}
        assert set(report.paths) == pruned and report.evidence_files == 2 and report.files == 2
        assert report.bytes_freed == 1000 + 1004  # the sizes write_files gave them
        assert report.runs == [1] and report.files_missing == 0 and report.evidence_kept == 4
        assert not {p for (p,) in s.execute(select(EvidenceFile.path))} & pruned
        assert before["evidence_files"] - after["evidence_files"] == 2
    assert on_disk(evidence) == (files_before - pruned) | {f"runs/000001/{PRUNED_NOTE}"}

    # the note says what went, with the digests the manifest has
    note = json.loads((evidence / "runs/000001" / PRUNED_NOTE).read_text())
    manifest = {f["path"]: f for f in json.loads((evidence / "runs/000001/manifest.json").read_text())["files"]}
    assert note["run_id"] == 1 and {f["path"] for f in note["files"]} == {p.split("/", 2)[2] for p in pruned}
    for f in note["files"]:
        assert (f["sha256"], f["size"]) == (manifest[f["path"]]["sha256"], manifest[f["path"]]["size"])
    # verify: both runs intact, the pruned files are accounted for by the note ...
    assert verify(evidence, 2, deep=False) == []
    assert verify(evidence, 1, deep=False) == []
    # ... but a file removed without the note's say-so is still missing
    gone = next(p for p in on_disk(evidence) if p.startswith("runs/000001/") and p.endswith(".warc.gz"))
    kept_bytes = (evidence / gone).read_bytes()
    (evidence / gone).unlink()
    assert {(p.kind, p.path) for p in verify(evidence, 1, deep=False)} == {("missing", gone)}
    (evidence / gone).write_bytes(kept_bytes)

    # the takedown packet still has all its evidence
    with Session() as s:
        packet = takedown_packet(s, "c.com")
        assert {e["url"] for e in packet["evidence"]} == {"https://c.com/", "https://c.com/q"}
        assert all(e["warc_file_sha256"] for e in packet["evidence"])
        assert (evidence / packet["evidence"][0]["warc_file"]).is_file()

    # a second prune finds nothing left to do
    with Session() as s, s.begin():
        again = prune(s, evidence, dry_run=False, **CUT)
    assert (again.pages, again.links, again.evidence_files, again.lookups, again.bytes_freed) == (0, 0, 0, 0, 0)
    assert on_disk(evidence) == (files_before - pruned) | {f"runs/000001/{PRUNED_NOTE}"}


def test_a_dry_run_changes_nothing_and_reports_the_same(built):
    Session, evidence, _ = built
    with Session() as s:
        before, files_before = counts(s), on_disk(evidence)
    with Session() as s, s.begin():
        dry = prune(s, evidence, dry_run=True, **CUT)
    with Session() as s:
        assert counts(s) == before
    assert on_disk(evidence) == files_before and not dry.removed
    with Session() as s, s.begin():
        real = prune(s, evidence, dry_run=False, **CUT)
    fields = ("pages", "links", "lookups", "evidence_files", "files", "bytes_freed", "files_missing",
              "pages_held", "pages_latest", "evidence_kept", "runs", "paths")
    assert {f: getattr(dry, f) for f in fields} == {f: getattr(real, f) for f in fields}
    assert dry.dry_run and not real.dry_run and real.pages == 4


def test_a_rolled_back_prune_removes_no_file(built):
    Session, evidence, _ = built
    files_before = on_disk(evidence)
    with Session() as s:
        with s.begin():
            n_pages = s.scalar(select(func.count()).select_from(Page))
        s.begin()
        report = prune(s, evidence, dry_run=False, **CUT)
        assert report.pages == 4 and report.evidence_files == 2
        s.rollback()
        assert s.scalar(select(func.count()).select_from(Page)) == n_pages
        s.commit()  # a later commit of the same session does not remove them either
    assert on_disk(evidence) == files_before and not report.removed


def test_everything_old_goes_when_nothing_holds_it(built):
    """Later cut-offs: all of run 1 is old, but sites keep their newest pages and takedowns theirs."""
    Session, evidence, _ = built
    late = {k: T1 + timedelta(days=1) for k in CUT}
    with Session() as s, s.begin():
        report = prune(s, evidence, dry_run=False, **late)
    with Session() as s:
        assert urls(s) == {(1, "https://b.com/"), (1, "https://b.com/z"), (1, "https://c.com/"),
                           (1, "https://c.com/q"), (2, "https://a.com/"), (2, "https://a.com/x")}
        assert report.lookups == 3  # only the newest site:dns marker remains
    kept = on_disk(evidence)
    assert {warc(1, 2), warc(1, 3), warc(1, 4), shot(1, "c"), warc(2, 1), shot(2, "a")} <= kept
    assert {"runs/000001/manifest.json", "runs/000002/manifest.json"} <= kept


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOP_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'isop.db'}"
    monkeypatch.setenv("ISOP_STORAGE_URL", url)
    monkeypatch.setenv("ISOP_EVIDENCE_DIR", str(tmp_path / "evidence"))
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    engine = open_engine(url)
    with session_factory(engine)() as s, s.begin():
        build(s, tmp_path / "evidence")
    engine.dispose()
    return runner


def test_the_prune_command(runner, tmp_path):
    evidence = tmp_path / "evidence"
    files_before = on_disk(evidence)
    result = runner.invoke(cli, ["prune", "--help"])
    assert result.exit_code == 0 and "--dry-run" in result.output and "--force" in result.output

    # disabled by default: a real prune needs --force (or [retention] enabled = true)
    result = runner.invoke(cli, ["prune"])
    assert result.exit_code == 2 and "--force" in result.output

    result = runner.invoke(cli, ["prune", "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    dry = json.loads(result.stdout)
    assert dry["dry_run"] is True and dry["pages"] > 0 and on_disk(evidence) == files_before

    result = runner.invoke(cli, ["prune", "--dry-run", "--pages-after", "soon"])
    assert result.exit_code == 2 and "--pages-after" in result.output

    # run 1 (2026-01) is older than 30 days; the takedown's WARC stays, a.com's old one goes
    result = runner.invoke(cli, ["prune", "--force", "--pages-after", "30d", "--evidence-after", "30d",
                                 "--lookups-after", "30d"])
    assert result.exit_code == 0, result.output
    assert "pruned:" in result.output and "runs with pruned files" in result.output
    assert warc(1, 4) in on_disk(evidence) and warc(1, 1) not in on_disk(evidence)
    result = runner.invoke(cli, ["prune", "--force", "--pages-after", "30d", "--evidence-after", "30d",
                                 "--lookups-after", "30d", "--format", "json"])
    again = json.loads(result.stdout)
    assert (again["pages"], again["evidence_files"], again["lookups"]) == (0, 0, 0)


def test_the_config_enables_pruning(runner, tmp_path, monkeypatch):
    from collector.config import load_config

    if not hasattr(load_config(None), "retention"):
        pytest.skip("no [retention] section in the config yet")
    monkeypatch.setenv("ISOP_RETENTION_ENABLED", "true")
    monkeypatch.setenv("ISOP_RETENTION_EVIDENCE_AFTER", "30d")
    result = runner.invoke(cli, ["prune", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is False and warc(1, 1) in report["paths"]
    monkeypatch.setenv("ISOP_RETENTION_PAGES_AFTER", "often")
    assert runner.invoke(cli, ["prune", "--dry-run"]).exit_code == 2
