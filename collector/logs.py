"""isop's logs: readable on a terminal, JSON lines otherwise, the run id on every line.

    setup_logging(fmt="auto", level="INFO")      # once, at start ([log] format / level)
    with run_context(run_id, job="nightly"):
        ...                                      # every record, from any logger, carries them

``fmt`` is ``auto`` (text on a TTY, JSON lines otherwise), ``text`` or ``json``. A JSON
line is one object: ``{"ts", "level", "logger", "msg", "run_id", "job", ...extra}``, with
``ts`` ISO-8601 UTC, the exception (if any) as one ``exc`` string, any ``extra={...}``
keys after; newlines in messages are escaped, so one record is always one line.

**Where the run id comes from.** :func:`run_context` sets a :class:`contextvars.ContextVar`;
:class:`RunContextFilter`, attached to the *handler* (not to a logger), copies it onto every
record that reaches the handler, including records propagated from other libraries'
loggers (Scrapy, Twisted, SQLAlchemy). Asyncio tasks inherit the context they are created
in; threads do not (``threading.Thread`` and executors start with an empty context), so
code that hands work to a thread pool either submits ``contextvars.copy_context().run`` or
the run is opened with ``run_context(..., process_wide=True)``, which also sets a process
default used when a thread has no context of its own (one crawl per process).

**Scrapy.** ``CrawlerProcess(settings)`` calls ``scrapy.utils.log.configure_logging``,
which by default adds its own root handler (``LOG_FILE`` or stderr) and formats lines its
way. Merge :func:`scrapy_log_settings` into the crawl's settings: it sets
``LOG_INSTALL_ROOT_HANDLER = False`` so the handler installed here stays the only one
and Scrapy's records go through it (Scrapy still sets its loggers' levels and routes
Twisted and warnings into :mod:`logging`). A per-run log file, if wanted, is
:func:`log_to_file` around the crawl (same filter, JSON lines by default).
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from storage.safe_text import inert, json_text

FORMATS = ("auto", "text", "json")
QUIET_LOGGERS = ("alembic",)
"""Libraries whose INFO records are kept out of isop's logs (their warnings still show)."""
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class RunInfo:
    run_id: int | str | None
    job: str | None = None


_CURRENT: contextvars.ContextVar[RunInfo | None] = contextvars.ContextVar("isop_log_run", default=None)
_PROCESS_DEFAULT: RunInfo | None = None
_PROCESS_LOCK = threading.Lock()

_HANDLER_MARK = "_isop_handler"

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName", "run_id", "job"}

# Characters str.splitlines() (and some log shippers) break lines on that JSON leaves as they are.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def current_run() -> RunInfo | None:
    """The run the calling code logs for: its context's, else the process default."""
    return _CURRENT.get() or _PROCESS_DEFAULT


@contextmanager
def run_context(run_id: int | str | None, job: str | None = None, *,
                process_wide: bool = False) -> Iterator[RunInfo]:
    """Tag every log record emitted inside the block with ``run_id`` and ``job``.

    Nested blocks restore the outer run on exit. ``process_wide`` also makes the run the
    default of threads without a context of their own (thread pools), until the block ends.
    """
    global _PROCESS_DEFAULT
    info = RunInfo(run_id, job)
    token = _CURRENT.set(info)
    previous = None
    if process_wide:
        with _PROCESS_LOCK:
            previous, _PROCESS_DEFAULT = _PROCESS_DEFAULT, info
    try:
        yield info
    finally:
        _CURRENT.reset(token)
        if process_wide:
            with _PROCESS_LOCK:
                _PROCESS_DEFAULT = previous


class RunContextFilter(logging.Filter):
    """Sets ``record.run_id`` and ``record.job`` from the current run (None outside one).

    Attach it to handlers: a logger's filters do not see records propagated from child
    loggers, a handler's do. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        info = current_run()
        if not hasattr(record, "run_id") or record.run_id is None:
            record.run_id = info.run_id if info else None
        if not hasattr(record, "job") or record.job is None:
            record.job = info.job if info else None
        return True


def _iso_utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            msg = record.getMessage()
        except Exception as e:  # noqa: BLE001 - a bad format string must not lose the line
            msg = f"{record.msg!r} (unformattable with {record.args!r}: {e})"
        doc: dict[str, Any] = {
            "ts": _iso_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": msg,
            "run_id": _jsonable(getattr(record, "run_id", None)),
            "job": getattr(record, "job", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in doc:
                doc[key] = _jsonable(value)
        if record.exc_info and record.exc_info[0] is not None:
            doc["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        elif record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        line = json_text(doc, default=str)  # C1 and bidi controls escaped too: logs get tailed
        for ch, escaped in _LINE_BREAKS.items():
            if ch in line:
                line = line.replace(ch, escaped)
        return line


class TextFormatter(logging.Formatter):
    """``2026-12-01 10:00:00 INFO  [run 42 nightly] isop.crawl: message`` (local time)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(run_tag)s%(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        run_id, job = getattr(record, "run_id", None), getattr(record, "job", None)
        parts = [f"run {run_id}"] if run_id is not None else []
        if job:
            parts.append(str(job))
        record.run_tag = f"[{' '.join(parts)}] " if parts else ""
        try:  # a logged URL or title is scraped text: shown, never obeyed by the terminal
            return inert(super().format(record), newlines=True)
        finally:
            del record.run_tag


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def log_format_for(stream: Any, fmt: str = "auto") -> str:
    """``"text"`` or ``"json"``: ``auto`` is text on a terminal, JSON lines otherwise."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt != "auto":
        return fmt
    return "text" if _is_tty(stream) else "json"


def _level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    name = str(level).strip().upper()
    if name not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    return logging.getLevelName(name)


def make_handler(stream: IO[str] | None = None, fmt: str = "auto", level: str | int = "INFO") -> logging.Handler:
    """A stream handler with isop's format and run-context filter (not installed)."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter() if log_format_for(stream, fmt) == "json" else TextFormatter())
    handler.addFilter(RunContextFilter())
    handler.setLevel(_level(level))
    return handler


def setup_logging(fmt: str = "auto", level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Install isop's handler on the root logger (replacing one installed before); returns it.

    ``stream`` defaults to stderr (stdout stays for command output). The handler's level is
    ``level`` too, so loggers that set their own lower level (Scrapy sets ``scrapy`` to DEBUG)
    still print only what was asked for.
    """
    handler = make_handler(stream, fmt, level)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_MARK, False):
            old.flush()
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(_level(level))
    for name in QUIET_LOGGERS:  # their INFO is plumbing, not news (e.g. each migration step)
        logging.getLogger(name).setLevel(max(_level(level), logging.WARNING))
    logging.captureWarnings(True)
    return handler


def setup_from_config(config: Any, *, stream: IO[str] | None = None, fmt: str | None = None,
                      level: str | None = None) -> logging.Handler:
    """:func:`setup_logging` from ``[log] format`` / ``level`` (defaults if the section is absent);
    ``fmt``/``level`` given (command-line flags) win; ``ISOP_DEBUG`` set means DEBUG."""
    section = getattr(config, "log", None)
    fmt = fmt or getattr(section, "format", None) or "auto"
    level = level or ("DEBUG" if os.environ.get("ISOP_DEBUG") else None) or getattr(section, "level", None) or "INFO"
    return setup_logging(fmt, level, stream)


@contextmanager
def log_to_file(path: str | Path, fmt: str = "json", level: str | int = "INFO") -> Iterator[logging.Handler]:
    """Also write every record to ``path`` (appending) for the duration of the block.

    For a per-run log file next to the terminal output (``data/logs/crawl-<run>.log``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(JsonLinesFormatter() if log_format_for(None, fmt) == "json" else TextFormatter())
    handler.addFilter(RunContextFilter())
    handler.setLevel(_level(level))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > handler.level or root.level == logging.NOTSET:
        previous_level = root.level
        root.setLevel(handler.level)
    else:
        previous_level = None
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        handler.close()
        if previous_level is not None:
            root.setLevel(previous_level)


def scrapy_log_settings(fmt: str = "auto", level: str | int = "INFO") -> dict[str, Any]:
    """Scrapy settings that keep isop's root handler the only one (merge at ``cmdline``).

    ``LOG_INSTALL_ROOT_HANDLER = False``: ``configure_logging`` installs no handler of its
    own, so Scrapy's and Twisted's records reach the handler :func:`setup_logging` put on
    the root logger, with the run id and in isop's format. ``LOG_FILE`` is cleared: with no
    root handler Scrapy would ignore it; use :func:`log_to_file` instead. ``LOG_STDOUT``
    stays off (stdout is for command output).
    """
    log_format_for(None, fmt)  # validates
    name = logging.getLevelName(_level(level))
    return {
        "LOG_INSTALL_ROOT_HANDLER": False,
        "LOG_ENABLED": True,
        "LOG_LEVEL": name,
        "LOG_FILE": None,
        "LOG_STDOUT": False,
    }


@contextmanager
def console_level(level: str | int) -> Iterator[None]:
    """Raise (or lower) the level of the handler :func:`setup_logging` installed, for a block.

    For a crawl: the terminal shows progress and warnings while :func:`log_to_file` keeps
    Scrapy's INFO lines in the run's log file.
    """
    handlers = [h for h in logging.getLogger().handlers if getattr(h, _HANDLER_MARK, False)]
    previous = [h.level for h in handlers]
    for h in handlers:
        h.setLevel(_level(level))
    try:
        yield
    finally:
        for h, old in zip(handlers, previous, strict=True):
            h.setLevel(old)
