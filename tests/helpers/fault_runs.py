"""Crawls and runs as the fault and outage tests drive them: isop in a guarded subprocess, its messages, the store's runs and pages."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from storage.models import CrawlRun, Page

ARCHIVE = "https://cinemadispatch.com/archive/"  # a long paginated archive: many small pages


def write_config(tmp: Path, sandbox, storage_url: str | None = None, resolvers: list[str] | None = None,
                 extra: str = "", **crawl) -> Path:
    crawl_lines = "\n".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {str(v).lower()}"
                            for k, v in crawl.items())
    resolvers = resolvers if resolvers is not None else [sandbox.resolvers[0]]
    path = tmp / "isop.toml"
    path.write_text(f"""
[storage]
url = "{storage_url or f'sqlite:///{tmp / "isop.db"}'}"
[network]
proxy = "{sandbox.proxy_url}"
resolvers = [{", ".join(f'"{r}"' for r in resolvers)}]
ca_bundle = "{sandbox.ca_path}"
timeout = 3
[evidence]
dir = "{tmp / 'evidence'}"
[enrich]
after_crawl = false
[crawl]
{crawl_lines}
{extra}
""")
    return path


def isop_args(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "collector.cli", "--config", str(config), *args]


def isop(config: Path, env: dict, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(isop_args(config, *args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def messages(stderr: str) -> str:
    """The terminal's warnings and errors, without Scrapy's start-up chatter."""
    return "\n".join(line for line in stderr.splitlines() if '"level": "INFO"' not in line)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, messages(result.stderr)[-3000:]


def wait_for_pages(engine, n: int, proc: subprocess.Popen | None = None, timeout: float = 120) -> int:
    deadline, stored = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        time.sleep(0.2)
        try:
            with engine.connect() as c:
                stored = c.scalar(select(func.count()).select_from(Page))
        except Exception:  # noqa: BLE001 - the store may not exist yet
            continue
        if stored >= n:
            return stored
    return stored


def runs(engine) -> list[tuple[int, str, str | None]]:
    with engine.connect() as c:
        return [(r.id, str(r.outcome), r.error) for r in c.execute(
            select(CrawlRun.id, CrawlRun.outcome, CrawlRun.error).order_by(CrawlRun.id))]


def closed_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
