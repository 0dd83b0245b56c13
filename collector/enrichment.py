"""``isop enrich``: one enrichment run — the lock, the run record, the asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from collector.config import Config
from collector.crawl import STATE_DIR
from collector.locks import JobLock
from enrich.run import EnrichRequest, EnrichResult
from enrich.services import SERVICES
from storage.runs import finish_run, start_run


class EnrichInputError(ValueError):
    """Bad arguments (unknown service, bad duration): exit code 2."""


def parse_only(text: str | None) -> tuple[str, ...]:
    if not text:
        return SERVICES
    names = tuple(dict.fromkeys(s.strip().lower() for s in text.split(",") if s.strip()))
    unknown = [n for n in names if n not in SERVICES]
    if unknown or not names:
        raise EnrichInputError(f"--only: unknown service {', '.join(unknown) or '(none)'}; "
                               f"choose from {', '.join(SERVICES)}")
    return names


def run_enrich(config: Config, request: EnrichRequest) -> EnrichResult:
    """Enrich due (or named) sites; raises LockHeld or StoreError. An exception inside the
    run is recorded on the run (outcome failed) and re-raised; finished phases are kept."""
    from enrich.run import run_enrichment
    from storage.db import session_factory
    from storage.migrate import ensure_store

    with JobLock(STATE_DIR / "locks", "enrich"):
        engine = ensure_store(config.storage.url)
        arguments: dict[str, Any] = {"domains": list(request.domains), "only": list(request.only),
                                     "stale_after": request.stale_after}
        result = recorded_run(engine, "enrich", arguments,
                              lambda run_id: asyncio.run(run_enrichment(config, request, session_factory(engine),
                                                                        run_id)))
        recompute_clusters(engine, config.clusters)
        engine.dispose()
        return result


def recorded_run(engine: Any, job: str, arguments: dict[str, Any], work: Callable[[int], Any]) -> Any:
    """Run ``work(run_id)`` under an enrich run record: an exception inside is recorded
    (outcome failed, or interrupted) and re-raised; a result's outcome, error and counts
    are recorded as it returns them."""
    run_id = start_run(engine, "enrich", job, arguments)
    try:
        result = work(run_id)
    except KeyboardInterrupt:
        finish_run(engine, run_id, "interrupted", {}, "interrupted")
        raise
    except Exception as e:
        finish_run(engine, run_id, "failed", {}, f"{type(e).__name__}: {e}"[:1000])
        raise
    counts = {**{f"sites/{k}": v for k, v in result.counts.items()},
              **{f"sent/{k}": v for k, v in result.sent.items()}, "sites": result.sites,
              "leads": len(result.leads), "seconds": round(result.seconds, 2)}
    if getattr(result, "batches", None) is not None:
        counts["batches"] = result.batches
    finish_run(engine, run_id, result.outcome, counts, result.error)
    return result


CLUSTER_LOCK = 1_396_000_001
"""PostgreSQL advisory lock: one recomputation of the operator networks at a time."""


def recompute_clusters(engine: Any, rules: Any = None, full: bool = False) -> int:
    """Bring the stored operator networks up to date (after crawls and enrichment): only
    the sites whose identifiers changed since the last computation, or the whole store
    with ``full``; ``rules``: ``[clusters]`` of the config (default: the defaults). On
    PostgreSQL one process at a time (several enrichment workers may finish together).
    Returns the number of live clusters."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from storage.clusters import recompute
    from storage.db import session_factory

    with session_factory(engine)() as session, session.begin():
        if engine.dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(CLUSTER_LOCK)))
        kwargs = {"rules": rules} if rules is not None else {}
        return len(set(recompute(session, datetime.now(UTC), full=full or None, **kwargs).values()))


__all__ = ["EnrichInputError", "EnrichRequest", "EnrichResult", "parse_only", "recompute_clusters", "recorded_run",
           "run_enrich"]
