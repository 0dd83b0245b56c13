"""isop's configuration: one TOML file, typed and validated at start.

Where the file comes from, first match wins: ``isop --config FILE``, the ``ISOP_CONFIG``
environment variable, ``config/isop.toml`` in the working directory, then the
``config/isop.toml`` shipped with isop.

Single keys are overridden by environment variables named ``ISOP_<SECTION>_<KEY>`` in
upper case, e.g. ``ISOP_STORAGE_URL=postgresql+psycopg://...`` or
``ISOP_NETWORK_RESOLVERS=127.0.0.1:5353,127.0.0.1:5354`` (lists are comma separated,
booleans are true/false/1/0). Scheduled jobs (``[[jobs]]``, an array of tables) are the
exception: they come from the file only, no environment variable changes them.

Every problem is a :class:`ConfigError` whose message is one line naming the key and what
is wrong; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from collector import __version__
from enrich.services import SERVICES
from spiders import browser_privacy
from storage.cluster_rules import ClustersConfig

PACKAGE_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEFAULT_CONFIG_NAME = "isop.toml"
ENV_PREFIX = "ISOP_"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message is one line for the user."""


# --- value checks -------------------------------------------------------------------------


def _check_db_url(value: str) -> str:
    scheme = value.split(":", 1)[0]
    if "://" not in value or scheme.split("+")[0] not in ("sqlite", "postgresql"):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return value


def _check_proxy(value: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http://host:port proxy URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError("has a bad port") from None
    return value


def _check_resolvers(value: tuple[str, ...]) -> tuple[str, ...]:
    from spiders.resolver import parse_host_port

    for item in value:
        parse_host_port(item)
    return value


def _check_ca_bundle(value: str) -> str:
    if value and not Path(value).is_file():
        raise ValueError(f"no such file: {value}")
    return value


def _check_networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        try:
            ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{item!r} is not an address range (CIDR, e.g. 127.0.0.0/8)") from None
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


MAX_MAGNITUDE = 2**53
"""No number in the configuration is larger (nor smaller than its negative; beyond it a float
is not even exact): a typo, not a setting. Each field has its own, smaller ``max`` too."""
MAX_PAGES = 10_000_000
"""Page budgets (``max_pages``, ``site_pages``, ...) at most; ``isop crawl --max-pages`` too."""
MAX_DEPTH = 100
"""Link depths at most; ``isop crawl --depth`` too."""
MAX_DURATION = 36_500 * 86_400
"""Durations (``stale_after``, ``pages_after``, job ``timeout``, ...) at most: 100 years."""


def _check_max(f, value: typing.Any) -> None:
    """A field's upper bound, ``"max"`` in its metadata (numbers are also finite, see ``_coerce``)."""
    limit = f.metadata.get("max")
    if limit is not None and value is not None and value > limit:
        raise ValueError(f"must be at most {limit:_}".replace("_", ","))


# --- the schema ---------------------------------------------------------------------------


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


@dataclass(frozen=True)
class StorageConfig:
    url: str = field(default="sqlite:///data/isop.db", metadata={"check": _check_db_url})
    """SQLAlchemy URL of the store. A relative SQLite path in a config file given with
    ``--config`` or ``ISOP_CONFIG`` is relative to that file's folder (so the file and its
    store travel together); in the shipped default and in ``ISOP_STORAGE_URL`` it is
    relative to the working directory."""
    batch_size: int = field(default=500, metadata={"check": _positive, "max": 100_000})
    """Rows written per transaction by the item pipelines."""
    retry_seconds: float = field(default=120.0, metadata={"check": _non_negative, "max": 86_400})
    """How long a crawl holds its pages and retries when the store goes away (a restart,
    a failover) before it stops, resumable."""


BROWSER_USER_AGENT = browser_privacy.BROWSER_USER_AGENT
TOOL_USER_AGENT = f"isop/{__version__} (+https://github.com/isop-project/isop)"
"""The User-Agent that names the tool: ``[network] attributable = true``."""


@dataclass(frozen=True)
class NetworkConfig:
    proxy: str = field(default="", metadata={"check": _check_proxy})
    """HTTP proxy for ALL egress (pages, browser, TLS, RDAP, WHOIS), via CONNECT. Empty: direct."""
    resolvers: tuple[str, ...] = field(default=(), metadata={"check": _check_resolvers})
    """DNS servers (``host:port``) for enrichment. Empty: the system's."""
    ca_bundle: str = field(default="", metadata={"check": _check_ca_bundle})
    """Extra CA certificates (PEM) trusted for verified connections, besides the system's."""
    user_agent: str = ""
    """The User-Agent of every request (pages, browser, RDAP). Empty: :data:`BROWSER_USER_AGENT`
    (a current desktop Chrome's), or :data:`TOOL_USER_AGENT` with ``attributable``."""
    attributable: bool = False
    """Name the tool (``isop/<version> (+URL)``) in the User-Agent, telling every site and
    registry who is looking. Off: isop looks like any visitor's browser."""
    timeout: float = field(default=20.0, metadata={"check": _positive, "max": 3600})
    """Seconds before any single network operation gives up."""
    allow_destinations: tuple[str, ...] = field(default=(), metadata={"check": _check_networks})
    """Address ranges (CIDR) a crawl may fetch although they are not public; by default
    loopback, private, link-local and reserved destinations are refused (the sandbox's
    tests allow ``127.0.0.0/8``)."""

    @property
    def effective_user_agent(self) -> str:
        """The User-Agent isop sends: ``user_agent`` if set, else the tool's (``attributable``)
        or a mainstream browser's."""
        return self.user_agent or (TOOL_USER_AGENT if self.attributable else BROWSER_USER_AGENT)


def _check_evidence_dir(value: str) -> str:
    if not value.strip():
        raise ValueError("must be a folder path")
    for path in (Path(value), *Path(value).parents):  # the nearest that exists must be a folder
        if path.exists():
            if not path.is_dir():
                raise ValueError(f"{path} exists and is not a folder")
            break
    return value


@dataclass(frozen=True)
class EvidenceConfig:
    dir: str = field(default="data/evidence", metadata={"check": _check_evidence_dir})
    """Where WARC files, manifests and screenshots are written (a folder, created when missing)."""


def _at_least_minus_one(value: int) -> int:
    if value < -1:
        raise ValueError("must be -1 (auto), 0 (inline) or a number of workers")
    return value


@dataclass(frozen=True)
class CrawlConfig:
    max_pages: int = field(default=2000, metadata={"check": _positive, "max": MAX_PAGES})
    """Pages fetched in one discovery crawl, all sites together."""
    site_pages: int = field(default=40, metadata={"check": _positive, "max": MAX_PAGES})
    """Pages fetched per site (registered domain) in a discovery crawl."""
    verdict_pages: int = field(default=40, metadata={"check": _positive, "max": 10_000})
    """A site's verdict rests on its newest this many analysed pages in the store, whichever
    run fetched them (a one-page recheck adds evidence, it does not replace it)."""
    depth: int = field(default=4, metadata={"check": _non_negative, "max": MAX_DEPTH})
    """Link depth from the seeds in a discovery crawl."""
    targeted_pages: int = field(default=300, metadata={"check": _positive, "max": MAX_PAGES})
    """Pages fetched in a targeted crawl (``isop crawl --url``)."""
    targeted_depth: int = field(default=8, metadata={"check": _non_negative, "max": MAX_DEPTH})
    max_response_bytes: int = field(default=8 * 1024 * 1024, metadata={"check": _positive, "max": 2**30})
    """Larger responses are cut off and recorded as truncated."""
    hash_downloads_up_to: int = field(default=200 * 1024 * 1024, metadata={"check": _positive, "max": 2**40})
    """Files linked for download (executables, archives, videos) are hashed whole, streamed in
    ranges and never kept, up to this many bytes; larger ones are recorded as cut."""
    hash_budget_bytes: int = field(default=2 * 1024**3, metadata={"check": _non_negative, "max": 2**44})
    """Bytes one crawl may read to hash downloads, all files together; once spent, further
    file links are recorded with their headers only, as cut (0: no hashing)."""
    download_timeout: float = field(default=30.0, metadata={"check": _positive, "max": 3600})
    retries: int = field(default=2, metadata={"check": _non_negative, "max": 100})
    concurrency: int = field(default=16, metadata={"check": _positive, "max": 1000})
    per_domain_concurrency: int = field(default=2, metadata={"check": _positive, "max": 100})
    autothrottle: bool = True
    obey_robots: bool = False
    """robots.txt says nothing to investigators; evidence must show what any visitor sees."""
    render: bool = True
    """Render pages that need JavaScript with Chromium (Playwright)."""
    render_max_pages: int = field(default=50, metadata={"check": _non_negative, "max": MAX_PAGES})
    render_timeout: float = field(default=20.0, metadata={"check": _positive, "max": 600})
    chromium: str = "/usr/bin/chromium"
    successor_probes: int = field(default=5, metadata={"check": _non_negative, "max": 100})
    """For a domain ending in a number, how many following numbers to probe in DNS."""
    url_shape_limit: int = field(default=30, metadata={"check": _positive, "max": 1_000_000})
    """Distinct URLs per site with the same shape (digits and query values blanked): trap defence."""
    screenshots: bool = True
    """Screenshot the front page of every flagged site."""
    analysis_workers: int = field(default=-1, metadata={"check": _at_least_minus_one, "max": 64})
    """Worker processes that parse, classify and extract pages off the reactor thread:
    -1 one per spare CPU core (1 to 4), 0 none (analyse on the crawl's own thread)."""
    site_seconds: float = field(default=600.0, metadata={"check": _non_negative, "max": 7 * 86_400})
    """Time budget per site (registered domain), from its first request; after it, the
    site's further requests are dropped (``isop/budget/site_time``). 0: no limit. A targeted
    crawl's budget is as many times larger as its page budget is than ``site_pages``."""
    site_timeout_retries: int = field(default=1, metadata={"check": _non_negative, "max": 100})
    """Retries of timed-out requests per site, all its requests together (a slow site is
    not asked again and again); other failures retry per request (``retries``)."""
    cookies_per_site: int = field(default=50, metadata={"check": _positive, "max": 10_000})
    """Cookies kept per site (registered domain); more are dropped (``isop/cookies/dropped``)."""
    cookie_header_bytes: int = field(default=8192, metadata={"check": _positive, "max": 2**20})
    """Largest Cookie request header; cookies beyond it are left out of the request."""


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``"90m"``, ``"12h"``, ``"7d"``, ``"2w"`` (a bare number is seconds)."""
    value = str(text).strip().lower()
    unit = value[-1:] if value[-1:] in _DURATION_UNITS else "s"
    number = value[:-1] if value[-1:] in _DURATION_UNITS else value
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90m, 12h, 7d)") from None
    if not math.isfinite(seconds):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90m, 12h, 7d)")
    if seconds < 0:
        raise ValueError("must not be negative")
    if seconds > MAX_DURATION:
        raise ValueError("must be at most 100 years (36500d)")
    return seconds


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


@dataclass(frozen=True)
class EnrichConfig:
    after_crawl: bool = False
    """Enrich the sites a crawl found when it ends."""
    stale_after: str = field(default="7d", metadata={"check": _check_duration})
    """A site's enrichment is redone when older than this (90m, 12h, 7d, 2w)."""
    concurrency: int = field(default=64, metadata={"check": _positive, "max": 10_000})
    """Lookups in flight at once, all services together."""
    dns_rate: float = field(default=1000.0, metadata={"check": _positive, "max": 100_000})
    """DNS queries per second to the resolvers."""
    rdap_rate: float = field(default=5.0, metadata={"check": _positive, "max": 1000})
    """Queries per second to each RDAP server."""
    whois_rate: float = field(default=2.0, metadata={"check": _positive, "max": 1000})
    """Queries per second to each WHOIS server."""
    hosting_workers: int = field(default=16, metadata={"check": _positive, "max": 256})
    """Threads for ipwhois (blocking) network lookups."""
    network_ttl: str = field(default="30d", metadata={"check": _check_duration})
    """A network's owner and abuse contact are reused for IPs inside it for this long."""
    max_addresses_per_site: int = field(default=16, metadata={"check": _positive, "max": 10_000})
    """Addresses of a site (A and AAAA together) looked up for hosting (Cymru, RDAP); the
    rest are recorded as skipped."""
    hosting_batch: int = field(default=256, metadata={"check": _positive, "max": 1_000_000})
    """Addresses in one hosting lookup batch, all sites together; batches run one after another."""

    @property
    def stale_after_seconds(self) -> float:
        """:attr:`stale_after` in seconds, as enrichment uses it."""
        return parse_duration(self.stale_after)

    @property
    def network_ttl_seconds(self) -> float:
        """:attr:`network_ttl` in seconds, as enrichment uses it."""
        return parse_duration(self.network_ttl)


def _check_redis_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("must be a redis:// or rediss:// URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError("has a bad port") from None
    return value


def _check_key_prefix(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,50}", value):
        raise ValueError("must be 1 to 50 letters, digits, or _ . : -")
    return value


def _check_log_format(value: str) -> str:
    if value not in LOG_FORMATS:
        raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
    return value


def _check_log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return value.upper()


LOG_FORMATS = ("auto", "text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class RetentionConfig:
    enabled: bool = False
    """Delete old observations at all (off: the store keeps everything)."""
    pages_after: str = field(default="180d", metadata={"check": _check_duration})
    """Pages (and their links) fetched longer ago than this are deleted."""
    evidence_after: str = field(default="365d", metadata={"check": _check_duration})
    """Evidence files (WARCs, screenshots) of runs older than this are deleted."""
    lookups_after: str = field(default="90d", metadata={"check": _check_duration})
    """Raw enrichment lookups older than this are deleted."""


@dataclass(frozen=True)
class DistributedConfig:
    redis_url: str = field(default="redis://127.0.0.1:6379/0", metadata={"check": _check_redis_url})
    """Redis for crawls shared by several machines (redis:// or rediss://)."""
    key_prefix: str = field(default="isop", metadata={"check": _check_key_prefix})
    """Prefix of every Redis key isop writes."""


@dataclass(frozen=True)
class LogConfig:
    format: str = field(default="auto", metadata={"check": _check_log_format})
    """auto (text on a terminal, JSON lines otherwise), text or json."""
    level: str = field(default="INFO", metadata={"check": _check_log_level})
    """DEBUG, INFO, WARNING, ERROR or CRITICAL."""


def _check_timeout(value: str) -> str:
    if parse_duration(value) <= 0:
        raise ValueError("must be longer than 0 (leave it out for no limit)")
    return value


JOB_KINDS = ("discover", "recrawl", "enrich", "recheck")
_JOB_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")


def check_cron(expression: str) -> str:
    """A standard five-field cron expression (or @hourly, @daily, ...); raises ValueError."""
    from croniter import croniter

    text = " ".join(str(expression).split())
    if not text.startswith("@") and len(text.split(" ")) != 5:
        raise ValueError(f"cron {expression!r} must have 5 fields (minute hour day-of-month month day-of-week)")
    if not croniter.is_valid(text):
        raise ValueError(f"cron {expression!r} is not a valid cron expression")
    return text


@dataclass(frozen=True)
class JobConfig:
    """One scheduled job, a ``[[jobs]]`` table; run by ``isop run-due`` when its time comes."""

    name: str
    """Unique; letters, digits, _ . - (it names the job's lock and its runs in the store)."""
    cron: str
    """When: five cron fields, in UTC (e.g. "0 3 * * *" every day at 03:00 UTC)."""
    kind: str
    """discover (seeds), recrawl (flagged sites), enrich (due sites), recheck (known sites' status)."""
    seeds: str = ""
    """discover: the seed file (must exist when the job runs, not when the config is read)."""
    max_pages: int | None = field(default=None, metadata={"check": _positive, "max": MAX_PAGES})
    """Crawl page budget (discover, recrawl); default from [crawl]."""
    depth: int | None = field(default=None, metadata={"check": _non_negative, "max": MAX_DEPTH})
    """Crawl link depth (discover, recrawl); default from [crawl]."""
    stale_after: str = field(default="", metadata={"check": lambda v: _check_duration(v) if v else v})
    """enrich: redo sites enriched longer ago than this; default from [enrich]."""
    only: tuple[str, ...] = ()
    """enrich: services to run (dns, hosting, whois, tls); default all."""
    timeout: str = field(default="", metadata={"check": lambda v: _check_timeout(v) if v else v})
    """Longest a run may take (e.g. "6h"); it is stopped and recorded failed after that. Empty: no limit."""
    enabled: bool = True


@dataclass(frozen=True)
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    enrich: EnrichConfig = field(default_factory=EnrichConfig)
    clusters: ClustersConfig = field(default_factory=ClustersConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    log: LogConfig = field(default_factory=LogConfig)
    jobs: tuple[JobConfig, ...] = field(default=(), metadata={"array": True})
    """Scheduled jobs, ``[[jobs]]`` tables (file only: no environment overrides)."""
    source: str = field(default="", metadata={"internal": True})
    """The file this config was read from (empty: built-in defaults)."""

    @classmethod
    def sections(cls) -> dict[str, type]:
        """The ``[section]`` tables (not ``[[jobs]]``, which is an array of tables)."""
        return {f.name: _resolve(cls, f.name) for f in fields(cls)
                if not f.metadata.get("internal") and not f.metadata.get("array")}

    def job(self, name: str) -> JobConfig | None:
        return next((j for j in self.jobs if j.name == name), None)


def _resolve(cls: type, name: str) -> typing.Any:
    return typing.get_type_hints(cls)[name]


def _coerce(section: str, key: str, hint: typing.Any, value: typing.Any, from_env: bool) -> typing.Any:
    where = f"[{section}] {key}"
    origin = typing.get_origin(hint)
    if origin is tuple:
        if from_env and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config {where}: must be a list of strings")
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        return _coerce(section, key, hint, value, from_env)
    if hint is bool:
        if from_env and isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        if not isinstance(value, bool):
            raise ConfigError(f"config {where}: must be true or false, not {value!r}")
        return value
    if hint in (int, float):
        if from_env and isinstance(value, str):
            try:
                value = hint(value)
            except ValueError:
                raise ConfigError(f"config {where}: must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or (hint is int and not isinstance(value, int)):
            raise ConfigError(f"config {where}: must be {'an integer' if hint is int else 'a number'}, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config {where}: must be a finite number, not {value!r}")
        if abs(value) > MAX_MAGNITUDE:
            raise ConfigError(f"config {where}: {value!r} is out of range")
        return hint(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config {where}: must be a string, not {value!r}")
        return value
    raise ConfigError(f"config {where}: unsupported type")  # pragma: no cover - schema bug


def _build_section(name: str, cls: type, raw: dict, env: dict[str, str]) -> typing.Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"config [{name}]: must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"config [{name}] {unknown[0]}: unknown key (known: {', '.join(known)})")
    values = {}
    hints = typing.get_type_hints(cls)
    for key, f in known.items():
        env_name = f"{ENV_PREFIX}{name}_{key}".upper()
        if env_name in env:
            value = _coerce(name, key, hints[key], env[env_name], from_env=True)
        elif key in raw:
            value = _coerce(name, key, hints[key], raw[key], from_env=False)
        else:
            continue
        check = f.metadata.get("check")
        try:
            if check:
                value = check(value)
            _check_max(f, value)
        except ValueError as e:
            source = env_name if env_name in env else f"[{name}] {key}"
            raise ConfigError(f"config {source}: {e}") from None
        values[key] = value
    return cls(**values)


def find_config_file(explicit: str | os.PathLike | None = None,
                     env: typing.Mapping[str, str] | None = None) -> Path | None:
    """The config file to read, by the precedence in this module's docstring."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("ISOP_CONFIG"):
        return Path(env["ISOP_CONFIG"])
    for candidate in (Path.cwd() / "config" / DEFAULT_CONFIG_NAME, PACKAGE_CONFIG_DIR / DEFAULT_CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | os.PathLike | None = None,
                env: typing.Mapping[str, str] | None = None) -> Config:
    """Read, validate and return the configuration; raises :class:`ConfigError`."""
    env = dict(os.environ if env is None else env)
    file = find_config_file(path, env)
    raw: dict = {}
    if file is not None:
        try:
            with open(file, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file {file}: not found") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {file}: is a directory") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {file}: not valid TOML: {e}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {file}: not UTF-8 text") from None
    sections = Config.sections()
    unknown = sorted(set(raw) - set(sections) - {"jobs"})
    if unknown:
        raise ConfigError(f"config [{unknown[0]}]: unknown section (known: {', '.join([*sections, 'jobs'])})")
    built = {name: _build_section(name, cls, raw.get(name, {}), env) for name, cls in sections.items()}
    given_url = isinstance(raw.get("storage"), dict) and "url" in raw["storage"]
    if file is not None and given_url and (path or env.get("ISOP_CONFIG")) and "ISOP_STORAGE_URL" not in env:
        built["storage"] = replace(built["storage"], url=_beside(built["storage"].url, Path(file).parent))
    return Config(**built, jobs=_build_jobs(raw.get("jobs", [])), source=str(file) if file else "")


def _beside(url: str, folder: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``folder``."""
    prefix, sep, rest = url.partition(":///")
    if not sep or not prefix.startswith("sqlite") or not rest or rest.startswith("/") or rest.startswith(":memory:"):
        return url
    database, q, query = rest.partition("?")
    return f"{prefix}:///{(folder / database).resolve()}{q}{query}"


def _build_jobs(raw: typing.Any) -> tuple[JobConfig, ...]:
    """``[[jobs]]`` tables into JobConfigs; a problem names the job (or its position)."""
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError("config [[jobs]]: must be an array of tables ([[jobs]] blocks)")
    known = {f.name: f for f in fields(JobConfig)}
    hints = typing.get_type_hints(JobConfig)
    jobs: list[JobConfig] = []
    for number, table in enumerate(raw, 1):
        name = table.get("name")
        where = f"[[jobs]] {name!r}" if isinstance(name, str) and name else f"[[jobs]] #{number}"
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ConfigError(f"config {where} {unknown[0]}: unknown key (known: {', '.join(known)})")
        for required in ("name", "cron", "kind"):
            if required not in table:
                raise ConfigError(f"config {where}: {required} is required")
        values: dict[str, typing.Any] = {}
        for key, value in table.items():
            value = _coerce_job(where, key, hints[key], value)
            check = known[key].metadata.get("check")
            try:
                if check and value is not None:
                    value = check(value)
                _check_max(known[key], value)
                if key == "name" and not _JOB_NAME.fullmatch(value):
                    raise ValueError("must be 1 to 80 letters, digits, or _ . -")
                if key == "cron":
                    value = check_cron(value)
                if key == "kind" and value not in JOB_KINDS:
                    raise ValueError(f"must be one of {', '.join(JOB_KINDS)}, not {value!r}")
                if key == "only":
                    bad = [v for v in value if v not in SERVICES]
                    if bad or not value:
                        raise ValueError(f"unknown service {', '.join(bad) or '(none)'}; "
                                         f"choose from {', '.join(SERVICES)}")
            except ValueError as e:
                raise ConfigError(f"config {where} {key}: {e}") from None
            values[key] = value
        job = JobConfig(**values)
        if job.kind == "discover" and not job.seeds:
            raise ConfigError(f"config {where} seeds: a discover job needs a seed file")
        if any(j.name == job.name for j in jobs):
            raise ConfigError(f"config {where} name: another job has this name")
        jobs.append(job)
    return tuple(jobs)


def _coerce_job(where: str, key: str, hint: typing.Any, value: typing.Any) -> typing.Any:
    try:
        return _coerce("jobs", key, hint, value, from_env=False)
    except ConfigError as e:
        # "config [jobs] KEY: ..." -> "config [[jobs]] 'name' KEY: ..."
        raise ConfigError(str(e).replace(f"config [jobs] {key}:", f"config {where} {key}:", 1)) from None


def with_overrides(config: Config, **sections: dict[str, typing.Any]) -> Config:
    """A copy of ``config`` with some keys replaced, e.g. ``storage={"url": ...}``."""
    return replace(config, **{name: replace(getattr(config, name), **values)
                              for name, values in sections.items()})


def as_toml(config: Config) -> str:
    """The effective configuration as TOML text (for ``isop config show``)."""
    lines = [f"# effective isop configuration (from {config.source or 'built-in defaults'})"]
    for name in Config.sections():
        lines.append(f"\n[{name}]")
        for f in fields(getattr(config, name)):
            value = getattr(getattr(config, name), f.name)
            if name == "storage" and f.name == "url":  # where the store really is
                value = _beside(value, Path.cwd())
            lines.append(f"{f.name} = {_toml_value(value)}")
    for job in config.jobs:
        lines.append("\n[[jobs]]")
        for f in fields(job):
            value = getattr(job, f.name)
            if value != f.default:  # defaults (TOML has no null for unset limits) are left out
                lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
