"""Scheduled jobs: which ``[[jobs]]`` are due, and running them (``isop run-due``).

One crontab line runs ``isop run-due`` every minute. For each enabled job it compares the
latest time its cron expression names at or before now (the *slot*, in UTC) with the slot
its latest run was for, read from the store: a later slot means the job is due. Slots
missed while the machine was off collapse into one run. A job that never ran is due at
once.

**Runs.** Each scheduled run is one ``crawl_runs`` row of kind ``other`` with ``job`` set
to the job's name, ``arguments = {"scheduled": true, "slot": ISO time, "job_kind": ...}``
and ``counts["runs"]`` the ids of the runs the job made (a discover job's crawl run also
carries the job's name; an enrich job's run is the ``enrich`` run it made). The row is
written when the job starts, so a slot is never claimed twice, and closed with the
outcome: ``ok``, ``failed`` (including an exceeded ``timeout``), ``interrupted`` or
``skipped``. A row left ``running`` by a process that died is closed ``interrupted``
the next time the job starts.

**Locks.** The due computation runs under a global ``run-due`` lock, so two ``run-due``
started at once never claim the same slot; each job runs under its own lock
``job-<name>`` (in ``data/locks``, like crawls). A job whose lock is still held when its
next slot comes is recorded ``skipped`` with the reason, never started twice. Each job
runs in a child process (a crawl's Twisted reactor cannot be started twice in one
process, and a timeout must be able to stop it), which inherits the job's lock: if
``run-due`` itself dies, the lock stays held until the job ends.

**Clock.** Due-ness compares slots with the slot of the job's latest row (by insertion,
not by time). If the clock went back, the current slot is earlier than the recorded one:
the job is not re-run; that slot is recorded ``skipped`` with the reason, and the schedule
goes on from the corrected clock at the following slot. A jump forward runs each job once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collector.config import Config, JobConfig, parse_duration
from collector.locks import JobLock, LockHeld

log = logging.getLogger("isop.schedule")

GLOBAL_LOCK = "run-due"
GLOBAL_LOCK_WAIT = 30.0
"""Seconds a ``run-due`` waits for another one to finish its due computation."""
STOP_GRACE = 30.0
"""Seconds a timed-out job gets to stop after SIGTERM before it is killed."""
RUN_KINDS = {"discover": "discovery", "recrawl": "discovery", "enrich": "enrich", "recheck": "recheck"}
"""The run kind of the runs each job kind makes (its own row is kind ``other``)."""


@dataclass
class JobOutcome:
    job: str
    kind: str
    outcome: str
    """ok, failed, interrupted or skipped."""
    slot: datetime | None = None
    run_id: int | None = None
    """The job's own crawl_runs row."""
    error: str | None = None
    seconds: float = 0.0
    runs: list[int] = field(default_factory=list)
    """The runs the job made (crawl, enrich)."""

    def line(self) -> str:
        slot = self.slot.strftime("%Y-%m-%d %H:%M UTC") if self.slot else "-"
        text = f"job {self.job} ({self.kind}, slot {slot}): {self.outcome}"
        if self.outcome != "skipped":
            text += f" in {self.seconds:.1f}s"
        if self.runs:
            text += f", runs {', '.join(map(str, self.runs))}"
        return text + (f": {self.error}" if self.error else "")


# --- slots --------------------------------------------------------------------------------


def _utc(when: datetime | None) -> datetime:
    if when is None:
        return datetime.now(UTC)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def latest_slot(cron: str, now: datetime | None = None) -> datetime:
    """The latest time ``cron`` names at or before ``now`` (UTC, to the minute)."""
    from croniter import croniter

    now = _utc(now)
    base = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return croniter(cron, base).get_prev(datetime).astimezone(UTC)


def next_slot(cron: str, now: datetime | None = None) -> datetime:
    """The first time ``cron`` names after ``now`` (UTC)."""
    from croniter import croniter

    return croniter(cron, _utc(now)).get_next(datetime).astimezone(UTC)


def _parse_slot(value: Any) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(value)) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass
class Due:
    due: bool
    slot: datetime | None
    reason: str = ""
    """Why not (disabled, clock went back, up to date)."""
    clock_back: bool = False


def due_status(job: JobConfig, last_slot: datetime | None, now: datetime | None = None) -> Due:
    """Whether ``job`` is due at ``now`` given the slot of its latest recorded run."""
    if not job.enabled:
        return Due(False, None, "disabled")
    slot = latest_slot(job.cron, now)
    if last_slot is None or slot > last_slot:
        return Due(True, slot)
    if slot < last_slot:
        return Due(False, slot, f"clock went back: the latest run was for {last_slot:%Y-%m-%d %H:%M} UTC, "
                                f"later than now ({_utc(now):%Y-%m-%d %H:%M} UTC); not run again",
                   clock_back=True)
    return Due(False, slot, "already ran for this slot")


# --- the store ----------------------------------------------------------------------------


def latest_job_run(session: Any, name: str) -> Any:
    """The latest scheduled-run row of job ``name`` (by insertion), or None."""
    from sqlalchemy import select

    from storage.models import CrawlRun, RunKind

    rows = session.scalars(select(CrawlRun).where(CrawlRun.job == name, CrawlRun.kind == RunKind.OTHER)
                           .order_by(CrawlRun.id.desc()).limit(20))
    return next((r for r in rows if (r.arguments or {}).get("scheduled")), None)


def _record(session: Any, job: JobConfig, slot: datetime | None, outcome: str, error: str | None = None) -> int:
    from storage.runs import add_run

    arguments = {"scheduled": True, "slot": slot.isoformat() if slot else None, "job_kind": job.kind,
                 "cron": job.cron}
    return add_run(session, "other", job.name, arguments, outcome, error)


def _close_stale(session: Any, name: str) -> None:
    """Rows of ``name`` still 'running' while we hold its lock: their process died."""
    from sqlalchemy import select

    from storage.models import CrawlRun, RunKind, RunOutcome

    for run in session.scalars(select(CrawlRun).where(CrawlRun.job == name, CrawlRun.kind == RunKind.OTHER,
                                                      CrawlRun.outcome == RunOutcome.RUNNING)):
        run.outcome = RunOutcome.INTERRUPTED
        run.finished_at = datetime.now(UTC)
        run.error = "the run's process ended without recording an outcome"


def _finish(engine: Any, run_id: int, outcome: str, error: str | None, counts: dict) -> None:
    from storage.db import session_factory
    from storage.models import CrawlRun, RunOutcome

    with session_factory(engine)() as s, s.begin():
        run = s.get(CrawlRun, run_id)
        run.outcome = RunOutcome(outcome)
        run.finished_at = datetime.now(UTC)
        run.error = error[:1000] if error else None
        run.counts = counts


# --- run-due ------------------------------------------------------------------------------


def lock_dir() -> Path:
    from collector import crawl

    return crawl.STATE_DIR / "locks"


@contextlib.contextmanager
def _global_lock(wait: float) -> Iterator[JobLock]:
    """The ``run-due`` lock, waiting up to ``wait`` seconds for another run-due to let go."""
    lock = JobLock(lock_dir(), GLOBAL_LOCK)
    deadline = time.monotonic() + wait
    while True:
        try:
            lock.acquire()
            break
        except LockHeld:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
    try:
        yield lock
    finally:
        lock.release()


def _holder(lock: JobLock) -> str:
    try:
        return lock.path.read_text().strip() or "?"
    except OSError:
        return "?"


def run_due(config: Config, now: datetime | None = None, names: Sequence[str] = (), force: bool = False,
            lock_wait: float = GLOBAL_LOCK_WAIT) -> list[JobOutcome]:
    """Start every due job (or only ``names``; ``force``: even if not due), one after the
    other, each in a child process under its own lock; returns what happened to each.

    Raises LockHeld if another ``run-due`` holds the global lock longer than ``lock_wait``.
    """
    from storage.db import session_factory
    from storage.migrate import ensure_store

    engine = ensure_store(config.storage.url)
    outcomes: list[JobOutcome] = []
    attempted: set[str] = set()
    try:
        while True:
            claimed = None
            with _global_lock(lock_wait), session_factory(engine)() as session, session.begin():
                at = _utc(now)
                for job in config.jobs:
                    if job.name in attempted or (names and job.name not in names):
                        continue
                    latest = latest_job_run(session, job.name)
                    state = due_status(job, _parse_slot(latest.arguments.get("slot")) if latest else None, at)
                    if force and names and job.name in names:
                        state = Due(True, latest_slot(job.cron, at))
                    if not state.due:
                        if state.clock_back:
                            run_id = _record(session, job, state.slot, "skipped", state.reason)
                            log.warning("job %s skipped: %s", job.name, state.reason)
                            outcomes.append(JobOutcome(job.name, job.kind, "skipped", state.slot, run_id,
                                                       state.reason))
                            attempted.add(job.name)
                        continue
                    lock = JobLock(lock_dir(), f"job-{job.name}")
                    try:
                        lock.acquire()
                    except LockHeld:
                        reason = f"previous run still going (pid {_holder(lock)})"
                        run_id = _record(session, job, state.slot, "skipped", reason)
                        log.warning("job %s skipped: %s", job.name, reason)
                        outcomes.append(JobOutcome(job.name, job.kind, "skipped", state.slot, run_id, reason))
                        attempted.add(job.name)
                        continue
                    _close_stale(session, job.name)
                    claimed = (job, state.slot, lock, _record(session, job, state.slot, "running"))
                    break
            if claimed is None:
                return outcomes
            job, slot, lock, run_id = claimed
            attempted.add(job.name)
            try:
                log.info("job %s (%s) starting for slot %s", job.name, job.kind, slot)
                outcome = _execute(config, engine, job, slot, run_id, lock)
            finally:
                lock.release()
            log.log(logging.INFO if outcome.outcome == "ok" else logging.ERROR, "%s", outcome.line())
            outcomes.append(outcome)
    finally:
        engine.dispose()


def _execute(config: Config, engine: Any, job: JobConfig, slot: datetime | None, run_id: int,
             lock: JobLock) -> JobOutcome:
    """Run ``job`` in a child process that shares its lock; close its row; never raises
    for the job's own failures."""
    started = time.monotonic()
    limit = parse_duration(job.timeout) if job.timeout else None
    with tempfile.TemporaryDirectory(prefix=f"isop-job-{job.name}-") as tmp:
        task, result_file = Path(tmp) / "task.pickle", Path(tmp) / "result.json"
        task.write_bytes(pickle.dumps({"config": config, "job": job.name}))
        child = subprocess.Popen([sys.executable, "-m", "collector.schedule", str(task), str(result_file)],
                                 pass_fds=(lock.fd,) if lock.fd is not None else (), start_new_session=True)
        outcome, error = None, None
        try:
            child.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _stop(child)
            outcome, error = "failed", f"timed out after {job.timeout} (the job's timeout); stopped"
        except BaseException:  # interrupted ourselves (Ctrl-C, SIGTERM as KeyboardInterrupt)
            _stop(child)
            _finish(engine, run_id, "interrupted", "run-due was interrupted; the job was stopped",
                    {"seconds": round(time.monotonic() - started, 2)})
            raise
        result: dict[str, Any] = {}
        if result_file.is_file():
            try:
                result = json.loads(result_file.read_text())
            except ValueError:
                result = {}
    if outcome is None:
        outcome = result.get("outcome") or "failed"
        error = result.get("error")
        if not result:
            error = f"the job's process ended with exit code {child.returncode} without a result"
    seconds = time.monotonic() - started
    runs = [int(r) for r in result.get("runs", [])]
    counts = {"runs": runs, "seconds": round(seconds, 2), **result.get("counts", {})}
    _finish(engine, run_id, outcome, error, counts)
    return JobOutcome(job.name, job.kind, outcome, slot, run_id, error, seconds, runs)


def _stop(child: subprocess.Popen) -> None:
    """SIGTERM the job's process group (crawls stop gracefully), SIGKILL it after a grace."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --- the job itself (in the child process) ------------------------------------------------


def run_job(config: Config, job: JobConfig) -> dict[str, Any]:
    """Do ``job``'s work in this process: {"outcome", "error", "runs", "counts"}."""
    from collector.crawl import CrawlInputError
    from storage.db import StoreError

    try:
        if job.kind == "discover":
            return _crawl(config, job, job.seeds)
        if job.kind == "recrawl":
            return _recrawl(config, job)
        if job.kind == "enrich":
            return _enrich(config, job)
        if job.kind == "recheck":
            from collector.recheck import run_recheck

            r = run_recheck(config, job=job.name)
            return {"outcome": r.outcome, "error": r.error, "runs": r.run_ids,
                    "counts": {"sites": r.sites, "statuses": r.statuses, "parked": r.parked}}
        return {"outcome": "failed", "error": f"unknown job kind {job.kind!r}"}
    except (CrawlInputError, LockHeld, StoreError) as e:
        return {"outcome": "failed", "error": str(e)}
    except Exception as e:  # every failure is the job's recorded outcome
        log.exception("job %s failed", job.name)
        return {"outcome": "failed", "error": f"{type(e).__name__}: {e}"[:1000]}


def _crawl(config: Config, job: JobConfig, seeds: str) -> dict[str, Any]:
    from collector.crawl import CrawlRequest
    from collector.crawl_job import run_crawl_job

    ran = run_crawl_job(config, CrawlRequest(seeds_file=seeds, max_pages=job.max_pages, depth=job.depth,
                                             job=job.name))
    result = ran.crawl
    out: dict[str, Any] = {"outcome": result.outcome, "runs": [result.run_id],
                           "counts": {k: v for k, v in result.counts.items()
                                      if k in ("isop/pages/stored", "isop/sites/seen", "isop/sites/flagged")}}
    if result.outcome != "ok":
        out["error"] = f"crawl run {result.run_id} ended {result.outcome}; the next run resumes it"
        return out
    if result.seed_problems:
        out["counts"]["seed_problems"] = len(result.seed_problems)
    if ran.enriched is not None:
        out["runs"].append(ran.enriched.run_id)
    elif ran.enrich_skipped:
        log.warning("job %s: enrichment after the crawl skipped: %s", job.name, ran.enrich_skipped)
    return out


def _recrawl(config: Config, job: JobConfig) -> dict[str, Any]:
    from collector.recheck import recheck_targets
    from storage.db import session_factory
    from storage.migrate import ensure_store

    engine = ensure_store(config.storage.url)
    try:
        with session_factory(engine)() as session:
            targets = recheck_targets(session, hops=False)
    finally:
        engine.dispose()
    if not targets:
        return {"outcome": "ok", "counts": {"sites": 0}}
    with tempfile.TemporaryDirectory(prefix=f"isop-recrawl-{job.name}-") as tmp:
        seeds = Path(tmp) / "flagged.txt"
        seeds.write_text("# flagged sites' front pages\n" + "".join(f"{u}\n" for u in targets.values()))
        out = _crawl(config, job, str(seeds))
    out.setdefault("counts", {})["sites"] = len(targets)
    return out


def _enrich(config: Config, job: JobConfig) -> dict[str, Any]:
    from collector.enrichment import EnrichRequest, run_enrich
    from enrich.services import SERVICES

    request = EnrichRequest(stale_after=parse_duration(job.stale_after) if job.stale_after else None,
                            only=job.only or SERVICES)
    result = run_enrich(config, request)
    return {"outcome": result.outcome, "error": result.error, "runs": [result.run_id],
            "counts": {"sites": result.sites}}


def _child_main(argv: list[str]) -> int:
    task_path, result_path = argv
    task = pickle.loads(Path(task_path).read_bytes())  # written by our own parent, 0700 temp dir
    config: Config = task["config"]
    job = config.job(task["job"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result = run_job(config, job)
    Path(result_path).write_text(json.dumps(result, default=str))
    return 0 if result.get("outcome") == "ok" else 1


# --- listing and crontab ------------------------------------------------------------------


def jobs_table(config: Config, session: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per configured job: its schedule, latest run and next run."""
    now = _utc(now)
    rows = []
    for job in config.jobs:
        latest = latest_job_run(session, job.name)
        state = due_status(job, _parse_slot(latest.arguments.get("slot")) if latest else None, now)
        seconds = None
        if latest is not None:
            seconds = (latest.counts or {}).get("seconds")
            if seconds is None and latest.finished_at is not None:
                seconds = max((latest.finished_at - latest.started_at).total_seconds(), 0.0)
        if not job.enabled:
            next_run = None
        elif state.due:
            next_run = "due now"
        else:
            next_run = next_slot(job.cron, now).isoformat()
        rows.append({
            "name": job.name, "kind": job.kind, "cron": job.cron, "enabled": job.enabled,
            "last_run": latest.started_at.isoformat() if latest else None,
            "last_slot": latest.arguments.get("slot") if latest else None,
            "outcome": str(latest.outcome) if latest else None,
            "duration_seconds": round(seconds, 2) if seconds is not None else None,
            "error": latest.error if latest else None,
            "next_run": next_run,
        })
    return rows


def _cron_quote(value: str) -> str:
    # crontab turns an unescaped % into a newline
    return shlex.quote(value).replace("%", "\\%")


def isop_command() -> list[str]:
    """How to start this isop: its console script if that is what runs, else the module."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "isop" and script.exists():
        return [str(script.resolve())]
    import shutil

    found = shutil.which("isop", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "collector.cli"]


def crontab_lines(config_path: str | os.PathLike | None, isop_executable: str | Sequence[str] | None = None,
                  workdir: str | os.PathLike | None = None, log_file: str | os.PathLike | None = None) -> list[str]:
    """The crontab lines that run ``isop run-due`` every minute (a comment, then the line)."""
    workdir = Path(workdir or Path.cwd()).resolve()
    command = [isop_executable] if isinstance(isop_executable, str) else list(isop_executable or isop_command())
    log_path = Path(log_file) if log_file else workdir / "data" / "logs" / "run-due.log"
    if not log_path.is_absolute():
        log_path = workdir / log_path
    parts = [*command]
    if config_path:
        parts += ["--config", str(Path(config_path).resolve())]
    parts.append("run-due")
    return [
        "# isop: every minute, start the scheduled jobs ([[jobs]] in the config) whose time has come",
        f"* * * * * cd {_cron_quote(str(workdir))} && mkdir -p {_cron_quote(str(log_path.parent))} && "
        f"{' '.join(_cron_quote(p) for p in parts)} >> {_cron_quote(str(log_path))} 2>&1",
    ]


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
