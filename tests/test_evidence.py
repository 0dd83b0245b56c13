"""The evidence module: WARC writing, manifests, the verifier, safe screenshot paths."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import threading
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from spiders.evidence import (
    EvidenceError,
    Problem,
    WarcRef,
    WarcWriter,
    parse_manifest,
    recover,
    safe_screenshot_path,
    save_screenshot,
    verify,
    write_manifest,
)

WARCIO = Path(sys.executable).parent / "warcio"
T0 = datetime(2025, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
RUN = 42


def _b32(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


def _cases() -> list[dict]:
    """Responses of every awkward kind, as the pipeline would hand them over."""
    rng = random.Random(7)
    binary = bytes(rng.getrandbits(8) for _ in range(300_000))
    huge_headers = [(f"X-Filler-{i}", "v" * 200) for i in range(300)]
    huge_headers.append(("Set-Cookie", "session=" + "a" * 70_000))
    return [
        {"url": "https://films.example/index.html", "status": 200, "reason": "OK",
         "headers": [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")],
         "body": "<html><title>Film — stream gratuit</title></html>".encode(),
         "request_headers": [("Host", "films.example"), ("User-Agent", "isop-test")],
         "ip": "127.0.0.1"},
        {"url": "https://films.example/poster.jpg", "status": 200,
         "headers": [("Content-Type", "image/jpeg")], "body": binary, "ip": "::1"},
        {"url": "https://kino.example/%D1%84%D0%B8%D0%BB%D1%8C%D0%BC", "status": 200,
         "headers": [("Content-Type", "text/html; charset=windows-1251"),
                     ("Content-Disposition", 'attachment; filename="фильм.html"'),
                     ("X-Latin1", "caf\xe9")],
         "body": "<p>Смотреть фильм онлайн бесплатно</p>".encode("cp1251")
         + "日本語".encode("shift_jis") + b"\xff\xfe\x00"},
        {"url": "https://big.example/", "status": 200, "headers": huge_headers,
         "body": b"<html>ok</html>"},
        {"url": "https://big.example/video.mp4", "status": 206, "reason": "Partial Content",
         "headers": [("Content-Type", "video/mp4"), ("Content-Length", "999999999"),
                     ("Transfer-Encoding", "chunked")],
         "body": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50_000, "truncated": "length"},
        {"url": "https://films.example/empty", "status": 204, "headers": [], "body": b"",
         "request_headers": [], "method": "HEAD"},
    ]


def _write_run(evidence: Path, run_id: int = RUN, **kwargs: object) -> tuple[list[WarcRef], Path]:
    with WarcWriter(evidence, run_id, operator="Analyst 7, Unit X", **kwargs) as w:
        refs = [w.write_response(fetched_at=T0 + timedelta(seconds=i), **case)
                for i, case in enumerate(_cases())]
    return refs, w.close()


def _read_at(evidence: Path, ref: WarcRef):
    """Seek to a record's offset and read exactly that one record."""
    with open(evidence / ref.file, "rb") as f:
        f.seek(ref.offset)
        it = ArchiveIterator(f, check_digests=True)
        record = next(it)
        payload = record.raw_stream.read()
        assert it.get_record_length() == ref.length
        assert record.digest_checker.passed is True
        return record, payload


# --- writing and reading back -----------------------------------------------------------


def test_records_read_back_at_their_offsets(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path)
    for i, (case, ref) in enumerate(zip(_cases(), refs, strict=True)):
        assert ref.file == "runs/000042/isop-000042-00001.warc.gz"
        assert re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", ref.record_id)
        record, payload = _read_at(tmp_path, ref)
        h = record.rec_headers
        assert record.rec_type == "response"
        assert h["WARC-Record-ID"] == ref.record_id
        assert h["WARC-Target-URI"] == case["url"]
        assert h["WARC-Date"] == (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert payload == case["body"]
        assert ref.payload_sha256 == hashlib.sha256(case["body"]).hexdigest()
        assert h["WARC-Payload-Digest"] == _b32(case["body"])
        assert h["WARC-Block-Digest"] == ref.block_digest
        assert record.http_headers.get_statuscode() == str(case["status"])
        assert h["WARC-IP-Address"] == case.get("ip")
        assert h["WARC-Truncated"] == case.get("truncated")
        # the block digest covers the exact HTTP header bytes and the body
        with open(tmp_path / ref.file, "rb") as f:
            f.seek(ref.offset)
            member = gzip.decompress(f.read(ref.length))
        head, _, rest = member.partition(b"\r\n\r\n")
        block = rest[: int(re.search(rb"Content-Length: (\d+)", head).group(1))]
        assert ref.block_digest == _b32(block)
        assert block.endswith(case["body"])


def test_headers_kept_byte_for_byte(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path)
    member = lambda ref: gzip.decompress(  # noqa: E731
        (tmp_path / ref.file).read_bytes()[ref.offset: ref.offset + ref.length])
    non_utf8 = member(refs[2])
    assert 'filename="фильм.html"'.encode() in non_utf8  # not percent-encoded by warcio
    assert b"X-Latin1: caf\xe9\r\n" in non_utf8  # latin-1 text back to the wire byte
    huge = member(refs[3])
    assert b"Set-Cookie: session=" + b"a" * 70_000 + b"\r\n" in huge
    assert huge.count(b"X-Filler-") == 300
    truncated = member(refs[4])
    assert b"Content-Length: 999999999\r\n" in truncated  # what the server announced
    assert b"X-Isop-Orig-Transfer-Encoding: chunked\r\n" in truncated
    assert b"\r\nTransfer-Encoding" not in truncated


def test_request_records_and_concurrency(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path)
    with open(tmp_path / refs[0].file, "rb") as f:
        records = [(r.rec_type, dict(r.rec_headers.headers), r.http_headers)
                   for r in ArchiveIterator(f)]
    requests = [r for r in records if r[0] == "request"]
    assert len(requests) == 2  # only the cases with request_headers
    by_id = {h["WARC-Record-ID"]: (t, h) for t, h, _ in records}
    for _, h, _http in requests:
        resp_type, resp = by_id[h["WARC-Concurrent-To"]]
        assert resp_type == "response"
        assert resp["WARC-Concurrent-To"] == h["WARC-Record-ID"]
        assert h["WARC-Target-URI"] == resp["WARC-Target-URI"]
    assert requests[0][2].protocol == "GET" and requests[0][2].statusline.startswith("/index.html")
    assert requests[1][2].protocol == "HEAD"


def test_warcinfo_opens_every_file(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path, max_file_bytes=1)
    files = sorted({r.file for r in refs})
    assert len(files) == len(refs)  # one response (+ request) per file at this size
    for name in files:
        with open(tmp_path / name, "rb") as f:
            first = next(iter(ArchiveIterator(f)))
            assert first.rec_type == "warcinfo"
            assert first.rec_headers["WARC-Filename"] == Path(name).name
            info = first.content_stream().read().decode()
        fields = dict(line.split(": ", 1) for line in info.splitlines())
        assert fields["software"] == "isop/0.1.0"
        assert fields["operator"] == "Analyst 7, Unit X"
        assert fields["isop-run-id"] == "42"
        assert fields["hostname"]
        assert fields["format"] == "WARC File Format 1.1"
        assert "warc-1.1" in fields["conformsTo"]


def test_warcio_check_and_index_pass(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path)
    with WarcWriter(tmp_path, 43) as w:
        page = w.write_response(url="https://x.example/", status=200, headers=[], body=b"hi",
                                fetched_at=T0, request_headers=[("Host", "x.example")])
        w.write_resource(url="urn:view:https://x.example/", content_type="image/png",
                         data=b"\x89PNG\r\n\x1a\nfake", fetched_at=T0,
                         concurrent_to=page.record_id)
    for path in {tmp_path / refs[0].file, tmp_path / page.file}:
        out = subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True,
                             text=True, check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "digest pass" in out.stdout and "fail" not in out.stdout
        index = subprocess.run([str(WARCIO), "index", "-f", "warc-type,offset,length", str(path)],
                               capture_output=True, text=True, check=True)
        lines = [json.loads(line) for line in index.stdout.splitlines()]
        assert lines[0]["warc-type"] == "warcinfo"
    # warcio check does validate digests: a consistently re-gzipped, altered record fails
    tampered = tmp_path / "tampered.warc.gz"
    _alter_record(tmp_path / refs[0].file, refs[0], tampered)
    out = subprocess.run([str(WARCIO), "check", str(tampered)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 1 and "digest failed" in out.stdout


def _alter_record(src: Path, ref: WarcRef, dst: Path) -> None:
    """Change one payload byte of a record and re-gzip it: a forgery only digests catch."""
    data = src.read_bytes()
    member = bytearray(gzip.decompress(data[ref.offset: ref.offset + ref.length]))
    member[-5] ^= 0x20  # inside the body, just before the closing CRLFCRLF
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS + 16)  # as warcio does
    dst.write_bytes(data[: ref.offset] + z.compress(bytes(member)) + z.flush()
                    + data[ref.offset + ref.length:])


def test_resources_and_conversions(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, 7) as w:
        page = w.write_response(url="https://x.example/", status=200, headers=[], body=b"<p>",
                                fetched_at=T0)
        png = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
        shot = w.write_resource(url="urn:view:https://x.example/", content_type="image/png",
                                data=png, fetched_at=T0, concurrent_to=page.record_id)
        dom = w.write_resource(url="https://x.example/", content_type="text/html",
                               data=b"<p></p>", fetched_at=T0, concurrent_to=page.record_id,
                               record_type="conversion")
    record, payload = _read_at(tmp_path, shot)
    assert (record.rec_type, payload) == ("resource", png)
    assert record.rec_headers["Content-Type"] == "image/png"
    assert record.rec_headers["WARC-Concurrent-To"] == page.record_id
    assert shot.payload_sha256 == hashlib.sha256(png).hexdigest()
    record, payload = _read_at(tmp_path, dom)
    assert record.rec_type == "conversion" and payload == b"<p></p>"
    assert record.rec_headers["WARC-Refers-To"] == page.record_id
    assert verify(tmp_path) == []


def test_hostile_inputs_cannot_forge_headers(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, 1) as w:
        ref = w.write_response(url="https://x.example/a b\r\nWARC-Type: evil", status=200,
                               headers=[("X-A", "1\r\nSet-Cookie: forged=1")], body=b"b",
                               fetched_at=T0.astimezone(timezone(timedelta(hours=2))))
        with pytest.raises(ValueError, match="timezone"):
            w.write_response(url="https://x.example/", status=200, headers=[], body=b"",
                             fetched_at=datetime(2025, 1, 1))
        with pytest.raises(ValueError):
            w.write_response(url="https://x.example/", status=200, headers=[], body=b"",
                             fetched_at=T0, truncated="because")
        with pytest.raises(ValueError):
            w.write_response(url="https://x.example/", status=200, headers=[], body=b"",
                             fetched_at=T0, ip="127.0.0.1\r\nX: y")
        odd = w.write_response(url="https://x.example/\ud800/ü", status=200, headers=[],
                               body=b"", fetched_at=T0, request_headers=[("Host", "x")])
    record, _ = _read_at(tmp_path, odd)
    assert record.rec_headers["WARC-Target-URI"] == "https://x.example/%ED%A0%80/ü"
    record, _ = _read_at(tmp_path, ref)
    assert record.rec_headers["WARC-Target-URI"] == "https://x.example/a%20b%0D%0AWARC-Type:%20evil"
    assert record.rec_headers["WARC-Type"] == "response"
    assert record.rec_headers["WARC-Date"] == T0.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert record.http_headers.get_header("Set-Cookie") is None
    assert verify(tmp_path) == []


# --- rotation and manifests -------------------------------------------------------------


def test_rotation_and_manifest(tmp_path: Path) -> None:
    body = os.urandom(3000)  # incompressible: every record is over 3 kB
    with WarcWriter(tmp_path, RUN, max_file_bytes=8000) as w:
        refs = [w.write_response(url=f"https://x.example/{i}", status=200, headers=[],
                                 body=body, fetched_at=T0) for i in range(10)]
    files = sorted({r.file for r in refs})
    assert len(files) >= 3
    assert files == [f"runs/000042/isop-000042-{i:05d}.warc.gz" for i in range(1, len(files) + 1)]
    for ref in refs:
        assert _read_at(tmp_path, ref)[1] == body
    run = tmp_path / "runs" / "000042"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["run_id"] == RUN and manifest["created_at"].endswith("Z")
    listed = {f["path"]: f for f in manifest["files"]}
    assert sorted(listed) == [Path(f).name for f in files]
    for name, entry in listed.items():
        data = (run / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        assert entry["kind"] == "warc"
        with open(run / name, "rb") as f:
            assert entry["records"] == sum(1 for _ in ArchiveIterator(f))
        # at most one record past the limit
        assert len(data) < 8000 + 4000
    assert sum(f["records"] for f in manifest["files"]) == 10 + len(files)
    assert verify(tmp_path) == [] and verify(tmp_path, RUN) == []


def test_manifest_sha256_is_sha256sum_compatible(tmp_path: Path) -> None:
    _, manifest = _write_run(tmp_path)
    line = (manifest.parent / "manifest.sha256").read_text()
    assert line == f"{hashlib.sha256(manifest.read_bytes()).hexdigest()}  manifest.json\n"
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--quiet", "-c", "manifest.sha256"], cwd=manifest.parent,
                       check=True)


def test_permissions(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    old = os.umask(0o022)
    try:
        _, manifest = _write_run(evidence)
        shot = save_screenshot(evidence, RUN, "https://x.example/", b"\x89PNG")
    finally:
        os.umask(old)
    for d in (evidence, evidence / "runs", manifest.parent, shot.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o750, d
    for f in [*manifest.parent.iterdir(), shot]:
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o640, f


def test_sealed_runs_stay_sealed(tmp_path: Path) -> None:
    _, manifest = _write_run(tmp_path)
    before = manifest.read_bytes()
    with pytest.raises(EvidenceError, match="sealed"):
        WarcWriter(tmp_path, RUN)
    with pytest.raises(EvidenceError, match="sealed"):
        write_manifest(manifest.parent)
    assert recover(manifest.parent) == manifest
    assert manifest.read_bytes() == before


def test_close_is_idempotent_and_final(tmp_path: Path) -> None:
    w = WarcWriter(tmp_path, 5)
    w.write_response(url="https://x.example/", status=200, headers=[], body=b"x", fetched_at=T0)
    first = w.close()
    assert w.close() == first and w.closed
    with pytest.raises(EvidenceError):
        w.write_response(url="https://x.example/", status=200, headers=[], body=b"x",
                         fetched_at=T0)


def test_empty_run_has_an_empty_manifest(tmp_path: Path) -> None:
    manifest = WarcWriter(tmp_path, 9).close()
    assert parse_manifest(manifest.read_bytes()).files == ()
    assert verify(tmp_path) == []


# --- the verifier -----------------------------------------------------------------------


def _warc(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "000042" / "isop-000042-00001.warc.gz"


def _flip(tmp_path: Path) -> None:
    path = _warc(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(tmp_path: Path) -> None:
    path = _warc(tmp_path)
    os.truncate(path, path.stat().st_size - 4)  # only the last gzip trailer: warcio reads on


def _delete(tmp_path: Path) -> None:
    _warc(tmp_path).unlink()


def _add_unlisted(tmp_path: Path) -> None:
    (tmp_path / "runs" / "000042" / "screenshots").mkdir()
    (tmp_path / "runs" / "000042" / "screenshots" / "extra.png").write_bytes(b"\x89PNG")


def _edit_manifest(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "000042" / "manifest.json"
    doc = json.loads(path.read_text())
    doc["files"][0]["sha256"] = "0" * 64
    path.write_text(json.dumps(doc, indent=2) + "\n")


def _forge_record(tmp_path: Path) -> None:
    refs = json.loads((tmp_path / "refs.json").read_text())
    ref = WarcRef(**refs[1])  # random bytes: re-gzipped to exactly the same size
    _alter_record(_warc(tmp_path), ref, tmp_path / "forged")
    os.replace(tmp_path / "forged", _warc(tmp_path))


def _delete_sum(tmp_path: Path) -> None:
    (tmp_path / "runs" / "000042" / "manifest.sha256").unlink()


@pytest.mark.parametrize(("tamper", "expected"), [
    (_flip, {"hash_mismatch", "unreadable"}),
    (_truncate, {"size_mismatch", "unreadable"}),
    (_delete, {"missing"}),
    (_add_unlisted, {"unlisted"}),
    (_edit_manifest, {"manifest_tampered", "hash_mismatch"}),
    (_forge_record, {"hash_mismatch", "bad_record_digest"}),
    (_delete_sum, {"missing"}),
])
def test_verify_finds_tampering(tmp_path: Path, tamper, expected: set[str]) -> None:
    refs, _ = _write_run(tmp_path)
    (tmp_path / "refs.json").write_text(json.dumps([r.__dict__ for r in refs]))
    assert verify(tmp_path) == []
    tamper(tmp_path)
    problems = verify(tmp_path)
    assert {p.kind for p in problems} == expected, problems
    assert all(isinstance(p, Problem) and p.detail for p in problems)
    assert all(not p.path.startswith("/") for p in problems)
    assert verify(tmp_path, RUN) == problems


def test_stray_entries_in_runs_are_reported(tmp_path: Path) -> None:
    _write_run(tmp_path)
    (tmp_path / "runs" / "notes.txt").write_text("x")
    assert verify(tmp_path) == [Problem("runs/notes.txt", "unlisted", "not a run directory")]


def test_shallow_verify_skips_records(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path)
    _flip(tmp_path)
    assert [p.kind for p in verify(tmp_path, deep=False)] == ["hash_mismatch"]
    assert verify(tmp_path, 999) == [Problem("runs/000999", "missing", "no such run directory")]


def test_verify_problem_paths(tmp_path: Path) -> None:
    _write_run(tmp_path)
    _delete(tmp_path)
    assert verify(tmp_path) == [Problem("runs/000042/isop-000042-00001.warc.gz", "missing",
                                        "listed in the manifest, not on disk")]


# --- crashes ----------------------------------------------------------------------------


def test_crash_leaves_records_readable_and_recover_seals(tmp_path: Path) -> None:
    w = WarcWriter(tmp_path, RUN)
    refs = [w.write_response(url=f"https://x.example/{i}", status=200, headers=[],
                             body=f"page {i}".encode() * 100, fetched_at=T0) for i in range(3)]
    # the process dies now, in the middle of writing a fourth record: no close()
    path = tmp_path / refs[0].file
    end = path.stat().st_size
    with open(path, "ab") as f:
        f.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + os.urandom(5000))[:700])
    del w
    for ref in refs:  # earlier records are readable where the refs say
        assert _read_at(tmp_path, ref)[1].startswith(b"page")
    assert verify(tmp_path)[0].kind == "missing"  # not sealed yet
    manifest = recover(path.parent)
    entry = parse_manifest(manifest.read_bytes()).files[0]
    assert entry.records == 4 and entry.complete_bytes == end
    assert entry.size == end + 700  # the torn tail is kept, byte for byte
    assert verify(tmp_path) == []
    _flip(tmp_path)  # the complete part is still fully checked
    assert {p.kind for p in verify(tmp_path)} == {"hash_mismatch", "unreadable"}


def test_malformed_record_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    refs, _ = _write_run(tmp_path)
    path = tmp_path / refs[0].file
    with open(path, "ab") as f:  # a complete gzip member holding no proper record
        f.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n\r\n"))
    assert {p.kind for p in verify(tmp_path)} == {"size_mismatch", "unreadable"}


def test_writer_continues_a_crashed_run(tmp_path: Path) -> None:
    w = WarcWriter(tmp_path, RUN)
    first = w.write_response(url="https://x.example/", status=200, headers=[], body=b"1",
                             fetched_at=T0)
    del w  # crash
    w2 = WarcWriter(tmp_path, RUN)
    second = w2.write_response(url="https://x.example/", status=200, headers=[], body=b"2",
                               fetched_at=T0)
    manifest = w2.close()
    assert first.file.endswith("-00001.warc.gz") and second.file.endswith("-00002.warc.gz")
    assert [f.records for f in parse_manifest(manifest.read_bytes()).files] == [2, 2]
    assert verify(tmp_path) == []


def test_recover_finishes_an_interrupted_seal(tmp_path: Path) -> None:
    _, manifest = _write_run(tmp_path)
    (manifest.parent / "manifest.sha256").unlink()  # crash between the two files
    assert recover(manifest.parent) == manifest
    assert verify(tmp_path) == []
    (manifest.parent / "manifest.sha256").unlink()
    (manifest.parent / "late.bin").write_bytes(b"x")
    with pytest.raises(EvidenceError, match="does not match"):
        recover(manifest.parent)


# --- threads ----------------------------------------------------------------------------


def test_accidental_concurrent_calls_are_serialised(tmp_path: Path) -> None:
    w = WarcWriter(tmp_path, RUN, max_file_bytes=20_000)
    refs: list[WarcRef] = []

    def work(n: int) -> None:
        for i in range(20):
            refs.append(w.write_response(url=f"https://x.example/{n}/{i}", status=200,
                                         headers=[], body=os.urandom(1000), fetched_at=T0,
                                         request_headers=[("Host", "x.example")]))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    assert len(refs) == 80 and verify(tmp_path) == []
    for ref in refs[::7]:
        _read_at(tmp_path, ref)


# --- screenshots ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "../../etc/passwd",
    "https://x.example/../../../../etc/passwd",
    "/etc/passwd",
    "https://x.example/" + "a" * 100_000,
    "https://x.example/\x00/../x",
    "https://例え.テスト/パス?q=✓",
    "https://x.example/\ud800",
    "",
    "..",
    "C:\\Windows\\system32",
])
def test_screenshot_paths_never_escape(tmp_path: Path, url: str) -> None:
    path = safe_screenshot_path(tmp_path, RUN, url)
    run = (tmp_path / "runs" / "000042").resolve()
    assert path.resolve().parent == run / "screenshots"
    assert re.fullmatch(r"[0-9a-f]{32}\.png", path.name)
    assert path == safe_screenshot_path(tmp_path, RUN, url)


def test_save_screenshot_is_listed_and_never_overwritten(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, RUN) as w:
        w.write_response(url="https://x.example/", status=200, headers=[], body=b"x",
                         fetched_at=T0)
        shot = save_screenshot(tmp_path, RUN, "https://x.example/", b"\x89PNG one")
        assert shot != safe_screenshot_path(tmp_path, RUN, "https://x.example/other")
        with pytest.raises(FileExistsError):
            save_screenshot(tmp_path, RUN, "https://x.example/", b"\x89PNG two")
    files = parse_manifest((shot.parents[1] / "manifest.json").read_bytes()).files
    assert [(f.kind, f.records) for f in files] == [("warc", 2), ("screenshot", None)]
    assert shot.read_bytes() == b"\x89PNG one"
    assert verify(tmp_path) == []


def test_bad_run_ids(tmp_path: Path) -> None:
    for bad in (-1, True, "42", 4.2):
        with pytest.raises(ValueError):
            safe_screenshot_path(tmp_path, bad, "https://x.example/")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            WarcWriter(tmp_path, bad)  # type: ignore[arg-type]
