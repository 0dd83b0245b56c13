"""``isop ui``: the SQLite store in Datasette, read-only, on loopback.

    code = run_ui(config.storage.url, host="127.0.0.1", port=8001, open_browser=True)

Datasette runs as a child process (``python -m datasette serve``) on the store file in its
default mutable mode, in which every query connection is opened ``mode=ro``: analysts can
read anything, run any SELECT, and write nothing. (Immutable mode, ``-i``, would be wrong
here: it tells SQLite the file never changes, so a crawl writing to the store at the same
time, through its write-ahead log, would be invisible or worse.) It listens on a loopback
address only, unless the caller explicitly allows another.

The views of ``docs/QUERIES.md`` (created by migration 0002) get descriptions and facets,
and the document's ten questions become canned queries, their ``:parameters`` form fields.
PostgreSQL stores are refused: query them with ``psql`` (see the same document).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
QUERIES_DOC = Path(__file__).resolve().parents[1] / "docs" / "QUERIES.md"
INSTALL_HINT = "pip install 'isop[ui]'"
SQL_TIME_LIMIT_MS = 5000
"""Datasette's default (1 s) is short for analysts' joins over a large store."""

VIEWS: dict[str, str] = {
    "v_site_latest": "One row per site: its latest verdict, status and operator network.",
    "v_site_hosting": "Every A/AAAA record of a site's domain and hosts, with the network the address was "
                      "last seen in, its owner and abuse contact; is_current marks the latest answer.",
    "v_site_registration": "The latest registration record (RDAP or WHOIS) of each site: registrar, dates, "
                           "abuse contact, name servers.",
    "v_indicator_sites": "Identifiers (analytics IDs, wallets, contacts) seen on sites, with how many sites "
                         "share each.",
    "v_hops": "Domain hopping and mirrors: which domain redirected, moved or pointed to which, and when.",
    "v_cluster_members": "Operator networks (sites tied by shared identifiers) and their member sites.",
    "v_evidence": "Every fetch of a site's pages, with the body's SHA-256 and where the WARC record is.",
}
FACETS: dict[str, list[str]] = {
    "v_site_latest": ["category", "is_piracy", "status"],
    "v_site_hosting": ["country", "org", "cdn"],
    "v_indicator_sites": ["type"],
    "v_hops": ["kind"],
}


class UiError(ValueError):
    """``isop ui`` cannot start; the message is one line, for the user."""


def canned_queries(doc: Path = QUERIES_DOC) -> dict[str, dict[str, str]]:
    """The questions of ``docs/QUERIES.md`` as Datasette canned queries (none if it is absent)."""
    try:
        content = doc.read_text(encoding="utf-8")
    except OSError:
        return {}
    queries: dict[str, dict[str, str]] = {}
    for section in re.split(r"^(?=#{1,3} )", content, flags=re.M):
        heading = re.match(r"### (\d+)\. (.+)\n", section)
        block = re.search(r"^```sql\n(.*?)^```", section, flags=re.M | re.S)
        if not heading or not block:
            continue
        title = heading.group(2).strip().replace("`", "")
        slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r":\w+", "", title.lower())).strip("-")
        description = " ".join(section[heading.end():block.start()].split())
        description = re.sub(r"\[([^]]+)\]\([^)]*\)", r"\1", description).replace("`", "")
        query = {"title": f"{heading.group(1)}. {title}", "sql": block.group(1).strip()}
        if description:
            query["description"] = description
        name = f"q{heading.group(1)}-{slug}"
        if len(name) > 60:
            name = name[:61].rsplit("-", 1)[0]
        queries[name] = query
    return queries


def datasette_metadata(database: str = "isop") -> dict[str, Any]:
    """Datasette metadata for the store opened as ``database`` (the file's stem)."""
    tables: dict[str, dict[str, Any]] = {}
    for view, description in VIEWS.items():
        tables[view] = {"description": description}
        if view in FACETS:
            tables[view]["facets"] = list(FACETS[view])
    return {
        "title": "isop store",
        "description": "What isop saw: sites, verdicts, hosting, registrations, identifiers, hops and "
                       "evidence. Read-only. Start with the v_* views; docs/QUERIES.md explains them.",
        "databases": {
            database: {
                "description": "The isop store. Times are UTC. Flags are 1/0.",
                "tables": tables,
                "queries": canned_queries(),
            },
        },
    }


def datasette_command(db_path: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                      metadata_path: Path, open_browser: bool = False) -> list[str]:
    """The command line that serves ``db_path`` read-only on ``host:port``."""
    argv = [sys.executable, "-m", "datasette", "serve", str(db_path),
            "--host", host, "--port", str(port),
            "--metadata", str(metadata_path),
            "--setting", "sql_time_limit_ms", str(SQL_TIME_LIMIT_MS)]
    if open_browser:
        argv.append("--open")
    return argv


def datasette_available() -> bool:
    return importlib.util.find_spec("datasette") is not None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def store_file(storage_url: str) -> Path:
    """The SQLite file behind ``storage_url``; :class:`UiError` for anything else."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from storage.db import normalise_url

    try:
        url = make_url(normalise_url(storage_url))
    except ArgumentError:
        raise UiError(f"not a store URL: {storage_url!r}") from None
    backend = url.get_backend_name()
    if backend != "sqlite":
        raise UiError(f"isop ui serves SQLite stores only, this store is {backend}: "
                      "query it with psql (see docs/QUERIES.md)")
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise UiError(f"isop ui needs a SQLite store file, not {storage_url!r}")
    path = Path(url.database)
    if not path.is_file():
        raise UiError(f"no store at {path} (crawl first, or check [storage] url)")
    return path


def run_ui(storage_url: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = False,
           *, allow_remote: bool = False) -> int:
    """Serve the store in Datasette until interrupted (Ctrl-C); returns the exit code.

    Raises :class:`UiError` (nothing started) for a store that is not a SQLite file, a
    host that is not a loopback address (unless ``allow_remote``), or no Datasette.
    """
    path = store_file(storage_url)
    if not is_loopback(host) and not allow_remote:
        raise UiError(f"host {host} is not a loopback address: the store would be open to the network")
    if not 0 <= port <= 65535:
        raise UiError(f"port {port} is not a TCP port")
    if not datasette_available():
        raise UiError(f"datasette is not installed: {INSTALL_HINT}")

    from storage.db import StoreError
    from storage.migrate import ensure_store

    try:
        ensure_store(storage_url).dispose()  # the views come with the latest schema
    except StoreError as e:
        raise UiError(str(e)) from None

    with tempfile.TemporaryDirectory(prefix="isop-ui-") as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(datasette_metadata(path.stem), indent=1), encoding="utf-8")
        argv = datasette_command(path, host=host, port=port, metadata_path=metadata_path,
                                 open_browser=open_browser)
        child = subprocess.Popen(argv)
        try:
            return child.wait()
        except KeyboardInterrupt:
            return 0  # Ctrl-C reached datasette too (same process group): it is stopping
        finally:
            _stop(child)


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    try:
        child.wait(timeout=5)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        child.terminate()
        child.wait()
