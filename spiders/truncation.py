"""Responses over ``[crawl] max_response_bytes`` are cut and kept, never dropped.

Scrapy cancels a download over ``DOWNLOAD_MAXSIZE`` and its HttpCompressionMiddleware
ignores a response that decompresses beyond it: the page vanished (no status, no page row,
no WARC record). Here instead, for every page request (not the browser's, not requests
that set their own ``download_maxsize``, such as favicons and download ranges):

- :class:`ResponseCap` (downloader middleware, and a ``bytes_received`` signal handler)
  turns Scrapy's own limit off for the request and stops the download once the body passes
  the cap (``StopDownload(fail=False)``, so Scrapy delivers what came): an oversized page,
  an endless stream. The first ``cap`` bytes are kept and the request is marked truncated.
- :class:`BoundedDecompression` replaces HttpCompressionMiddleware: gzip, deflate, br and
  zstd are decoded in steps of 64 KiB, never beyond the cap, so a decompression bomb keeps
  its first ``cap`` decoded bytes, marked truncated.

The spider reads the mark (:func:`truncated`) into ``PageItem.truncated``; the WARC record
says ``WARC-Truncated: length`` and the page's hash and length are those of what was kept.
"""

from __future__ import annotations

import logging
import struct
import zlib
from gzip import GzipFile
from io import BytesIO

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload
from scrapy.http import TextResponse
from scrapy.responsetypes import responsetypes

log = logging.getLogger(__name__)

CAP = "isop_cap"
"""Request meta: the body limit isop enforces itself for this request (bytes)."""
TRUNCATED = "isop_truncated"
"""Request meta: why the body was cut (a ``WARC-Truncated`` value: ``length``)."""
RECEIVED = "isop_received"
ACCEPTED_ENCODINGS = (b"gzip", b"deflate", b"br", b"zstd")
STEP = 64 * 1024


def truncated(response) -> str | None:
    """Why ``response``'s body was cut (``"length"``), or None when it is whole."""
    return response.meta.get(TRUNCATED)


def cut(response, cap: int, reason: str = "length"):
    """``response`` with its body cut to ``cap`` bytes and marked truncated (for bodies that
    came another way, e.g. the browser's DOM)."""
    if not cap or len(response.body) <= cap:
        return response
    response.meta[TRUNCATED] = reason
    return response.replace(body=response.body[:cap])


class ResponseCap:
    """Keeps the first ``DOWNLOAD_MAXSIZE`` bytes of a page instead of dropping it."""

    def __init__(self, crawler, cap: int) -> None:
        self.crawler = crawler
        self.cap = cap
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler):
        cap = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if cap <= 0:
            raise NotConfigured("DOWNLOAD_MAXSIZE is 0: no size limit")
        return cls(crawler, cap)

    def process_request(self, request):
        meta = request.meta
        if CAP not in meta and ("download_maxsize" in meta or meta.get("playwright")):
            return None  # the request's own limit (Scrapy's behaviour), or the browser's body
        meta.setdefault(CAP, self.cap)
        meta["download_maxsize"] = 0  # Scrapy would drop the response: the cap is enforced here
        meta[RECEIVED] = 0  # a retry copies the meta of the first attempt
        meta.pop(TRUNCATED, None)
        return None

    def bytes_received(self, data: bytes, request, spider=None) -> None:
        meta = request.meta
        cap = meta.get(CAP)
        if not cap:
            return
        received = meta.get(RECEIVED, 0) + len(data)
        meta[RECEIVED] = received
        if received > cap:
            meta[TRUNCATED] = "length"
            raise StopDownload(fail=False)

    def process_response(self, request, response):
        cap = request.meta.get(CAP)
        if cap and request.meta.get(TRUNCATED) and len(response.body) > cap:
            self.crawler.stats.inc_value("isop/truncated/length")
            log.info("%s cut at %d bytes (max_response_bytes)", response.url, cap)
            return response.replace(body=response.body[:cap])
        return response


class DecodeError(ValueError):
    """A body that does not decode at all under its Content-Encoding."""


def _gunzip(data: bytes, limit: int) -> bytes:
    f = GzipFile(fileobj=BytesIO(data))
    out = BytesIO()
    while out.tell() <= limit:
        try:
            chunk = f.read1(STEP)
        except (OSError, EOFError, struct.error, zlib.error):
            if out.tell():
                break  # a body cut short (or with a bad CRC): what decoded is kept
            raise DecodeError("not gzip") from None
        if not chunk:
            break
        out.write(chunk)
    return out.getvalue()


def _inflate(data: bytes, limit: int) -> bytes:
    try:
        d = zlib.decompressobj()
        chunk = d.decompress(data, STEP)
    except zlib.error:
        try:  # raw deflate, as some servers send
            d = zlib.decompressobj(-15)
            chunk = d.decompress(data, STEP)
        except zlib.error:
            raise DecodeError("not deflate") from None
    out = BytesIO()
    out.write(chunk)
    while out.tell() <= limit and d.unconsumed_tail and not d.eof:
        try:
            out.write(d.decompress(d.unconsumed_tail, STEP))
        except zlib.error:
            break
    return out.getvalue()


def _unbrotli(data: bytes, limit: int) -> bytes:
    try:
        import brotli
    except ImportError:  # pragma: no cover - a dependency of Scrapy's
        import brotlicffi as brotli  # type: ignore[no-redef]
    d = brotli.Decompressor()
    out = BytesIO()
    try:
        out.write(d.process(data, output_buffer_limit=STEP))
        while out.tell() <= limit and not d.is_finished():
            chunk = d.process(b"", output_buffer_limit=STEP)
            if not chunk:
                break
            out.write(chunk)
    except brotli.error:
        if not out.tell():
            raise DecodeError("not brotli") from None
    if not out.tell() and not d.is_finished():
        raise DecodeError("not brotli")
    return out.getvalue()


def _unzstd(data: bytes, limit: int) -> bytes:
    import sys

    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd
    out = BytesIO()
    try:
        reader = zstd.ZstdFile(BytesIO(data))
        while out.tell() <= limit:
            chunk = reader.read(STEP)
            if not chunk:
                break
            out.write(chunk)
    except (EOFError, zstd.ZstdError, OSError):
        if not out.tell():
            raise DecodeError("not zstd") from None
    return out.getvalue()


DECODERS = {b"gzip": _gunzip, b"x-gzip": _gunzip, b"deflate": _inflate, b"br": _unbrotli, b"zstd": _unzstd}


def decode(body: bytes, encodings: list[bytes], limit: int) -> tuple[bytes, list[bytes], bool]:
    """Undo ``encodings`` (Content-Encoding values, in the order applied) on ``body``,
    never producing more than ``limit`` bytes (0: no limit): ``(body, encodings left,
    cut)``. Decoding stops at an unknown coding or one the body does not decode under."""
    todo = [e.strip().lower() for v in encodings for e in v.split(b",") if e.strip()]
    bound = limit if limit > 0 else 1 << 62
    was_cut = False
    while todo and todo[-1] in DECODERS:
        try:
            decoded = DECODERS[todo[-1]](body, bound)
        except DecodeError:
            break
        todo.pop()
        if len(decoded) > bound:
            decoded, was_cut = decoded[:bound], True
        body = decoded
    return body, todo, was_cut


class BoundedDecompression:
    """Scrapy's HttpCompressionMiddleware, except that a body decoding past the limit keeps
    its first bytes (marked truncated) instead of being dropped; a body that does not decode
    is kept as it came, its Content-Encoding with it."""

    def __init__(self, crawler, max_size: int) -> None:
        self.crawler = crawler
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("COMPRESSION_ENABLED", True):
            raise NotConfigured("COMPRESSION_ENABLED is off")
        return cls(crawler, crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_request(self, request):
        request.headers.setdefault("Accept-Encoding", b", ".join(ACCEPTED_ENCODINGS))
        return None

    def process_response(self, request, response):
        encodings = response.headers.getlist("Content-Encoding")
        if request.method == "HEAD" or not encodings or request.meta.get("isop_raw_body"):
            return response  # (download ranges are hashed as sent: spiders.download_hash)
        meta = request.meta
        limit = meta.get(CAP) or meta.get("download_maxsize", self.max_size)
        body, left, was_cut = decode(response.body, encodings, limit)
        if was_cut:
            if not meta.get(CAP):  # a request with a limit of its own: Scrapy's behaviour
                raise IgnoreRequest(f"{response.url}: body over {limit} bytes after decompression")
            meta[TRUNCATED] = "length"
            self.crawler.stats.inc_value("isop/truncated/decompressed")
            log.info("%s cut at %d bytes after decompression (max_response_bytes)", response.url, limit)
        if body is response.body:
            return response
        self.crawler.stats.inc_value("httpcompression/response_count")
        headers = response.headers.copy()
        if left:
            headers[b"Content-Encoding"] = b", ".join(left)
        else:
            del headers[b"Content-Encoding"]
        respcls = responsetypes.from_args(headers=headers, url=response.url, body=body)
        kwargs = {"cls": respcls, "body": body, "headers": headers}
        if issubclass(respcls, TextResponse):
            kwargs["encoding"] = None
        return response.replace(**kwargs)
