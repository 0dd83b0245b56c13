"""The run record: one ``crawl_runs`` row per crawl, enrichment, recheck or job run.

Every way isop starts work — ``isop crawl``, ``isop enrich``, a distributed crawl, an
enrichment worker, ``scrapy crawl`` started by hand — opens its run here and closes it
here, so a run always says who ran it (host, pid, isop version), with what arguments,
how it ended and what it counted.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.db import session_factory
from storage.models import CrawlRun, RunKind, RunOutcome


def isop_version() -> str:
    """The installed isop's version (what every run records)."""
    return version("isop")


def add_run(session: Session, kind: str | RunKind, job: str, arguments: dict[str, Any],
            outcome: str | RunOutcome = RunOutcome.RUNNING, error: str | None = None) -> int:
    """Add a run row in the caller's transaction and return its id: still running, or (a
    scheduled job's record) already ended with ``outcome``."""
    run = CrawlRun(kind=RunKind(kind), job=job, arguments=arguments, outcome=RunOutcome(outcome), error=error,
                   hostname=socket.gethostname(), pid=os.getpid(), isop_version=isop_version())
    if run.outcome != RunOutcome.RUNNING:
        run.finished_at = datetime.now(UTC)
    session.add(run)
    session.flush()
    return run.id


def start_run(engine: Engine, kind: str | RunKind, job: str, arguments: dict[str, Any]) -> int:
    """Open a run (no outcome yet) and return its id."""
    with session_factory(engine)() as s, s.begin():
        return add_run(s, kind, job, arguments)


def finish_run(engine: Engine, run_id: int, outcome: str | RunOutcome, counts: dict[str, Any],
               error: str | None = None) -> None:
    """Close run ``run_id`` with its outcome, counts and error line (None when it went well)."""
    with session_factory(engine)() as s, s.begin():
        run = s.get(CrawlRun, run_id)
        run.outcome = RunOutcome(outcome)
        run.finished_at = datetime.now(UTC)
        run.counts = counts
        run.error = error
