"""Every download is hashed whole by streaming it, the bytes never kept (issue 11): SHA-256
of the full file up to ``[crawl] hash_downloads_up_to``, or a record that it was cut; the
crawl's memory stays far below the file's size. Files over 1 MiB used to get no hash."""

from __future__ import annotations

import hashlib
import sys

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import messages, no_traceback, write_config
from sqlalchemy import select

from collector.sandbox.web import _file_bytes
from storage.models import Download

SITE = "codecpacks.net"
MIB = 1 << 20
FILES = {  # path: (generator, bytes)
    "/files/codec-pack.exe": ("download", 10 * MIB + 123),  # three ranges
    "/files/tiny.apk": ("download", 1000),
    "/files/empty.bin": ("download", 0),
    "/files/over-the-cap.iso": ("download", 20 * MIB),  # over hash_downloads_up_to: cut
    "/files/no-ranges-small.rar": ("download-noranges", 100_000),  # a server without Range, small: hashed
    "/files/no-ranges-big.zip": ("download-noranges", 6 * MIB),  # without Range, over one range: cut
}
BIG = 300 * MIB


def sha256_of(size: int) -> str:
    digest, offset = hashlib.sha256(), 0
    while offset < size:
        step = min(4 * MIB, size - offset)
        digest.update(_file_bytes(offset, step))
        offset += step
    return digest.hexdigest()


@pytest.fixture(scope="module")
def downloads_world(tmp_path_factory):
    files = dict(FILES, **{"/files/huge-pack.exe": ("download", BIG)})
    routes = "".join(f'"{path}" = {{ generator = "{gen}", bytes = {size} }}\n' for path, (gen, size) in files.items())
    pages = {f"{SITE}/index.html": "<html><head><title>Codecs</title></head><body>" + " ".join(
        f'<a href="{path}">{path}</a>' for path in FILES) + "</body></html>",
        f"{SITE}/huge.html": '<html><head><title>Pack</title></head><body><a href="/files/huge-pack.exe">get</a>'
                             "</body></html>",
        f"{SITE}/small.html": '<html><head><title>Pack</title></head><body><a href="/files/tiny.apk">get</a>'
                              "</body></html>"}
    root = extended_world(tmp_path_factory.mktemp("downloads") / "w", {
        SITE: registered(ip="88.198.32.1") + f'[[site]]\nhost = "{SITE}"\nhttp = "serve"\n\n[site.routes]\n' + routes}, pages)
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("downloads-state")) as running:
        yield running


def crawl(tmp_path, sandbox, env, url: str, **crawl_config):
    """``isop crawl --url URL --depth 1`` in a child process; returns (result, its peak RSS in KiB)."""
    import subprocess

    config = write_config(tmp_path, sandbox, render=False, analysis_workers=0, autothrottle=False, **crawl_config)
    wrapper = tmp_path / "measured.py"
    # VmHWM is this process's own peak (ru_maxrss would carry the forking parent's over exec)
    wrapper.write_text(
        "import re, runpy, sys\n"
        "sys.argv = ['isop', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('collector.cli', run_name='__main__')\n"
        "finally:\n    status = open('/proc/self/status').read()\n"
        "    print('PEAK-RSS-KIB', re.search(r'VmHWM:\\s*(\\d+)', status).group(1), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, str(wrapper), "--config", str(config), "crawl", "--url", url,
                             "--depth", "1"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    peak = int(result.stderr.rsplit("PEAK-RSS-KIB", 1)[1].split()[0])
    return result, peak


def downloads(tmp_path) -> dict:
    from storage.db import open_engine

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rows = {r.url.split(SITE, 1)[1]: r for r in c.execute(
            select(Download.url, Download.size, Download.sha256, Download.truncated))}
    db.dispose()
    return rows


def test_downloads_are_hashed_whole_or_recorded_cut(downloads_world, tmp_path, guarded_env):
    crawl(tmp_path, downloads_world, guarded_env, f"https://{SITE}/", hash_downloads_up_to=16 * MIB)
    rows = downloads(tmp_path)
    assert set(rows) == set(FILES), rows
    for path in ("/files/codec-pack.exe", "/files/tiny.apk", "/files/empty.bin", "/files/no-ranges-small.rar"):
        size = FILES[path][1]
        assert (rows[path].size, rows[path].sha256, rows[path].truncated) == (size, sha256_of(size), False), path
    for path in ("/files/over-the-cap.iso", "/files/no-ranges-big.zip"):
        assert (rows[path].size, rows[path].sha256, rows[path].truncated) == (FILES[path][1], None, True), path
    assert not list(tmp_path.rglob("*.exe")) and not list(tmp_path.rglob("*.apk")), "no file is kept"


def test_hashing_a_300_mib_download_keeps_memory_bounded(downloads_world, tmp_path, guarded_env):
    small_dir, big_dir = tmp_path / "small", tmp_path / "big"
    small_dir.mkdir()
    big_dir.mkdir()
    _result, baseline = crawl(small_dir, downloads_world, guarded_env, f"http://{SITE}/small.html")
    _result, peak = crawl(big_dir, downloads_world, guarded_env, f"http://{SITE}/huge.html",  # no TLS: faster
                          hash_downloads_up_to=400 * MIB)
    row = downloads(big_dir)["/files/huge-pack.exe"]
    assert (row.size, row.sha256, row.truncated) == (BIG, sha256_of(BIG), False)
    growth_mib = (peak - baseline) / 1024
    assert growth_mib < 64, f"peak RSS {peak / 1024:.0f} MiB, {growth_mib:.0f} MiB over a crawl of a tiny download"


def test_a_crawl_reads_no_more_than_its_hashing_budget(downloads_world, tmp_path, guarded_env):
    """Hashing is traffic: once ``[crawl] hash_budget_bytes`` is spent, file links are recorded
    from their headers only (size, type), as cut; a small file within the budget is hashed."""
    crawl(tmp_path, downloads_world, guarded_env, f"https://{SITE}/", hash_downloads_up_to=16 * MIB,
          hash_budget_bytes=2000)
    rows = downloads(tmp_path)
    assert set(rows) == set(FILES), rows
    for path in ("/files/tiny.apk", "/files/empty.bin"):
        size = FILES[path][1]
        assert (rows[path].size, rows[path].sha256, rows[path].truncated) == (size, sha256_of(size), False), path
    for path in ("/files/codec-pack.exe", "/files/over-the-cap.iso"):
        assert (rows[path].size, rows[path].sha256, rows[path].truncated) == (FILES[path][1], None, True), path
