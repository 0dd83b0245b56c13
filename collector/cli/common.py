"""What the ``isop`` commands share: their errors, the config, the store, option types.

- :class:`UsageProblem` (exit 2) and :class:`Failure` (exit 1): one-line messages, shown inert.
- :func:`config_of`: the config of the click context, loaded once per invocation.
- :func:`store_engine` and :func:`store_session`: the store opened, a session, the engine
  disposed after (instead of the same open/session/dispose lines in every command).
- :data:`EXIT_CODES` and :func:`exit_codes`: the one mapping of isop's exceptions to exit codes.
- The bounded option types (``PAGES``, ``DEPTH``, ``LIMIT``, ...), the site filter options,
  :func:`site_name` for DOMAIN arguments and :func:`write_text` for ``--output``.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from collector.config import Config, ConfigError, load_config
from collector.exitcodes import ExitCode

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session


# --- errors --------------------------------------------------------------------------------


class _Problem(click.ClickException):
    """A message for the terminal: it may quote scraped text, so controls are shown escaped."""

    def __init__(self, message: str) -> None:
        from storage.safe_text import inert

        super().__init__(inert(message, newlines=True))


class UsageProblem(_Problem):
    """Bad configuration or arguments: one line, exit code 2."""

    exit_code = ExitCode.USAGE


class Failure(_Problem):
    exit_code = ExitCode.FAILURE


USAGE = "usage"
"""Raised as :class:`UsageProblem` (exit 2): nothing was done."""
FAILURE = "failure"
"""Raised as :class:`Failure` (exit 1)."""
LOCKED = "locked"
"""``Error: ...`` on stderr and exit 3: another run holds the lock."""


def _ui_error(e: Exception) -> str:
    return USAGE if str(e).startswith("no store at") else FAILURE


EXIT_CODES: tuple[tuple[str, str, str | Callable[[Exception], str], str], ...] = (
    # (module, exception, what it becomes, message template); the first match wins, so a
    # subclass comes before its base. Names, not classes: a module the command did not
    # import cannot have raised, and the CLI stays quick to start.
    ("storage.migrate", "StoreMissing", USAGE, "{}"),  # a command that only reads found no store
    ("storage.db", "StoreError", FAILURE, "{}"),
    ("collector.locks", "LockHeld", LOCKED, "{}"),
    ("collector.config", "ConfigError", USAGE, "{}"),
    ("collector.crawl", "CrawlInputError", USAGE, "{}"),
    ("collector.enrichment", "EnrichInputError", USAGE, "{}"),
    ("storage.names", "HostNameError", USAGE, "{}"),
    ("storage.filters", "FilterError", USAGE, "{}"),
    ("storage.nameservers", "NameserverListError", USAGE, "nameserver list {}"),
    ("collector.sandbox.world", "WorldError", USAGE, "{}"),
    ("collector.classifier_training", "RecipeError", USAGE, "{}"),
    ("collector.ui", "UiError", _ui_error, "{}"),  # no store to show is bad usage; the rest fails
    ("collector.distributed", "DistributedError", FAILURE, "{}"),
    ("storage.takedown", "UnknownSite", FAILURE, "{}"),
    ("enrich.rdap_client", "BootstrapError", FAILURE, "{}"),
    ("enrich.transport", "TransportError", FAILURE, "{}"),
    ("collector.writers.output_file", "OutputError", FAILURE, "{}"),
)


def _meaning(e: Exception) -> tuple[str, str] | None:
    for module, name, kind, template in EXIT_CODES:
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and isinstance(e, cls):
            return (kind(e) if callable(kind) else kind), template
    return None


@contextmanager
def exit_codes(*, usage: tuple[type[Exception], ...] = (), locked: str = "") -> Iterator[None]:
    """Turn isop's exceptions raised inside into their exit code (:data:`EXIT_CODES`).

    ``usage``: more exception types that mean bad usage here (e.g. ``ValueError`` from
    parsing a duration). ``locked``: words put before a held lock's message.
    """
    try:
        yield
    except click.ClickException:
        raise
    except Exception as e:
        meaning = (USAGE, "{}") if usage and isinstance(e, usage) else _meaning(e)
        if meaning is None:
            raise
        kind, template = meaning
        if kind == LOCKED:
            click.echo(f"Error: {locked}{e}", err=True)
            raise SystemExit(ExitCode.LOCKED) from None
        raise (UsageProblem if kind == USAGE else Failure)(template.format(e)) from None


# --- config and store ----------------------------------------------------------------------


def config_of(ctx: click.Context) -> Config:
    """The config of this invocation (``--config``, ``$ISOP_CONFIG`` or the default), loaded
    and its logging set up on first use; a config that does not load is exit 2."""
    obj = ctx.find_root().obj
    if obj.get("config") is None:
        try:
            obj["config"] = load_config(obj.get("config_path"))
        except ConfigError as e:
            raise UsageProblem(str(e)) from None
        from collector.logs import setup_from_config

        setup_from_config(obj["config"])
    return obj["config"]


@contextmanager
def store_engine(ctx: click.Context, *, create: bool = False) -> Iterator[Engine]:
    """An engine on the config's store, disposed when the block ends.

    ``create=False`` (commands that only read): the existing store, brought to the latest
    schema (exit 1 if it can't be); no store at all is a usage problem (exit 2).
    ``create=True``: the store created or migrated as needed (exit 1 if it can't be).
    """
    config = config_of(ctx)
    with exit_codes():
        if create:
            from storage.migrate import ensure_store

            engine = ensure_store(config.storage.url)
        else:
            from storage.migrate import open_existing_store

            engine = open_existing_store(config.storage.url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def store_session(ctx: click.Context, *, create: bool = False, begin: bool = False) -> Iterator[Session]:
    """A session on the config's store (see :func:`store_engine`); ``begin``: in one
    transaction, committed when the block ends, rolled back if it raises."""
    from storage.db import session_factory

    with store_engine(ctx, create=create) as engine, session_factory(engine)() as session:
        if begin:
            with session.begin():
                yield session
        else:
            yield session


# --- arguments and options -----------------------------------------------------------------
# Bounded option types: a number out of range is one line and exit code 2 (click's usage
# error), never a traceback from deep inside (an integer too large for SQLite, a ``nan``
# timeout that never fires). The bounds match the configuration's (``collector/config.py``,
# ``max`` in each field's metadata): ``--max-pages`` as ``[crawl] max_pages``, ``--depth``
# as ``[crawl] depth``.

MAX_LIMIT = 1_000_000
"""Rows a listing (``sites``, ``changes`` per kind) shows at most."""
MAX_EXPORT = 1_000_000_000
"""Sites ``export --limit`` takes at most (the export streams: this is a sanity bound)."""
MAX_PAGES = 10_000_000
MAX_DEPTH = 100
MAX_TOP = 10_000
MAX_ID = 2**31 - 1


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and infinities (which pass
    every comparison click makes)."""

    name = "float range"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


LIMIT = click.IntRange(1, MAX_LIMIT)
EXPORT_LIMIT = click.IntRange(1, MAX_EXPORT)
PAGES = click.IntRange(1, MAX_PAGES)
DEPTH = click.IntRange(0, MAX_DEPTH)
TOP = click.IntRange(1, MAX_TOP)
RUN_ID = click.IntRange(1, MAX_ID)
PORT = click.IntRange(0, 65535)


def site_name(domain: str) -> str:
    """The registered domain of a DOMAIN argument (exit 2 when it is not a host name)."""
    from urllib.parse import urlsplit

    from storage.names import HostNameError, parse_host

    if "://" in domain:  # a URL: its site
        try:
            domain = urlsplit(domain.strip()).hostname or domain
        except ValueError:
            raise UsageProblem(f"DOMAIN: not a URL or domain name: {domain!r}") from None
    try:
        host = parse_host(domain)
    except HostNameError as e:
        raise UsageProblem(f"DOMAIN: {e}") from None
    if not re.fullmatch(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{1,63}", host.fqdn):
        raise UsageProblem(f"DOMAIN: not a domain name: {domain!r}")
    return host.domain


def filter_options(func):
    """The site filters shared by ``sites`` and ``export`` (see storage/filters.py)."""
    options = [
        click.option("--category", type=click.Choice(["streaming", "torrent", "ddl", "manga", "iptv", "warez",
                                                       "ebook", "music", "counterfeit", "none"],
                                                      case_sensitive=False),
                     help="Only this category (latest classification)."),
        click.option("--piracy/--no-piracy", default=None, help="Only flagged (or only unflagged) sites."),
        click.option("--min-score", type=click.FloatRange(0, 1), help="Only sites scoring at least this."),
        click.option("--country", help="Only sites hosted now in this country (two-letter code)."),
        click.option("--asn", help="Only sites hosted now in this AS (13335 or AS13335)."),
        click.option("--registrar", help="Only sites whose registrar's name contains this (any case)."),
        click.option("--status", type=click.Choice(["active", "redirecting", "down", "parked"]),
                     help="Only sites whose latest status is this."),
        click.option("--since", help="Only sites seen at or after this (2026-11-01, 2026-11-01T08:00Z, or 7d)."),
        click.option("--new-since", "first_since", help="Only sites first seen at or after this (same forms)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def site_filter(limit: int | None = None, **given):
    """A SiteFilter from the shared options (exit 2 on a value that does not parse)."""
    from storage.filters import SiteFilter, parse_asn, parse_country, parse_when

    with exit_codes():
        for key in ("since", "first_since"):
            if given.get(key) is not None:
                given[key] = parse_when(given[key])
        if given.get("country") is not None:
            given["country"] = parse_country(given["country"])
        if given.get("asn") is not None:
            given["asn"] = parse_asn(given["asn"])
        return SiteFilter(limit=limit, **given)


def write_text(output: str | None, text: str) -> None:
    """Write a rendered document to ``output`` (see collector/writers/output_file.py) or stdout."""
    from collector.writers.output_file import write_output

    if output in (None, "-"):
        click.echo(text)
        return
    with exit_codes():
        write_output(output, text)
