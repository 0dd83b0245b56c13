"""Oversized responses, decompression bombs and endless streams are cut and kept (issue 11):
the first ``max_response_bytes`` bytes with ``truncated`` set, a WARC record marked
``WARC-Truncated: length`` and the hash of what was kept. They used to vanish (Scrapy
cancels the download, or ignores the response that decompresses too far)."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import select

from spiders.truncation import decode
from storage.models import Page

CAP = 65536
SITE = "hugeness.net"
BIG = "<!DOCTYPE html><html><head><title>Big</title></head><body>\n" + "".join(
    f"<p>paragraph {n} of a page far over the limit</p>\n" for n in range(12_000)) + "</body></html>\n"
INDEX = """<html><head><title>Hostile bodies</title></head><body>
<a href="/big.html">big</a> <a href="/endless.html">endless</a> <a href="/bomb.html">bomb</a>
<a href="/bigbomb.html">big bomb</a> <a href="/small.html">small</a>
</body></html>"""
BOMB_HEAD = b"<!DOCTYPE html>\n<html><head><title>Bomb</title></head><body>\n"
ENDLESS_HEAD = b"<!DOCTYPE html>\n<html><head><title>Endless page</title></head><body>\n"


@pytest.fixture(scope="module")
def hostile_bodies(tmp_path_factory):
    root = extended_world(tmp_path_factory.mktemp("bodies") / "w", {
        SITE: registered(ip="88.198.30.1") + f'[[site]]\nhost = "{SITE}"\n\n[site.routes]\n'
        '"/endless.html" = { generator = "endless" }\n'
        '"/bomb.html" = { generator = "gzipbomb", bytes = 16777216 }\n'  # 16 KiB sent: decoding is cut
        '"/bigbomb.html" = { generator = "gzipbomb" }\n',  # 1 GiB of zeros (1 MiB sent): the stream is cut
    }, {f"{SITE}/index.html": INDEX, f"{SITE}/big.html": BIG,
        f"{SITE}/small.html": "<html><title>Small</title><body>fine</body></html>"})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("bodies-state")) as running:
        yield running


def test_hostile_bodies_are_cut_and_kept(hostile_bodies, tmp_path, guarded_env):
    config = write_config(tmp_path, hostile_bodies, max_response_bytes=CAP, render=False, analysis_workers=0,
                          extra="")
    result = isop(config, guarded_env, tmp_path, "crawl", "--url", f"https://{SITE}/", "--depth", "1",
                  timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    from storage.db import open_engine

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rows = {r.url.rsplit("/", 1)[1]: r for r in c.execute(select(
            Page.url, Page.status, Page.error, Page.truncated, Page.content_length, Page.content_sha256,
            Page.warc_file, Page.warc_record_id))}
    db.dispose()
    expected = {"big.html": BIG.encode()[:CAP], "bomb.html": (BOMB_HEAD + b"\0" * CAP)[:CAP],
                "bigbomb.html": (BOMB_HEAD + b"\0" * CAP)[:CAP]}
    for name in ("big.html", "endless.html", "bomb.html", "bigbomb.html"):
        row = rows.get(name)
        assert row is not None, f"{name}: no page row ({sorted(rows)})"
        assert (row.status, row.error, row.truncated) == (200, None, True), (name, row)
        assert row.content_length == CAP and row.warc_file and row.warc_record_id, (name, row)
        if name in expected:
            assert row.content_sha256 == hashlib.sha256(expected[name]).hexdigest(), name
    assert rows["endless.html"].content_sha256 != rows["big.html"].content_sha256
    assert rows["small.html"].truncated is False and rows["small.html"].status == 200

    # the WARC records: marked truncated, holding exactly the bytes kept
    from warcio.archiveiterator import ArchiveIterator

    seen = {}
    for warc in (tmp_path / "evidence").rglob("*.warc.gz"):
        with warc.open("rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "response":
                    name = record.rec_headers.get_header("WARC-Target-URI").rsplit("/", 1)[1]
                    payload = record.content_stream().read()
                    seen[name] = (record.rec_headers.get_header("WARC-Truncated"), payload)
    for name in ("big.html", "endless.html", "bomb.html", "bigbomb.html"):
        mark, payload = seen[name]
        assert mark == "length" and len(payload) == CAP, (name, mark, len(payload))
        assert hashlib.sha256(payload).hexdigest() == rows[name].content_sha256
    assert seen["endless.html"][1].startswith(ENDLESS_HEAD)
    assert seen["small.html"][0] is None
    assert isop(config, guarded_env, tmp_path, "evidence", "verify").returncode == 0


@pytest.mark.parametrize("coding", [b"gzip", b"deflate", b"br", b"zstd"])
def test_decoding_stops_at_the_limit(coding):
    import zlib

    import brotli
    from backports import zstd

    data = b"<html>" + b"\0" * (8 << 20)
    pack = {b"gzip": lambda d: gzip.compress(d), b"deflate": zlib.compress, b"br": brotli.compress,
            b"zstd": zstd.compress}[coding]
    packed = pack(data)
    body, left, cut = decode(packed, [coding], 100_000)
    assert (body, left, cut) == (data[:100_000], [], True)
    body, left, cut = decode(packed, [coding], 0)
    assert (len(body), cut) == (len(data), False)
    # cut short in transit: what decodes is kept; not that coding at all: kept as it came
    noisy = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(20_000))
    body, _left, cut = decode(pack(noisy)[: len(noisy) // 2], [coding], 1 << 20)
    assert body and noisy.startswith(body) and not cut
    assert decode(b"plain text", [coding], 100_000) == (b"plain text", [coding], False)
