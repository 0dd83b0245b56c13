"""The spider behind both crawls: discovery (from seeds, across the web) and targeted
(one site, its redirects and its mirrors, deeper).

It only reads pages and decides what to follow; classification aggregates, evidence and
storage happen in the item pipelines. Budgets and trap defences are in
:mod:`spiders.budget`; rendering decisions here, rendering itself in scrapy-playwright.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.analysis import Analyser, PageFacts, default_workers
from spiders.budget import EXEMPT
from spiders.depth import SAME_DEPTH
from spiders.hopping import numbered_successors
from spiders.items import (
    DownloadItem,
    IndicatorItem,
    PageItem,
    RelationItem,
    ScreenshotItem,
)
from spiders.page import decode, is_html
from spiders.render import render_meta
from spiders.truncation import cut, truncated
from storage.names import same_brand, site_of

DOWNLOAD_EXTENSIONS = frozenset(
    "exe msi dmg pkg apk xapk ipa deb rpm bin jar appimage zip rar 7z tar gz tgz bz2 xz zst iso img "
    "mp4 mkv avi mov wmv flv webm m4v ts mp3 flac m4a aac wav ogg opus pdf epub mobi azw3 djvu cbz cbr".split())
FOLLOW_KINDS = ("anchor", "iframe", "redirect", "js")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_VISIBLE_TEXT = 300_000


NO_CRAWL_FILE = Path(__file__).resolve().parents[1] / "config" / "crawl" / "no_crawl.txt"


def load_host_list(path: Path) -> frozenset[str]:
    """Host suffixes, one a line, ``#`` comments."""
    if not path.is_file():
        return frozenset()
    return frozenset(line.strip().lower().lstrip(".") for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))


def host_matches(host: str, suffixes: frozenset[str]) -> bool:
    """Whether ``host`` is one of ``suffixes`` or below one of them."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    return any(".".join(labels[i:]) in suffixes for i in range(len(labels) - 1))


def now() -> datetime:
    return datetime.now(UTC)


def extension_of(url: str) -> str:
    path = urlsplit(url).path.lower()
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1] if "." in last else ""


class SiteSpider(scrapy.Spider):
    """``scrapy crawl discover -a seeds=FILE`` or ``scrapy crawl discover -a url=URL``.

    Spider arguments: ``seeds`` (a seed file), ``urls`` (a list, or one string of URLs
    separated by white space or new lines: never by commas, which URLs contain), ``url``
    (one site: a targeted crawl). Everything else comes from settings (``ISOP_*``). A seed
    that is not a crawlable URL is skipped with a warning (``isop/seeds/skipped``); the
    others are still crawled.
    """

    name = "discover"

    def __init__(self, seeds: str | None = None, urls: str | list[str] | None = None, url: str | None = None,
                 resume_run: str | int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.targeted = bool(url)
        start: list[str] = []
        if url:
            start.append(url)
        if urls:
            start.extend(u.strip() for u in (urls.split() if isinstance(urls, str) else urls) if u.strip())
        if seeds:
            from spiders.seeds import read_seed_file

            start.extend(read_seed_file(seeds).urls)
        self.start_urls = start
        self.allowed_sites: set[str] | None = None
        self.site_page_budget: int | None = None
        if self.targeted:
            self.allowed_sites = {d for d in (site_of(u) for u in start) if d}
        self.sites_seen: set[str] = set()
        self.probed_stems: set[str] = set()
        self.rendered = 0
        self.hash_bytes_read = 0
        self.rendered_per_site: dict[str, int] = {}
        self.resume_run = int(resume_run) if resume_run else None
        self.done: set[str] = set()
        self._budget_mw = False

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.render_enabled = s.getbool("ISOP_RENDER_ENABLED", True)
        spider.render_max = s.getint("ISOP_RENDER_MAX_PAGES", 50)
        spider.render_per_site = s.getint("ISOP_RENDER_PER_SITE", 3)
        spider.successor_probes = s.getint("ISOP_SUCCESSOR_PROBES", 5)
        spider.resolvers = s.getlist("ISOP_RESOLVERS")
        spider.dns_timeout = s.getfloat("ISOP_DNS_TIMEOUT", 3.0)
        workers = s.getint("ISOP_ANALYSIS_WORKERS", -1)
        spider.analyser = Analyser(default_workers() if workers < 0 else workers)
        spider.no_crawl = load_host_list(NO_CRAWL_FILE)
        if spider.targeted:
            spider.site_page_budget = s.getint("ISOP_TARGETED_PAGES", 300)
        return spider

    # --- requests -----------------------------------------------------------------------

    async def start(self):
        frontier: list[tuple[str, int]] = []
        if self.resume_run:
            frontier = await self._load_resume_state()
        for url in self.start_urls:
            if url not in self.done and (request := self._seed_request(url)) is not None:
                yield request
        for url, depth in frontier:
            try:
                request = self.page_request(url, depth=depth)
            except ValueError as e:  # a stored link Scrapy cannot request: skip it, keep the rest
                self.logger.warning("not resuming %r: %s", url[:200], e)
                continue
            if request is not None:
                yield request

    def _seed_request(self, url: str) -> scrapy.Request | None:
        """The request for one seed; None (a warning and ``isop/seeds/skipped``) for a seed
        that is not a crawlable URL, so one bad seed never aborts the others."""
        from spiders.seeds import check_url

        try:
            return self.page_request(check_url(url), priority=100, seed=True)
        except (ValueError, TypeError) as e:
            self.logger.warning("seed %r skipped: %s", str(url)[:200], e)
            self.crawler.stats.inc_value("isop/seeds/skipped")
            return None

    async def _load_resume_state(self) -> list[tuple[str, int]]:
        """What an interrupted run already stored, and the links it had not yet fetched."""
        from storage.crawl import resume_state
        from storage.db import open_engine, session_factory

        def load():
            engine = open_engine(self.settings.get("ISOP_STORAGE_URL"))
            try:
                with session_factory(engine)() as session:
                    return resume_state(session, self.resume_run, FOLLOW_KINDS)
            finally:
                engine.dispose()

        done, frontier, sites = await asyncio.to_thread(load)
        self.done.update(done)
        self.sites_seen.update(sites)
        budget = next((m for m in self.crawler.engine.scraper.spidermw.middlewares
                       if hasattr(m, "admit")), None)
        if budget is not None:
            for url in done:
                budget.admit(scrapy.Request(url), self.allowed_sites, self.site_page_budget)
        self.crawler.stats.set_value("isop/resume/done", len(done))
        self.crawler.stats.set_value("isop/resume/frontier", len(frontier))
        return frontier

    def page_request(self, url: str, priority: int = 0, seed: bool = False, **meta) -> scrapy.Request | None:
        if url in self.done:
            return None
        # Pages link the same URLs over and over; a request the budget already admitted
        # would cost Scrapy's middlewares and scheduler work only to be dropped as a duplicate.
        budget = self._budget()
        if budget is not None and budget.already_admitted(url):
            return None
        if not seed and host_matches(urlsplit(url).hostname or "", self.no_crawl):
            self.crawler.stats.inc_value("isop/budget/no_crawl")
            return None
        return scrapy.Request(url, callback=self.parse, errback=self.failed, priority=priority,
                              meta={"isop_seed": seed, "dont_redirect": True, **meta})

    def _budget(self):
        """The crawl's budget middleware (None when it is not installed)."""
        if self._budget_mw is False:
            self._budget_mw = next((m for m in self.crawler.engine.scraper.spidermw.middlewares
                                    if hasattr(m, "already_admitted")), None)
        return self._budget_mw

    # --- responses ----------------------------------------------------------------------

    async def parse(self, response: Response) -> list:
        """Everything the page yields, as one list: Scrapy then runs its middlewares over a
        plain iterable, far cheaper per request than over an asynchronous generator."""
        return [out async for out in self._parse(response)]

    async def _parse(self, response: Response):
        fetched_at = now()
        asked = response.url
        if response.meta.get("isop_rendered"):  # the browser's DOM: no downloader cap on it
            response = cut(response, self.settings.getint("DOWNLOAD_MAXSIZE"))
            asked = response.request.url  # the browser follows redirects itself: keep where it began
        request_url = (response.meta.get("redirect_urls") or [asked])[0]
        redirects = list(zip(response.meta.get("redirect_urls", []),
                             response.meta.get("redirect_reasons", []), strict=False))
        item = PageItem(
            url=request_url, final_url=response.url, status=response.status, fetched_at=fetched_at,
            depth=response.meta.get("depth", 0), content_type=_header(response, b"Content-Type"),
            content_length=len(response.body), content_sha256=hashlib.sha256(response.body).hexdigest(),
            rendered=bool(response.meta.get("isop_rendered")),
            redirects=[(u, int(r) if isinstance(r, int) else 0) for u, r in redirects],
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs],
            request_headers=[(k.decode("latin-1"), v.decode("latin-1"))
                             for k, vs in response.request.headers.items() for v in vs],
            body=response.body, ip=str(response.ip_address) if response.ip_address else None,
            truncated=bool(truncated(response)),
        )
        final_site = site_of(response.url)
        if not 100 <= response.status <= 599:  # not HTTP: archived as it came, never analysed
            self.crawler.stats.inc_value("isop/errors/malformed_status")
            item.status, item.wire_status = None, response.status
            item.error = f"malformed response: HTTP status {response.status} outside 100-599"
            yield item
            return
        if response.status in REDIRECT_STATUSES and not item.rendered:
            for out in self._redirected(response, item):
                yield out
            return
        for old, _status in redirects:
            if (old_site := site_of(old)) and final_site and old_site != final_site:
                yield RelationItem(old_site, final_site, "redirect", fetched_at, old)
                self._allow(final_site)
        if not item.redirects and response.meta.get("isop_chain"):  # the end of a chain: where it began
            item.redirects = [(u, int(st)) for u, st in response.meta["isop_chain"]]

        if not is_html(response):
            yield item
            return

        text_html = decode(response)
        analysis = await self.analyser.run(PageFacts(
            url=response.url, status=response.status, html=text_html, site=final_site or "",
            rendered=item.rendered, plain_links=tuple(response.meta.get("isop_plain_links", ())),
            content_language=_header(response, b"Content-Language")))
        item.title, item.language, item.links = analysis.title, analysis.language, analysis.links
        item.indicators, item.signals = analysis.indicators, analysis.signals
        item.analysed = response.status < 300
        links = analysis.links
        yield item

        if response.status >= 400:
            return
        # Rendering: a page with scripts and hardly any text or links was built by script.
        if not item.rendered and analysis.needs_render and self._may_render(final_site):
            self.rendered += 1
            self.rendered_per_site[final_site] = self.rendered_per_site.get(final_site, 0) + 1
            self.crawler.stats.inc_value("isop/render/requests")
            yield scrapy.Request(response.url, callback=self.parse, errback=self.failed, dont_filter=True,
                                 priority=50, meta={**render_meta(), "isop_rendered": True, EXEMPT: True, SAME_DEPTH: True,
                                                    "depth": response.meta.get("depth", 0),
                                                    "isop_plain_links": [lnk.url for lnk in links]})

        # Domain hopping: notices and mirror lists, and numbered successors.
        # Meta refresh and script location changes to another site hand the visitor over too.
        for target in {lnk.url for lnk in links if lnk.kind == "redirect" or (lnk.kind == "js" and
                                                                            lnk.text == "location")}:
            if (target_site := site_of(target)) and final_site and target_site != final_site:
                yield RelationItem(final_site, target_site, "redirect", fetched_at, response.url)
                self._allow(target_site)
        moved, listed = analysis.moved, analysis.listed
        # A listed domain is a mirror only when it carries the site's brand; other names in
        # a proxy list are ordinary links (followed as such by a discovery crawl).
        mirrors = [d for d in listed if final_site and same_brand(d, final_site)]
        for domain, kind in [(d, "announced") for d in moved] + [(d, "mirror") for d in mirrors]:
            yield RelationItem(final_site, domain, kind, fetched_at, response.url)
            self._allow(domain)
            if (request := self.page_request(f"https://{domain}/", priority=20)) is not None:
                yield request
        if final_site and final_site not in self.sites_seen:
            self.sites_seen.add(final_site)
            self.crawler.stats.inc_value("isop/sites/seen")
            icon = analysis.icon
            icon_url = response.urljoin(icon.strip()) if icon and not icon.strip().startswith("data:") else \
                response.urljoin("/favicon.ico")
            if icon_url.startswith(("http://", "https://")):
                yield scrapy.Request(icon_url, callback=self.favicon, errback=self.favicon_failed, priority=-5,
                                     meta={EXEMPT: True, "download_maxsize": 1_048_576,
                                           "isop_found_on": response.url})
            async for out in self._probe_successors(final_site, fetched_at, response.url):
                yield out

        for link in links:
            if link.kind not in FOLLOW_KINDS or link.url.startswith("magnet:"):
                continue
            target_site = site_of(link.url)
            if extension_of(link.url) in DOWNLOAD_EXTENSIONS:
                yield scrapy.Request(link.url, method="HEAD", callback=self.download_head,
                                     errback=self.download_failed, priority=-10,
                                     meta={"isop_found_on": response.url, "handle_httpstatus_all": True})
                continue
            new_site = target_site not in self.sites_seen
            if (request := self.page_request(link.url, priority=10 if new_site else 0)) is not None:
                yield request

    def _redirected(self, response: Response, item: PageItem):
        """A 3xx answer is recorded where it happens: a page of its own (archived with its
        headers), the hop when it leaves the site, and the target scheduled at the same
        depth, whatever then happens to it (already crawled, a duplicate, over a budget)."""
        raw_location = response.headers.get(b"Location")  # whole: _header keeps 200 characters, a cut URL is another
        location = raw_location.decode("latin-1") if raw_location else None
        target = response.urljoin(location.strip()) if location else None
        if not target or not target.startswith(("http://", "https://")):
            yield item
            return
        item.redirects = [(target, response.status)]
        # The hops that led here ride along (request meta): a target that repeats one of them
        # is a loop, a chain over REDIRECT_MAX_TIMES is given up; either is recorded on this
        # last hop's page, with every URL and status seen.
        chain = [*response.meta.get("isop_chain", ()), (response.url, response.status)]
        hops = len(chain)
        most = self.settings.getint("REDIRECT_MAX_TIMES", 10)
        # A redirect to the same URL that sets a cookie is a cookie check (anti-bot, CDN): the
        # visitor comes back with the cookie once; only a second return is a loop.
        repeats = sum(u == target for u, _s in chain)
        cookie_check = repeats == 1 and bool(response.headers.getlist(b"Set-Cookie"))
        if repeats and not cookie_check:
            item.error = f"redirect loop: {_chain_text(chain, target)}"[:500]
            self.crawler.stats.inc_value("isop/redirects/loops")
        elif hops > most:
            item.error = f"redirect chain longer than {most}: {_chain_text(chain, target)}"[:500]
            self.crawler.stats.inc_value("isop/redirects/too_long")
        yield item
        here, there = site_of(response.url), site_of(target)
        if here and there and here != there:
            yield RelationItem(here, there, "redirect", item.fetched_at, response.url)
            self._allow(there)
        self.crawler.stats.inc_value("isop/redirects/seen")
        if item.error or (target in self.done and not cookie_check):
            return
        if len(target) > self.settings.getint("ISOP_MAX_URL_LENGTH", 1024):  # as the budget does for links
            self.crawler.stats.inc_value("isop/budget/trap/url_length")
            return
        if host_matches(urlsplit(target).hostname or "", self.no_crawl):
            self.crawler.stats.inc_value("isop/budget/no_crawl")
            return
        request = scrapy.Request(target, callback=self.parse, errback=self.failed, dont_filter=cookie_check,
                                 priority=response.request.priority + 1,
                                 meta={"isop_seed": response.meta.get("isop_seed", False), "dont_redirect": True,
                                       "isop_chain": [list(h) for h in chain],
                                       "depth": response.meta.get("depth", 0)})
        self.crawler.engine.crawl(request)  # past the spider middlewares, as Scrapy's own redirects

    def _allow(self, site: str | None) -> None:
        if site and self.allowed_sites is not None:
            self.allowed_sites.add(site)

    def _may_render(self, site: str | None) -> bool:
        if not self.render_enabled or self.rendered >= self.render_max or not site:
            return False
        return self.rendered_per_site.get(site, 0) < self.render_per_site

    def closed(self, reason: str) -> None:
        self.analyser.close()

    async def _probe_successors(self, site: str, seen_at: datetime, evidence_url: str):
        names = numbered_successors(site, self.successor_probes)
        if not names:
            return
        stem = names[0].rstrip("0123456789.") + names[0].split(".", 1)[1]
        if stem in self.probed_stems:
            return
        self.probed_stems.add(stem)
        try:
            live = await resolve_live(names, self.resolvers, self.dns_timeout)
        except ResolversUnreachable as e:
            from spiders.egress import stop_for_outage

            stop_for_outage(self.crawler, str(e))
            return
        self.crawler.stats.inc_value("isop/hopping/probes", len(names))
        previous = site
        for name in names:
            if name in live:
                self.crawler.stats.inc_value("isop/hopping/successors")
                yield RelationItem(previous, name, "numbered", seen_at, evidence_url)
                self._allow(name)
                if (request := self.page_request(f"https://{name}/", priority=30)) is not None:
                    yield request
                previous = name

    def failed(self, failure: Failure):
        from spiders.egress import EgressUnreachable

        if failure.check(EgressUnreachable):  # our way out failed: not a fact about the site
            self.crawler.stats.inc_value("isop/egress/dropped")
            return
        from spiders.site_time import NotSent

        if failure.check(NotSent):  # never sent (a site's time budget, the crawl stopping): counted there
            return
        request = failure.request
        message = failure.getErrorMessage() or failure.type.__name__
        self.crawler.stats.inc_value(f"isop/errors/{failure.type.__name__}")
        yield PageItem(url=request.url, final_url=request.url, status=None, fetched_at=now(),
                       depth=request.meta.get("depth", 0), error=f"{failure.type.__name__}: {message}"[:500],
                       rendered=bool(request.meta.get("isop_rendered")))

    # --- favicons: hashed as Shodan does, to link sites that share one -----------------------

    def favicon(self, response: Response):
        ctype = (_header(response, b"Content-Type") or "").lower()
        if response.status != 200 or not response.body or "html" in ctype:
            return
        from spiders.indicators import Found, favicon_mmh3

        value = favicon_mmh3(response.body)
        yield IndicatorItem(response.meta["isop_found_on"],
                            [Found("favicon_mmh3", value, f"favicon {response.url}"[:120])], now())

    def favicon_failed(self, failure: Failure):
        self.crawler.stats.inc_value("isop/favicons/failed")
        return None

    # --- screenshots of flagged sites ------------------------------------------------------

    def screenshot_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.screenshot, errback=self.screenshot_failed, dont_filter=True,
                              priority=40, meta={**render_meta(), "playwright_include_page": True,
                                                 EXEMPT: True, "isop_screenshot": True})

    async def screenshot(self, response: Response):
        page = response.meta["playwright_page"]
        try:
            png = await page.screenshot(type="png", full_page=False, timeout=15_000)
        finally:
            await page.close()
        self.crawler.stats.inc_value("isop/screenshots/taken")
        yield ScreenshotItem(response.url, png, now())

    async def screenshot_failed(self, failure: Failure):
        page = failure.request.meta.get("playwright_page")
        if page is not None:
            await page.close()
        self.crawler.stats.inc_value("isop/screenshots/failed")

    # --- downloads: metadata and hash, never the bytes ------------------------------------

    async def download_head(self, response: Response) -> list:
        """A file link answered a HEAD: hash the file by streaming it in ranges (never kept,
        never run; :mod:`spiders.download_hash`), up to ``ISOP_HASH_DOWNLOADS_UP_TO`` bytes,
        or record that it was cut. A server that refuses HEAD (405, 501) is asked with GET."""
        from spiders.download_hash import hash_download

        size = _int(_header(response, b"Content-Length"))
        ctype = _header(response, b"Content-Type")
        found_on = response.meta["isop_found_on"]
        if response.status >= 400 and response.status not in (405, 501):
            return [DownloadItem(response.url, found_on, now(), ctype, size)]
        if response.status >= 400:
            size = ctype = None
        limit = self.settings.getint("ISOP_HASH_DOWNLOADS_UP_TO", 200 * 1024 * 1024)
        left = self.settings.getint("ISOP_HASH_BUDGET_BYTES", 2 * 1024**3) - self.hash_bytes_read
        if left <= 0 or (size is not None and size <= limit and size > left):
            # the crawl's hashing traffic is spent: what the headers say, recorded as cut
            self.crawler.stats.inc_value("isop/downloads/over_budget")
            return [DownloadItem(response.url, found_on, now(), ctype, size, None, True)]
        grant = min(limit, left) if size is None else min(limit, left, size)
        self.hash_bytes_read += grant  # reserved before the wait: hashes run side by side
        result = await hash_download(self.crawler, response.url, min(limit, left), size)
        self.hash_bytes_read += result.read - grant
        self.crawler.stats.inc_value("isop/downloads/cut" if result.truncated else "isop/downloads/hashed")
        if result.truncated:
            self.logger.info("download %s not hashed whole: %s", response.url, result.reason)
        return [DownloadItem(response.url, found_on, now(), result.content_type or ctype,
                             result.size if result.size is not None else size, result.sha256, result.truncated)]

    def download_failed(self, failure: Failure):
        request = failure.request
        yield DownloadItem(request.url, request.meta.get("isop_found_on", ""), now())


class ResolversUnreachable(Exception):
    """Every name asked timed out or found no working resolver: the resolvers are down."""


async def resolve_live(names: list[str], resolvers: list[str], timeout: float) -> set[str]:
    """Which of ``names`` have an A record, asked of ``resolvers`` concurrently; raises
    ResolversUnreachable when no name got any answer (not even "no such name")."""
    import dns.exception
    import dns.resolver

    from spiders.resolver import make_async_resolver

    resolver = make_async_resolver(resolvers, timeout)
    silent = (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout, OSError)

    async def one(name: str) -> tuple[str | None, bool]:
        try:
            await resolver.resolve(name, "A")
            return name, True
        except silent:
            return None, False
        except dns.exception.DNSException:
            return None, True

    results = await asyncio.gather(*(one(n) for n in names))
    if names and not any(answered for _n, answered in results):
        raise ResolversUnreachable(f"the resolvers {', '.join(resolvers) or '(system)'} did not answer "
                                   f"({len(names)} names asked)")
    return {n for n, _a in results if n}


def _chain_text(chain: list, target: str, room: int = 480) -> str:
    """``a (301) -> b (302) -> target``, the middle hops elided when it would not fit ``room``."""
    hops = [f"{u} ({s})" for u, s in chain]
    text = " -> ".join([*hops, target])
    if len(text) > room and len(hops) > 4:
        text = " -> ".join([*hops[:2], f"... {len(hops) - 4} more ...", *hops[-2:], target])
    return text


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:200] if value else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
