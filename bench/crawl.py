"""Crawl throughput: isop's full pipeline against a bare link-following Scrapy spider.

    .venv/bin/python bench/crawl.py [--pages 5000] [--page-kb 30] [--concurrency 16]

Serves a copy of the default sandbox world whose ``cinemadispatch.com/archive/`` is a
generated site of ``--pages`` linked pages of about ``--page-kb`` KiB each, then, in one
run and through the same sandbox proxy over HTTPS:

1. a bare Scrapy spider that only follows the site's links (no pipelines, no evidence);
2. ``isop crawl --url https://cinemadispatch.com/archive/``: the full pipeline
   (classification, indicators, WARC evidence, store writes, hopping, render checks).

Both get the same concurrency, no AutoThrottle and no delays. Prints pages, seconds and
pages/s for each, the ratio (target: the full pipeline keeps >= 70%), and each crawl
process's peak memory (max RSS). Both children run with the network guard installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SITE = "cinemadispatch.com"
START = f"https://{SITE}/archive/"


def world_copy(dest: Path, pages: int, page_bytes: int) -> Path:
    """The default world with the bench site's archive resized."""
    src = REPO / "config" / "sandbox" / "default"
    shutil.copytree(src, dest)
    domain = dest / "domains" / f"{SITE}.toml"
    text = domain.read_text(encoding="utf-8")
    text, n = re.subn(r'"/archive/" = \{[^}]*\}',
                      f'"/archive/" = {{ generator = "bigsite", pages = {pages}, bytes = {page_bytes} }}', text)
    if n != 1:
        raise SystemExit(f"bench: no /archive/ route in {domain}")
    domain.write_text(text, encoding="utf-8")
    return dest


def run_child(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int, float, float]:
    """Run ``cmd``: wall seconds, exit code, its peak RSS in KiB, the CPU seconds it and its
    worker processes used, and the CPU seconds this process (the sandbox) used meanwhile."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-3000:] if proc.stderr else "")
    if proc.stderr:
        proc.stderr.close()
    after = resource.getrusage(resource.RUSAGE_SELF)
    sandbox_cpu = (after.ru_utime + after.ru_stime) - (own.ru_utime + own.ru_stime)
    return seconds, proc.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, sandbox_cpu


def bare_crawl(proxy: str, concurrency: int, out: Path) -> None:
    """The baseline: follow every link on the site, keep nothing (runs in a child process)."""
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor

    class BareSpider(Spider):
        name = "bare"
        allowed_domains = [SITE]
        extractor = LinkExtractor(allow_domains=[SITE])

        async def start(self):
            yield Request(START, meta={"proxy": proxy})

        def parse(self, response):
            for link in self.extractor.extract_links(response):
                yield Request(link.url, meta={"proxy": proxy})

    process = CrawlerProcess({
        "LOG_LEVEL": os.environ.get("BENCH_LOG", "WARNING"), "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0, "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
        "DEPTH_LIMIT": 0, "RETRY_TIMES": 2, "DOWNLOAD_TIMEOUT": 30,
    })
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    out.write_text(json.dumps({"pages": stats.get("response_received_count", 0)}))


def full_config(workdir: Path, sandbox, pages: int, concurrency: int) -> Path:
    config = workdir / "isop.toml"
    config.write_text(sandbox.config_text(f"sqlite:///{workdir / 'isop.db'}") + f"""
[evidence]
dir = "{workdir / 'evidence'}"
[crawl]
targeted_pages = {pages + 200}
targeted_depth = 1000
url_shape_limit = {pages * 2}
concurrency = {concurrency}
per_domain_concurrency = {concurrency}
autothrottle = false
""", encoding="utf-8")
    return config


def pages_stored(workdir: Path) -> int:
    from sqlalchemy import create_engine, func, select

    from storage.models import Page

    engine = create_engine(f"sqlite:///{workdir / 'isop.db'}")
    with engine.connect() as c:
        n = c.scalar(select(func.count()).select_from(Page).where(Page.status == 200))
    engine.dispose()
    return int(n or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages of the generated site (default 5000)")
    parser.add_argument("--page-kb", type=int, default=30, help="approximate size of each page in KiB (default 30)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bare-child", nargs=3, metavar=("PROXY", "CONCURRENCY", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        proxy, concurrency, out = args.bare_child
        bare_crawl(proxy, int(concurrency), Path(out))
        return

    from collector.sandbox.server import ThreadedSandbox

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "tests" / "guard"), str(REPO)]))
    env.pop("ISOP_CONFIG", None)
    with tempfile.TemporaryDirectory(prefix="isop-bench-crawl-") as tmp:
        tmp = Path(tmp)
        world = world_copy(tmp / "world", args.pages, args.page_kb * 1024)
        with ThreadedSandbox(world, state_dir=tmp / "sandbox") as sandbox:
            print(f"site: {START} - {args.pages} pages of ~{args.page_kb} KiB (+ index pages), "
                  f"concurrency {args.concurrency}, through the sandbox proxy over HTTPS")
            out = tmp / "bare.json"
            b_secs, b_rc, b_rss, b_cpu, b_sb = run_child([sys.executable, __file__, "--bare-child", sandbox.proxy_url,
                                             str(args.concurrency), str(out)], tmp, env)
            if b_rc:
                raise SystemExit(f"bench: the bare spider failed (exit {b_rc})")
            b_pages = json.loads(out.read_text())["pages"]
            workdir = tmp / "full"
            workdir.mkdir()
            config = full_config(workdir, sandbox, args.pages, args.concurrency)
            f_secs, f_rc, f_rss, f_cpu, f_sb = run_child([sys.executable, "-m", "collector.cli", "--config", str(config),
                                             "crawl", "--url", START, "--no-progress"], workdir, env)
            if f_rc:
                raise SystemExit(f"bench: isop crawl failed (exit {f_rc})")
            f_pages = pages_stored(workdir)
            evidence = sum(p.stat().st_size for p in (workdir / "evidence").rglob("*") if p.is_file())
    b_rate, f_rate = b_pages / b_secs, f_pages / f_secs
    print(f"bare spider    : {b_pages:6d} pages in {b_secs:6.1f} s = {b_rate:6.1f} pages/s, peak RSS {b_rss / 1024:6.0f} MiB")
    print(f"isop full crawl: {f_pages:6d} pages in {f_secs:6.1f} s = {f_rate:6.1f} pages/s, peak RSS {f_rss / 1024:6.0f} MiB"
          f" (evidence {evidence / 2**20:.0f} MiB)")
    print(f"CPU per page   : bare {1000 * b_cpu / b_pages:.1f} ms + sandbox {1000 * b_sb / b_pages:.1f} ms; "
          f"isop {1000 * f_cpu / f_pages:.1f} ms (crawl process and its analysis workers) + sandbox "
          f"{1000 * f_sb / f_pages:.1f} ms; {os.cpu_count()} CPU cores")
    print(f"ratio          : {f_rate / b_rate:.0%} of the bare spider's throughput (target >= 70%)")


if __name__ == "__main__":
    main()
