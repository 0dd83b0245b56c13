"""Everything CPU-heavy about one page, as a pure function that can run in a worker process.

Parsing the HTML, its visible text and links, indicators, classifier signals, render
hints and hopping notices take tens of milliseconds on a real page; run on the reactor
thread they would stall every download. :class:`Analyser` runs :func:`analyse` in a pool
of worker processes (``[crawl] analysis_workers``; 0 runs it inline), each of which loads
the classifier, indicator lists and hopping phrases once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parsel import Selector

from spiders.items import LinkOut
from spiders.links import extract_links
from spiders.page import guess_language
from spiders.render import needs_render

if TYPE_CHECKING:
    from spiders.classify import PageInput

MAX_VISIBLE_TEXT = 300_000


@dataclass(frozen=True)
class PageFacts:
    """What the spider needs to know about a fetched HTML page."""

    url: str
    status: int
    html: str
    site: str
    rendered: bool = False
    plain_links: tuple[str, ...] = ()
    content_language: str | None = None


@dataclass
class Analysis:
    """The result of :func:`analyse`, picklable."""

    title: str | None = None
    language: str | None = None
    links: list[LinkOut] = field(default_factory=list)
    indicators: list = field(default_factory=list)
    signals: list = field(default_factory=list)
    needs_render: bool = False
    moved: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    icon: str | None = None


class _Tools:
    """Loaded once per process."""

    def __init__(self) -> None:
        from spiders.classify import Classifier
        from spiders.hopping import HopPhrases
        from spiders.indicators import IndicatorLists

        self.classifier = Classifier.load()
        self.lists = IndicatorLists.load()
        self.phrases = HopPhrases.load()


_tools: _Tools | None = None


def _get_tools() -> _Tools:
    global _tools
    if _tools is None:
        _tools = _Tools()
    return _tools


def read_page(page: PageFacts) -> tuple[Selector, PageInput]:
    """The parsed document and the classifier's view of ``page``: title, visible text,
    language and links, exactly as the crawl sees them (training reads pages through this too)."""
    from spiders.classify import PageInput

    sel = Selector(text=page.html, base_url=page.url)
    title = " ".join(sel.xpath("//title//text()").getall()).strip()[:1000] or None
    visible = " ".join(sel.xpath(
        "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
    ).getall())[:MAX_VISIBLE_TEXT]
    visible = " ".join(visible.split())
    language = guess_language(sel.xpath("/html/@lang").get() or page.content_language, visible or page.html)
    links = extract_links(sel, page.url)
    if page.rendered:
        plain = set(page.plain_links)
        links = [LinkOut(link.url, "js", link.text) if link.kind == "anchor" and link.url not in plain else link
                 for link in links]
    return sel, PageInput(url=page.url, status=page.status, title=title or "", html=page.html, text=visible,
                          links=tuple((lnk.url, lnk.kind, lnk.text) for lnk in links), lang=language)


def analyse(page: PageFacts) -> Analysis:
    """Parse and analyse ``page`` (bounded work: every extractor caps its input)."""
    from spiders.hopping import announced_domains
    from spiders.indicators import extract

    tools = _get_tools()
    sel, facts = read_page(page)
    visible = facts.text
    links = [LinkOut(url, kind, text) for url, kind, text in facts.links]
    out = Analysis(title=facts.title or None, language=facts.lang, links=links)
    out.indicators = extract(page.html, page.url, lists=tools.lists)
    out.signals = tools.classifier.page_signals(facts)
    if page.status >= 400:
        return out
    scripts = " ".join(sel.xpath("//script[not(@src)]/text()").getall())[:200_000]
    if not page.rendered:
        anchors = sum(1 for link in links if link.kind == "anchor")
        out.needs_render = needs_render(page.html, len(visible), anchors, len(sel.xpath("//script")), scripts)
    out.moved, out.listed = announced_domains(visible + "\n" + scripts, page.site, tools.phrases)
    out.icon = sel.xpath("//link[contains(concat(' ', translate(@rel, 'ICON', 'icon'), ' '), ' icon ')]/@href").get()
    return out


def _warm_up(parent: int) -> None:
    """Worker start-up: load the tools, and leave when the crawl process is gone (a crawl
    killed with SIGKILL cannot shut its pool down; its workers must not linger)."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="isop-parent-watch", daemon=True).start()
    _get_tools()


def default_workers() -> int:
    """One worker per spare core (the reactor keeps one), at least one, at most four."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class Analyser:
    """Runs :func:`analyse` off the reactor thread: in worker processes, or inline."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor | None = None
        if workers > 0:
            # spawn: the crawl process has threads (reactor, Playwright); forking them is unsafe
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_warm_up, initargs=(os.getpid(),))

    async def run(self, page: PageFacts) -> Analysis:
        if self._pool is None:
            return analyse(page)
        return await asyncio.get_running_loop().run_in_executor(self._pool, analyse, page)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
