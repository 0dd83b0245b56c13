"""The verifier: is the evidence on disk still what the manifests say it was?"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from spiders.evidence.manifest import parse_manifest, read_sum
from spiders.evidence.paths import (
    MANIFEST,
    MANIFEST_SUM,
    RUN_DIR_RE,
    RUNS,
    run_dir,
    run_id_of,
    sha256_file,
)
from spiders.evidence.records import scan_warc

PROBLEM_KINDS = frozenset({"missing", "hash_mismatch", "size_mismatch", "unlisted",
                           "bad_record_digest", "unreadable", "manifest_tampered"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the evidence.

    ``path`` is relative to the evidence directory; ``kind`` one of
    :data:`PROBLEM_KINDS`; ``detail`` says what exactly, for a human.
    """

    path: str
    kind: str
    detail: str


def verify(evidence_dir: Path, run_id: int | None = None, *, deep: bool = True) -> list[Problem]:
    """Check one run (``run_id``) or every run against its manifest; [] if all is intact.

    Every listed file is re-hashed (size and SHA-256); files present but not listed are
    reported, as is a manifest that no longer matches ``manifest.sha256``. ``deep`` also
    reads every WARC record again: gzip members complete with correct CRCs, and each
    record's ``WARC-Block-Digest`` and ``WARC-Payload-Digest``.
    """
    evidence_dir = Path(evidence_dir)
    if run_id is not None:
        rd = run_dir(evidence_dir, run_id)
        if not rd.is_dir() or rd.is_symlink():
            return [Problem(_rel(evidence_dir, rd), "missing", "no such run directory")]
        return _verify_run(evidence_dir, rd, deep)
    runs = evidence_dir / RUNS
    if not runs.is_dir():
        return []
    problems: list[Problem] = []
    for entry in sorted(runs.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and RUN_DIR_RE.match(entry.name):
            problems += _verify_run(evidence_dir, entry, deep)
        else:
            problems.append(Problem(_rel(evidence_dir, entry), "unlisted",
                                    "not a run directory"))
    return problems


def _rel(evidence_dir: Path, path: Path) -> str:
    return path.relative_to(evidence_dir).as_posix()


PRUNED_NOTE = "pruned.json"
"""Written by retention (storage/retention.py) into a run folder: the files it removed by
policy, each with the SHA-256 and size the manifest gave it."""


def _pruned(rd: Path) -> dict[str, tuple[str, int]]:
    """Files the run's retention note says were pruned: path -> (sha256, size)."""
    import json

    try:
        doc = json.loads((rd / PRUNED_NOTE).read_text(encoding="utf-8"))
        return {str(f["path"]): (str(f["sha256"]), int(f["size"])) for f in doc.get("files", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _verify_run(evidence_dir: Path, rd: Path, deep: bool) -> list[Problem]:
    manifest_path, sum_path = rd / MANIFEST, rd / MANIFEST_SUM
    m_rel = _rel(evidence_dir, manifest_path)
    if not manifest_path.is_file():
        return [Problem(m_rel, "missing", "no manifest: run not sealed (see recover())")]
    problems: list[Problem] = []
    try:
        data = manifest_path.read_bytes()
    except OSError as e:
        return [Problem(m_rel, "unreadable", f"{type(e).__name__}: {e.strerror}")]
    if not sum_path.is_file():
        problems.append(Problem(_rel(evidence_dir, sum_path), "missing",
                                "the manifest's digest file is missing"))
    else:
        try:
            expected = read_sum(rd)
        except (ValueError, UnicodeDecodeError) as e:
            problems.append(Problem(_rel(evidence_dir, sum_path), "manifest_tampered", str(e)))
        else:
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                problems.append(Problem(m_rel, "manifest_tampered",
                                        f"sha256 {actual}, {MANIFEST_SUM} says {expected}"))
    try:
        manifest = parse_manifest(data)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        problems.append(Problem(m_rel, "unreadable", f"{type(e).__name__}: {e}"))
        return problems
    if manifest.run_id != run_id_of(rd):
        problems.append(Problem(m_rel, "manifest_tampered",
                                f"lists run {manifest.run_id}, in the directory of {rd.name}"))
    listed: set[str] = set()
    pruned = _pruned(rd)
    for f in manifest.files:
        listed.add(f.path)
        path = rd / f.path
        rel = _rel(evidence_dir, path)
        if path.is_symlink() or not path.is_file():
            if pruned.get(f.path) == (f.sha256, f.size) and not path.is_symlink():
                continue  # removed by the retention policy, as its note records
            problems.append(Problem(rel, "missing", "listed in the manifest, not on disk"))
            continue
        try:
            digest, size = sha256_file(path)
        except OSError as e:
            problems.append(Problem(rel, "unreadable", f"{type(e).__name__}: {e.strerror}"))
            continue
        if size != f.size:
            problems.append(Problem(rel, "size_mismatch", f"{size} bytes, manifest says {f.size}"))
        elif digest != f.sha256:
            problems.append(Problem(rel, "hash_mismatch",
                                    f"sha256 {digest}, manifest says {f.sha256}"))
        if deep and f.kind == "warc":
            try:
                scan = scan_warc(path, limit=f.complete_bytes)
            except OSError as e:
                problems.append(Problem(rel, "unreadable", f"{type(e).__name__}: {e.strerror}"))
                continue
            problems += [Problem(rel, i.kind, f"offset {i.offset}: {i.detail}")
                         for i in scan.issues]
    for root, dirs, files in os.walk(rd, followlinks=False):
        base = Path(root)
        for name in sorted(files + [d for d in dirs if (base / d).is_symlink()]):
            path = base / name
            rel_run = path.relative_to(rd).as_posix()
            if rel_run in listed or rel_run in (MANIFEST, MANIFEST_SUM) or (rel_run == PRUNED_NOTE and pruned):
                continue
            what = "symbolic link" if path.is_symlink() else "file"
            problems.append(Problem(_rel(evidence_dir, path), "unlisted",
                                    f"{what} not in the manifest"))
    return problems
