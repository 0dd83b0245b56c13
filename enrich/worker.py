"""Enrichment workers: several processes (on several machines) enrich the due sites of one
store together, and no site is enriched twice (``isop enrich --worker``).

A worker loops over batches until no site is due:

1. it opens a transaction and **claims** a batch of due sites with
   ``SELECT … FOR NO KEY UPDATE SKIP LOCKED`` on their ``sites`` rows (PostgreSQL): rows
   another worker holds are skipped, not waited for. ``NO KEY UPDATE`` rather than
   ``UPDATE`` so that crawlers inserting pages, links or registrations of those sites
   (foreign-key checks take ``KEY SHARE`` locks) are not blocked by a claim;
2. in the same transaction, with a fresh snapshot, it checks again which services each
   claimed site is due for (a worker that committed between our snapshot and our lock
   has just enriched it: its lookups are visible now) and drops what is no longer due;
3. it runs :class:`enrich.run.Enricher`'s phases over the batch. Their writes go into
   the claim's transaction (each phase a SAVEPOINT), not into sessions of their own:
   the TLS phase records the certificate's hosts, which updates the claimed ``sites``
   rows (``last_seen``), and a separate connection would wait for our own lock forever;
4. it commits: the results and the end of the claim are one step. A worker that dies
   mid-batch rolls the batch back; its sites are due again for the next claim.

While a batch runs, a crawler that re-observes one of its sites (an UPDATE of that
``sites`` row) waits until the batch commits; inserts that reference the sites don't.

SQLite has no row locks: there the claim is the plain due query and **one worker at a
time** is supported (more would enrich the same sites twice); each phase commits on its
own, as ``isop enrich`` does, so a long batch doesn't hold SQLite's write lock.

A worker's run record and the recomputation of the operator networks afterwards are
:func:`collector.enrich_worker.run_worker`'s.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from enrich.run import (
    Enricher,
    PhaseInput,
    read_phase_input,
    run_phases,
    unreachable_error,
)
from enrich.services import SERVICES
from storage.models import Lookup, Page, Site

"""PostgreSQL advisory lock held while a worker recomputes the operator networks."""


@dataclass
class WorkerRequest:
    batch: int = 20
    """Sites claimed at a time."""
    stale_after: float | None = None
    """Seconds; None: ``[enrich] stale_after``."""
    only: Sequence[str] = SERVICES
    max_batches: int | None = None
    """Stop after this many batches (None: until nothing is due)."""
    progress: Callable[[int, int], None] | None = None
    """Called with (sites enriched, batches) after each batch."""


@dataclass
class WorkerResult:
    run_id: int
    outcome: str
    sites: int = 0
    batches: int = 0
    claimed: list[int] = field(default_factory=list)
    """Every site id this worker enriched, in claim order."""
    counts: Counter = field(default_factory=Counter)
    sent: Counter = field(default_factory=Counter)
    leads: list[str] = field(default_factory=list)
    seconds: float = 0.0
    locking: bool = True
    """False on SQLite: no row locks, a single worker only."""
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _markers(services: Sequence[str]) -> list[str]:
    return [f"site:{s}" for s in services]


def supports_row_locks(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim_due_sites(session: Session, services: Sequence[str], stale_before: datetime,
                    batch: int, after: int = 0) -> list[tuple[int, str]]:
    """Claim up to ``batch`` crawled sites due for at least one of ``services`` (never
    enriched for it, or last before ``stale_before``): ``(site_id, domain)``, by id,
    ids above ``after`` only.

    On PostgreSQL the rows are locked ``FOR NO KEY UPDATE SKIP LOCKED`` until the
    caller's transaction ends, and sites locked by another worker are skipped. On SQLite
    (no row locks) this is the plain due query: a single worker only.
    """
    services = [s for s in SERVICES if s in services]
    if not services or batch < 1:
        return []
    fresh = (select(func.count(distinct(Lookup.service)))
             .where(Lookup.target == Site.domain, Lookup.service.in_(_markers(services)),
                    Lookup.at >= stale_before)
             .correlate(Site).scalar_subquery())
    stmt = (select(Site.id, Site.domain)
            .where(Site.id > after, exists().where(Page.site_id == Site.id), fresh < len(services))
            .order_by(Site.id).limit(batch))
    if supports_row_locks(session):
        stmt = stmt.with_for_update(skip_locked=True, key_share=True, of=Site)
    return [(r[0], r[1]) for r in session.execute(stmt)]


def due_services(session: Session, sites: Sequence[tuple[int, str]], services: Sequence[str],
                 stale_before: datetime) -> dict[str, list[tuple[int, str]]]:
    """For each service, the sites of ``sites`` still due for it (a fresh look at the
    lookups: run it after claiming, in a new statement)."""
    if not sites:
        return {s: [] for s in services}
    done = set(session.execute(
        select(Lookup.target, Lookup.service).where(
            Lookup.target.in_([d for _, d in sites]), Lookup.service.in_(_markers(services)),
            Lookup.at >= stale_before).distinct()).all())
    return {s: [(sid, d) for sid, d in sites if (d, f"site:{s}") not in done] for s in services}


def _pick(session: Session, only: Sequence[str], cutoff: datetime, size: int,
          after: int) -> tuple[list[tuple[int, str]], PhaseInput | None] | None:
    """Claim a batch and read what its phases need; None when nothing is due. The batch
    is None when every claimed site was enriched by another worker meanwhile."""
    sites = claim_due_sites(session, only, cutoff, size, after)
    if not sites:
        return None
    due = due_services(session, sites, only, cutoff)  # a new statement: a fresh snapshot
    if not any(due.values()):
        return sites, None
    return sites, read_phase_input(session, due, only)


def run_batches(config: Any, engine: Any, run_id: int, request: WorkerRequest) -> WorkerResult:
    """Claim and enrich batches until nothing is due (or ``max_batches``).

    Claims move forward by site id, so a run ends even when a site stays due (a site
    without addresses never gets a hosting result): each site is tried once per run.
    """
    started = time.monotonic()
    only = [s for s in SERVICES if s in request.only]
    stale = request.stale_after if request.stale_after is not None else config.enrich.stale_after_seconds
    locking = engine.dialect.name == "postgresql"
    result = WorkerResult(run_id=run_id, outcome="ok", locking=locking)
    after = 0
    while request.max_batches is None or result.batches < request.max_batches:
        cutoff = _now() - timedelta(seconds=stale)
        if locking:
            with Session(engine, expire_on_commit=False) as claim, claim.begin():
                picked = _pick(claim, only, cutoff, request.batch, after)
                if picked is None:
                    break
                sites, batch = picked
                enricher = None
                if batch is not None:
                    # the phases' writes join the claim's transaction, one SAVEPOINT each
                    writes = sessionmaker(bind=claim.connection(), join_transaction_mode="create_savepoint",
                                          expire_on_commit=False)
                    enricher = Enricher(config, writes, run_id)
                    asyncio.run(run_phases(enricher, batch, only))
            # committed: the batch's results and the end of its claim, at once
        else:
            with Session(engine, expire_on_commit=False) as claim:
                picked = _pick(claim, only, cutoff, request.batch, after)
            if picked is None:
                break
            sites, batch = picked
            enricher = None
            if batch is not None:  # SQLite: each phase commits on its own, as ``isop enrich`` does
                enricher = Enricher(config, sessionmaker(engine, expire_on_commit=False), run_id)
                asyncio.run(run_phases(enricher, batch, only))
        after = max(sid for sid, _ in sites)
        if batch is None or enricher is None:
            continue
        if (error := unreachable_error(config, enricher)) is not None:
            result.outcome, result.error = "failed", error
        enriched = batch.sites
        result.batches += 1
        result.sites += len(enriched)
        result.claimed.extend(sid for sid, _ in sites if sid in enriched)
        result.counts.update(enricher.counts)
        result.sent.update(enricher.sent)
        result.leads.extend(lead for lead in enricher.leads if lead not in result.leads)
        if request.progress:
            request.progress(result.sites, result.batches)
    result.seconds = time.monotonic() - started
    return result


__all__ = ["WorkerRequest", "WorkerResult", "claim_due_sites", "due_services", "run_batches"]
