"""What the spiders yield: plain dataclasses, consumed by the item pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class LinkOut:
    url: str
    kind: str
    """anchor, iframe, script, redirect, js, form (storage.models.LinkKind values)."""
    text: str = ""


@dataclass
class PageItem:
    """One fetched page (or a failed fetch), with everything derived from it."""

    url: str
    """The URL as requested (the first of a redirect chain)."""
    final_url: str
    status: int | None
    fetched_at: datetime
    depth: int = 0
    error: str | None = None
    title: str | None = None
    language: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    content_sha256: str | None = None
    rendered: bool = False
    truncated: bool = False
    """The body was cut at ``[crawl] max_response_bytes`` (an oversized page, a
    decompression bomb, an endless stream): ``body``, ``content_length`` and
    ``content_sha256`` are the first bytes kept; the WARC record says ``WARC-Truncated: length``."""
    wire_status: int | None = None
    """A status outside 100-599 as the server sent it (``status`` is then None and
    ``error`` says "malformed response"); the response is archived with it."""
    redirects: list[tuple[str, int]] = field(default_factory=list)
    """For a 3xx answer: ``[(Location, status)]``, where it sends the visitor. For a page
    reached through redirects that Scrapy followed (renders, favicons): the chain before
    ``final_url``, (url, status) pairs."""
    headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    """Raw body for the WARC writer; dropped once written."""
    links: list[LinkOut] = field(default_factory=list)
    indicators: list[Any] = field(default_factory=list)
    """spiders.indicators.Found values."""
    signals: list[Any] = field(default_factory=list)
    """spiders.classify.Signal values."""
    analysed: bool = False
    """The page went through the classifier (an HTML answer below 300): its signals, even
    none, are evidence about the site."""
    warc: Any = None
    """spiders.evidence.WarcRef once written."""
    ip: str | None = None


@dataclass
class DownloadItem:
    """A file link (executable, archive, video): metadata only, never the bytes."""

    url: str
    found_on: str
    seen_at: datetime
    content_type: str | None = None
    size: int | None = None
    """Bytes: the whole file's when known (Content-Length, Content-Range, or all read)."""
    sha256: str | None = None
    """SHA-256 of the whole file, streamed; None when it was not read whole."""
    truncated: bool = False
    """Not hashed whole: larger than ``[crawl] hash_downloads_up_to``, or not servable in
    ranges, or cut off by an error."""


@dataclass
class RelationItem:
    """Domain hopping: ``from_host`` was replaced or mirrored by ``to_host``."""

    from_host: str
    to_host: str
    kind: str
    """redirect, announced, mirror, numbered (storage.models.RelationKind values)."""
    seen_at: datetime
    evidence_url: str | None = None


@dataclass
class ScreenshotItem:
    """A screenshot of a flagged site's front page, taken in the browser."""

    url: str
    png: bytes | None
    taken_at: datetime
    path: str | None = None
    """Relative to the evidence folder, once written."""
    sha256: str | None = None
    warc: Any = None


@dataclass
class IndicatorItem:
    """Indicators found outside a page's HTML (a favicon's hash), sighted on a site."""

    url: str
    found: list[Any]
    seen_at: datetime
