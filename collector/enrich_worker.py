"""One enrichment worker run (``isop enrich --worker``): its own run record, the batches
of :func:`enrich.worker.run_batches` until nothing is due, the operator networks
recomputed."""

from __future__ import annotations

from typing import Any

from enrich.worker import WorkerRequest, WorkerResult, run_batches


def run_worker(config: Any, request: WorkerRequest | None = None, *, engine: Any = None) -> WorkerResult:
    """One enrichment worker run: its own run record (kind ``enrich``, job
    ``enrich-worker``), batches until nothing is due, the operator networks recomputed.
    Raises StoreError; an exception inside the run is recorded (outcome failed) and
    re-raised, and the batches committed before it are kept."""
    from collector.enrichment import recompute_clusters, recorded_run
    from storage.migrate import ensure_store

    request = request or WorkerRequest()
    own = engine is None
    engine = engine if engine is not None else ensure_store(config.storage.url)
    try:
        arguments = {"worker": True, "batch": request.batch, "only": list(request.only),
                     "stale_after": request.stale_after}
        result = recorded_run(engine, "enrich-worker", arguments,
                              lambda run_id: run_batches(config, engine, run_id, request))
        if result.sites:
            recompute_clusters(engine, config.clusters)
        return result
    finally:
        if own:
            engine.dispose()


__all__ = ["run_worker"]
