"""Item pipelines: site verdicts, evidence (WARC), and the store.

Blocking work never runs on the reactor thread: the WARC writer and the database each
get one worker thread of their own (so their writes stay in order), and the pipelines
await them. Items flow in the order of ``ITEM_PIPELINES``:

    ClassifyPipeline (300) -> EvidencePipeline (500) -> StorePipeline (800)
"""

from __future__ import annotations

import asyncio
import errno
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured

from spiders.items import DownloadItem, IndicatorItem, PageItem, RelationItem, ScreenshotItem
from storage.names import HostNameError, parse_host

log = logging.getLogger(__name__)
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
"""Write errors that mean the evidence disk (or the process's file size limit) is full."""


def _site(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return parse_host(urlsplit(url).hostname or "").domain
    except (HostNameError, ValueError):
        return None


async def _in_thread(executor: ThreadPoolExecutor, fn, *args) -> Any:
    return await asyncio.wrap_future(executor.submit(fn, *args))


class ClassifyPipeline:
    """Re-computes each site's verdict as its pages arrive, from the evidence of its newest
    ``ISOP_VERDICT_PAGES`` analysed pages: this run's and, before them, the store's (read
    once per site, on a thread), so a one-page visit adds evidence instead of replacing a
    verdict built on many. The final pass at close adds what the link graph
    says (flagged sites linking in and out, embeds of the site as a player on flagged
    sites, what the site's flagged links are), then lets domains that only redirect or
    announce a move inherit the verdict of the site they hand over to."""

    MAX_LINK_TARGETS = 500

    def __init__(self, crawler, screenshots: int = 0) -> None:
        from spiders.classify import Classifier

        self.crawler = crawler
        self.screenshots_left = screenshots
        self.classifier = Classifier.load()
        self.states: dict[str, Any] = {}
        self.pages: dict[str, int] = {}
        self.links_out: dict[str, set[str]] = {}
        self.embeds_out: dict[str, set[str]] = {}
        self.hops: dict[str, tuple[str, str]] = {}
        """site -> (the site it redirects or moved to, relation kind)."""
        self.verdicts: dict[str, Any] = {}
        self.evidence_pages = 40
        """How many of a site's newest analysed pages its verdict rests on."""
        self.storage_url: str | None = None
        self.stored: dict[str, dict[str, list[Any]]] = {}
        """site -> {final url: signals} of its newest pages in the store, newest first."""
        self.fresh: dict[str, dict[str, list[Any]]] = {}
        """site -> {final url: signals} of this run's pages, in fetch order."""
        self.gone: dict[str, set[str]] = {}
        """site -> URLs this run fetched (their stored versions no longer count)."""
        self.engine = None
        self.executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("ISOP_CLASSIFY_ENABLED", True):
            raise NotConfigured("ISOP_CLASSIFY_ENABLED is off")
        pipeline = cls(crawler, s.getint("ISOP_SCREENSHOTS_MAX", 100) if s.getbool("ISOP_SCREENSHOTS", True) else 0)
        pipeline.evidence_pages = max(1, s.getint("ISOP_VERDICT_PAGES", 40))
        if s.getbool("ISOP_STORE_ENABLED", True):
            pipeline.storage_url = s.get("ISOP_STORAGE_URL")
        return pipeline

    async def process_item(self, item):
        if isinstance(item, RelationItem):
            if item.kind in ("redirect", "announced") and item.from_host != item.to_host:
                self.hops.setdefault(item.from_host, (item.to_host, item.kind))
            return item
        if not isinstance(item, PageItem) or item.status is None:
            return item  # a failed fetch says nothing about the site's content
        site = _site(item.final_url)
        if not site:
            return item
        if site not in self.stored:
            self.stored[site] = await self._stored_evidence(site)
        # A page fetched again replaces its older version; one that now answers with an
        # error or a redirect takes its old evidence with it.
        self.gone.setdefault(site, set()).add(item.final_url)
        fresh = self.fresh.setdefault(site, {})
        fresh.pop(item.final_url, None)
        if 300 <= item.status < 400:
            return item
        if item.analysed:
            fresh[item.final_url] = list(item.signals)
        window = self._window(site)
        self.pages[site] = len(window)
        self.states[site] = self._state(window)
        out = self.links_out.setdefault(site, set())
        embeds = self.embeds_out.setdefault(site, set())
        for link in item.links:
            target = _site(link.url)
            if not target or target == site:
                continue
            if len(out) < self.MAX_LINK_TARGETS:
                out.add(target)
            if link.kind == "iframe" and len(embeds) < self.MAX_LINK_TARGETS:
                embeds.add(target)
        verdict = self.states[site].verdict(self.classifier)
        previous = self.verdicts.get(site)
        self.verdicts[site] = verdict
        if previous is None or (previous.is_piracy, previous.category) != (verdict.is_piracy, verdict.category) \
                or abs(previous.score - verdict.score) >= 0.05:
            item.site_verdict = (site, verdict, self.pages[site])
        if verdict.is_piracy and (previous is None or not previous.is_piracy):
            self.crawler.stats.inc_value("isop/sites/flagged")
            self._screenshot(item.final_url)
        return item

    # --- the evidence behind a verdict: the newest pages of the site, whichever run saw them --

    def _window(self, site: str) -> list[list[Any]]:
        """The signals of the site's newest ``evidence_pages`` analysed pages: this run's
        first (newest last fetched), then the store's, each URL once."""
        fresh, gone = self.fresh.get(site, {}), self.gone.get(site, set())
        pages = list(reversed(fresh.values()))[:self.evidence_pages]
        for key, signals in self.stored.get(site, {}).items():
            if len(pages) >= self.evidence_pages:
                break
            if key not in gone:
                pages.append(signals)
        return pages

    @staticmethod
    def _state(window: list[list[Any]]) -> Any:
        from spiders.classify import SiteState

        state = SiteState()
        for signals in window:
            state.add(signals)
        return state

    async def _stored_evidence(self, site: str) -> dict[str, list[Any]]:
        if not self.storage_url:
            return {}
        if self.executor is None:
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="isop-evidence")
        try:
            return await _in_thread(self.executor, self._load_evidence, site)
        except Exception as e:  # noqa: BLE001 - a store problem is the store pipeline's to report
            log.warning("stored evidence of %s not read (%s); its verdict is this run's alone", site, e)
            return {}

    def _load_evidence(self, site: str) -> dict[str, list[Any]]:
        from spiders.classify.model import Signal
        from storage.crawl import stored_page_signals
        from storage.db import open_engine, session_factory

        if self.engine is None:
            self.engine = open_engine(self.storage_url)
        with session_factory(self.engine)() as session:
            rows = stored_page_signals(session, site, self.evidence_pages)
        return {key: [Signal(*g) for g in signals] for key, signals in rows}

    def close_spider(self):
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.engine is not None:
            self.engine.dispose()

    def _screenshot(self, url: str) -> None:
        """Schedule a screenshot of the flagged site's front page (in the same crawl, so it
        lands in the run's evidence before the manifest seals it)."""
        spider = self.crawler.spider
        if self.screenshots_left <= 0 or not hasattr(spider, "screenshot_request"):
            return
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.screenshots_left -= 1
        self.crawler.engine.crawl(spider.screenshot_request(f"{parts.scheme}://{parts.netloc}/"))

    def neighbourhood(self, site: str, flagged: dict[str, str]) -> Any:
        """What the link graph says about ``site``, given the flagged sites and their categories."""
        from collections import Counter

        from spiders.classify import Neighbourhood

        inbound = sum(1 for src, targets in self.links_out.items() if src in flagged and site in targets)
        embedded = sum(1 for src, targets in self.embeds_out.items() if src in flagged and site in targets)
        out = self.links_out.get(site, set())
        categories = Counter(flagged[t] for t in out if t in flagged)
        return Neighbourhood(flagged_inbound=inbound, flagged_outbound=sum(categories.values()), hub_listed=False,
                             embedded_by_flagged=embedded, outbound_categories=tuple(categories.most_common()))

    def final_verdicts(self) -> dict[str, tuple[Any, int]]:
        """Every site's verdict with its neighbourhood and hops, for the end of the crawl."""
        flagged = {s: v.category for s, v in self.verdicts.items() if v.is_piracy}
        out = {site: (state.verdict(self.classifier, self.neighbourhood(site, flagged)), self.pages.get(site, 0))
                for site, state in self.states.items()}
        # A domain that only hands over to a flagged site (301s, "we moved") belongs to it.
        for site, (target, kind) in self.hops.items():
            own = out.get(site)
            if own is not None and own[0].is_piracy:
                continue
            seen = {site}
            while target in self.hops and target not in seen and not (out.get(target) and out[target][0].is_piracy):
                seen.add(target)
                target = self.hops[target][0]
            final = out.get(target)
            if final is None or not final[0].is_piracy:
                continue
            v = final[0]
            reason = f"hopping: {'redirects' if kind == 'redirect' else 'announces its move'} to {target} " \
                     f"(flagged {v.category}, {v.score:.2f})"
            sentence = f"{'Redirects' if kind == 'redirect' else 'Announces its move'} to {target}, " \
                       f"a site flagged as {v.category} piracy."
            out[site] = (replace(v, is_piracy=True, score=round(v.score * 0.95, 4),
                                 signals=(reason, *v.signals[:3]), reasons=(sentence, *v.reasons)),
                         own[1] if own else 0)
        return out


class EvidencePipeline:
    """Writes every fetched response to the run's WARC files, then drops the body."""

    def __init__(self, evidence_dir: Path, run_id: int, software: str) -> None:
        from spiders.evidence import WarcWriter

        self.writer = WarcWriter(evidence_dir, run_id, software=software)
        self.evidence_dir = evidence_dir
        self.run_id = run_id
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="isop-warc")
        self.crawler = None
        self.disk_full: str | None = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("ISOP_EVIDENCE_ENABLED", True):
            raise NotConfigured("ISOP_EVIDENCE_ENABLED is off")
        from spiders.runs import run_id_of

        run_id = run_id_of(crawler)
        if not run_id:
            raise NotConfigured("no ISOP_RUN_ID: evidence needs a crawl run")
        from importlib.metadata import version

        pipeline = cls(Path(s.get("ISOP_EVIDENCE_DIR", "data/evidence")), run_id, f"isop/{version('isop')}")
        pipeline.crawler = crawler
        return pipeline

    async def process_item(self, item):
        if isinstance(item, ScreenshotItem) and item.png is not None:
            png, item.png = item.png, None
            try:
                await _in_thread(self.executor, self._write_screenshot, item, png)
            except OSError as e:
                log.error("screenshot not written for %s: %s", item.url, e)
            return item
        if isinstance(item, PageItem) and item.body is not None and \
                (item.status is not None or item.wire_status is not None):
            body, item.body = item.body, None
            try:
                item.warc = await _in_thread(self.executor, self._write, item, body)
            except OSError as e:  # a full disk must not lose the page's other facts
                log.error("evidence not written for %s: %s", item.url, e)
                item.error = (item.error or "") + f" evidence not written: {e.strerror or e}"[:200]
                if e.errno in DISK_FULL:
                    await self._stop_for_full_disk(e)
            except ValueError as e:  # something the writer refuses: the page is stored all the same
                log.error("evidence not written for %s: %s", item.url, e)
                item.error = ((item.error or "") + f" evidence not written: {e}")[:500]
        return item

    async def _stop_for_full_disk(self, e: OSError) -> None:
        """Pages without their evidence are of little use for a takedown: stop the crawl (the
        run ends interrupted, resumable once there is room) instead of fetching on blind."""
        if self.disk_full is not None or self.crawler is None or self.crawler.engine is None:
            return
        self.disk_full = f"evidence disk full ({e.strerror or e}) in {self.evidence_dir}"
        log.error("stopping the crawl: %s; free space, then run the same command again to resume", self.disk_full)
        self.crawler.stats.set_value("isop/errors/evidence_disk_full", 1)
        asyncio.get_running_loop().create_task(
            self.crawler.engine.close_spider_async(reason=f"evidence_disk_full: {e.strerror or e}"))

    def _write_screenshot(self, item: ScreenshotItem, png: bytes) -> None:
        import hashlib

        from spiders.evidence import save_screenshot

        item.warc = self.writer.write_resource(url=item.url, content_type="image/png", data=png,
                                               fetched_at=item.taken_at)
        path = save_screenshot(self.evidence_dir, self.run_id, item.url, png)
        item.path = str(path.relative_to(self.evidence_dir))
        item.sha256 = hashlib.sha256(png).hexdigest()

    def _write(self, item: PageItem, body: bytes):
        status_reason = ""
        status = item.status if item.status is not None else item.wire_status
        return self.writer.write_response(
            url=item.final_url, status=status, reason=status_reason, headers=item.headers, body=body,
            fetched_at=item.fetched_at, request_headers=item.request_headers or None, ip=item.ip,
            truncated="length" if item.truncated else None)

    async def close_spider(self):
        from spiders.evidence import EvidenceError

        try:
            await _in_thread(self.executor, self.writer.close)
        except (OSError, EvidenceError) as e:  # e.g. no room for the manifest: the run stays unsealed
            log.error("evidence of run %s not sealed: %s; it is sealed when the run is resumed and ends",
                      self.run_id, e)
            if self.crawler is not None:
                self.crawler.stats.set_value("isop/errors/evidence_not_sealed", 1)
        finally:
            self.executor.shutdown(wait=True)


def _connection_error(e: BaseException) -> bool:
    """A store error that a retry can cure: the connection (or the server) went away."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(e, DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, OperationalError | InterfaceError):  # not SQLite's "no such table" and the like
        return type(e.orig).__module__.startswith("psycopg") or "database is locked" in str(e.orig)
    return False


def _one_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    return " ".join(f"{type(orig).__name__}: {orig}".split())[:300]


class StorePipeline:
    """Buffers items and writes them to the store in batches, on its own thread."""

    def __init__(self, crawler, url: str, run_id: int | None, batch_size: int, flush_seconds: float) -> None:
        self.crawler = crawler
        self.url = url
        self.run_id = run_id
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="isop-store")
        self.engine = None
        self.batch = None
        self.last_flush = 0.0
        self.lock = asyncio.Lock()
        self.retry_seconds = 120.0
        """How long a batch is held and retried while the store cannot be reached."""
        self.store_down: str | None = None
        self.suspects: list[PageItem] = []
        """Failed fetches held while the egress watch suspects the proxy (see spiders.egress):
        written once it is cleared, dropped if the way out turns out to be down."""
        self._egress: Any = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("ISOP_STORE_ENABLED", True):
            raise NotConfigured("ISOP_STORE_ENABLED is off")
        from spiders.runs import run_id_of

        pipeline = cls(crawler, s.get("ISOP_STORAGE_URL", "sqlite:///data/isop.db"), run_id_of(crawler) or None,
                       s.getint("ISOP_STORE_BATCH", 200), s.getfloat("ISOP_STORE_FLUSH_SECONDS", 2.0))
        pipeline.retry_seconds = s.getfloat("ISOP_STORE_RETRY_SECONDS", 120.0)
        return pipeline

    def _new_batch(self):
        from storage.crawl import CrawlBatch

        return CrawlBatch()

    async def open_spider(self):
        from storage.migrate import ensure_store

        self.engine = await _in_thread(self.executor, ensure_store, self.url)
        self.batch = self._new_batch()
        self.last_flush = asyncio.get_running_loop().time()

    def _watch(self) -> Any:
        """The crawl's egress watch (None when it is not installed)."""
        if self._egress is False:
            engine = self.crawler.engine
            middlewares = engine.downloader.middleware.middlewares if engine is not None else ()
            self._egress = next((m for m in middlewares if hasattr(m, "suspects")), None)
        return self._egress

    def _hold(self, item: Any) -> bool:
        """Hold a failed fetch while the way out is suspected; release or drop held ones once
        the watch has decided. True when ``item`` was held."""
        watch = self._watch()
        if watch is None:
            return False
        if watch.outage is not None:
            if self.suspects:
                self.crawler.stats.inc_value("isop/egress/dropped", len(self.suspects))
                self.suspects.clear()
            return False
        if isinstance(item, PageItem) and watch.suspects(item):
            self.suspects.append(item)
            return True
        if self.suspects and not watch.streak:
            self.batch.pages.extend(self.suspects)
            self.suspects.clear()
        return False

    async def process_item(self, item):
        if self._hold(item):
            return item
        if isinstance(item, PageItem):
            self.batch.pages.append(item)
            verdict = getattr(item, "site_verdict", None)
            if verdict:
                site, v, pages = verdict
                self.batch.verdicts[site] = v
                self.batch.pages_seen[site] = pages
            self.crawler.stats.inc_value("isop/pages/stored")
        elif isinstance(item, DownloadItem):
            self.batch.downloads.append(item)
        elif isinstance(item, RelationItem):
            self.batch.relations.append(item)
        elif isinstance(item, ScreenshotItem) and item.path:
            self.batch.screenshots.append(item)
        elif isinstance(item, IndicatorItem):
            self.batch.indicators.append(item)
        loop = asyncio.get_running_loop()
        if self.store_down is None and (len(self.batch) >= self.batch_size
                                        or loop.time() - self.last_flush >= self.flush_seconds):
            await self.flush()
        return item

    async def flush(self, extra_verdicts: dict | None = None) -> None:
        async with self.lock:
            batch, self.batch = self.batch, self._new_batch()
            if extra_verdicts:
                for site, (verdict, pages) in extra_verdicts.items():
                    batch.verdicts[site] = verdict
                    batch.pages_seen[site] = pages
            self.last_flush = asyncio.get_running_loop().time()
            if len(batch):
                try:
                    await _in_thread(self.executor, self._write, batch)
                except Exception as e:
                    if not _connection_error(e) or self.store_down is not None:
                        raise
                    # the store stayed away: stop (the run ends interrupted and resumes from
                    # what was stored; the pages of this batch are fetched again then)
                    self.store_down = f"store unreachable for {self.retry_seconds:.0f}s: {_one_line(e)}"
                    log.error("stopping the crawl: %s", self.store_down)
                    self.retry_seconds = min(self.retry_seconds, 5.0)
                    self.crawler.stats.set_value("isop/errors/store_unreachable", 1)
                    if self.crawler.engine is not None:
                        asyncio.get_running_loop().create_task(
                            self.crawler.engine.close_spider_async(reason="store_unreachable"))

    def _write(self, batch) -> None:
        """Write one batch; while the store cannot be reached (a restart, a failover) hold
        it and retry, for up to ``ISOP_STORE_RETRY_SECONDS``."""
        import time

        from storage.crawl import write_batch
        from storage.db import session_factory

        deadline, delay, waited = time.monotonic() + self.retry_seconds, 0.5, False
        while True:
            try:
                with session_factory(self.engine)() as session, session.begin():
                    counts = write_batch(session, self.run_id, batch, datetime.now(UTC))
                break
            except Exception as e:
                if not _connection_error(e) or time.monotonic() + delay > deadline:
                    raise
                if not waited:
                    log.warning("store unreachable (%s); holding %d pages and retrying for up to %.0fs",
                                _one_line(e), len(batch.pages), self.retry_seconds)
                    waited = True
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        if waited:
            log.warning("store reachable again; the held pages are written")
        for key, n in counts.items():
            self.crawler.stats.inc_value(f"isop/store/{key}", n)

    async def close_spider(self):
        try:
            self._hold(None)  # the watch's last word: release what it cleared, drop what the outage caused
            watch = self._watch()
            if self.suspects and (watch is None or watch.outage is None):
                self.batch.pages.extend(self.suspects)
            self.suspects.clear()
            classify = next((p for p in self.crawler.engine.scraper.itemproc.middlewares
                             if isinstance(p, ClassifyPipeline)), None)
            try:
                await self.flush(classify.final_verdicts() if classify else None)
            except Exception as e:
                if not _connection_error(e):
                    raise
                log.error("the last pages of the run were not stored (%s); resuming the run fetches them again",
                          _one_line(e))
                self.crawler.stats.set_value("isop/errors/store_unreachable", 1)
        finally:
            self.executor.shutdown(wait=True)
            if self.engine is not None:
                self.engine.dispose()
