"""A run's manifest: every file of the run with its SHA-256, size and record count.

``runs/<run>/manifest.json`` lists the files with paths relative to the run directory;
``runs/<run>/manifest.sha256`` holds the manifest's own digest in ``sha256sum`` format,
so ``cd runs/<run> && sha256sum -c manifest.sha256`` checks it without isop. Both are
written once (temporary file, fsync, hard link) and never overwritten: a sealed run stays
sealed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spiders.evidence.paths import (
    MANIFEST,
    MANIFEST_SUM,
    SCREENSHOTS,
    WARC_NAME_RE,
    EvidenceError,
    fsync_dir,
    run_id_of,
    sha256_file,
    write_new_file,
)
from spiders.evidence.records import scan_warc

FORMAT = "isop-evidence-manifest/1"
_TEMP_RE = re.compile(r"^\.[^/]+\.tmp$")
_SUM_RE = re.compile(r"^([0-9a-f]{64}) [ *]" + re.escape(MANIFEST) + r"\n?$")


@dataclass(frozen=True)
class ManifestFile:
    """One file as the manifest lists it."""

    path: str
    """Relative to the run directory, ``/``-separated."""
    kind: str
    """``warc``, ``screenshot`` or ``other`` (as ``evidence_files.kind``)."""
    sha256: str
    size: int
    records: int | None
    """WARC records in the file; None for other kinds."""
    complete_bytes: int | None = None
    """Set when a crash tore the file's tail: the length of its complete records."""


@dataclass(frozen=True)
class Manifest:
    """A parsed ``manifest.json``."""

    run_id: int
    created_at: str
    files: tuple[ManifestFile, ...]
    recovered: bool = False


def file_kind(rel: str) -> str:
    """The kind of a run-relative path."""
    if "/" not in rel and WARC_NAME_RE.match(rel):
        return "warc"
    if rel.startswith(f"{SCREENSHOTS}/") and rel.endswith(".png"):
        return "screenshot"
    return "other"


def run_files(run_dir: Path) -> list[str]:
    """Run-relative paths of everything in the run directory but the manifest pair.

    EvidenceError for anything that is not a regular file or directory (symlinks
    included: evidence is never reached through a link).
    """
    found: list[str] = []
    for root, dirs, files in os.walk(run_dir, followlinks=False):
        base = Path(root)
        for name in dirs:
            if (base / name).is_symlink():
                raise EvidenceError(f"{base / name}: symbolic link in a run directory")
        for name in files:
            p = base / name
            rel = p.relative_to(run_dir).as_posix()
            if rel in (MANIFEST, MANIFEST_SUM):
                continue
            if p.is_symlink() or not p.is_file():
                raise EvidenceError(f"{p}: not a regular file")
            found.append(rel)
    return sorted(found)


def _describe(run_dir: Path, rel: str, records: int | None) -> ManifestFile:
    path = run_dir / rel
    kind = file_kind(rel)
    digest, size = sha256_file(path)
    complete: int | None = None
    if kind == "warc" and records is None:
        scan = scan_warc(path)
        records = scan.records
        if scan.good_bytes < size:
            complete = scan.good_bytes
    return ManifestFile(rel, kind, digest, size, records if kind == "warc" else None, complete)


def _remove_stale_temps(run_dir: Path) -> None:
    """Remove temporary files of an interrupted :func:`write_new_file` (never listed)."""
    for root, _dirs, files in os.walk(run_dir, followlinks=False):
        for name in files:
            if _TEMP_RE.match(name):
                (Path(root) / name).unlink()


def write_manifest(run_dir: Path, *, record_counts: Mapping[str, int] | None = None,
                   recovered: bool = False) -> Path:
    """Hash every file of the run and write ``manifest.json`` and ``manifest.sha256``.

    ``record_counts`` (run-relative name -> records) spares re-reading the WARC files a
    writer closed cleanly; others are read to count their records and to find a torn tail.
    EvidenceError if the run is already sealed.
    """
    run_dir = Path(run_dir)
    run_id = run_id_of(run_dir)
    if (run_dir / MANIFEST).exists() or (run_dir / MANIFEST_SUM).exists():
        raise EvidenceError(f"{run_dir}: run already sealed")
    _remove_stale_temps(run_dir)
    counts = dict(record_counts or {})
    files = [_describe(run_dir, rel, counts.get(rel)) for rel in run_files(run_dir)]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "run_id": run_id,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "hostname": socket.gethostname(),
        "recovered": recovered,
        "files": [_file_doc(f) for f in files],
    }
    data = (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode("ascii")
    try:
        write_new_file(run_dir / MANIFEST, data)
    except FileExistsError as e:
        raise EvidenceError(f"{run_dir}: run already sealed") from e
    _write_sum(run_dir, hashlib.sha256(data).hexdigest())
    return run_dir / MANIFEST


def _file_doc(f: ManifestFile) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": f.path, "kind": f.kind, "sha256": f.sha256,
                           "size": f.size, "records": f.records}
    if f.complete_bytes is not None:
        doc["complete_bytes"] = f.complete_bytes
    return doc


def _write_sum(run_dir: Path, digest: str) -> None:
    write_new_file(run_dir / MANIFEST_SUM, f"{digest}  {MANIFEST}\n".encode("ascii"))
    fsync_dir(run_dir)


def parse_manifest(data: bytes) -> Manifest:
    """Parse ``manifest.json`` bytes; ValueError (with the reason) if malformed."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} document")
    files = []
    for f in doc["files"]:
        rel = f["path"]
        if (not isinstance(rel, str) or rel.startswith("/") or "\\" in rel or "\x00" in rel
                or any(part in ("", ".", "..") for part in rel.split("/"))):
            raise ValueError(f"bad path {rel!r}")
        files.append(ManifestFile(rel, str(f["kind"]), str(f["sha256"]), int(f["size"]),
                                  None if f["records"] is None else int(f["records"]),
                                  None if f.get("complete_bytes") is None
                                  else int(f["complete_bytes"])))
    return Manifest(int(doc["run_id"]), str(doc["created_at"]), tuple(files),
                    bool(doc.get("recovered", False)))


def read_sum(run_dir: Path) -> str:
    """The hex digest in ``manifest.sha256``; ValueError if malformed."""
    text = (Path(run_dir) / MANIFEST_SUM).read_text("ascii")
    m = _SUM_RE.match(text)
    if not m:
        raise ValueError(f"{MANIFEST_SUM} is not one sha256sum line for {MANIFEST}")
    return m.group(1)


def recover(run_dir: Path) -> Path:
    """Seal a run a crashed writer left behind; returns the manifest's path.

    Nothing to do if the run is sealed. If only ``manifest.json`` got written, its digest
    file is added once every listed file is found intact and nothing else is there;
    otherwise the manifest is written from scratch, reading each WARC file to count its
    complete records (a torn last record is left in place, byte for byte, and the
    manifest notes where the complete records end).
    """
    run_dir = Path(run_dir)
    manifest, summ = run_dir / MANIFEST, run_dir / MANIFEST_SUM
    if manifest.exists() and summ.exists():
        return manifest
    if summ.exists():
        raise EvidenceError(f"{run_dir}: {MANIFEST_SUM} without {MANIFEST}")
    if not manifest.exists():
        return write_manifest(run_dir, recovered=True)
    data = manifest.read_bytes()
    try:
        parsed = parse_manifest(data)
    except (ValueError, KeyError, TypeError) as e:
        raise EvidenceError(f"{manifest}: unreadable manifest ({e})") from e
    _remove_stale_temps(run_dir)
    listed = {f.path: f for f in parsed.files}
    if set(run_files(run_dir)) != set(listed) or parsed.run_id != run_id_of(run_dir):
        raise EvidenceError(f"{run_dir}: the manifest does not match the run's files")
    for f in parsed.files:
        if sha256_file(run_dir / f.path) != (f.sha256, f.size):
            raise EvidenceError(f"{run_dir / f.path}: does not match the manifest")
    _write_sum(run_dir, hashlib.sha256(data).hexdigest())
    return manifest
