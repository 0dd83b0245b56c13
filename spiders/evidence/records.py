"""Reading WARC files back, checking the gzip members and every record's digests.

Two passes, both streaming: first the gzip layer (each member must be complete, its
CRC-32 and length trailer correct: warcio does not check these, and a file cut inside a
trailer would otherwise read back fine), then warcio's ``ArchiveIterator`` over the
intact members with ``check_digests=True`` (``WARC-Block-Digest``, ``WARC-Payload-Digest``),
each record having to be exactly one gzip member.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

_CHUNK = 1 << 20
_MAX_DETAIL = 200


@dataclass(frozen=True)
class RecordIssue:
    """Something wrong with one record, or with the bytes after the last good one."""

    offset: int
    kind: str
    """``bad_record_digest`` or ``unreadable``."""
    detail: str


@dataclass(frozen=True)
class WarcScan:
    """The outcome of reading a whole WARC file."""

    records: int
    """Records read completely (including ones whose digests failed)."""
    good_bytes: int
    """Where the last complete record ends."""
    issues: tuple[RecordIssue, ...]
    torn_tail: bool = False
    """The only issue is an incomplete last record, as a crash while writing leaves."""


@dataclass(frozen=True)
class _Members:
    """The gzip members found, and what stopped the walk early (if anything)."""

    bounds: frozenset[tuple[int, int]]
    end: int
    """End of the last complete member."""
    error: str | None
    truncated: bool
    """The walk stopped because the file ended inside a member."""


class _Limited:
    """A read-only view of the first ``limit`` bytes of a file."""

    def __init__(self, f: BinaryIO, limit: int) -> None:
        self._f = f
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left
        data = self._f.read(size)
        self._left -= len(data)
        return data

    def tell(self) -> int:
        return self._f.tell()


def _short(text: str) -> str:
    text = repr(text)[1:-1]
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


def _gzip_members(f: BinaryIO, limit: int) -> _Members:
    """Walk the gzip members of the first ``limit`` bytes without keeping their output."""
    bounds: set[tuple[int, int]] = set()
    start = pos = 0
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    started = False
    f.seek(0)
    while pos < limit:
        data = f.read(min(_CHUNK, limit - pos))
        if not data:
            break
        pos += len(data)
        while data:
            started = True
            try:
                d.decompress(data, _CHUNK)
                while d.unconsumed_tail:
                    d.decompress(d.unconsumed_tail, _CHUNK)
            except zlib.error as e:
                return _Members(frozenset(bounds), start, f"gzip member at {start}: {e}", False)
            if not d.eof:
                break
            end = pos - len(d.unused_data)
            bounds.add((start, end))
            data = d.unused_data
            start = end
            started = False
            d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    if started:
        return _Members(frozenset(bounds), start,
                        f"gzip member at {start}: file ends inside it", True)
    return _Members(frozenset(bounds), start, None, False)


def scan_warc(path: Path, *, limit: int | None = None) -> WarcScan:
    """Read every record of a gzip-per-record WARC file, checking its digests.

    Every record must have a ``WARC-Block-Digest`` (isop writes one on each) that checks.
    ``limit`` reads only the first ``limit`` bytes (the part a manifest vouches for when
    a crash tore the file's tail).
    """
    issues: list[RecordIssue] = []
    records = good = 0
    cut_short = False
    with open(path, "rb") as raw:
        size = raw.seek(0, 2)
        end = size if limit is None else min(limit, size)
        members = _gzip_members(raw, end)
        raw.seek(0)
        it = ArchiveIterator(_Limited(raw, members.end), check_digests=True)
        try:
            for record in it:
                rec_id = record.rec_headers.get_header("WARC-Record-ID") or "?"
                while record.raw_stream.read(_CHUNK):
                    pass
                offset, length = it.get_record_offset(), it.get_record_length()
                checker = record.digest_checker
                if (offset, offset + length) not in members.bounds:
                    issues.append(RecordIssue(offset, "unreadable",
                                              f"{rec_id}: not exactly one gzip member"))
                elif not record.rec_headers.get_header("WARC-Block-Digest"):
                    issues.append(RecordIssue(offset, "bad_record_digest",
                                              f"{rec_id}: no WARC-Block-Digest"))
                elif checker.passed is False:
                    issues.append(RecordIssue(offset, "bad_record_digest", _short(
                        f"{rec_id}: " + "; ".join(checker.problems))))
                elif checker.passed is None:
                    issues.append(RecordIssue(offset, "unreadable", f"{rec_id}: cut short"))
                    cut_short = True
                    break
                records += 1
                good = offset + length
        except OSError:
            raise  # the file itself could not be read: the caller says so
        except Exception as e:  # noqa: BLE001 - warcio fails in many ways on malformed data
            issues.append(RecordIssue(good, "unreadable", _short(f"{type(e).__name__}: {e}")))
        finally:
            it.close()
    if members.error:
        issues.append(RecordIssue(members.end, "unreadable", members.error))
    elif not issues and good != end:
        issues.append(RecordIssue(good, "unreadable",
                                  f"{end - good} bytes after the last complete record"))
    torn = bool(issues) and all(i.offset >= good for i in issues) and (
        members.truncated or (cut_short and len(issues) == 1))
    return WarcScan(records, good, tuple(issues), torn)
