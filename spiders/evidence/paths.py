"""Where evidence lives on disk, and how it is created.

Layout under the ``[evidence] dir``::

    runs/<run:06d>/isop-<run:06d>-<seq:05d>.warc.gz   WARC files of the run, in order
    runs/<run:06d>/screenshots/<sha256(url)[:32]>.png screenshots
    runs/<run:06d>/manifest.json                      what the run holds, with digests
    runs/<run:06d>/manifest.sha256                    the manifest's digest (sha256sum -c)

Every name is built from run ids, sequence numbers and hashes only: nothing scraped
(URLs, titles, headers) ever becomes part of a path. Directories are created 0o750 and
files 0o640 (set explicitly, whatever the umask), files always with ``O_EXCL`` so existing
evidence is never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import BinaryIO

DIR_MODE = 0o750
FILE_MODE = 0o640
RUNS = "runs"
SCREENSHOTS = "screenshots"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
RUN_DIR_RE = re.compile(r"^[0-9]{6,}$")
WARC_NAME_RE = re.compile(r"^isop-([0-9]{6,})-([0-9]{5,})\.warc\.gz$")
_CHUNK = 1 << 20


class EvidenceError(Exception):
    """Evidence cannot be written or sealed as asked (the message says why)."""


def check_run_id(run_id: int) -> int:
    """Return ``run_id`` if it is a non-negative int (not a bool), else raise ValueError."""
    if isinstance(run_id, bool) or not isinstance(run_id, int) or run_id < 0:
        raise ValueError(f"run id must be a non-negative integer, not {run_id!r}")
    return run_id


def run_dir_name(run_id: int) -> str:
    """``42`` -> ``"000042"``."""
    return f"{check_run_id(run_id):06d}"


def run_dir(evidence_dir: Path, run_id: int) -> Path:
    """The run's directory (not created)."""
    return Path(evidence_dir) / RUNS / run_dir_name(run_id)


def run_id_of(run_dir_path: Path) -> int:
    """The run id a run directory is named after; EvidenceError if it is not one."""
    name = Path(run_dir_path).name
    if not RUN_DIR_RE.match(name):
        raise EvidenceError(f"{run_dir_path}: not a run directory (expected runs/NNNNNN)")
    return int(name)


def warc_name(run_id: int, seq: int) -> str:
    """The name of the run's ``seq``-th WARC file (1-based)."""
    if seq < 1:
        raise ValueError("WARC sequence numbers start at 1")
    return f"isop-{run_dir_name(run_id)}-{seq:05d}.warc.gz"


def make_dirs(path: Path) -> Path:
    """Create ``path`` and missing parents with mode 0o750 (existing ones are left alone)."""
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)
    if not path.is_dir():
        raise EvidenceError(f"{path}: not a directory")
    return path


def create_file(path: Path) -> BinaryIO:
    """Open a new file for writing: 0o640, never overwriting, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def fsync_dir(path: Path) -> None:
    """Make a directory's new entries durable (best effort where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file atomically: a temporary file, fsync, then a hard link.

    Raises FileExistsError if ``path`` exists; no partial file is left under ``path``.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    with create_file(tmp) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def sha256_file(path: Path) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in chunks (never whole into memory)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def url_key(url: str) -> str:
    """First 32 hex digits of the SHA-256 of a URL (UTF-8, lone surrogates kept)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def safe_screenshot_path(evidence_dir: Path, run_id: int, url: str) -> Path:
    """``runs/<run>/screenshots/<sha256(url)[:32]>.png``; creates the screenshots directory.

    The URL is only hashed, so no URL (``../../etc/passwd``, NUL bytes, 100 kB long,
    any script) can influence where the file goes.
    """
    shots = make_dirs(run_dir(evidence_dir, run_id) / SCREENSHOTS)
    return shots / f"{url_key(url)}.png"


def save_screenshot(evidence_dir: Path, run_id: int, url: str, png: bytes) -> Path:
    """Write a screenshot to :func:`safe_screenshot_path` (0o640, never overwriting)."""
    path = safe_screenshot_path(evidence_dir, run_id, url)
    write_new_file(path, png)
    return path
