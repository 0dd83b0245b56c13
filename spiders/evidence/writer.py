"""The WARC writer: every fetched response of a crawl run, kept as evidence.

One :class:`WarcWriter` per crawl run writes ``runs/<run>/isop-<run>-<seq>.warc.gz``
files (WARC/1.1, each record its own gzip member so that ``(file, offset)`` allows random
access), starting each file with a ``warcinfo`` record and rotating to the next file once
the current one has reached ``max_file_bytes``. Digests are SHA-256 (``WARC-Block-Digest``
and ``WARC-Payload-Digest``, base32 as warcio and most tools write them); the
:class:`WarcRef` returned for every record also carries the payload's hex SHA-256, the
value stored in ``pages.content_sha256``.

Threads: the writer is synchronous and meant to be driven by **one thread at a time**
(the Scrapy pipeline calls it on a worker thread, never on the reactor). An internal lock
serialises accidental concurrent calls, but records are only ordered as the calls are.

Crashes: every record is flushed to the operating system as soon as it is written
(``fsync_each_record=True`` also forces it to disk), so a crash leaves all earlier records
readable; :func:`spiders.evidence.manifest.recover` seals what a crashed run left behind.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import quote, urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from spiders.evidence.manifest import write_manifest
from spiders.evidence.paths import (
    MANIFEST,
    WARC_NAME_RE,
    EvidenceError,
    check_run_id,
    create_file,
    fsync_dir,
    make_dirs,
    run_dir,
    warc_name,
)

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
MAX_STATUS = 10 ** 9
"""Status values are written as the integers the HTTP client parsed, whatever their range."""
TRUNCATED_REASONS = frozenset({"length", "time", "disconnect", "unspecified"})
HeaderList = list[tuple[str, str]] | list[tuple[str | bytes, str | bytes]]
_UNSAFE_URI = re.compile(r"[\x00-\x20\x7f\ud800-\udfff]")
_CRLF = re.compile(r"[\r\n]")


def isop_software() -> str:
    """``isop/<installed version>``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"isop/{version('isop')}"
    except PackageNotFoundError:
        return "isop/0+unknown"


@dataclass(frozen=True)
class WarcRef:
    """Where one record is: enough to find, read and check it again.

    ``file`` is relative to the evidence directory; ``offset``/``length`` are the record's
    gzip member in that file (seek to ``offset``, read ``length`` bytes, decompress).
    """

    file: str
    record_id: str
    offset: int
    length: int
    payload_sha256: str
    """Hex SHA-256 of the payload (the HTTP body as stored, or the resource's data)."""
    block_digest: str
    """The record's ``WARC-Block-Digest`` value (``sha256:<base32>``)."""


class _RawHttpHeaders(StatusAndHeaders):
    """HTTP status line and headers kept as exact bytes.

    warcio would percent-encode non-ASCII header values when serialising; evidence must
    keep what the server sent, so the buffer is built once here and never recomputed.
    """

    def __init__(self, buff: bytes, statusline: str, headers: list[tuple[str, str]],
                 protocol: str, is_request: bool) -> None:
        super().__init__(statusline, headers, protocol=protocol, is_http_request=is_request)
        self.headers_buff = buff

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        """Keep the exact bytes given at construction."""


class _Sha256WARCWriter(WARCWriter):
    """warcio's writer with SHA-256 instead of SHA-1 for the digests it computes itself."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def _b32(digest: bytes) -> str:
    return "sha256:" + base64.b32encode(digest).decode("ascii")


def _to_bytes(value: str | bytes) -> bytes:
    """Header text to wire bytes: latin-1 when possible (exact for latin-1-decoded bytes)."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _header_block(first_line: bytes, headers: HeaderList, *, rename_te: bool) -> bytes:
    """Status/request line and headers, CRLF-terminated, ending with the empty line.

    CR and LF inside a name or value (which cannot have come off the wire as such) become
    spaces, as HTTP treats obsolete line folding, so they cannot forge headers. With
    ``rename_te``, ``Transfer-Encoding`` is kept as ``X-Isop-Orig-Transfer-Encoding``: the
    body given has already been de-chunked, and readers must not try again.
    """
    lines = [first_line]
    for name, value in headers:
        n = _to_bytes(name).replace(b"\r", b" ").replace(b"\n", b" ")
        v = _to_bytes(value).replace(b"\r", b" ").replace(b"\n", b" ")
        if rename_te and n.strip().lower() == b"transfer-encoding":
            n = b"X-Isop-Orig-Transfer-Encoding"
        lines.append(n + b": " + v)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _warc_value(value: str) -> str:
    """A value for a WARC header line: no CR/LF, valid UTF-8 (WARC headers may be UTF-8)."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    return _CRLF.sub(" ", value).strip()


def _pct(m: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in m.group().encode("utf-8", "surrogatepass"))


def _warc_uri(url: str) -> str:
    """A URL for a WARC header: controls, spaces and lone surrogates percent-encoded.

    Nothing else changes (WARC/1.1 allows UTF-8 in ``WARC-Target-URI``).
    """
    return _UNSAFE_URI.sub(_pct, url)


def _request_target(url: str) -> str:
    """The origin-form request target (path and query) for a request record, ASCII only."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return quote(target, safe="!#$%&'()*+,/:;=?@[]~", errors="surrogatepass")


def _warc_date(when: datetime) -> str:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("fetched_at must be timezone-aware")
    when = when.astimezone(UTC)
    if when.microsecond:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass
class _OpenFile:
    """The WARC file currently being written."""

    name: str
    path: Path
    out: BinaryIO
    warc: _Sha256WARCWriter
    warcinfo_id: str
    records: int = 1


class WarcWriter:
    """Writes one crawl run's records into rotating, gzip-per-record WARC/1.1 files.

    Use from one thread at a time (see the module docstring); a context manager that
    calls :meth:`close` on exit. A run directory that already has a manifest is sealed
    and cannot be written again; a run directory with files left by a crashed writer is
    continued with the next sequence number, never overwriting anything.
    """

    def __init__(self, evidence_dir: Path, run_id: int, *, max_file_bytes: int = 1_000_000_000,
                 operator: str = "", software: str = "", fsync_each_record: bool = False) -> None:
        if max_file_bytes < 1:
            raise ValueError("max_file_bytes must be positive")
        self.evidence_dir = Path(evidence_dir)
        self.run_id = check_run_id(run_id)
        self.max_file_bytes = max_file_bytes
        self.operator = _warc_value(operator)
        self.software = _warc_value(software or isop_software())
        self.fsync_each_record = fsync_each_record
        self.run_dir = run_dir(self.evidence_dir, run_id)
        make_dirs(self.run_dir)
        if (self.run_dir / MANIFEST).exists():
            raise EvidenceError(f"{self.run_dir}: run already sealed (has {MANIFEST})")
        existing = [int(m.group(2)) for p in self.run_dir.iterdir()
                    if (m := WARC_NAME_RE.match(p.name))]
        self._next_seq = max(existing, default=0) + 1
        self._current: _OpenFile | None = None
        self._counts: dict[str, int] = {}
        """Record counts of the files this writer completed cleanly, by run-relative name."""
        self._lock = threading.Lock()
        self._manifest: Path | None = None
        self._hostname = socket.gethostname()

    # --- public --------------------------------------------------------------------------

    def write_response(self, *, url: str, status: int, reason: str = "", headers: HeaderList,
                       body: bytes, fetched_at: datetime,
                       request_headers: HeaderList | None = None, method: str = "GET",
                       ip: str | None = None, truncated: str | None = None,
                       protocol: str = "HTTP/1.1", request_body: bytes = b"") -> WarcRef:
        """Write a ``response`` record (and a ``request`` record if ``request_headers``).

        ``headers`` are the response headers as received (``str`` decoded as latin-1, or
        ``bytes``); ``body`` the body as the crawler kept it (de-chunked; cut short by the
        size limit when ``truncated`` is ``"length"``). Returns where the response is.
        ``status`` is written as the server sent it, even outside 100-599 (a malformed
        response is evidence too); only a value no status line can hold is refused.
        """
        if isinstance(status, bool) or not isinstance(status, int) or not -MAX_STATUS < status < MAX_STATUS:
            raise ValueError(f"bad HTTP status {status!r}")
        if truncated is not None and truncated not in TRUNCATED_REASONS:
            raise ValueError(f"truncated must be one of {sorted(TRUNCATED_REASONS)}")
        proto = _warc_value(protocol) or "HTTP/1.1"
        status_line = f"{proto} {status} {_warc_value(reason)}".encode("latin-1", "replace")
        http = _header_block(status_line, headers, rename_te=True)
        resp_id, req_id = _record_id(), _record_id()
        date = _warc_date(fetched_at)
        target = _warc_uri(url)
        extra: list[tuple[str, str]] = []
        if ip:
            extra.append(("WARC-IP-Address", str(ipaddress.ip_address(ip.strip("[]")))))
        if request_headers is not None:
            extra.append(("WARC-Concurrent-To", req_id))
        if truncated:
            extra.append(("WARC-Truncated", truncated))
        with self._lock:
            self._check_open()
            cur = self._file_for_next_record()
            ref = self._write(cur, "response", resp_id, date, target, extra, http, body,
                              "application/http; msgtype=response")
            if request_headers is not None:
                line = f"{_warc_value(method) or 'GET'} {_request_target(url)} {proto}"
                req_http = _header_block(line.encode("latin-1", "replace"), request_headers,
                                         rename_te=False)
                req_extra = [("WARC-Concurrent-To", resp_id)]
                if ip:
                    req_extra.insert(0, extra[0])
                self._write(cur, "request", req_id, date, target, req_extra, req_http,
                            request_body, "application/http; msgtype=request")
            return ref

    def write_resource(self, *, url: str, content_type: str, data: bytes, fetched_at: datetime,
                       concurrent_to: str | None = None,
                       record_type: Literal["resource", "conversion"] = "resource") -> WarcRef:
        """Write ``data`` (a screenshot, a rendered DOM snapshot) as a ``resource`` record.

        ``record_type="conversion"`` marks data derived from an earlier record, which
        ``concurrent_to`` (a record id) then names as ``WARC-Refers-To``.
        """
        if record_type not in ("resource", "conversion"):
            raise ValueError("record_type must be 'resource' or 'conversion'")
        extra: list[tuple[str, str]] = []
        if concurrent_to:
            link = "WARC-Refers-To" if record_type == "conversion" else "WARC-Concurrent-To"
            extra.append((link, _warc_value(concurrent_to)))
        with self._lock:
            self._check_open()
            cur = self._file_for_next_record()
            return self._write(cur, record_type, _record_id(), _warc_date(fetched_at),
                               _warc_uri(url), extra, b"", data,
                               _warc_value(content_type) or "application/octet-stream")

    def close(self) -> Path:
        """Flush and close the current file, write the run's manifest, return its path.

        Idempotent: a second call returns the same path.
        """
        with self._lock:
            if self._manifest is not None:
                return self._manifest
            self._finish_current()
            fsync_dir(self.run_dir)
            self._manifest = write_manifest(self.run_dir, record_counts=dict(self._counts))
            return self._manifest

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has sealed the run."""
        return self._manifest is not None

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._manifest is not None:
            raise EvidenceError(f"{self.run_dir}: writer closed, run sealed")

    def _file_for_next_record(self) -> _OpenFile:
        cur = self._current
        if cur is not None and cur.records > 1 and cur.out.tell() >= self.max_file_bytes:
            self._finish_current()
            cur = None
        if cur is None:
            cur = self._open_next()
        return cur

    def _open_next(self) -> _OpenFile:
        name = warc_name(self.run_id, self._next_seq)
        self._next_seq += 1
        path = self.run_dir / name
        out = create_file(path)
        warc = _Sha256WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
        info = {
            "software": self.software,
            "operator": self.operator,
            "hostname": self._hostname,
            "isPartOf": f"isop-run-{self.run_id:06d}",
            "isop-run-id": str(self.run_id),
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
        }
        try:
            record = warc.create_warcinfo_record(name, info)
            warc.write_record(record)
            out.flush()
        except BaseException:
            out.close()
            raise
        fsync_dir(self.run_dir)
        info_id = record.rec_headers.get_header("WARC-Record-ID")
        self._current = _OpenFile(name, path, out, warc, info_id)
        return self._current

    def _finish_current(self) -> None:
        cur, self._current = self._current, None
        if cur is None:
            return
        cur.out.flush()
        os.fsync(cur.out.fileno())
        cur.out.close()
        self._counts[cur.name] = cur.records

    def _abandon_current(self) -> None:
        """After a failed write: close the file as is; the manifest will scan it."""
        cur, self._current = self._current, None
        if cur is not None:
            try:
                cur.out.close()
            except OSError:
                pass

    def _write(self, cur: _OpenFile, rec_type: str, rec_id: str, date: str, target: str,
               extra: list[tuple[str, str]], http: bytes, payload: bytes,
               content_type: str) -> WarcRef:
        payload_hash = hashlib.sha256(payload)
        block_hash = hashlib.sha256(http)
        block_hash.update(payload)
        block_digest = _b32(block_hash.digest())
        headers = [("WARC-Type", rec_type), ("WARC-Record-ID", rec_id), ("WARC-Date", date),
                   ("WARC-Target-URI", target), ("WARC-Warcinfo-ID", cur.warcinfo_id),
                   *extra]
        headers.append(("WARC-Payload-Digest", _b32(payload_hash.digest())))
        headers.append(("WARC-Block-Digest", block_digest))
        http_headers = None
        if http:
            first, _, _ = http.partition(b"\r\n")
            http_headers = _RawHttpHeaders(http, first.decode("latin-1"), [], "",
                                           rec_type == "request")
        record = ArcWarcRecord("warc", rec_type,
                               StatusAndHeaders("", headers, protocol=WARC_VERSION),
                               BytesIO(payload), http_headers, content_type, len(payload))
        record.payload_length = len(payload)
        offset = cur.out.tell()
        try:
            cur.warc.write_record(record)
            cur.out.flush()
            if self.fsync_each_record:
                os.fsync(cur.out.fileno())
        except BaseException:
            self._abandon_current()
            raise
        cur.records += 1
        return WarcRef(
            file=(self.run_dir / cur.name).relative_to(self.evidence_dir).as_posix(),
            record_id=rec_id, offset=offset, length=cur.out.tell() - offset,
            payload_sha256=payload_hash.hexdigest(), block_digest=block_digest)
