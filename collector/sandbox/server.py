"""Start a whole sandbox world: DNS plus the proxy (web sites, RDAP, WHOIS behind it).

Three ways in:

- ``running = await start(world)`` inside a running asyncio loop, ``await running.close()``;
- ``with ThreadedSandbox(world, state_dir) as sb: ...`` runs it on a background thread with
  its own loop (pytest session fixtures, bench scripts);
- :func:`serve_forever` for ``isop sandbox serve``: prints a summary, writes the ports file
  and ``isop-sandbox.toml`` beside it, stops on SIGINT/SIGTERM.

Everything binds to loopback; nothing here ever connects anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import importlib
import json
import logging
import os
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from collector.sandbox.proxy import SandboxProxy
from collector.sandbox.tls import (
    DEFAULT_STATE_DIR,
    SandboxCA,
    shared_certificates,
    wildcard_parents,
)
from collector.sandbox.web import WebService
from collector.sandbox.world import World, load_world

log = logging.getLogger("isop.sandbox")

CONFIG_FILE_NAME = "isop-sandbox.toml"


def _optional(module: str, name: str) -> Any:
    """``collector.sandbox.<module>.<name>``, or None while that module does not exist yet."""
    full = f"collector.sandbox.{module}"
    try:
        return getattr(importlib.import_module(full), name)
    except ModuleNotFoundError as e:
        if e.name != full:
            raise
        log.warning("sandbox: %s is not available, running without it", full)
        return None


def with_latency(world: World, overrides: Mapping[str, float] | None) -> World:
    """``world`` with ``overrides`` (service -> ms) replacing its latencies."""
    if not overrides:
        return world
    latency = {**world.latency_ms, **{k: float(v) for k, v in overrides.items()}}
    return dataclasses.replace(world, latency_ms=latency)


def _as_world(world: World | Path | str | None) -> World:
    return world if isinstance(world, World) else load_world(world)


@dataclasses.dataclass
class Running:
    """A started world: its ports, its CA, and how to stop it."""

    world: World
    host: str
    dns_port: int
    """0 when the DNS service is not available."""
    proxy_port: int
    ca_path: Path
    started_at: str
    proxy: SandboxProxy
    dns: Any = None
    web: WebService | None = None
    rdap: Any = None
    whois: Any = None

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.proxy_port}"

    @property
    def resolvers(self) -> list[str]:
        return [f"{self.host}:{self.dns_port}"] if self.dns_port else []

    async def close(self) -> None:
        """Stop the proxy and the DNS server."""
        await self.proxy.close()
        if self.dns is not None:
            await self.dns.close()


async def start(world: World | Path | str | None, host: str = "127.0.0.1", dns_port: int = 0,
                proxy_port: int = 0, state_dir: Path | str = DEFAULT_STATE_DIR) -> Running:
    """Start DNS and the proxy for ``world`` in the running loop (ports 0: any free)."""
    world = await asyncio.to_thread(_as_world, world) if not isinstance(world, World) else world
    ca = await asyncio.to_thread(SandboxCA, Path(state_dir), wildcard_parents(world),
                                 shared_certificates(world))
    web = await asyncio.to_thread(WebService, world)
    rdap_cls = _optional("rdap", "RdapService")
    whois_cls = _optional("whois", "WhoisService")
    start_dns = _optional("dns", "start_dns")
    rdap = rdap_cls(world) if rdap_cls else None
    whois = whois_cls(world) if whois_cls else None
    dns = await start_dns(world, host, dns_port) if start_dns else None
    proxy = SandboxProxy(ca, web=web, rdap=rdap, whois=whois)
    try:
        await proxy.start(host, proxy_port)
    except BaseException:
        if dns is not None:
            await dns.close()
        raise
    return Running(world=world, host=host, dns_port=dns.port if dns else 0,
                   proxy_port=proxy.port, ca_path=ca.ca_path.resolve(),
                   started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                   proxy=proxy, dns=dns, web=web, rdap=rdap, whois=whois)


def ports_info(running: Running) -> dict[str, Any]:
    """What a client needs to use the world (JSON-serialisable)."""
    return {
        "world": running.world.name,
        "proxy": running.proxy_url,
        "proxy_port": running.proxy_port,
        "dns": running.resolvers[0] if running.resolvers else "",
        "dns_port": running.dns_port,
        "resolvers": running.resolvers,
        "ca_bundle": str(running.ca_path),
        "started_at": running.started_at,
        "pid": os.getpid(),
    }


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def isop_config_text(running: Running, storage_url: str | None = None) -> str:
    """A ready isop config (TOML) that sends all of isop's traffic into the world."""
    lines = [
        f"# isop config for the sandbox world {running.world.name!r}",
        f"# written by the sandbox (pid {os.getpid()}) at {running.started_at}",
        "",
    ]
    if storage_url:
        lines += ["[storage]", f"url = {_toml_str(storage_url)}", ""]
    resolvers = ", ".join(_toml_str(r) for r in running.resolvers)
    lines += [
        "[network]",
        f"proxy = {_toml_str(running.proxy_url)}",
        f"resolvers = [{resolvers}]",
        f"ca_bundle = {_toml_str(str(running.ca_path))}",
        "",
    ]
    return "\n".join(lines)


class ThreadedSandbox:
    """Run a world on a background thread with its own event loop.

    ``with ThreadedSandbox(world, state_dir) as sb:`` then ``sb.proxy_url``,
    ``sb.resolvers``, ``sb.ca_path``, ``sb.dns_port``, ``sb.proxy_port``, ``sb.running``.
    """

    def __init__(self, world: World | Path | str | None, state_dir: Path | str = DEFAULT_STATE_DIR,
                 *, host: str = "127.0.0.1", dns_port: int = 0, proxy_port: int = 0,
                 latency: Mapping[str, float] | None = None, start_timeout: float = 60.0) -> None:
        self._world = with_latency(_as_world(world), latency)
        self._state_dir = Path(state_dir)
        self._host, self._dns_port, self._proxy_port = host, dns_port, proxy_port
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._running: Running | None = None
        self._stop: asyncio.Event | None = None

    @property
    def running(self) -> Running:
        if self._running is None:
            raise RuntimeError("the sandbox is not running")
        return self._running

    @property
    def world(self) -> World:
        return self._world

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The sandbox's loop (to run coroutines there with run_coroutine_threadsafe)."""
        if self._loop is None:
            raise RuntimeError("the sandbox is not running")
        return self._loop

    proxy_url = property(lambda self: self.running.proxy_url)
    proxy_port = property(lambda self: self.running.proxy_port)
    dns_port = property(lambda self: self.running.dns_port)
    resolvers = property(lambda self: self.running.resolvers)
    ca_path = property(lambda self: self.running.ca_path)

    def ports_info(self) -> dict[str, Any]:
        return ports_info(self.running)

    def config_text(self, storage_url: str | None = None) -> str:
        return isop_config_text(self.running, storage_url)

    def start(self) -> ThreadedSandbox:
        """Start the thread and wait until the world answers."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._main, name="isop-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            raise TimeoutError("the sandbox did not start in time")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise self._error
        return self

    def stop(self) -> None:
        """Stop the world and join the thread (idempotent)."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self._thread = None

    def _main(self) -> None:
        try:
            asyncio.run(self._amain())
        except BaseException as e:  # reported to start() if it happened while starting
            if not self._ready.is_set():
                self._error = e
                self._ready.set()
            else:
                log.exception("sandbox thread failed")

    async def _amain(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._running = await start(self._world, self._host, self._dns_port, self._proxy_port,
                                    self._state_dir)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._running.close()

    def __enter__(self) -> ThreadedSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def summary_text(running: Running, ports_file: Path | None = None,
                 config_file: Path | None = None) -> str:
    """The short human summary ``isop sandbox serve`` prints."""
    world = running.world
    lines = [
        f"sandbox world {world.name!r}: {len(world.domains)} domains, {len(world.sites)} web sites",
        f"  proxy      {running.proxy_url}",
        f"  dns        {running.resolvers[0] if running.resolvers else '(not available)'}",
        f"  ca         {running.ca_path}",
    ]
    if ports_file is not None:
        lines.append(f"  ports      {ports_file}")
    if config_file is not None:
        lines.append(f"  config     {config_file}   (isop --config {config_file} ...)")
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _config_for(running: Running, path: Path, storage_url: str | None, update: bool) -> str:
    """The config text to write at ``path``: an existing config with its ``[network]``
    pointed at ``running`` (``update``), else a fresh one."""
    if update and path.is_file():
        from collector.sandbox.config_file import with_network

        return with_network(path.read_text(encoding="utf-8"), running.proxy_url, list(running.resolvers),
                            str(running.ca_path))
    return isop_config_text(running, storage_url)


def serve_forever(world: World | Path | str | None, ports_file: Path | str | None = None,
                  state_dir: Path | str = DEFAULT_STATE_DIR,
                  latency_overrides: Mapping[str, float] | None = None, *,
                  host: str = "127.0.0.1", dns_port: int = 0, proxy_port: int = 0,
                  storage_url: str | None = None, point_config: Path | None = None) -> None:
    """Serve ``world`` until SIGINT/SIGTERM (``isop sandbox serve``).

    Writes ``ports_file`` (JSON, default ``<state_dir>/ports.json``) and an isop config
    ``isop-sandbox.toml`` beside it, and prints a short summary. ``point_config``: an isop
    config to point at the world instead (only its ``[network]`` ports are rewritten).
    """
    world = with_latency(_as_world(world), latency_overrides)
    ports_path = Path(ports_file) if ports_file else Path(state_dir) / "ports.json"
    config_path = point_config or ports_path.with_name(CONFIG_FILE_NAME)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        running = await start(world, host, dns_port, proxy_port, state_dir)
        try:
            await asyncio.to_thread(_write_text, ports_path,
                                    json.dumps(ports_info(running), indent=2) + "\n")
            await asyncio.to_thread(lambda: _write_text(config_path, _config_for(
                running, config_path, storage_url, point_config is not None)))
            print(summary_text(running, ports_path, config_path), flush=True)
            await stop.wait()
        finally:
            await running.close()
            print("sandbox stopped.", flush=True)

    asyncio.run(main())
