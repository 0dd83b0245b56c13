"""The ``isop`` command line: a thin layer over the packages that do the work.

Exit codes are :class:`collector.exitcodes.ExitCode`: 0 ok, 1 failure, 2 bad usage or
configuration, 3 locked by another run.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from collector import __version__, cli_params
from collector.config import Config, ConfigError, as_toml, load_config
from collector.exitcodes import ExitCode


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


def _config(ctx: click.Context) -> Config:
    obj = ctx.find_root().obj
    if obj.get("config") is None:
        try:
            obj["config"] = load_config(obj.get("config_path"))
        except ConfigError as e:
            raise UsageProblem(str(e)) from None
        from collector.logs import setup_from_config

        setup_from_config(obj["config"])
    return obj["config"]


def _open_store(config: Config):
    from storage.db import StoreError
    from storage.migrate import ensure_store

    try:
        return ensure_store(config.storage.url)
    except StoreError as e:
        raise Failure(str(e)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="ISOP_CONFIG",
              help="Config file (TOML). Default: $ISOP_CONFIG, else config/isop.toml.")
@click.version_option(__version__, prog_name="isop", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """isop: find piracy sites, see who runs and hosts them, keep the evidence.

    An open-source intelligence collector for online-piracy investigators.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


# --- config -------------------------------------------------------------------------------


@cli.group("config")
def config_group() -> None:
    """Show and check the configuration."""


@config_group.command("show")
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Print the effective configuration (file plus environment overrides) as TOML."""
    click.echo(as_toml(_config(ctx)), nl=False)


@config_group.command("check")
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the configuration; exit 2 with the problem if it is not usable."""
    config = _config(ctx)
    from storage.nameservers import NameserverListError, check

    try:
        check()  # config/enrich/nameservers.toml: the shared nameservers of the network rules
    except NameserverListError as e:
        raise UsageProblem(f"nameserver list {e}") from None
    click.echo(f"config ok ({config.source or 'built-in defaults'})")


# --- store --------------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Create and migrate the store (SQLite or PostgreSQL)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to go to.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create the store or bring it to the latest schema."""
    from storage.db import StoreError
    from storage.migrate import upgrade

    config = _config(ctx)
    try:
        rev = upgrade(config.storage.url, revision)
    except StoreError as e:
        raise Failure(str(e)) from None
    click.echo(f"store at revision {rev}: {_safe_url(config.storage.url)}")


@db_group.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def db_status(ctx: click.Context, fmt: str) -> None:
    """Show the store's revision and how many rows each table holds."""
    from storage.migrate import current_revision
    from storage.stats import table_counts

    config = _config(ctx)
    engine = _open_store(config)
    counts = table_counts(engine)
    info = {"url": _safe_url(config.storage.url), "revision": current_revision(engine), "tables": counts}
    engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"store {info['url']} at revision {info['revision']}")
    for name, n in counts.items():
        click.echo(f"  {name:<22} {n:>10}")


def _safe_url(url: str) -> str:
    from storage.migrate import _redact

    return _redact(url)


# --- sandbox ------------------------------------------------------------------------------


def _parse_latency(value: str | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (value or "").split(","))):
        name, _, ms = part.partition("=")
        try:
            out[name.strip()] = float(ms)
        except ValueError:
            raise click.BadParameter(f"{part!r}: expected SERVICE=MILLISECONDS", param_hint="--latency") from None
        if name.strip() not in ("dns", "http", "rdap", "whois"):
            raise click.BadParameter(f"{name!r}: services are dns, http, rdap, whois", param_hint="--latency")
    return out


def _load_world(world: str | None):
    from collector.sandbox.world import WorldError, load_world

    try:
        return load_world(world)
    except WorldError as e:
        raise UsageProblem(str(e)) from None


@cli.group("sandbox")
def sandbox_group() -> None:
    """The sandbox world: a local mini-internet of piracy and legitimate sites."""


@sandbox_group.command("serve")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
@click.option("--ports-file", type=click.Path(dir_okay=False), default="data/sandbox/ports.json", show_default=True,
              help="Where to write the ports (JSON); a ready isop config is written beside it.")
@click.option("--state-dir", type=click.Path(file_okay=False), default="data/sandbox", show_default=True,
              help="Where the sandbox CA key and certificate are kept.")
@click.option("--latency", help="Added latency per answer, e.g. dns=30,rdap=150,whois=150,http=0 (ms).")
@click.option("--dns-port", type=cli_params.PORT, default=0, show_default=True, help="DNS port (0: any free port).")
@click.option("--proxy-port", type=cli_params.PORT, default=0, show_default=True, help="Proxy port (0: any free port).")
@click.option("--config", "point_config", type=click.Path(dir_okay=False),
              help="An isop config to point at this world (e.g. the demo's data/demo/isop-sandbox.toml): only "
                   "its [network] proxy, resolvers and ca_bundle are rewritten; written fresh when missing.")
def sandbox_serve(world: str | None, ports_file: str, state_dir: str, latency: str | None,
                  dns_port: int, proxy_port: int, point_config: str | None) -> None:
    """Serve the sandbox world on 127.0.0.1 until interrupted.

    Prints the proxy and DNS ports and writes them (JSON) to --ports-file, with a ready
    isop config (isop-sandbox.toml) beside it; --config FILE points an existing config
    (and so its store) at the world instead. Nothing here connects outside 127.0.0.0/8.
    """
    from collector.sandbox.server import serve_forever

    loaded = _load_world(world)
    serve_forever(loaded, ports_file=Path(ports_file), state_dir=Path(state_dir),
                  latency_overrides=_parse_latency(latency), dns_port=dns_port, proxy_port=proxy_port,
                  point_config=Path(point_config) if point_config else None)


@sandbox_group.command("check")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
def sandbox_check(world: str | None) -> None:
    """Validate a world folder and summarise it."""
    loaded = _load_world(world)
    sites = loaded.sites
    click.echo(f"world {loaded.name!r}: {len(loaded.domains)} domains, {len(sites)} web sites, "
               f"{len(loaded.networks)} networks, {len(loaded.registrars)} registrars, "
               f"{len(loaded.registries)} registries")


@sandbox_group.command("generate")
@click.option("--seed", type=int, required=True, help="The scenario's seed: the same seed writes the same world.")
@click.option("--sites", type=click.IntRange(1, 500), help="About how many web sites (default: drawn, 30-60).")
@click.option("--operators", type=click.IntRange(1, 50), help="How many operator networks (default: drawn, 3-8).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="World folder to write.")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty (the generator's files are replaced).")
def sandbox_generate(seed: int, sites: int | None, operators: int | None, out: str, force: bool) -> None:
    """Generate a sandbox world with its answer key (answers.json) from a seed.

    Serve it with `isop sandbox serve --world DIR`, give trainees DIR/seeds.txt and
    DIR/README.md, grade with `isop sandbox grade --world DIR`.
    """
    from collector.sandbox.generate import generate_world
    from collector.sandbox.world import WorldError, load_world

    target = Path(out)
    if target.exists() and any(target.iterdir()) and not force:
        raise UsageProblem(f"{target} is not empty; pass --force to write into it")
    generate_world(seed, target, sites=sites, operators=operators)
    try:
        loaded = load_world(target)
    except WorldError as e:  # a generator bug, but say so in one line
        raise UsageProblem(f"generated world does not load: {e}") from None
    click.echo(f"world {loaded.name!r} written to {target}: {len(loaded.domains)} domains, "
               f"{len(loaded.sites)} web sites; answer key {target / 'answers.json'}")


@sandbox_group.command("grade")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
@click.pass_context
def sandbox_grade(ctx: click.Context, world: str | None) -> None:
    """Grade the store's verdicts and operator networks against the world's answer key (for courses and tests)."""
    from collector.sandbox.grading import grade
    from collector.sandbox.grading_clusters import grade_clusters
    from storage.db import session_factory
    from storage.safe_text import inert

    loaded = _load_world(world)
    config = _config(ctx)
    engine = _open_store(config)
    with session_factory(engine)() as session:
        g = grade(session, loaded)
        networks = grade_clusters(session, loaded, config.clusters)
    engine.dispose()
    click.echo(g.summary())
    for note in g.notes:
        click.echo("  " + inert(note))
    click.echo(networks.summary())
    for line in networks.lines():
        click.echo("  " + line)


@sandbox_group.command("sites")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
@click.option("--answers", is_flag=True, help="Also show the answer key (category, operator, notes) - for trainers.")
def sandbox_sites(world: str | None, answers: bool) -> None:
    """List the world's web sites and seeds, for trainees exploring the range."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    loaded = _load_world(world)
    table = Table(title=f"sandbox world {escape(loaded.name)}")
    table.add_column("host")
    table.add_column("schemes")
    if answers:
        table.add_column("piracy")
        table.add_column("category")
        table.add_column("operator")
        table.add_column("notes", overflow="fold")
    for domain in loaded.domains.values():
        for site in domain.sites:
            schemes = ",".join(s for s, on in (("https", site.https), ("http", site.http != "off")) if on)
            row = [escape(site.host), schemes]
            if answers:
                t = domain.truth
                row += ["yes" if t.piracy else "no", t.category, escape(t.operator), escape(t.notes)]
            table.add_row(*row)
    Console().print(table)
    seeds = loaded.seeds_path()
    if seeds.is_file():
        click.echo("seeds: " + ", ".join(line.strip() for line in seeds.read_text().splitlines()
                                         if line.strip() and not line.startswith("#")))


# --- crawl --------------------------------------------------------------------------------


@cli.command("crawl")
@click.option("--seeds", "seeds_file", type=click.Path(dir_okay=False), help="Seed file: one URL a line, # comments.")
@click.option("--url", help="Targeted crawl of one site: deeper, its redirects and mirrors only.")
@click.option("--max-pages", type=cli_params.PAGES, help="Page budget for this crawl (default from [crawl]).")
@click.option("--depth", type=cli_params.DEPTH, help="Link depth limit (default from [crawl]).")
@click.option("--job", help="Job name for the lock and resume state (default: derived from the arguments).")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted run of the same job.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on when stderr is a terminal, off under cron).")
@click.option("--distributed", "crawl_key", metavar="CRAWL_KEY",
              help="Join the shared crawl CRAWL_KEY: frontier and duplicate filter in Redis "
                   "([distributed] redis_url), as many processes and machines as you start.")
@click.pass_context
def crawl(ctx: click.Context, seeds_file: str | None, url: str | None, max_pages: int | None,
          depth: int | None, job: str | None, fresh: bool, progress: bool | None, crawl_key: str | None) -> None:
    """Discover piracy sites from seeds (--seeds) or crawl one site in depth (--url)."""
    from collector.crawl import CrawlInputError, CrawlRequest, run_crawl
    from collector.locks import LockHeld
    from storage.db import StoreError

    if bool(seeds_file) == bool(url):
        raise UsageProblem("give exactly one of --seeds FILE or --url URL")
    if crawl_key:
        from collector.cli_distributed import crawl_distributed

        if job or fresh:
            raise UsageProblem("--job and --fresh do not apply to --distributed (the crawl key names the crawl)")
        ctx.invoke(crawl_distributed, seeds_file=seeds_file, url=url, crawl_key=crawl_key, max_pages=max_pages,
                   depth=depth, progress=progress)
        return
    config = _config(ctx)
    req = CrawlRequest(seeds_file=seeds_file, url=url, max_pages=max_pages, depth=depth, job=job, fresh=fresh,
                       progress=sys.stderr.isatty() if progress is None else progress)
    try:
        result = run_crawl(config, req)
    except CrawlInputError as e:
        raise UsageProblem(str(e)) from None
    except LockHeld as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(ExitCode.LOCKED) from None
    except StoreError as e:
        raise Failure(str(e)) from None
    from storage.safe_text import inert

    for problem in result.seed_problems:
        click.echo(f"warning: {inert(problem)}", err=True)
    from collector.views import print_crawl_summary

    print_crawl_summary(config, result)
    from collector.enrichment import recompute_clusters
    from storage.db import open_engine

    engine = open_engine(config.storage.url)
    recompute_clusters(engine, config.clusters)
    engine.dispose()
    if result.outcome == "failed" and result.error:
        raise Failure(f"crawl run {result.run_id} failed: {result.error}; nothing was recorded about the sites "
                      "it could not reach; run the same command again to resume")
    if result.outcome != "ok":
        raise Failure(f"crawl run {result.run_id} ended {result.outcome}; run the same command again to resume")
    if config.enrich.after_crawl:
        from collector.enrichment import EnrichRequest, run_enrich
        from collector.views import print_enrich_summary

        try:
            print_enrich_summary(run_enrich(config, EnrichRequest()))
        except LockHeld as e:
            click.echo(f"warning: enrichment skipped: {e}", err=True)


# --- enrich -------------------------------------------------------------------------------


@cli.command("enrich")
@click.option("--domain", "domains", multiple=True, help="Enrich this site (repeatable); default: every site due.")
@click.option("--stale-after", help="Redo sites enriched longer ago than this (90m, 12h, 7d); "
                                    "default from [enrich] stale_after.")
@click.option("--only", help="Comma-separated services: dns,hosting,whois,tls (default: all).")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on when stderr is a terminal, off under cron).")
@click.option("--worker", is_flag=True, help="Work as one of several enrichment workers: claim due sites in "
                                             "batches (PostgreSQL: FOR NO KEY UPDATE SKIP LOCKED).")
@click.pass_context
def enrich(ctx: click.Context, domains: tuple[str, ...], stale_after: str | None, only: str | None,
           progress: bool | None, worker: bool) -> None:
    """DNS, hosting (ASN, network owner, abuse contact), registration and TLS for known sites."""
    if worker:
        from collector.cli_distributed import enrich_worker

        if domains:
            raise UsageProblem("--domain does not apply to --worker (workers take every due site)")
        ctx.invoke(enrich_worker, stale_after=stale_after, only=only, progress=progress)
        return
    from collector.config import parse_duration
    from collector.enrichment import EnrichInputError, EnrichRequest, parse_only, run_enrich
    from collector.locks import LockHeld
    from storage.db import StoreError
    from storage.names import HostNameError, parse_host

    config = _config(ctx)
    try:
        services = parse_only(only)
        stale = parse_duration(stale_after) if stale_after is not None else None
        names = [parse_host(d).domain for d in domains]
    except (EnrichInputError, ValueError, HostNameError) as e:
        raise UsageProblem(str(e)) from None
    show = sys.stderr.isatty() if progress is None else progress

    def report(phase: str, done: int, total: int) -> None:
        if show:
            click.echo(f"\r{phase}: {done}/{total} sites", nl=done == total, err=True)

    try:
        result = run_enrich(config, EnrichRequest(domains=names, stale_after=stale, only=services, progress=report))
    except LockHeld as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(ExitCode.LOCKED) from None
    except StoreError as e:
        raise Failure(str(e)) from None
    from collector.views import print_enrich_summary

    print_enrich_summary(result)
    if result.outcome != "ok":
        raise Failure(f"enrich run {result.run_id} ended {result.outcome}: {result.error or 'see its lookups'}")


# --- the analyst's side --------------------------------------------------------------------


def _site_name(domain: str) -> str:
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


def _store(ctx: click.Context):
    """The config and an engine on its existing store, brought to the latest schema (exit 1
    if it can't be); no store at all is a usage problem (exit 2): these commands only read."""
    from storage.db import StoreError
    from storage.migrate import StoreMissing, open_existing_store

    config = _config(ctx)
    try:
        return config, open_existing_store(config.storage.url)
    except StoreMissing as e:
        raise UsageProblem(str(e)) from None
    except StoreError as e:
        raise Failure(str(e)) from None



def _filter_options(func):
    """The site filters shared by ``sites``, ``export`` and ``report`` (see storage/filters.py)."""
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


def _site_filter(limit: int | None = None, **given):
    """A SiteFilter from the shared options (exit 2 on a value that does not parse)."""
    from storage.filters import FilterError, SiteFilter, parse_asn, parse_country, parse_when

    try:
        for key in ("since", "first_since"):
            if given.get(key) is not None:
                given[key] = parse_when(given[key])
        if given.get("country") is not None:
            given["country"] = parse_country(given["country"])
        if given.get("asn") is not None:
            given["asn"] = parse_asn(given["asn"])
        return SiteFilter(limit=limit, **given)
    except FilterError as e:
        raise UsageProblem(str(e)) from None


@cli.command("sites")
@_filter_options
@click.option("--limit", type=cli_params.LIMIT, default=200, show_default=True, help="At most this many sites.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def sites(ctx: click.Context, limit: int, fmt: str, **filters) -> None:
    """Known sites with their latest classification and status, highest score first."""
    from collector.analyst import emit
    from storage.db import session_factory
    from storage.queries import list_sites

    site_filter = _site_filter(limit=limit, **filters)
    config, engine = _store(ctx)
    try:
        with session_factory(engine)() as session:
            rows = list_sites(session, site_filter)
    finally:
        engine.dispose()
    for r in rows:
        r["score"] = None if r["score"] is None else round(r["score"], 3)
        if fmt == "table":
            r["signals"] = r["signals"][:1]
            r["last_seen"] = r["last_seen"].date() if r["last_seen"] else None
    text = emit(rows, ["domain", "is_piracy", "category", "score", "status", "signals", "last_seen"]
                + ([] if fmt == "table" else ["first_seen", "classified_at"]), fmt, title=f"{len(rows)} sites")
    if text is not None:
        click.echo(text)


def _write_text(output: str | None, text: str) -> None:
    """Write a rendered document to ``output`` (see collector/output_file.py) or stdout."""
    from collector.output_file import OutputError, write_output

    if output in (None, "-"):
        click.echo(text)
        return
    try:
        write_output(output, text)
    except OutputError as e:
        raise Failure(str(e)) from None


@cli.command("site")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["table", "md", "json"]), default="table", show_default=True,
              help="table: for the terminal; md: Markdown for a case file; json: for tools.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_context
def site(ctx: click.Context, domain: str, fmt: str, output: str | None) -> None:
    """The dossier of DOMAIN: verdict, hosts, DNS now and before, hosting, registration,
    certificates, indicators, hops, network, evidence and a timeline."""
    from storage.db import session_factory
    from storage.dossier import dossier
    from storage.safe_text import json_text

    name = _site_name(domain)
    _, engine = _store(ctx)
    try:
        with session_factory(engine)() as session:
            d = dossier(session, name)
    finally:
        engine.dispose()
    if d is None:
        raise Failure(f"{name} is not in the store (crawl or enrich it first)")
    if fmt == "json":
        _write_text(output, json_text(d, indent=1, default=str))
    elif fmt == "md":
        from collector.dossier_view import dossier_markdown

        _write_text(output, dossier_markdown(d))
    else:
        from rich.console import Console

        from collector.dossier_view import print_dossier
        from collector.output_file import OutputError, open_output

        if output:
            try:
                with open_output(output) as fh:
                    print_dossier(d, Console(file=fh, width=120))
            except OSError as e:
                raise Failure(str(e) if isinstance(e, OutputError) else f"--output {output}: {e.strerror or e}") \
                    from None
        else:
            print_dossier(d)


@cli.command("changes")
@click.option("--since", required=True, help="From this time (2026-11-01, 2026-11-01T08:00Z, or an age like 7d).")
@click.option("--until", help="Up to this time (default: now; same forms).")
@click.option("--limit", type=cli_params.LIMIT, default=500, show_default=True, help="At most this many per kind.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def changes(ctx: click.Context, since: str, until: str | None, limit: int, fmt: str) -> None:
    """What changed: new sites and hops, changed IPs, hosts, registrars and nameservers,
    sites gone down or back up, verdicts that flipped."""
    from storage.changes import changes as find_changes
    from storage.db import session_factory
    from storage.filters import FilterError, parse_when
    from storage.safe_text import json_text

    try:
        start = parse_when(since)
        end = parse_when(until) if until else None
    except FilterError as e:
        raise UsageProblem(str(e)) from None
    if end is not None and end <= start:
        raise UsageProblem("--until must be after --since")
    _, engine = _store(ctx)
    try:
        with session_factory(engine)() as session:
            found = find_changes(session, start, until=end, limit=limit)
    finally:
        engine.dispose()
    if fmt == "json":
        click.echo(json_text(found, indent=1, default=str))
        return
    from collector.dossier_view import print_changes

    print_changes(found)


@cli.command("network")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "dot"]), default="table",
              show_default=True, help="html: a self-contained picture to explore; dot: for Graphviz.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.pass_context
def network(ctx: click.Context, domain: str, fmt: str, output: str | None) -> None:
    """The operator network around DOMAIN: sites tied by shared identifiers, with strengths."""
    from sqlalchemy import select

    from storage.clusters import network_of
    from storage.db import session_factory
    from storage.models import Site
    from storage.safe_text import json_text

    name = _site_name(domain)
    config, engine = _store(ctx)
    extra = None
    try:
        with session_factory(engine)() as session:
            known = session.scalar(select(Site.id).where(Site.domain == name)) is not None
            net = network_of(session, name, rules=config.clusters) if known else None
            if net is not None and fmt == "html":
                from storage.filters import SiteFilter
                from storage.queries import list_sites

                rows = list_sites(session, SiteFilter(domains=tuple(net["sites"])))
                extra = {"sites": {r["domain"]: {"category": r["category"], "score": r["score"],
                                                 "status": r["status"]} for r in rows}}
    finally:
        engine.dispose()
    if net is None:
        raise Failure(f"{name} is not in the store (crawl or enrich it first)")
    if fmt == "json":
        _write_text(output, json_text(net, indent=1, default=str))
    elif fmt == "html":
        from collector.network_render import to_html

        _write_text(output, to_html(net, extra=extra))
    elif fmt == "dot":
        from collector.network_render import to_dot

        _write_text(output, to_dot(net))
    else:
        from collector.views import print_network

        print_network(net)
    if output and output != "-":
        click.echo(f"network of {name} ({len(net['sites'])} sites) written to {output}", err=True)


@cli.command("report")
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@click.option("--since", help="Only activity from this time (2026-11-01 or an age like 30d); default: everything.")
@click.option("--top", type=cli_params.TOP, default=20, show_default=True,
              help="Rows per ranking (countries, providers, registrars, newest finds).")
@click.pass_context
def report(ctx: click.Context, output: str, since: str | None, top: int) -> None:
    """A self-contained HTML report: figures, categories, countries, providers, networks, newest finds."""
    from collector.report_html import render_report
    from storage.db import session_factory
    from storage.filters import FilterError, parse_when
    from storage.report_data import report_data
    from storage.types import utcnow

    try:
        start = parse_when(since) if since else None
    except FilterError as e:
        raise UsageProblem(str(e)) from None
    _, engine = _store(ctx)
    try:
        with session_factory(engine)() as session:
            data = report_data(session, since=start, top=top)
    finally:
        engine.dispose()
    _write_text(output, render_report(data, generated_at=utcnow()))
    click.echo(f"report written to {output}")


EXPORT_WRITERS = {
    "json": ("storage.export", "write_json"),
    "csv": ("storage.export_csv", "write_csv"),
    "stix": ("storage.export_stix", "write_stix"),
    "misp": ("storage.export_misp", "write_misp"),
}


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_WRITERS)), default="json", show_default=True,
              help="json: the public contract (docs/export.schema.json); csv: one row per site; "
                   "stix: a STIX 2.1 bundle; misp: a MISP event.")
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="File to write ('-' for stdout).")
@_filter_options
@click.option("--limit", type=cli_params.EXPORT_LIMIT, help="At most this many sites.")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str, limit: int | None, **filters) -> None:
    """Write the sites with everything known about them, streaming (constant memory)."""
    import importlib

    from storage.db import session_factory
    from storage.export import site_records

    site_filter = _site_filter(limit=limit, **filters)
    module, name = EXPORT_WRITERS[fmt]
    writer = getattr(importlib.import_module(module), name)
    from collector.output_file import OutputError, open_output

    config, engine = _store(ctx)
    try:
        with open_output(output, newline="") as out, session_factory(engine)() as session:
            if fmt == "json":
                count = writer(session, out, filters=site_filter)
            else:
                count = writer(site_records(session, site_filter), out)
    except OutputError as e:
        raise UsageProblem(str(e)) from None
    except OSError as e:  # while writing: a full disk, a closed pipe
        raise Failure(f"--output {output}: {e.strerror or e}") from None
    finally:
        engine.dispose()
    if output != "-":
        click.echo(f"{count} sites written to {output}")


@cli.command("takedown")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="Markdown for a letter, JSON for a case system.")
@click.pass_context
def takedown(ctx: click.Context, domain: str, fmt: str) -> None:
    """A takedown packet for DOMAIN: hosting and registrar abuse contacts, CDN, reasons, evidence."""
    from storage.db import session_factory
    from storage.retention import record_takedown
    from storage.safe_text import json_text
    from storage.takedown import UnknownSite, takedown_packet, to_markdown

    name = _site_name(domain)
    _, engine = _store(ctx)
    try:
        with session_factory(engine)() as session, session.begin():
            packet = takedown_packet(session, name)
            text = json_text(packet, indent=1) if fmt == "json" else to_markdown(packet)
            # Recorded as handed out: the evidence it cites is never pruned.
            record_takedown(session, packet, fmt, rendered=text)
    except UnknownSite as e:
        raise Failure(str(e)) from None
    finally:
        engine.dispose()
    click.echo(text)


@cli.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="Port to listen on.")
@click.option("--open/--no-open", "open_browser", default=False, help="Open a browser on the page.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (the store becomes readable "
                                                     "by anyone who can reach it).")
@click.pass_context
def ui(ctx: click.Context, host: str, port: int, open_browser: bool, allow_remote: bool) -> None:
    """Browse the SQLite store in Datasette (read-only), with the analyst views and questions."""
    from collector.ui import UiError, run_ui

    config = _config(ctx)
    try:
        code = run_ui(config.storage.url, host=host, port=port, open_browser=open_browser, allow_remote=allow_remote)
    except UiError as e:
        if str(e).startswith("no store at"):
            raise UsageProblem(str(e)) from None
        raise Failure(str(e)) from None
    if code:
        raise SystemExit(code)


@cli.group("refresh")
def refresh_group() -> None:
    """Update data files isop ships (only when asked: never fetched implicitly)."""


@refresh_group.command("bootstrap")
@click.option("--output", type=click.Path(dir_okay=False), help="Where to write it (default: the file isop reads).")
@click.option("--url", default=None, help="Bootstrap URL (default: IANA's dns.json).")
@click.pass_context
def refresh_bootstrap(ctx: click.Context, output: str | None, url: str | None) -> None:
    """Download IANA's RDAP bootstrap (which server answers for which TLD) through the proxy."""
    import asyncio

    from enrich.rdap_client import (
        DEFAULT_BOOTSTRAP,
        IANA_DNS_BOOTSTRAP,
        Bootstrap,
        BootstrapError,
        fetch_bootstrap,
    )
    from enrich.transport import TransportError, ssl_context
    from storage.safe_text import inert

    config = _config(ctx)
    net = config.network
    try:
        doc = asyncio.run(fetch_bootstrap(proxy=net.proxy or None, tls_context=ssl_context(net.ca_bundle or None),
                                          timeout=net.timeout, url=url or IANA_DNS_BOOTSTRAP))
    except (BootstrapError, TransportError) as e:
        raise Failure(str(e)) from None
    target = Path(output) if output else DEFAULT_BOOTSTRAP
    bootstrap = Bootstrap(doc, str(url))
    if output:  # the user's path: a link or device is written in place (collector/output_file.py)
        _write_text(output, json.dumps(bootstrap.doc, indent=1, ensure_ascii=False))
    else:
        bootstrap.save(target)
    click.echo(inert(f"RDAP bootstrap ({doc.get('publication', 'no publication date')}, "
                     f"{len(doc.get('services', []))} services) written to {target}"))


# --- evidence -----------------------------------------------------------------------------


@cli.group("evidence")
def evidence_group() -> None:
    """Check the evidence kept by crawls (WARC files, screenshots, manifests)."""


@evidence_group.command("verify")
@click.option("--run", "run_id", type=cli_params.RUN_ID, help="Only this crawl run (default: every run).")
@click.option("--quick", is_flag=True, help="Hash files only; skip re-reading every WARC record.")
@click.pass_context
def evidence_verify(ctx: click.Context, run_id: int | None, quick: bool) -> None:
    """Re-check evidence files against their manifests; exit 1 on any mismatch."""
    from rich.markup import escape

    from spiders.evidence import verify
    from storage.safe_text import inert

    config = _config(ctx)
    folder = Path(config.evidence.dir)
    if not folder.is_dir():
        raise Failure(f"evidence folder {folder} does not exist")
    problems = verify(folder, run_id, deep=not quick)
    for p in problems:
        click.echo(inert(f"{p.kind}: {escape(p.path)}: {p.detail}"))
    runs = sorted(d.name for d in (folder / "runs").iterdir()) if (folder / "runs").is_dir() else []
    if problems:
        raise Failure(f"{len(problems)} problem(s) in {folder}")
    click.echo(f"evidence ok: {len(runs) if run_id is None else 1} run(s) in {folder} match their manifests")


@cli.command("demo")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
def demo(world: str | None) -> None:
    """Run the main job end to end on SQLite against the sandbox world, and show the results."""
    from collector.demo import run_demo

    code = run_demo(world_dir=world)
    if code:
        raise SystemExit(code)


def _register_operations() -> None:
    """Scheduling, retention, distributed and classifier commands live in their own modules."""
    from collector.cli_classifier import classifier_group
    from collector.cli_distributed import COMMANDS as DISTRIBUTED
    from collector.cli_jobs import COMMANDS as JOBS
    from collector.cli_retention import prune_command

    for command in (*JOBS, prune_command, *DISTRIBUTED, classifier_group):
        cli.add_command(command)


_register_operations()


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="isop", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(ExitCode.FAILURE)


if __name__ == "__main__":
    main()
