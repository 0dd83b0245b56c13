"""Downloads hashed whole by streaming them, the bytes never kept: SHA-256 of the full file
up to ``[crawl] hash_downloads_up_to`` (``ISOP_HASH_DOWNLOADS_UP_TO``), or a record that it
was cut.

Scrapy keeps a response's whole body in memory, and a codec or malware pack is 5-100 MiB.
So the file is fetched in ranges of :data:`CHUNK` bytes (``Range: bytes=a-b``, which web
servers and CDNs answer with 206), one after the other, through the crawl's own downloader
(``engine.download_async``: proxy, egress watch, retries, redirects; the spider middlewares
and the scheduler are not involved); each range is hashed and dropped, so memory stays near
one range whatever the file's size. A server that ignores ``Range`` sends the whole file:
it is hashed when it fits in one range, otherwise recorded as cut (``truncated``, the size
its headers give). Nothing is ever written to disk or run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

import scrapy

from spiders.budget import EXEMPT

log = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024
"""Bytes asked for in one range request: the most a download holds in memory at once."""
RAW = "isop_raw_body"
"""Request meta: leave the body as sent (no content decoding; see spiders.truncation)."""
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.I)


@dataclass
class Hashed:
    size: int | None
    """The whole file's size when known (Content-Range, Content-Length, or all read)."""
    sha256: str | None
    """The whole file's SHA-256; None when it was not read whole."""
    truncated: bool
    content_type: str | None = None
    reason: str = ""
    """Why it was not hashed whole (for the log)."""
    read: int = 0
    """Bytes fetched to get this answer (counted against ``[crawl] hash_budget_bytes``)."""


def content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes a-b/total`` -> (a, b, total or None); None if absent or malformed."""
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        return None
    first, last = int(m.group(1)), int(m.group(2))
    total = None if m.group(3) == "*" else int(m.group(3))
    if last < first or (total is not None and last >= total):
        return None
    return first, last, total


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:200] if value else None


def range_request(url: str, start: int, end: int) -> scrapy.Request:
    return scrapy.Request(url, headers={"Range": f"bytes={start}-{end}", "Accept-Encoding": "identity"},
                          dont_filter=True, priority=-10,
                          meta={EXEMPT: True, "download_maxsize": CHUNK, RAW: True, "handle_httpstatus_all": True})


async def hash_download(crawler, url: str, limit: int, size: int | None = None) -> Hashed:
    """Stream ``url`` through the crawl's downloader in ranges and hash it; ``size`` is what
    a HEAD said (None: unknown). At most ``limit`` bytes are read (``Hashed.read`` says how many)."""
    fetched = [0]
    result = await _hash(crawler, url, limit, size, fetched)
    result.read = fetched[0]
    return result


async def _hash(crawler, url: str, limit: int, size: int | None, fetched: list[int]) -> Hashed:
    if size is not None and size > limit:
        return Hashed(size, None, True, reason=f"{size} bytes, over hash_downloads_up_to ({limit})")
    digest = hashlib.sha256()
    offset, total, ctype = 0, size, None
    while True:
        if total is not None and offset >= total:
            return Hashed(offset, digest.hexdigest(), False, ctype)
        if offset >= limit:
            return Hashed(total if total is not None else offset, None, True, ctype,
                          f"over hash_downloads_up_to ({limit})")
        end = min(offset + CHUNK, limit) - 1
        try:
            response = await crawler.engine.download_async(range_request(url, offset, end))
        except Exception as e:  # noqa: BLE001 - a failed range: the file is recorded as cut
            return Hashed(total, None, True, ctype, f"{type(e).__name__}: {e}"[:200])
        ctype = ctype or _header(response, b"Content-Type")
        body = response.body
        fetched[0] += len(body)
        if response.status == 206:
            got = content_range(_header(response, b"Content-Range"))
            if got is None or got[0] != offset or len(body) != got[1] - got[0] + 1:
                return Hashed(total, None, True, ctype, "inconsistent Content-Range")
            total = got[2] if got[2] is not None else total
            digest.update(body)
            offset += len(body)
            if got[2] is None and got[1] < end:  # no total given: a range shorter than asked is the end
                return Hashed(offset, digest.hexdigest(), False, ctype)
            continue
        if response.status == 200 and offset == 0:  # Range ignored: the whole file, within one range
            whole = "partial" not in response.flags and "dataloss" not in response.flags
            if not whole:
                return Hashed(total, None, True, ctype, "the body was cut off")
            digest.update(body)
            return Hashed(len(body), digest.hexdigest(), False, ctype)
        if response.status == 416 and (offset == 0 or offset == total):
            got = (_header(response, b"Content-Range") or "").rpartition("/")[2].strip()
            if offset == 0 and got == "0":  # an empty file
                return Hashed(0, digest.hexdigest(), False, ctype)
        return Hashed(total, None, True, ctype, f"HTTP {response.status} at byte {offset}")
