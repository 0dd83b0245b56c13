"""The default sandbox world and isop run against it in a guarded subprocess (the crawl tests' way)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collector.sandbox.world import load_world

WORLD = load_world()


def write_config(tmp: Path, sandbox, **crawl) -> Path:
    crawl_lines = "\n".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {str(v).lower()}"
                            for k, v in crawl.items())
    path = tmp / "isop.toml"
    path.write_text(f"""
[storage]
url = "sqlite:///{tmp / 'isop.db'}"
[network]
proxy = "{sandbox.proxy_url}"
resolvers = ["{sandbox.resolvers[0]}"]
ca_bundle = "{sandbox.ca_path}"
timeout = 5
[evidence]
dir = "{tmp / 'evidence'}"
[crawl]
{crawl_lines}
""")
    return path


def isop(args: list[str], config: Path, env: dict, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(config), *args],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
