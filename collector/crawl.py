"""Running a crawl: lock, record the run, map the config onto Scrapy, run, summarise.

``isop crawl --seeds FILE`` (discovery) and ``isop crawl --url URL`` (targeted) both come
here. The crawl itself runs in this process with Scrapy's CrawlerProcess; its state
(``JOBDIR``) lives under ``data/jobs/<job>`` so a killed crawl resumes where it stopped,
and the store is the ledger that makes resuming lose and duplicate nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.config import Config
from collector.locks import JobLock
from collector.logs import console_level, log_to_file, run_context, scrapy_log_settings
from spiders.seeds import check_url, read_seed_file
from storage.runs import finish_run, start_run

STATE_DIR = Path("data")
log = logging.getLogger("isop.crawl")


@dataclass
class CrawlRequest:
    seeds_file: str | None = None
    url: str | None = None
    max_pages: int | None = None
    depth: int | None = None
    job: str | None = None
    fresh: bool = False
    """Start over instead of resuming an interrupted run of the same job."""
    progress: bool = False
    kind: str | None = None
    """The run's kind: ``discovery`` (seeds) or ``targeted`` (--url) unless told, e.g. ``recheck``."""


@dataclass
class CrawlResult:
    run_id: int
    outcome: str
    counts: dict[str, Any] = field(default_factory=dict)
    seed_problems: list[str] = field(default_factory=list)
    resumed: bool = False
    error: str | None = None


class CrawlInputError(ValueError):
    """Nothing to crawl (bad seeds, bad URL): exit code 2."""


def job_name(req: CrawlRequest) -> str:
    if req.job:
        return req.job
    what = f"url:{req.url}" if req.url else f"seeds:{Path(req.seeds_file).resolve()}"
    return ("target-" if req.url else "discover-") + hashlib.sha256(what.encode()).hexdigest()[:12]


def _depth(req: CrawlRequest, c, targeted: bool) -> int:
    return req.depth if req.depth is not None else (c.targeted_depth if targeted else c.depth)


def scrapy_settings(config: Config, req: CrawlRequest, run_id: int, jobdir: Path):
    global _RETRY_SECONDS
    _RETRY_SECONDS = config.storage.retry_seconds
    from scrapy.settings import Settings

    import spiders.settings as defaults

    c = config.crawl
    s = Settings()
    s.setmodule(defaults, priority="project")
    targeted = bool(req.url)
    launch = dict(s.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
    launch["executable_path"] = c.chromium  # its proxy, switches and profile: spiders.render
    s.setdict({
        "USER_AGENT": config.network.effective_user_agent,
        "ROBOTSTXT_OBEY": c.obey_robots,
        "DOWNLOAD_TIMEOUT": c.download_timeout,
        "DOWNLOAD_MAXSIZE": c.max_response_bytes,
        "ISOP_HASH_DOWNLOADS_UP_TO": c.hash_downloads_up_to,
        "ISOP_HASH_BUDGET_BYTES": c.hash_budget_bytes,
        "ISOP_SCREENSHOTS": c.screenshots,
        "RETRY_TIMES": c.retries,
        "CONCURRENT_REQUESTS": c.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.per_domain_concurrency,
        "AUTOTHROTTLE_ENABLED": c.autothrottle,
        # Scrapy reads DEPTH_LIMIT 0 as "no limit"; isop's depth 0 means the given pages
        # only, and -1 makes Scrapy drop every link found on them.
        "DEPTH_LIMIT": _depth(req, c, targeted) or -1,
        "JOBDIR": str(jobdir),
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": c.render_timeout * 1000,
        "ISOP_STORAGE_URL": config.storage.url,
        "ISOP_STORE_BATCH": min(config.storage.batch_size, 500),
        "ISOP_STORE_RETRY_SECONDS": config.storage.retry_seconds,
        "ISOP_RUN_ID": run_id,
        "ISOP_EVIDENCE_DIR": config.evidence.dir,
        "ISOP_PROXY": config.network.proxy,
        "ISOP_ALLOW_DESTINATIONS": list(config.network.allow_destinations),
        "ISOP_RESOLVERS": list(config.network.resolvers),
        "ISOP_DNS_TIMEOUT": min(config.network.timeout, 5.0),
        "ISOP_MAX_PAGES": req.max_pages or (c.targeted_pages if targeted else c.max_pages),
        "ISOP_SITE_PAGES": c.site_pages,
        "ISOP_VERDICT_PAGES": c.verdict_pages,
        "ISOP_TARGETED_PAGES": req.max_pages or c.targeted_pages,
        "ISOP_URL_SHAPE_LIMIT": c.url_shape_limit,
        # a targeted crawl's site may take as many times longer as its page budget is larger
        "ISOP_SITE_SECONDS": c.site_seconds * (max(1.0, (req.max_pages or c.targeted_pages) / c.site_pages)
                                               if targeted else 1.0),
        "ISOP_SITE_TIMEOUT_RETRIES": c.site_timeout_retries,
        "ISOP_COOKIES_PER_SITE": c.cookies_per_site,
        "ISOP_COOKIE_HEADER_BYTES": c.cookie_header_bytes,
        "ISOP_RENDER_ENABLED": c.render,
        "ISOP_RENDER_MAX_PAGES": c.render_max_pages,
        "ISOP_SUCCESSOR_PROBES": c.successor_probes,
        "ISOP_ANALYSIS_WORKERS": c.analysis_workers,
        "ISOP_PROGRESS": req.progress,
        # Scrapy's records go through isop's root handler (collector/logs.py) with the run
        # id; _run_scrapy adds the per-run log file and keeps the terminal to warnings.
        **scrapy_log_settings("auto", "DEBUG" if os.environ.get("ISOP_DEBUG") else "INFO"),
    }, priority="cmdline")
    return s


def run_crawl(config: Config, req: CrawlRequest) -> CrawlResult:
    """Run one crawl to the end; raises CrawlInputError, LockHeld or StoreError."""
    from storage.migrate import ensure_store

    problems: list[str] = []
    if req.url:
        try:
            urls = [check_url(req.url)]
        except ValueError as e:
            raise CrawlInputError(f"--url {req.url!r}: {e}") from None
    else:
        from spiders.seeds import SeedFileError

        try:
            seeds = read_seed_file(req.seeds_file)
        except SeedFileError as e:
            raise CrawlInputError(str(e)) from None
        problems = seeds.problems
        urls = seeds.urls
        if not urls:
            raise CrawlInputError(f"seed file {req.seeds_file}: no valid URL" +
                                  (f" ({len(problems)} bad lines)" if problems else ""))

    job = job_name(req)
    with JobLock(STATE_DIR / "locks", job):
        engine = ensure_store(config.storage.url)
        jobdir = STATE_DIR / "jobs" / job
        marker = jobdir / "isop-run.json"
        resumed = False
        if req.fresh and jobdir.exists():
            import shutil

            shutil.rmtree(jobdir)
        resume_from: int | None = None
        state = _read_marker(marker, jobdir) if marker.is_file() else None
        if state is not None:
            run_id = state["run_id"]  # killed (SIGKILL, power loss): resumes its own, unsealed run
            resumed = True
            if run_dir_sealed(Path(config.evidence.dir), run_id):
                # Stopped gracefully (SIGTERM, Ctrl-C, a job timeout): its evidence is sealed and
                # recorded, so the rest of the crawl is a new run that resumes from this one.
                resume_from = run_id
                run_id = start_run(engine, _kind(req), job, {**_arguments(req, urls), "resumes_run": run_id})
                _close_if_running(engine, resume_from, Path(config.evidence.dir),
                                  f"crawl stopped; its end could not be recorded; resumed in run {run_id}")
                marker.write_text(json.dumps({"run_id": run_id, "job": job, "resume_from": resume_from}))
        else:
            run_id = start_run(engine, _kind(req), job, _arguments(req, urls))
            jobdir.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({"run_id": run_id, "job": job}))
        outcome, error, stats = "failed", None, {}
        try:
            stats = _run_scrapy(config, req, urls, run_id, jobdir, resumed, resume_from)
            reason = stats.get("finish_reason", "")
            outcome = "ok" if reason in ("finished", "closespider_pagecount") else "interrupted"
            if stats.get("isop/egress/reason"):  # the proxy or the resolvers: ours, not the sites'
                outcome, error = "failed", str(stats["isop/egress/reason"])
            elif outcome != "ok":
                error = f"crawl stopped: {reason}"
            elif stats.get("isop/errors/store_unreachable"):  # reached its budget, but pages went unstored
                outcome, error = "interrupted", "crawl stopped: store_unreachable"
            elif stats.get("isop/errors/evidence_not_sealed"):  # resuming it seals the evidence
                outcome, error = "interrupted", "crawl stopped: evidence_not_sealed"
            if stats.get("isop/errors/store_unreachable") or stats.get("isop/egress/reason"):
                # Scrapy counts the unstored (or dropped) pages as seen: resume from what the store holds
                _drop_scrapy_state(jobdir)
        except BaseException as e:
            error = f"{type(e).__name__}: {e}"[:1000]
            raise
        finally:
            counts = _counts(stats)
            _closing_write(lambda: _record_evidence(engine, run_id, Path(config.evidence.dir)), run_id, outcome)
            _closing_write(lambda: finish_run(engine, run_id, outcome, counts, error), run_id, outcome)
            if outcome == "ok":
                import shutil

                shutil.rmtree(jobdir, ignore_errors=True)
            engine.dispose()
    return CrawlResult(run_id, outcome, counts, problems, resumed, error)


def _close_if_running(engine, run_id: int, evidence_dir: Path, error: str) -> None:
    """A run whose end could not be recorded (the store was away) is closed as interrupted."""
    from storage.db import session_factory
    from storage.models import CrawlRun, RunOutcome

    with session_factory(engine)() as s:
        run = s.get(CrawlRun, run_id)
        if run is None or run.outcome != RunOutcome.RUNNING:
            return
    _record_evidence(engine, run_id, evidence_dir)
    finish_run(engine, run_id, "interrupted", {}, error)


_RETRY_SECONDS = 120.0
"""``[storage] retry_seconds`` of the running crawl (set by :func:`scrapy_settings`)."""


def store_retry_seconds() -> float:
    """How long a crawl waits out a store that went away (a restart, a failover) before it
    stops: ``[storage] retry_seconds`` (``ISOP_STORAGE_RETRY_SECONDS``)."""
    return _RETRY_SECONDS


def _closing_write(fn, run_id: int, outcome: str) -> None:
    """Record the end of a run, waiting out a store restart; StoreError if the store stays
    away (the run row stays 'running' and the job folder is kept: the same command resumes
    the run and records it then)."""
    import time

    from spiders.pipelines import _connection_error, _one_line
    from storage.db import StoreError

    deadline, delay = time.monotonic() + store_retry_seconds(), 0.5
    while True:
        try:
            return fn()
        except Exception as e:
            if not _connection_error(e):
                raise
            if time.monotonic() + delay > deadline:
                raise StoreError(f"crawl run {run_id} ended {outcome} but the store could not record it "
                                 f"({_one_line(e)}); run the same command again to resume it") from None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _read_marker(marker: Path, jobdir: Path) -> dict | None:
    """The interrupted run this job resumes; None (and a fresh start) if the job folder is
    unreadable. Scrapy's own resume state is checked too: if it is damaged it is dropped and
    the run resumes from the store alone (the pages it stored and their unfetched links)."""
    import shutil

    try:
        state = json.loads(marker.read_text())
        if not isinstance(state.get("run_id"), int):
            raise ValueError("no run id")
    except (OSError, ValueError, AttributeError) as e:
        log.warning("job folder %s is unreadable (%s: %s); starting the job afresh, pages already stored "
                    "are kept", jobdir, marker.name, e)
        shutil.rmtree(jobdir, ignore_errors=True)
        return None
    problem = _scrapy_state_problem(jobdir)
    if problem:
        log.warning("resume state in %s is damaged (%s); resuming run %s from the store instead",
                    jobdir, problem, state["run_id"])
        _drop_scrapy_state(jobdir)
    return state


def _drop_scrapy_state(jobdir: Path) -> None:
    """Forget Scrapy's queue and seen requests: resuming then starts from the store alone."""
    import shutil

    for name in ("requests.queue", "requests.seen", "spider.state"):
        path = jobdir / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _scrapy_state_problem(jobdir: Path) -> str | None:
    """What is wrong with Scrapy's JOBDIR files (queue, seen fingerprints, spider state), if anything."""
    import pickle
    import shutil
    import tempfile

    try:
        state = jobdir / "spider.state"
        if state.exists():
            with state.open("rb") as f:
                pickle.load(f)  # our own file, loaded as Scrapy itself loads it
        seen = jobdir / "requests.seen"
        if seen.exists():  # length-prefixed 20-byte request fingerprints
            data, pos = seen.read_bytes(), 0
            while pos + 2 <= len(data):
                if int.from_bytes(data[pos:pos + 2], "big") != 20:
                    raise ValueError("requests.seen: not request fingerprints")
                pos += 22
        queue = jobdir / "requests.queue"
        active = queue / "active.json"
        if active.exists():
            json.loads(active.read_text())
        from queuelib import FifoDiskQueue

        for info in queue.glob("*/*/info.json") if queue.is_dir() else ():
            json.loads(info.read_text())
            with tempfile.TemporaryDirectory() as tmp:  # read every request, on a copy
                copy = Path(tmp) / "q"
                shutil.copytree(info.parent, copy)
                q = FifoDiskQueue(str(copy))
                while (data := q.pop()) is not None:
                    pickle.loads(data)  # as Scrapy's PickleFifoDiskQueue reads them
                q.close()
    except Exception as e:  # noqa: BLE001 - any damage means: do not hand it to Scrapy
        return f"{type(e).__name__}: {e}"[:200]
    return None


def _kind(req: CrawlRequest) -> str:
    return req.kind or ("targeted" if req.url else "discovery")


def _arguments(req: CrawlRequest, urls: list[str]) -> dict[str, Any]:
    return {"seeds_file": req.seeds_file, "url": req.url, "urls": urls, "max_pages": req.max_pages,
            "depth": req.depth}


def run_dir_sealed(evidence_dir: Path, run_id: int) -> bool:
    from spiders.evidence import run_dir

    return (run_dir(evidence_dir, run_id) / "manifest.json").exists()


def _record_evidence(engine, run_id: int, evidence_dir: Path) -> None:
    """Register the run's sealed evidence files (WARCs, screenshots, manifest) in the store."""
    from spiders.evidence import parse_manifest, run_dir
    from storage.crawl import record_evidence_files
    from storage.db import session_factory

    folder = run_dir(evidence_dir, run_id)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return
    data = manifest_path.read_bytes()
    manifest = parse_manifest(data)
    prefix = folder.relative_to(evidence_dir)
    files = [(f.kind, str(prefix / f.path), f.sha256, f.size) for f in manifest.files]
    files.append(("manifest", str(prefix / "manifest.json"), hashlib.sha256(data).hexdigest(), len(data)))
    with session_factory(engine)() as s, s.begin():
        record_evidence_files(s, run_id, files, datetime.now(UTC))


def _counts(stats: dict) -> dict[str, Any]:
    keep = ("isop/pages/stored", "isop/sites/seen", "isop/sites/flagged", "isop/render/requests",
            "isop/screenshots/taken", "isop/screenshots/failed", "isop/resume/done", "isop/resume/frontier",
            "isop/hopping/successors", "isop/egress/dropped", "downloader/request_count", "item_scraped_count", "finish_reason")
    out = {k: stats[k] for k in keep if k in stats}
    out.update({k: v for k, v in stats.items() if k.startswith(("isop/budget/", "isop/errors/", "isop/dropped/",
                                                                         "isop/cookies/", "isop/seeds/", "isop/retry/",
                                                                         "isop/refused/", "isop/truncated/", "isop/redirects/",
                                                                         "isop/downloads/", "isop/stop/"))})
    return {k: (v if isinstance(v, int | float | str) else str(v)) for k, v in out.items()}


def _run_scrapy(config: Config, req: CrawlRequest, urls: list[str], run_id: int, jobdir: Path,
                resumed: bool, resume_from: int | None = None) -> dict:
    from scrapy.crawler import CrawlerProcess

    from spiders.site_spider import SiteSpider

    settings = scrapy_settings(config, req, run_id, jobdir)
    (STATE_DIR / "logs").mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(settings)
    kwargs: dict[str, Any] = {"url": urls[0]} if req.url else {"urls": list(urls)}  # a list: never re-parsed
    if resumed:
        kwargs["resume_run"] = str(resume_from or run_id)
    crawler = process.create_crawler(SiteSpider)
    process.crawl(crawler, **kwargs)
    level = "DEBUG" if os.environ.get("ISOP_DEBUG") else "INFO"
    with run_context(run_id, job_name(req), process_wide=True), \
            log_to_file(STATE_DIR / "logs" / f"crawl-{run_id}.log", level=level), console_level("WARNING"):
        process.start()
    return dict(crawler.stats.get_stats())
