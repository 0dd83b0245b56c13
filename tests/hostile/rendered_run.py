"""One crawl with rendering plus one enrichment of the sandbox, recorded on every side.

Chromium starts slowly, so the egress, resolution and User-Agent tests share one run
(:func:`rendered_run`, made on first use and cached for the session):

- a fresh sandbox world whose proxy logs every CONNECT and request with its headers;
- ``isop crawl --url https://nontonfilm21.io/`` (pages built by JavaScript, so rendered)
  then ``isop enrich --domain nontonfilm21.io``, in subprocesses under the network guard
  and a recorder of every ``getaddrinfo``/``gethostbyname*`` call (a ``sitecustomize``
  first on ``PYTHONPATH`` that installs the guard, then wraps the socket functions);
- Chromium launched through a wrapper (``[crawl] chromium``) that records its command line
  and writes a NetLog (every host-resolver request the browser made).
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.fault_runs import isop, write_config

from collector.sandbox.proxy import Seen
from collector.sandbox.server import ThreadedSandbox

GUARD_DIR = Path(__file__).resolve().parents[1] / "guard"
WORLD_SITES = Path(__file__).resolve().parents[2] / "config" / "sandbox" / "default" / "sites"
SITE = "nontonfilm21.io"

RECORDER = '''"""The network guard, plus a record of every name-resolution call (tests/hostile)."""
import os
import socket

import netguard

netguard.install()
_LOG = os.environ.get("ISOP_TEST_RESOLUTION_LOG")


def _recorded(name):
    real = getattr(socket, name)

    def call(host, *args, **kwargs):
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\\t{name}\\t{host!r}\\n")
        return real(host, *args, **kwargs)

    return call


if _LOG:
    for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        setattr(socket, _name, _recorded(_name))
'''

CHROMIUM_WRAPPER = '''#!/bin/sh
printf '%s\\n' "$@" > "{argv}"
exec /usr/bin/chromium --log-net-log="{netlog}" --net-log-capture-mode=Default "$@"
'''


@dataclass
class RenderedRun:
    tmp: Path
    proxy_url: str
    crawl: object
    enrich: object
    crawl_log: list[Seen]
    enrich_log: list[Seen]
    lookups: list[tuple[int, str, object]] = field(default_factory=list)
    """(pid, function, host) of every name-resolution call in isop's processes."""
    chromium_argv: list[str] = field(default_factory=list)
    netlog: dict = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.tmp / 'isop.db'}"


_CACHE: dict[str, RenderedRun] = {}


def hosts_mentioned(site: str) -> set[str]:
    """Every host name written anywhere in a sandbox site's files (pages, scripts)."""
    names: set[str] = {site}
    folder = WORLD_SITES / site
    for path in folder.rglob("*") if folder.is_dir() else ():
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").lower()
            names.update(re.findall(r"(?<![\w.-])((?:[a-z0-9-]+\.)+[a-z]{2,})", text))
    return names


def read_netlog(path: Path) -> dict:
    """Chromium's NetLog (JSON, possibly unterminated if the browser was killed)."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    for ending in ("", "]}", "}]}", "\n]}"):
        try:
            return json.loads(text.rstrip(",") + ending)
        except ValueError:
            continue
    return {}


def resolver_requests(netlog: dict) -> list[str]:
    """The host of every request Chromium made to its host resolver (after its rules)."""
    if not netlog:
        return []
    types = {v: k for k, v in netlog["constants"]["logEventTypes"].items()}
    out = []
    for event in netlog.get("events", []):
        params = event.get("params") or {}
        if types.get(event.get("type")) == "HOST_RESOLVER_MANAGER_REQUEST" and "host" in params:
            out.append(params["host"])
    return out


def rendered_run(tmp_root: Path) -> RenderedRun:
    """The shared run (made once per test session)."""
    if "run" in _CACHE:
        return _CACHE["run"]
    tmp = tmp_root
    recorder_dir = tmp / "recorder"
    recorder_dir.mkdir(parents=True, exist_ok=True)
    (recorder_dir / "sitecustomize.py").write_text(RECORDER)
    wrapper = tmp / "chromium-recorded"
    wrapper.write_text(CHROMIUM_WRAPPER.format(argv=tmp / "chromium-argv.txt", netlog=tmp / "netlog.json"))
    wrapper.chmod(0o755)
    lookups_file = tmp / "lookups.tsv"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(recorder_dir), str(GUARD_DIR), env.get("PYTHONPATH", "")]))
    env["ISOP_TEST_RESOLUTION_LOG"] = str(lookups_file)
    env.pop("ISOP_CONFIG", None)
    with ThreadedSandbox(None, state_dir=tmp / "sandbox-state") as sb:
        config = write_config(tmp, sb, render=True, screenshots=True, chromium=str(wrapper),
                              render_max_pages=5, download_timeout=10.0, analysis_workers=0)
        log = sb.running.proxy.log
        log.clear()
        crawl = isop(config, env, tmp, "crawl", "--url", f"https://{SITE}/", "--max-pages", "8")
        crawl_log = log.entries()
        log.clear()
        enrich = isop(config, env, tmp, "enrich", "--domain", SITE)
        enrich_log = log.entries()
        proxy_url = sb.proxy_url
    lookups = []
    if lookups_file.is_file():
        for line in lookups_file.read_text(encoding="utf-8").splitlines():
            pid, function, host = line.split("\t", 2)
            lookups.append((int(pid), function, ast.literal_eval(host)))
    argv_file = tmp / "chromium-argv.txt"
    run = RenderedRun(tmp, proxy_url, crawl, enrich, crawl_log, enrich_log, lookups,
                      argv_file.read_text().splitlines() if argv_file.is_file() else [],
                      read_netlog(tmp / "netlog.json"))
    _CACHE["run"] = run
    return run


def failure_text(result) -> str:
    return f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"


