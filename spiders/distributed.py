"""One crawl shared by several crawler processes, on several machines, through Redis.

``isop crawl --distributed`` (``collector.distributed``) runs the ordinary spider with the
pieces below swapped in; everything else (analysis, classification, evidence, the store)
is unchanged. Every key of a crawl lives under ``<prefix>:<crawl key>:`` (see
:class:`CrawlKeys`):

- **frontier** — ``queue``: a sorted set of pickled requests scored by ``-priority``
  (scrapy-redis's priority queue), and ``requeued``: the same for requests taken back
  from dead workers, served first.
- **duplicate filter** — ``dupefilter``: scrapy-redis's set of request fingerprints.
- **reliable pop** — a worker moves a request from the frontier into its own
  ``processing:<worker>`` hash (token -> ``score:request``) in one Lua script; the entry
  is deleted (acknowledged) only once the engine is done with the request *and* the
  store has committed the batch holding its items. A worker keeps ``alive:<worker>``
  (a key with a TTL) fresh from a heartbeat thread; a live worker that finds a
  registered worker (``workers`` set) without that key moves its processing entries
  back to ``requeued`` (atomically, once). A re-queued page request whose page the dead
  worker had already stored (it died between its commit and its acknowledgement) is
  acknowledged without fetching it again. So a killed worker loses at most its
  in-flight requests, and those are crawled by the others.
- **budgets** — the global page budget (``pages``, one INCR per new page request) and
  the per-site budgets (``site_pages`` hash) are shared: checked and counted in the same
  Lua script that filters duplicates and pushes the request. Trap defences (URL shape
  counts) stay per process: a trap can cost up to ``url_shape_limit`` pages per worker.
- **seeding** — the first worker (``SET seeded <worker> NX``) pushes the seeds and then
  marks ``seeded`` ``done``; later workers join without seeding (if the seeding worker
  died half way, the next one seeds again: the duplicate filter drops what was pushed).
- **end** — a worker closes (``finished``) once the frontier is empty and no registered
  worker holds a processing entry, continuously for ``ISOP_IDLE_SECONDS``; until then
  the spider stays open (``spider_idle`` -> ``DontCloseSpider``) and picks up new work.

The keys persist when the crawl ends (``SCHEDULER_PERSIST``): running a worker again
with the same crawl key continues that crawl (and finds nothing left to do once it is
finished); :func:`clear_crawl` deletes a crawl's keys. Requests are pickled: Redis must
be as trusted as the store. Lua scripts build key names at run time: standalone Redis
(or a single hash slot), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import deque
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base as RedisQueueBase
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from spiders.budget import CrawlBudget

log = logging.getLogger(__name__)

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "isop"
DEFAULT_HEARTBEAT_TTL = 15.0
DEFAULT_IDLE_SECONDS = 3.0
SHARED_BUDGET = "isop_shared_budget"
"""Request meta key: (site, site page limit) of a page request the budget admitted; the
scheduler counts it against the shared budgets (once) and removes the key."""
_CRAWL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")


def check_crawl_key(name: str) -> str:
    """A crawl key names the shared crawl in Redis (and its runs' ``job``)."""
    if not _CRAWL_KEY.fullmatch(name or ""):
        raise ValueError(f"crawl key {name!r}: use 1-100 letters, digits, '_', '.', ':' or '-'")
    return name


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class CrawlKeys:
    """The Redis key names of one shared crawl."""

    def __init__(self, prefix: str, crawl_key: str) -> None:
        self.ns = f"{prefix}:{crawl_key}"
        self.queue = f"{self.ns}:queue"
        self.requeued = f"{self.ns}:requeued"
        self.dupefilter = f"{self.ns}:dupefilter"
        self.seeded = f"{self.ns}:seeded"
        self.workers = f"{self.ns}:workers"
        self.runs = f"{self.ns}:runs"
        self.pages = f"{self.ns}:pages"
        self.site_pages = f"{self.ns}:site_pages"
        self.processing_prefix = f"{self.ns}:processing:"
        self.alive_prefix = f"{self.ns}:alive:"

    def processing(self, worker: str) -> str:
        return self.processing_prefix + worker

    def alive(self, worker: str) -> str:
        return self.alive_prefix + worker


def clear_crawl(server: Any, prefix: str, crawl_key: str) -> int:
    """Delete every key of a shared crawl; returns how many."""
    keys = list(server.scan_iter(match=f"{CrawlKeys(prefix, crawl_key).ns}:*", count=500))
    return server.delete(*keys) if keys else 0


def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30)


def distributed_settings(redis_url: str, crawl_key: str, *, prefix: str = DEFAULT_PREFIX,
                         worker_id: str | None = None, heartbeat_ttl: float = DEFAULT_HEARTBEAT_TTL,
                         idle_seconds: float = DEFAULT_IDLE_SECONDS) -> dict[str, Any]:
    """Scrapy settings that make a crawl one worker of the shared crawl ``crawl_key``.

    Apply them over ``collector.crawl.scrapy_settings`` (cmdline priority): the component
    dicts here are spiders.settings' with the distributed pieces swapped in.
    """
    import spiders.settings as defaults

    check_crawl_key(crawl_key)
    keys = CrawlKeys(prefix, crawl_key)
    middlewares = {**defaults.SPIDER_MIDDLEWARES, "spiders.budget.CrawlBudget": None,
                   "spiders.distributed.SharedBudget": defaults.SPIDER_MIDDLEWARES.get("spiders.budget.CrawlBudget", 650),
                   "spiders.distributed.SeedGate": 990}
    return {
        "SCHEDULER": "spiders.distributed.DistributedScheduler",
        "DUPEFILTER_CLASS": "spiders.distributed.SharedDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "spiders.distributed.ReliableQueue",
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        "JOBDIR": None,  # Redis is the crawl's state
        "SPIDER_MIDDLEWARES": middlewares,
        "EXTENSIONS": {**defaults.EXTENSIONS, "spiders.distributed.WorkerCoordinator": 50},
        "ISOP_REDIS_PREFIX": prefix,
        "ISOP_CRAWL_KEY": crawl_key,
        "ISOP_WORKER_ID": worker_id or default_worker_id(),
        "ISOP_HEARTBEAT_TTL": float(heartbeat_ttl),
        "ISOP_IDLE_SECONDS": float(idle_seconds),
    }


# --- Lua: each step that must not be torn by a crash is one script ------------------------

_POP = """
for i = 1, 2 do
  local r = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if #r > 0 then
    redis.call('ZREM', KEYS[i], r[1])
    redis.call('HSET', KEYS[3], ARGV[1], r[2] .. ':' .. r[1])
    return {r[1], i}
  end
end
return false
"""
"""KEYS: requeued, queue, processing(me). ARGV: token. -> {request, 1 if re-queued}."""

_REQUEUE = """
if ARGV[2] ~= '1' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
  if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then return -2 end
end
local entries = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #entries, 2 do
  local v = entries[i + 1]
  local sep = string.find(v, ':', 1, true)
  redis.call('ZADD', KEYS[3], string.sub(v, 1, sep - 1), string.sub(v, sep + 1))
  n = n + 1
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return n
"""
"""KEYS: alive(w), processing(w), requeued, workers. ARGV: w, force ('1': even if alive).
-> requests moved back; -1 the worker is alive, -2 it was reaped already."""

_ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 'dup' end
if ARGV[5] ~= '' then
  if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[4]) then return 'global' end
  if tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0') >= tonumber(ARGV[6]) then return 'site' end
  redis.call('INCR', KEYS[3])
  redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
end
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
return 'ok'
"""
"""KEYS: dupefilter, queue, pages, site_pages. ARGV: fingerprint ('' = don't filter),
request ('' = kept locally), score, max pages, site ('' = not counted), site limit."""

_SNAPSHOT = """
local queued = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local busy = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  busy = busy + redis.call('HLEN', ARGV[1] .. w)
end
return {queued, busy}
"""
"""KEYS: queue, requeued, workers. ARGV: processing key prefix. -> {queued, in flight}."""


# --- the worker's shared state --------------------------------------------------------------


class WorkerState:
    """What the scheduler, the seed gate and the coordinator of one process share."""

    def __init__(self, crawler) -> None:
        s = crawler.settings
        crawl_key = s.get("ISOP_CRAWL_KEY")
        if not crawl_key:
            raise NotConfigured("ISOP_CRAWL_KEY is not set: not a distributed crawl")
        self.crawler = crawler
        self.keys = CrawlKeys(s.get("ISOP_REDIS_PREFIX") or DEFAULT_PREFIX, check_crawl_key(crawl_key))
        self.worker: str = s.get("ISOP_WORKER_ID") or default_worker_id()
        self.ttl = max(1.0, s.getfloat("ISOP_HEARTBEAT_TTL", DEFAULT_HEARTBEAT_TTL))
        self.idle_seconds = max(0.0, s.getfloat("ISOP_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))
        self.redis = redis_client(s.get("REDIS_URL") or DEFAULT_REDIS_URL)
        self.outstanding: dict[str, Request] = {}
        """token -> the request popped with it, until the engine is done with it."""
        self.finished: list[str] = []
        """Tokens the engine is done with: acknowledged once the store committed their items."""
        self.reaped: list[dict[str, Any]] = []
        """Dead workers whose in-flight requests this worker re-queued (worker, requests, run_id)."""
        self.registered = False
        self.closed = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._scripts = {name: self.redis.register_script(src) for name, src in
                         (("pop", _POP), ("requeue", _REQUEUE), ("enqueue", _ENQUEUE), ("snapshot", _SNAPSHOT))}

    def script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[name](keys=keys, args=args)

    # registration and heartbeat

    def register(self) -> None:
        """Join the crawl: take back what a dead predecessor with our id left, start beating."""
        r, k = self.redis, self.keys
        deadline = time.monotonic() + self.ttl + 1
        while r.exists(k.alive(self.worker)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker id {self.worker!r} is in use by a live worker of crawl {k.ns}")
            time.sleep(0.5)
        moved = self.script("requeue", [k.alive(self.worker), k.processing(self.worker), k.requeued, k.workers],
                            [self.worker, "1"])
        if moved:
            log.warning("re-queued %d requests left in flight by an earlier process with worker id %s",
                        moved, self.worker)
        self._beat_once()
        run_id = getattr(self.crawler, "isop_run_id", 0) or self.crawler.settings.getint("ISOP_RUN_ID", 0)
        with r.pipeline() as p:
            p.sadd(k.workers, self.worker)
            if run_id:
                p.hset(k.runs, self.worker, run_id)
            p.execute()
        self.registered = True
        self._beat = threading.Thread(target=self._beat_loop, name="isop-heartbeat", daemon=True)
        self._beat.start()

    def _beat_once(self) -> None:
        info = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "at": time.time()})
        self.redis.set(self.keys.alive(self.worker), info, px=int(self.ttl * 1000))

    def _beat_loop(self) -> None:
        # A thread, not the reactor: a busy reactor must not get a live worker declared dead.
        while not self._stop.wait(self.ttl / 3):
            try:
                self._beat_once()
            except Exception as e:  # noqa: BLE001 - Redis away for a moment: try again
                log.warning("heartbeat to Redis failed: %s", e)

    def unregister(self) -> None:
        """Leave the crawl: anything still in flight goes back to the frontier."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        if not self.registered:
            return
        self.registered = False
        k = self.keys
        left = self.script("requeue", [k.alive(self.worker), k.processing(self.worker), k.requeued, k.workers],
                           [self.worker, "1"])
        if left:
            log.warning("re-queued %d requests this worker did not finish", left)
        self.redis.delete(k.alive(self.worker))

    def alive(self, worker: str) -> bool:
        return bool(self.redis.exists(self.keys.alive(worker)))

    def reap(self) -> int:
        """Move the in-flight requests of dead workers back to the frontier; returns how many."""
        k, total = self.keys, 0
        stats = self.crawler.stats
        for raw in self.redis.smembers(k.workers):
            worker = raw.decode()
            if worker == self.worker:
                continue
            moved = self.script("requeue", [k.alive(worker), k.processing(worker), k.requeued, k.workers],
                                [worker, "0"])
            if moved < 0:
                continue
            run_id = self.redis.hget(k.runs, worker)
            self.reaped.append({"worker": worker, "requests": moved, "run_id": int(run_id) if run_id else None})
            stats.inc_value("isop/distributed/workers_lost")
            stats.inc_value("isop/distributed/requeued", moved)
            log.warning("worker %s stopped answering: re-queued its %d in-flight requests", worker, moved)
            total += moved
        return total

    def snapshot(self) -> tuple[int, int]:
        """(requests in the frontier, requests in flight at any registered worker)."""
        k = self.keys
        queued, busy = self.script("snapshot", [k.queue, k.requeued, k.workers], [k.processing_prefix])
        return int(queued), int(busy)

    def ack(self, tokens: list[str]) -> None:
        if tokens:
            self.redis.hdel(self.keys.processing(self.worker), *tokens)
            self.crawler.stats.inc_value("isop/distributed/acked", len(tokens))


def state_of(crawler) -> WorkerState:
    state = getattr(crawler, "isop_distributed", None)
    if state is None:
        state = crawler.isop_distributed = WorkerState(crawler)
    return state


# --- the frontier ---------------------------------------------------------------------------


class ReliableQueue(RedisQueueBase):
    """scrapy-redis's priority queue, popped reliably into this worker's processing hash."""

    def __init__(self, server, spider, key, serializer=None, state: WorkerState | None = None) -> None:
        super().__init__(server, spider, key, serializer or picklecompat)
        if state is None:
            raise ValueError("ReliableQueue needs the worker state")
        self.state = state
        self.keys = state.keys

    def __len__(self) -> int:
        with self.server.pipeline(transaction=False) as p:
            p.zcard(self.keys.queue)
            p.zcard(self.keys.requeued)
            return sum(p.execute())

    def encode(self, request: Request) -> bytes:
        return self._encode_request(request)

    def push(self, request: Request) -> None:
        self.server.zadd(self.keys.queue, {self._encode_request(request): -request.priority})

    def push_checked(self, fingerprint: str, data: bytes, score: int, max_pages: int,
                     budget: tuple[str, int] | None) -> str:
        """Filter duplicates, count the shared budgets and push, atomically: 'ok', 'dup',
        'global' or 'site'."""
        site, limit = budget if budget else ("", 0)
        k = self.keys
        out = self.state.script("enqueue", [k.dupefilter, k.queue, k.pages, k.site_pages],
                                [fingerprint, data, score, max_pages, site, limit])
        return out.decode() if isinstance(out, bytes) else str(out)

    def pop_reliably(self) -> tuple[Request | None, str, bool] | None:
        """The next request, now in this worker's processing hash under the returned token;
        None when the frontier is empty. The request is None when it cannot be decoded."""
        token = secrets.token_hex(8)
        k = self.keys
        got = self.state.script("pop", [k.requeued, k.queue, k.processing(self.state.worker)], [token])
        if not got:
            return None
        data, source = got
        try:
            request = self._decode_request(data)
        except Exception as e:  # noqa: BLE001 - a request this code can't rebuild is dropped, not retried forever
            log.error("dropping a request from the shared frontier that cannot be decoded: %s", e)
            return None, token, False
        return request, token, int(source) == 1

    def pop(self, timeout: int = 0) -> Request | None:  # scrapy-redis's interface; not reliable
        got = self.pop_reliably()
        if got is None:
            return None
        request, token, _ = got
        self.state.ack([token])
        return request

    def clear(self) -> None:
        self.server.delete(self.keys.queue, self.keys.requeued)


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's fingerprint set under the crawl's key; never cleared on close."""

    @classmethod
    def from_spider(cls, spider):
        state = state_of(spider.crawler)
        return cls(state.redis, key=state.keys.dupefilter, debug=spider.settings.getbool("DUPEFILTER_DEBUG"))

    def close(self, reason: str = "") -> None:
        pass  # the fingerprints belong to the shared crawl, not to this worker


class DistributedScheduler(RedisScheduler):
    """scrapy-redis's scheduler with a reliable pop, shared budgets and a local lane.

    Requests that must stay with this worker (screenshots of pages it classified; anything
    that cannot be serialised) go to a local in-memory queue, served first.
    """

    def __init__(self, state: WorkerState, max_pages: int, store_url: str | None, **kwargs) -> None:
        super().__init__(state.redis, persist=True, **kwargs)
        self.state = state
        self.max_pages = max_pages
        self.store_url = store_url
        self.local: deque[Request] = deque()
        self._store_engine = None
        self.crawler = state.crawler

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        state = state_of(crawler)
        state.redis.ping()
        instance = cls(state, s.getint("ISOP_MAX_PAGES", 2000), s.get("ISOP_STORAGE_URL"),
                       queue_key=state.keys.queue, queue_cls="spiders.distributed.ReliableQueue",
                       dupefilter_key=state.keys.dupefilter)
        instance.stats = crawler.stats
        return instance

    def open(self, spider) -> None:
        self.spider = spider
        self.queue = ReliableQueue(self.server, spider, self.state.keys.queue, self.serializer, state=self.state)
        self.df = SharedDupeFilter.from_spider(spider)
        self.state.register()
        self.state.reap()
        if len(self.queue):
            log.info("joining shared crawl %s (%d requests queued)", self.state.keys.ns, len(self.queue))

    def close(self, reason: str) -> None:
        # The engine is done with every request and the pipelines have flushed the store.
        state = self.state
        state.closed = True
        state.finished.extend(state.outstanding)
        state.outstanding.clear()
        state.ack(state.finished)
        state.finished.clear()
        if self.local:
            log.warning("%d local requests (screenshots) were not crawled", len(self.local))
        state.unregister()
        if self._store_engine is not None:
            self._store_engine.dispose()

    def __len__(self) -> int:
        return len(self.local) + len(self.queue)

    def has_pending_requests(self) -> bool:
        return bool(self.local) or len(self.queue) > 0

    def enqueue_request(self, request: Request) -> bool:
        budget = request.meta.pop(SHARED_BUDGET, None)
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        data = b""
        if not request.meta.get("isop_screenshot"):
            try:
                data = self.queue.encode(request)
            except Exception as e:  # noqa: BLE001 - as Scrapy's scheduler: fall back to memory
                log.warning("request kept in memory, not shared (cannot serialise it: %s): %s", e, request)
        outcome = self.queue.push_checked(fingerprint, data, -request.priority, self.max_pages,
                                          tuple(budget) if budget else None)
        if outcome == "dup":
            self.df.log(request, self.spider)
            self.stats.inc_value("isop/distributed/duplicates")
            return False
        if outcome in ("global", "site"):
            self.stats.inc_value(f"isop/budget/{outcome}")
            return False
        if not data:
            self.local.append(request)
            self.stats.inc_value("scheduler/enqueued/memory")
        else:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.local:
            self.stats.inc_value("scheduler/dequeued/memory")
            return self.local.popleft()
        while True:
            got = self.queue.pop_reliably()
            if got is None:
                return None
            request, token, requeued = got
            if request is None:
                self.state.ack([token])
                continue
            if requeued and self._already_stored(request):
                # the dead worker committed this page but died before acknowledging it
                self.state.ack([token])
                self.stats.inc_value("isop/distributed/requeued_already_stored")
                continue
            self.state.outstanding[token] = request
            self.stats.inc_value("scheduler/dequeued/redis")
            return request

    def _already_stored(self, request: Request) -> bool:
        """Whether one of the crawl's runs stored the page this request would fetch."""
        if getattr(request.callback, "__name__", request.callback) != "parse":
            return False  # only pages are stored per request; other items are idempotent upserts
        run_ids = [int(v) for v in self.state.redis.hvals(self.state.keys.runs)]
        if not run_ids or not self.store_url:
            return False
        from sqlalchemy import select

        from storage.crawl import sha256_text
        from storage.db import open_engine
        from storage.models import Page

        url = (request.meta.get("redirect_urls") or [request.url])[0]
        try:
            if self._store_engine is None:
                self._store_engine = open_engine(self.store_url)
            with self._store_engine.connect() as c:
                return c.scalar(select(Page.id).where(
                    Page.run_id.in_(run_ids), Page.url_sha256 == sha256_text(url),
                    Page.rendered.is_(bool(request.meta.get("isop_rendered")))).limit(1)) is not None
        except Exception as e:  # noqa: BLE001 - when in doubt, fetch again
            log.warning("could not check the store for %s: %s", url, e)
            return False


# --- budgets and seeds ----------------------------------------------------------------------


class SharedBudget(CrawlBudget):
    """The crawl budget with the global and per-site counts moved to Redis.

    Trap defences (URL length, path depth, repeating paths, query parameters, URL
    shapes) are decided here, per process; an admitted page request carries
    ``(site, site limit)`` to the scheduler, which counts it against the shared budgets
    only if no worker has queued it before.
    """

    def _has_room(self, site: str, site_pages: int) -> bool:
        return True  # the scheduler counts the shared budgets in Redis

    def _admitted(self, request: Request, site: str, site_pages: int) -> None:
        request.meta[SHARED_BUDGET] = (site, site_pages)


class SeedGate:
    """Lets the spider's seeds through in one worker only (the first), or again when the
    worker that was seeding died before it finished."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("ISOP_CRAWL_KEY"):
            raise NotConfigured("not a distributed crawl")
        return cls(crawler)

    def _claim(self) -> bool:
        state = state_of(self.crawler)
        r, key = state.redis, state.keys.seeded
        if r.set(key, state.worker, nx=True):
            return True
        holder = (r.get(key) or b"").decode()
        if holder == "done" or holder == state.worker or state.alive(holder):
            return holder == state.worker  # our own unfinished seeding (a restart): seed again
        r.set(key, state.worker)  # the seeding worker died half way: seed again
        return True

    async def process_start(self, start):
        state = state_of(self.crawler)
        if not self._claim():
            self.crawler.stats.set_value("isop/distributed/seeded", 0)
            log.info("joining crawl %s: another worker seeded it", state.keys.ns)
            return
        async for o in start:
            yield o
        state.redis.set(state.keys.seeded, "done")
        self.crawler.stats.set_value("isop/distributed/seeded", 1)


# --- acknowledgements, dead workers, the end ---------------------------------------------------


class WorkerCoordinator:
    """Runs a worker's side of the shared crawl on the reactor, every ``tick`` seconds:

    - finds popped requests the engine is done with (downloaded, parsed, their items
      through the pipelines, their follow-ups queued) and, once the store pipeline has
      committed the batch holding their items, acknowledges them;
    - re-queues the in-flight requests of workers whose heartbeat expired;
    - keeps the spider open while the crawl has work anywhere, nudges the engine when
      new requests arrive, and lets it close once the frontier and every worker's
      in-flight set stay empty for ``ISOP_IDLE_SECONDS``.
    """

    tick = 0.5

    def __init__(self, crawler, state: WorkerState) -> None:
        self.crawler = crawler
        self.state = state
        self.flush_delay = crawler.settings.getfloat("ISOP_STORE_FLUSH_SECONDS", 2.0)
        self.finished_since: float | None = None
        self.idle_since: float | None = None
        self.last_reap = 0.0
        self.task: asyncio.Task | None = None
        self.closing = False
        self.seen_seeded = False
        self.failing_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("ISOP_CRAWL_KEY"):
            raise NotConfigured("not a distributed crawl")
        ext = cls(crawler, state_of(crawler))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        self.task = loop.create_task(self._loop())

    async def spider_closed(self, spider, reason: str) -> None:
        self.closing = True
        if self.task is not None:
            self.task.cancel()
        self.crawler.stats.set_value("isop/distributed/worker", self.state.worker)

    async def _loop(self) -> None:
        while not self.closing and not self.state.closed:
            await asyncio.sleep(self.tick)
            try:
                # checked first: after a Redis restart the coordination itself may keep failing
                if not await asyncio.to_thread(self._shared_state_present):
                    self._stop("redis_state_lost", "the shared crawl's state vanished from Redis (a restart "
                                                   "without persistence?); the frontier is lost")
                    return
                await self._tick()
                self.failing_since = None
            except asyncio.CancelledError:
                raise
            except Exception as e:  # keep coordinating; the next tick tries again, for a while
                now = time.monotonic()
                self.failing_since = self.failing_since or now
                if isinstance(e, redis.exceptions.RedisError):
                    log.warning("Redis unreachable: %s", e)
                else:
                    log.exception("distributed crawl coordination failed this tick")
                if now - self.failing_since >= 3 * self.state.ttl:
                    self._stop("redis_unreachable", f"coordination through Redis failing for "
                                                    f"{3 * self.state.ttl:.0f} s: {e}")
                    return

    def _shared_state_present(self) -> bool:
        """Whether the crawl's seeding mark is still in Redis, once this worker has seen it."""
        present = bool(self.state.redis.exists(self.state.keys.seeded))
        if present:
            self.seen_seeded = True
        return present or not self.seen_seeded

    def _stop(self, reason: str, message: str) -> None:
        if self.closing:
            return
        self.closing = True
        log.error("stopping worker %s: %s", self.state.worker, message)
        self.crawler.stats.set_value("isop/distributed/stopped", message)
        spider = getattr(self.crawler, "spider", None)
        if spider is not None:
            self.crawler.engine.close_spider(spider, reason)

    def _engine_slot(self):
        return getattr(self.crawler.engine, "_slot", None)

    def _collect_done(self) -> None:
        """Move tokens whose request left the engine to ``finished``."""
        state = self.state
        if not state.outstanding:
            return
        slot = self._engine_slot()
        inprogress = getattr(slot, "inprogress", None)
        if inprogress is None:  # another Scrapy: only an idle engine tells that all are done
            done = list(state.outstanding) if self._engine_idle() else []
        else:
            done = [t for t, r in state.outstanding.items() if r not in inprogress]
        for token in done:
            del state.outstanding[token]
        if done:
            state.finished.extend(done)
            if self.finished_since is None:
                self.finished_since = time.monotonic()

    def _engine_idle(self) -> bool:
        try:
            return bool(self.crawler.engine.spider_is_idle())
        except Exception:  # noqa: BLE001 - not open (yet, any more)
            return False

    def _store(self):
        from spiders.pipelines import StorePipeline

        scraper = getattr(self.crawler.engine, "scraper", None)
        itemproc = getattr(scraper, "itemproc", None)
        return next((p for p in getattr(itemproc, "middlewares", ()) if isinstance(p, StorePipeline)), None)

    async def _acknowledge(self) -> None:
        state = self.state
        tokens = list(state.finished)
        if not tokens:
            return
        store = self._store()
        if store is not None:
            if store.batch is None or getattr(self._engine_slot(), "closing", None) is not None:
                return  # not open, or closing: the scheduler acknowledges after the final flush
            await store.flush()  # every item of these requests is in this batch or an earlier one
        state.ack(tokens)
        del state.finished[:len(tokens)]
        self.finished_since = time.monotonic() if state.finished else None

    async def _tick(self) -> None:
        state = self.state
        now = time.monotonic()
        self._collect_done()
        if state.finished and (not state.outstanding or now - (self.finished_since or now) >= self.flush_delay):
            await self._acknowledge()
        if now - self.last_reap >= state.ttl / 3:
            self.last_reap = now
            await asyncio.to_thread(state.reap)
        # By itself the engine asks an empty scheduler again only every 5 s; other workers
        # fill the shared frontier at any time.
        self._nudge()
        if not self._engine_idle():  # busy, or requests are queued
            self.idle_since = None
            return
        queued, busy = await asyncio.to_thread(state.snapshot)
        if queued or busy or state.outstanding or state.finished:
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now
        elif now - self.idle_since >= state.idle_seconds:
            self._nudge()  # let spider_idle close the spider now

    def _nudge(self) -> None:
        slot = self._engine_slot()
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def spider_idle(self, spider) -> None:
        state = self.state
        if (self.idle_since is not None and time.monotonic() - self.idle_since >= state.idle_seconds
                and not state.outstanding and not state.finished):
            queued, busy = state.snapshot()
            if not queued and not busy:
                log.info("shared crawl %s has no work left: worker %s closes", state.keys.ns, state.worker)
                return
            self.idle_since = None
        raise DontCloseSpider
