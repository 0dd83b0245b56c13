"""Retention: prune old pages, evidence files and lookups, never the facts or what a takedown cited.

What goes (``isop prune``, ``[retention]`` in the config):

- ``pages`` fetched before ``pages_before``, with their ``links`` (indicator sightings keep
  their facts; their ``first_page_id``/``last_page_id`` become NULL);
- evidence files (``evidence_files`` rows of kind ``warc`` and ``screenshot``, and the
  files under the evidence folder) created before ``evidence_before``;
- ``lookups`` made before ``lookups_before``.

What stays, whatever its age:

- **held** evidence: every page, WARC file and screenshot a recorded takedown packet cited
  (:func:`record_takedown`; ``takedowns.evidence``), and every page stored in a held WARC file;
- each site's newest page and its newest successful front page, so a site keeps evidence
  in its dossier and still counts as crawled;
- evidence files a kept page points at (a WARC file stays while any kept page is in it);
- run manifests (``manifest.json``/``manifest.sha256``): small, and the record of what
  was captured; a run whose files were pruned gets a ``pruned.json`` note next to its
  manifest listing each pruned file with its SHA-256, so a verifier can tell "pruned by
  policy" from "missing";
- each site's latest ``site:*`` lookup per service (when it was last enriched: the
  enrichment schedule reads it);
- every derived fact: sites, hosts, statuses, classifications, indicators and sightings,
  DNS, IPs, networks, ASNs, registrations, certificates, relations, downloads, clusters,
  crawl runs.

The caller owns the session and the transaction, as everywhere in :mod:`storage`. Rows are
deleted in the caller's transaction; files are removed only once that transaction commits
(an ``after_commit`` hook), so a rollback leaves the evidence folder untouched and a crash
after the commit leaves at worst files no row points at (never rows whose file is gone).
Deletes go in batches of at most :data:`BATCH` ids, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from storage.chunks import chunks
from storage.models import (
    EvidenceFile,
    IndicatorSighting,
    Link,
    Lookup,
    Page,
    Site,
    TakedownRecord,
)

BATCH = 5000
PRUNABLE_KINDS = ("warc", "screenshot")
PRUNED_NOTE = "pruned.json"
PRUNED_FORMAT = "isop-evidence-pruned/1"
_RUN_DIR_RE = re.compile(r"^[0-9]{6,}$")
_FRONT_PAGE_NOT = "%://%/_%"
"""``url NOT LIKE`` this: nothing after the first ``/`` past the host (``https://x.com/``)."""


# --- holds: what takedowns cited ---------------------------------------------------------


@dataclass
class Holds:
    """Evidence no retention ever removes: what takedown packets cited."""

    page_ids: set[int] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    """WARC files and screenshots, relative to the evidence folder."""


def takedown_holds(session: Session) -> Holds:
    holds = Holds()
    for evidence in session.scalars(select(TakedownRecord.evidence).execution_options(yield_per=1000)):
        for e in evidence or []:
            if e.get("page_id") is not None:
                holds.page_ids.add(int(e["page_id"]))
            holds.paths.update(p for p in (e.get("warc_file"), e.get("screenshot")) if p)
    return holds


def _canonical(packet: Mapping[str, Any]) -> bytes:
    return json.dumps(packet, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def record_takedown(session: Session, packet: Mapping[str, Any], fmt: str, *,
                    rendered: str | bytes | None = None) -> int:
    """Record a takedown packet (:func:`storage.takedown.takedown_packet`) as handed out; its id.

    The evidence it cites (pages, WARC files, screenshots) is held from then on.
    ``packet_sha256`` is the SHA-256 of ``rendered`` (the text handed out) when given, else
    of the packet's canonical JSON (sorted keys, no spaces). LookupError if the packet's site
    is not in the store.
    """
    from storage.crawl import sha256_text

    if not fmt or len(fmt) > 10:
        raise ValueError(f"takedown format {fmt!r}: expected a short name such as md or json")
    site_id = session.scalar(select(Site.id).where(Site.domain == packet["domain"]))
    if site_id is None:
        raise LookupError(f"{packet['domain']} is not in the store")
    entries = []
    for e in packet.get("evidence") or []:
        candidates = session.execute(
            select(Page.id, Page.fetched_at, Page.warc_file, Page.warc_record_id)
            .where(Page.site_id == site_id, Page.url_sha256 == sha256_text(e["url"]))).all()
        page_id = None
        for pid, fetched_at, warc_file, record_id in candidates:
            if e.get("warc_record_id") and (warc_file, record_id) == (e.get("warc_file"), e["warc_record_id"]):
                page_id = pid
                break
            if e.get("captured_at") and fetched_at.isoformat() == e["captured_at"]:
                page_id = pid
        entries.append({
            "page_id": page_id, "url": e["url"], "captured_at": e.get("captured_at"),
            "warc_file": e.get("warc_file"), "warc_record_id": e.get("warc_record_id"),
            "warc_file_sha256": e.get("warc_file_sha256"), "screenshot": e.get("screenshot"),
            "screenshot_sha256": e.get("screenshot_sha256"),
        })
    data = rendered.encode() if isinstance(rendered, str) else rendered
    digest = hashlib.sha256(data if data is not None else _canonical(packet)).hexdigest()
    record = TakedownRecord(site_id=site_id, format=fmt, packet_sha256=digest, evidence=entries)
    session.add(record)
    session.flush()
    return record.id


# --- the report ---------------------------------------------------------------------------


@dataclass
class PruneReport:
    """What a prune removed (or, in a dry run, would remove) and what it kept."""

    dry_run: bool
    pages_before: datetime
    evidence_before: datetime
    lookups_before: datetime
    pages: int = 0
    links: int = 0
    lookups: int = 0
    evidence_files: int = 0
    """Rows of ``evidence_files`` removed."""
    files: int = 0
    """Files on disk removed (rows whose file was already gone are not counted)."""
    bytes_freed: int = 0
    files_missing: int = 0
    """Rows pruned whose file was not on disk any more."""
    pages_held: int = 0
    """Old pages kept because a takedown cited them (or their WARC file)."""
    pages_latest: int = 0
    """Old pages kept as a site's newest page or newest front page."""
    evidence_kept: int = 0
    """Old evidence files kept: cited by a takedown or pointed at by a kept page."""
    runs: list[int] = field(default_factory=list)
    """Runs that lost files (each gets a ``pruned.json`` note)."""
    paths: list[str] = field(default_factory=list)
    """The evidence files pruned, relative to the evidence folder."""
    removed: bool = False
    """Files actually removed: set once the transaction committed (never in a dry run)."""

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        for k in ("pages_before", "evidence_before", "lookups_before"):
            doc[k] = doc[k].isoformat()
        return doc


@dataclass(frozen=True)
class _Doomed:
    run_id: int | None
    kind: str
    path: str
    sha256: str
    size: int


# --- pruning ------------------------------------------------------------------------------


def _newest_per_site(session: Session, before: datetime, *conds) -> list[tuple[int, str | None, str | None]]:
    """Per site, the newest page matching ``conds``, if it is older than ``before``."""
    rn = func.row_number().over(partition_by=Page.site_id,
                                order_by=(Page.fetched_at.desc(), Page.id.desc())).label("rn")
    sub = select(Page.id, Page.fetched_at, Page.warc_file, Page.screenshot, rn).where(*conds).subquery()
    return [tuple(r) for r in session.execute(
        select(sub.c.id, sub.c.warc_file, sub.c.screenshot).where(sub.c.rn == 1, sub.c.fetched_at < before))]


def _kept_old_pages(session: Session, before: datetime, holds: Holds
                    ) -> tuple[dict[int, tuple[str | None, str | None]], set[int]]:
    """Old pages that stay (id -> (warc_file, screenshot)) and which of them are held."""
    keep: dict[int, tuple[str | None, str | None]] = {}
    held: set[int] = set()
    cols = (Page.id, Page.warc_file, Page.screenshot)
    for ids in chunks(sorted(holds.page_ids)):
        for pid, warc, shot in session.execute(select(*cols).where(Page.id.in_(ids), Page.fetched_at < before)):
            keep[pid] = (warc, shot)
            held.add(pid)
    for paths in chunks(sorted(holds.paths)):
        for col in (Page.warc_file, Page.screenshot):
            for pid, warc, shot in session.execute(select(*cols).where(col.in_(paths), Page.fetched_at < before)):
                keep[pid] = (warc, shot)
                held.add(pid)
    for pid, warc, shot in _newest_per_site(session, before):
        keep.setdefault(pid, (warc, shot))
    for pid, warc, shot in _newest_per_site(session, before, Page.status == 200,
                                            Page.url.not_like(_FRONT_PAGE_NOT)):
        keep.setdefault(pid, (warc, shot))
    return keep, held


def _prune_pages(session: Session, report: PruneReport, keep: Mapping[int, Any]) -> None:
    last = 0
    while True:
        ids = list(session.scalars(select(Page.id).where(Page.fetched_at < report.pages_before, Page.id > last)
                                   .order_by(Page.id).limit(BATCH)))
        if not ids:
            return
        last = ids[-1]
        doomed = [i for i in ids if i not in keep]
        if not doomed:
            continue
        report.pages += len(doomed)
        if report.dry_run:
            report.links += session.scalar(select(func.count()).select_from(Link).where(Link.page_id.in_(doomed)))
            continue
        # Explicit rather than left to ON DELETE: the same on a connection without FK enforcement.
        report.links += session.execute(delete(Link).where(Link.page_id.in_(doomed))
                                        .execution_options(synchronize_session=False)).rowcount
        for col in (IndicatorSighting.first_page_id, IndicatorSighting.last_page_id):
            session.execute(update(IndicatorSighting).where(col.in_(doomed)).values({col.key: None})
                            .execution_options(synchronize_session=False))
        session.execute(delete(Page).where(Page.id.in_(doomed)).execution_options(synchronize_session=False))


def _kept_paths(session: Session, pages_before: datetime, holds: Holds,
                keep: Mapping[int, tuple[str | None, str | None]]) -> set[str]:
    """Evidence paths that stay: held, or pointed at by a page that stays."""
    paths = set(holds.paths)
    for warc, shot in keep.values():
        paths.update(p for p in (warc, shot) if p)
    for col in (Page.warc_file, Page.screenshot):
        paths.update(session.scalars(select(col).where(Page.fetched_at >= pages_before, col.is_not(None)).distinct()))
    return paths


def _prune_evidence_rows(session: Session, report: PruneReport, kept_paths: set[str]) -> list[_Doomed]:
    doomed_all: list[_Doomed] = []
    last = 0
    while True:
        rows = session.execute(
            select(EvidenceFile.id, EvidenceFile.run_id, EvidenceFile.kind, EvidenceFile.path,
                   EvidenceFile.sha256, EvidenceFile.size)
            .where(EvidenceFile.created_at < report.evidence_before, EvidenceFile.kind.in_(PRUNABLE_KINDS),
                   EvidenceFile.id > last)
            .order_by(EvidenceFile.id).limit(BATCH)).all()
        if not rows:
            return doomed_all
        last = rows[-1].id
        doomed = [r for r in rows if r.path not in kept_paths]
        report.evidence_kept += len(rows) - len(doomed)
        if not doomed:
            continue
        doomed_all += [_Doomed(r.run_id, r.kind, r.path, r.sha256, r.size) for r in doomed]
        if not report.dry_run:
            session.execute(delete(EvidenceFile).where(EvidenceFile.id.in_([r.id for r in doomed]))
                            .execution_options(synchronize_session=False))


def _prune_lookups(session: Session, report: PruneReport) -> None:
    rn = func.row_number().over(partition_by=(Lookup.target, Lookup.service),
                                order_by=(Lookup.at.desc(), Lookup.id.desc())).label("rn")
    sub = select(Lookup.id, Lookup.at, rn).where(Lookup.service.like("site:%")).subquery()
    keep = set(session.scalars(select(sub.c.id).where(sub.c.rn == 1, sub.c.at < report.lookups_before)))
    last = 0
    while True:
        ids = list(session.scalars(select(Lookup.id).where(Lookup.at < report.lookups_before, Lookup.id > last)
                                   .order_by(Lookup.id).limit(BATCH)))
        if not ids:
            return
        last = ids[-1]
        doomed = [i for i in ids if i not in keep]
        report.lookups += len(doomed)
        if doomed and not report.dry_run:
            session.execute(delete(Lookup).where(Lookup.id.in_(doomed)).execution_options(synchronize_session=False))


def _safe_file(evidence_dir: Path, rel: str) -> Path | None:
    """The file a stored relative path names, if it is a plain path inside the evidence folder."""
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") for part in p.parts) or "\x00" in rel:
        return None
    return evidence_dir.joinpath(*p.parts)


def _run_dir_of(rel: str) -> tuple[str, str] | None:
    """``runs/000042/x.warc.gz`` -> (``runs/000042``, ``x.warc.gz``)."""
    parts = PurePosixPath(rel).parts
    if len(parts) >= 3 and parts[0] == "runs" and _RUN_DIR_RE.match(parts[1]):
        return f"{parts[0]}/{parts[1]}", "/".join(parts[2:])
    return None


def _on_disk(evidence_dir: Path, rel: str) -> int | None:
    """Size of the regular file (not a symlink) at ``rel``, or None."""
    path = _safe_file(evidence_dir, rel)
    if path is None or path.is_symlink() or not path.is_file():
        return None
    return path.stat().st_size


def _write_note(run_dir: Path, doomed: list[tuple[str, _Doomed]], at: datetime) -> None:
    """Add the pruned files to ``run_dir/pruned.json`` (written atomically)."""
    note = run_dir / PRUNED_NOTE
    files: dict[str, dict[str, Any]] = {}
    run_id = int(run_dir.name)
    if note.is_file() and not note.is_symlink():
        try:
            old = json.loads(note.read_text("utf-8"))
            files = {f["path"]: f for f in old.get("files", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            files = {}
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for rel_run, d in doomed:
        files.setdefault(rel_run, {"path": rel_run, "kind": d.kind, "sha256": d.sha256, "size": d.size,
                                   "pruned_at": stamp, "reason": "retention"})
    doc = {"format": PRUNED_FORMAT, "run_id": run_id,
           "note": "files removed by isop's retention policy; their digests are in manifest.json",
           "files": sorted(files.values(), key=lambda f: f["path"])}
    data = (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode("ascii")
    tmp = run_dir / f".{PRUNED_NOTE}.tmp"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, note)


def remove_files(evidence_dir: Path, doomed: list[_Doomed], report: PruneReport) -> None:
    """Note the pruned files in each run's ``pruned.json``, then unlink them."""
    evidence_dir = Path(evidence_dir)
    by_run: dict[str, list[tuple[str, _Doomed]]] = {}
    loose: list[_Doomed] = []
    for d in doomed:
        where = _run_dir_of(d.path)
        if where is None:
            loose.append(d)
        else:
            by_run.setdefault(where[0], []).append((where[1], d))
    now = datetime.now(UTC)
    for run_rel, items in sorted(by_run.items()):
        run_dir = _safe_file(evidence_dir, run_rel)
        if run_dir is not None and run_dir.is_dir() and not run_dir.is_symlink():
            _write_note(run_dir, items, now)
    for d in doomed:
        path = _safe_file(evidence_dir, d.path)
        if path is not None and not path.is_symlink() and path.is_file():
            path.unlink()
    report.removed = True


def _schedule_removal(session: Session, evidence_dir: Path, doomed: list[_Doomed], report: PruneReport) -> None:
    state = {"done": False}

    def on_commit(_session: Session) -> None:
        if not state["done"]:
            state["done"] = True
            remove_files(evidence_dir, doomed, report)

    def on_rollback(_session: Session) -> None:
        state["done"] = True

    event.listen(session, "after_commit", on_commit)
    event.listen(session, "after_rollback", on_rollback)


def prune(session: Session, evidence_dir: Path, *, pages_before: datetime, evidence_before: datetime,
          lookups_before: datetime, dry_run: bool) -> PruneReport:
    """Prune what is older than the cut-offs (see the module's docstring for what stays).

    A dry run changes nothing and reports the same counts a real run would. A real run
    deletes rows in the session's transaction and removes files when it commits
    (``report.removed`` then becomes True).
    """
    evidence_dir = Path(evidence_dir)
    report = PruneReport(dry_run, pages_before, evidence_before, lookups_before)
    holds = takedown_holds(session)
    keep, held = _kept_old_pages(session, pages_before, holds)
    report.pages_held = len(held)
    report.pages_latest = len(keep) - len(held)
    kept_paths = _kept_paths(session, pages_before, holds, keep)
    _prune_pages(session, report, keep)
    doomed = _prune_evidence_rows(session, report, kept_paths)
    report.evidence_files = len(doomed)
    for d in doomed:
        size = _on_disk(evidence_dir, d.path)
        if size is None:
            report.files_missing += 1
        else:
            report.files += 1
            report.bytes_freed += size
    report.paths = sorted(d.path for d in doomed)
    report.runs = sorted({d.run_id for d in doomed if d.run_id is not None})
    _prune_lookups(session, report)
    if not dry_run and doomed:
        _schedule_removal(session, evidence_dir, doomed, report)
    return report


def cutoffs(now: datetime, pages_after: float, evidence_after: float, lookups_after: float
            ) -> dict[str, datetime]:
    """Cut-off times from ages in seconds (``[retention] pages_after`` and friends, parsed)."""
    from datetime import timedelta

    return {"pages_before": now - timedelta(seconds=pages_after),
            "evidence_before": now - timedelta(seconds=evidence_after),
            "lookups_before": now - timedelta(seconds=lookups_after)}
