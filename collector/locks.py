"""One run of a job at a time: an advisory file lock per job name.

The lock is an ``flock`` on ``<dir>/<job>.lock``: the kernel releases it when the
holder dies, even by SIGKILL, so a crashed run never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path


class LockHeld(RuntimeError):
    """Another process holds the job's lock."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100] or "job"


class JobLock:
    def __init__(self, directory: Path, job: str) -> None:
        self.path = Path(directory) / f"{_safe(job)}.lock"
        self.job = job
        self.fd: int | None = None

    def acquire(self) -> JobLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 100, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockHeld(f"job {self.job!r} is already running (pid {holder}); lock {self.path}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> JobLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
