"""``isop demo``: the main job end to end, on SQLite, against the sandbox world.

It starts the world on loopback, writes a config pointing isop at it, creates the store
by migrations, checks that the world answers (DNS, web pages over HTTP and HTTPS, RDAP)
through the same two knobs a real deployment uses (``proxy`` and ``resolvers``), runs
what isop can run so far, prints what was found, and stops the world.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dns.message
import dns.query
import dns.rdatatype
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spiders.resolver import parse_host_port

DEMO_DIR = Path("data/demo")


@dataclass
class Probe:
    what: str
    target: str
    ok: bool
    detail: str


def read_seeds(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _dns_probe(resolver: str, name: str) -> Probe:
    host, port = parse_host_port(resolver)
    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        answer = dns.query.udp(query, host, port=port, timeout=5)
    except Exception as e:  # noqa: BLE001 - a probe reports, it does not stop the demo
        return Probe("DNS A", name, False, str(e))
    addrs = [r.address for rrset in answer.answer for r in rrset if r.rdtype == dns.rdatatype.A]
    return Probe("DNS A", name, bool(addrs), ", ".join(addrs) or dns.rcode.to_text(answer.rcode()))


def _opener(proxy_url: str, ca_path: Path) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=str(ca_path))
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy_url, "https": proxy_url}),
        urllib.request.HTTPSHandler(context=context))


def _http_probe(opener: urllib.request.OpenerDirector, url: str, what: str = "page") -> Probe:
    try:
        with opener.open(url, timeout=15) as response:
            body = response.read(200_000)
            return Probe(what, url, True, f"{response.status} {len(body)} bytes, final {response.geturl()}")
    except Exception as e:  # noqa: BLE001
        return Probe(what, url, False, str(e))


def _rdap_probe(opener: urllib.request.OpenerDirector, domain: str) -> Probe:
    """Find the TLD's RDAP server in the IANA bootstrap, then ask it, as a client would."""
    tld = domain.rsplit(".", 1)[-1]
    try:
        with opener.open("https://data.iana.org/rdap/dns.json", timeout=15) as r:
            bootstrap = json.load(r)
        base = next((urls[0] for tlds, urls in bootstrap["services"] if tld in tlds), None)
        if base is None:
            return Probe("RDAP", domain, True, f".{tld} has no RDAP service: WHOIS only")
        with opener.open(base.rstrip("/") + f"/domain/{domain}", timeout=15) as r:
            record = json.load(r)
        registrar = next((e for e in record.get("entities", []) if "registrar" in e.get("roles", [])), {})
        name = next((v[3] for v in registrar.get("vcardArray", [None, []])[1] if v[0] == "fn"), "?")
        return Probe("RDAP", domain, True, f"registrar {name}")
    except Exception as e:  # noqa: BLE001
        return Probe("RDAP", domain, False, str(e))


def _keep_previous(db_path: Path) -> Path | None:
    """Move an earlier demo's store and evidence to ``previous/`` beside it (replacing the
    one before); returns where, or None when there was none."""
    import shutil

    folder = db_path.parent
    if not db_path.exists():
        for stale in (db_path.with_suffix(".db-wal"), db_path.with_suffix(".db-shm")):
            stale.unlink(missing_ok=True)
        shutil.rmtree(folder / "evidence", ignore_errors=True)
        return None
    previous = folder / "previous"
    shutil.rmtree(previous, ignore_errors=True)
    previous.mkdir(parents=True)
    for name in (db_path.name, db_path.name + "-wal", db_path.name + "-shm", "evidence"):
        if (folder / name).exists():
            shutil.move(str(folder / name), str(previous / name))
    return previous


def _show_redirecting(config, storage_url: str, console: Console) -> None:
    """A domain that only redirects: a site of its own, with its hosting and its 3xx archived."""
    from sqlalchemy import func, select

    from collector.views import print_site_profiles
    from storage.db import open_engine, session_factory
    from storage.models import Page, Site, SiteStatusObservation

    engine = open_engine(storage_url)
    try:
        with session_factory(engine)() as s:
            latest = (select(SiteStatusObservation.site_id, func.max(SiteStatusObservation.last_seen).label("at"))
                      .group_by(SiteStatusObservation.site_id).subquery())
            row = s.execute(select(Site.id, Site.domain, SiteStatusObservation.detail)
                            .join(latest, latest.c.site_id == Site.id)
                            .join(SiteStatusObservation, (SiteStatusObservation.site_id == Site.id)
                                  & (SiteStatusObservation.last_seen == latest.c.at))
                            .where(SiteStatusObservation.status == "redirecting").order_by(Site.domain)
                            .limit(1)).first()
            if row is None:
                return
            page = s.execute(select(Page.url, Page.status, Page.redirects, Page.warc_file, Page.warc_record_id)
                             .where(Page.site_id == row.id, Page.status.between(300, 399))
                             .order_by(Page.id).limit(1)).first()
    finally:
        engine.dispose()
    console.rule(f"[bold]a redirecting domain: {escape(row.domain)} -> {escape(row.detail or '?')}")
    print_site_profiles(config, [row.domain], console)
    if page is not None:
        target = page.redirects[0][0] if page.redirects else "?"
        console.print(f"evidence: HTTP {page.status} at {escape(page.url)} -> {escape(target)}, archived with its "
                      f"headers in {escape(page.warc_file or '?')} (record {escape(page.warc_record_id or '?')})")


def run_demo(console: Console | None = None, world_dir: str | None = None) -> int:
    """Run the demo; returns the exit code (0 when every probe answered)."""

    from collector.config import load_config
    from collector.crawl import CrawlRequest, run_crawl
    from collector.sandbox.grading import grade
    from collector.sandbox.server import ThreadedSandbox
    from collector.sandbox.world import load_world
    from collector.views import print_crawl_summary
    from spiders.evidence import verify
    from storage.db import open_engine, session_factory
    from storage.migrate import upgrade
    from storage.stats import table_counts

    console = console or Console()
    world = load_world(world_dir)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    db_path = DEMO_DIR / "isop.db"
    kept = _keep_previous(db_path)
    storage_url = f"sqlite:///{db_path.resolve()}"  # absolute: the config works from any folder
    started = time.monotonic()

    console.rule("[bold]isop demo: the sandbox world")
    if kept:
        console.print(f"the previous demo store and its evidence were moved to {kept} (the one before that is gone)")
    with ThreadedSandbox(world, state_dir=Path("data/sandbox")) as sandbox:
        config_path = DEMO_DIR / "isop-sandbox.toml"
        config_path.write_text(sandbox.config_text(storage_url) + f'\n[evidence]\ndir = "{(DEMO_DIR / "evidence").resolve()}"\n',
                               encoding="utf-8")
        console.print(f"world [bold]{escape(world.name)}[/]: {len(world.domains)} domains, "
                      f"{len(world.sites)} web sites, {len(world.networks)} networks")
        console.print(f"proxy {sandbox.proxy_url}   DNS {', '.join(sandbox.resolvers)}   CA {sandbox.ca_path}")
        console.print(f"config for isop: {config_path}")

        rev = upgrade(storage_url)
        console.print(f"store created by migrations at revision {rev}: {db_path}")

        seeds = read_seeds(world.seeds_path())
        opener = _opener(sandbox.proxy_url, sandbox.ca_path)
        probes = [_dns_probe(sandbox.resolvers[0], urlsplit(u).hostname or "") for u in seeds[:6]]
        probes += [_http_probe(opener, u) for u in seeds[:6]]
        registered = [d for d in world.domains.values() if d.registration and not d.faults.rdap]
        probes += [_rdap_probe(opener, d.name) for d in registered[:3]]

        table = Table(title="the world answers through \\[network] proxy and resolvers")
        for col in ("check", "target", "", "answer"):
            table.add_column(col, overflow="fold")
        for p in probes:
            table.add_row(p.what, escape(p.target), "[green]ok[/]" if p.ok else "[red]FAILED[/]", escape(p.detail))
        console.print(table)

        console.rule("[bold]discovery crawl from the world's seeds")
        config = load_config(config_path, env={})
        result = run_crawl(config, CrawlRequest(seeds_file=str(world.seeds_path()), progress=console.is_terminal,
                                                job="demo-discovery", fresh=True))
        print_crawl_summary(config, result, console)
        problems = verify(Path(config.evidence.dir), result.run_id)
        console.print(f"evidence: WARC and screenshots under {config.evidence.dir}, "
                      f"{'verified against the manifest' if not problems else f'{len(problems)} PROBLEMS'}")
        engine = open_engine(storage_url)
        with session_factory(engine)() as session:
            g = grade(session, world)
        engine.dispose()
        console.print(f"graded against the world's answer key: {g.summary()}")

        console.rule("[bold]enrichment: DNS, hosting, registration, TLS")
        from collector.enrichment import run_enrich
        from collector.views import print_enrich_summary, print_site_profiles
        from enrich.run import EnrichRequest
        from storage.queries import latest_verdicts

        enriched = run_enrich(config, EnrichRequest())
        print_enrich_summary(enriched, console)
        engine = open_engine(storage_url)
        with session_factory(engine)() as session:
            flagged = [v.domain for v in latest_verdicts(session, piracy_only=True, limit=40)]
        counts = table_counts(engine)
        engine.dispose()
        print_site_profiles(config, flagged, console)
        _show_redirecting(config, storage_url, console)

        console.rule("[bold]operator networks (shared identifiers)")
        from collector.views import print_network
        from storage.clusters import compute_clusters, network_of

        engine = open_engine(storage_url)
        with session_factory(engine)() as session:
            clusters = compute_clusters(session)
            biggest = network_of(session, max(clusters, key=len)[0]) if clusters else None
        engine.dispose()
        console.print(f"{len(clusters)} operator network(s) of 2+ sites")
        if biggest:
            print_network(biggest, console)
            from rich.markdown import Markdown

            from collector.writers.markdown import to_markdown
            from storage.takedown import takedown_packet

            console.rule(f"[bold]takedown packet: {escape(biggest['domain'])} (isop takedown DOMAIN)")
            engine = open_engine(storage_url)
            with session_factory(engine)() as session:
                packet = takedown_packet(session, biggest["domain"], max_pages=3)
            engine.dispose()
            console.print(Markdown(to_markdown(packet)))
        console.rule("[bold]report and partner exports")
        from collector.writers.html_report import render_report
        from collector.writers.misp import write_misp
        from collector.writers.network_html import to_html
        from collector.writers.stix import write_stix
        from storage.export import site_records
        from storage.filters import SiteFilter
        from storage.report_data import report_data
        from storage.types import utcnow

        engine = open_engine(storage_url)
        with session_factory(engine)() as session:
            report_path = DEMO_DIR / "report.html"
            report_path.write_text(render_report(report_data(session), generated_at=utcnow()), encoding="utf-8")
            written = {}
            for name, writer in (("flagged.stix.json", write_stix), ("flagged.misp.json", write_misp)):
                with open(DEMO_DIR / name, "w", encoding="utf-8") as out:
                    written[name] = writer(site_records(session, SiteFilter(piracy=True)), out)
            if biggest:
                (DEMO_DIR / "network.html").write_text(to_html(biggest), encoding="utf-8")
        engine.dispose()
        for name, count in written.items():
            console.print(f"{count} flagged sites exported: {(DEMO_DIR / name).resolve()}")
        if biggest:
            console.print(f"operator network picture: {(DEMO_DIR / 'network.html').resolve()}")
        console.print(f"store holds {sum(counts.values())} rows in {len(counts)} tables: {db_path}")
        console.print("try: isop --config data/demo/isop-sandbox.toml site "
                      f"{escape(biggest['domain']) if biggest else 'DOMAIN'} | changes --since 1d | sites --piracy")
        console.print("to crawl, recheck or enrich this store again later: start the world with "
                      "[bold]isop sandbox serve --config data/demo/isop-sandbox.toml[/] (it rewrites only that "
                      "config's \\[network] ports), then run isop with the same --config in another terminal")
        console.print(f"[bold green]HTML report: {report_path.resolve()}[/]")
    console.print(f"sandbox stopped. demo took {time.monotonic() - started:.1f}s")
    failed = [p for p in probes if not p.ok]
    return 1 if failed or not probes or result.outcome != "ok" or problems or enriched.outcome != "ok" else 0
