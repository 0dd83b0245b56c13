"""Analyst query speed on a large store: sites, a dossier, a network, an export.

    .venv/bin/python bench/query.py [--sites 100000] [--pages-per-site 10] [--postgres URL] [--skip-sqlite]

Fills a fresh store (SQLite in a temporary folder, and a throw-away database on the local
PostgreSQL server) with synthetic data shaped like a long-running collector's: sites with
two hosts, pages, verdicts (some re-classified), statuses, DNS history (a third of the sites
moved IP), hosting networks, registrations, certificates, indicators shared within operator
groups of 2-8 sites, and the stored clusters. Then it times, warm (best of 5):

- ``isop sites``: the top 200 flagged sites; the same filtered by hosting country;
- ``isop site``: the dossier of an operator's site;
- ``isop network``: the network around that site;
- ``isop export``: the JSON export of every flagged site, with the peak of Python memory
  (tracemalloc) after 10% of the sites and at the end, to show it streams.

Prints one table per store. The store is dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from storage.db import normalise_url, open_engine, session_factory
from storage.migrate import upgrade
from storage.models import (
    Asn,
    Certificate,
    Classification,
    Cluster,
    ClusterMember,
    CrawlRun,
    DnsObservation,
    DomainRegistration,
    Host,
    HostCertificate,
    Indicator,
    IndicatorSighting,
    IpAddress,
    IpNetwork,
    Network,
    Page,
    Site,
    SiteStatusObservation,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CATEGORIES = ["streaming", "torrent", "ddl", "manga", "iptv", "warez", "ebook", "music", "counterfeit"]
COUNTRIES = ["US", "NL", "RU", "DE", "PA", "SC", "HK", "VN", "BR", "FR", "ID", "MD", "BG", "UA", "SG"]
BATCH = 20_000


def _sha(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _write(conn, model, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(model), rows[i:i + BATCH])


def fill(url: str, sites: int, pages_per_site: int, seed: int = 7) -> dict:
    """Write the synthetic store; returns facts the timings use (a sample operator site)."""
    rnd = random.Random(seed)
    engine = open_engine(url)
    t = T0
    with engine.begin() as conn:
        conn.execute(insert(CrawlRun), [{"id": 1, "kind": "discovery", "started_at": t, "outcome": "ok",
                                         "arguments": {}, "counts": {}}])
        domains = [f"site{i:06d}.{rnd.choice(['com', 'net', 'to', 'cc', 'xyz', 'ru', 'io'])}" for i in range(sites)]
        _write(conn, Site, [{"id": i + 1, "domain": d, "suffix": d.rsplit(".", 1)[1], "first_run_id": 1,
                             "first_seen": t + timedelta(minutes=i % 50_000), "last_seen": t + timedelta(days=30)}
                            for i, d in enumerate(domains)])
        hosts = []
        for i, d in enumerate(domains):
            hosts += [{"id": 2 * i + 1, "fqdn": d, "site_id": i + 1, "first_seen": t, "last_seen": t},
                      {"id": 2 * i + 2, "fqdn": "www." + d, "site_id": i + 1, "first_seen": t, "last_seen": t}]
        _write(conn, Host, hosts)
        del hosts
        page_id = 0
        for start in range(0, sites, 10_000):
            rows = []
            for i in range(start, min(sites, start + 10_000)):
                for p in range(pages_per_site):
                    page_id += 1
                    url_ = f"https://{domains[i]}/{'watch/' if p else ''}{p}"
                    rows.append({"id": page_id, "run_id": 1, "site_id": i + 1, "host_id": 2 * i + 1, "url": url_,
                                 "url_sha256": _sha(url_), "final_url": url_, "status": 200,
                                 "fetched_at": t + timedelta(seconds=page_id), "depth": min(p, 3),
                                 "content_type": "text/html", "content_length": 30_000,
                                 "content_sha256": _sha("c", page_id), "title": f"Watch film {p} free HD",
                                 "rendered": False, "redirects": [],
                                 "warc_file": f"runs/000001/isop-000001-{page_id // 5000:05d}.warc.gz",
                                 "warc_record_id": f"<urn:uuid:{uuid.UUID(int=page_id)}>",
                                 "warc_offset": page_id * 1000, "warc_length": 900,
                                 "screenshot": f"runs/000001/screenshots/{i}.png" if p == 0 else None})
            _write(conn, Page, rows)
        flagged = [rnd.random() < 0.6 for _ in range(sites)]
        classes = []
        for i in range(sites):
            if i % 5 == 0:
                classes.append({"site_id": i + 1, "run_id": 1, "classified_at": t, "is_piracy": False,
                                "category": "none", "score": 0.2, "signals": ["few pages"], "pages_seen": 1,
                                "classifier_version": "bench"})
            classes.append({"site_id": i + 1, "run_id": 1, "classified_at": t + timedelta(days=1),
                            "is_piracy": flagged[i], "category": rnd.choice(CATEGORIES) if flagged[i] else "none",
                            "score": round(rnd.uniform(0.6, 1.0) if flagged[i] else rnd.uniform(0, 0.4), 3),
                            "signals": ["streaming: 3 player embeds (+1.50)", "context: words: 'watch free' (+0.60)"],
                            "pages_seen": pages_per_site, "classifier_version": "bench"})
        _write(conn, Classification, classes)
        del classes
        _write(conn, SiteStatusObservation, [{"site_id": i + 1, "status": "active" if i % 11 else "down",
                                              "detail": "", "first_seen": t, "last_seen": t + timedelta(days=30)}
                                             for i in range(sites)])
        # Hosting: 3,000 networks in 1,000 ASes; about two sites per address.
        n_nets = 3000
        _write(conn, Asn, [{"id": a + 1, "number": 64_000 + a, "name": f"AS-HOSTER-{a}",
                            "country": COUNTRIES[a % len(COUNTRIES)], "fingerprint": _sha("asn", a),
                            "first_seen": t, "last_seen": t} for a in range(1000)])
        _write(conn, Network, [{"id": n + 1, "cidr": f"{10 + n // 250}.{n % 250}.0.0/16", "asn": 64_000 + n % 1000,
                                "org": f"Hoster {n % 1000} Ltd", "country": COUNTRIES[n % len(COUNTRIES)],
                                "abuse_email": f"abuse@hoster{n % 1000}.example", "cdn": "cloudflare" if n < 30 else None,
                                "fingerprint": _sha("net", n), "first_seen": t, "last_seen": t} for n in range(n_nets)])
        n_ips = sites // 2 + sites // 6
        ips = [f"{10 + (k % n_nets) // 250}.{(k % n_nets) % 250}.{(k // n_nets) % 250}.{k // (n_nets * 250) + 1}"
               for k in range(n_ips)]
        _write(conn, IpAddress, [{"id": k + 1, "address": a, "version": 4, "first_seen": t, "last_seen": t}
                                 for k, a in enumerate(ips)])
        _write(conn, IpNetwork, [{"ip_id": k + 1, "network_id": k % n_nets + 1, "first_seen": t, "last_seen": t}
                                 for k in range(n_ips)])
        dns = []
        for i, d in enumerate(domains):
            now = ips[i // 2]
            if i % 3 == 0:  # moved: an older answer, then the current one
                dns.append({"name": d, "rtype": "A", "value": ips[sites // 2 + (i // 6) % max(1, sites // 6)], "ttl": 300,
                            "first_seen": t, "last_seen": t + timedelta(days=5)})
            dns.append({"name": d, "rtype": "A", "value": now, "ttl": 300, "first_seen": t + timedelta(days=6),
                        "last_seen": t + timedelta(days=30)})
            dns.append({"name": "www." + d, "rtype": "A", "value": now, "ttl": 300, "first_seen": t,
                        "last_seen": t + timedelta(days=30)})
            pair = i % 4000
            for ns in (f"ns1.dns{pair}.example", f"ns2.dns{pair}.example"):
                dns.append({"name": d, "rtype": "NS", "value": ns, "ttl": 3600, "first_seen": t,
                            "last_seen": t + timedelta(days=30)})
        _write(conn, DnsObservation, dns)
        del dns
        _write(conn, DomainRegistration, [{
            "site_id": i + 1, "source": "rdap", "server": "rdap.example", "registrar": f"Registrar {i % 300} LLC",
            "created": t - timedelta(days=400 + i % 900), "expires": t + timedelta(days=200),
            "nameservers": [f"ns1.dns{i % 4000}.example", f"ns2.dns{i % 4000}.example"], "statuses": [],
            "registrant_country": COUNTRIES[i % len(COUNTRIES)], "abuse_email": f"abuse@registrar{i % 300}.example",
            "raw": "{}", "fingerprint": _sha("reg", i), "first_seen": t, "last_seen": t + timedelta(days=30)}
            for i in range(sites)])
        # Certificates: one per site on the apex host.
        _write(conn, Certificate, [{"id": i + 1, "sha256": _sha("cert", i), "issuer": "CN=R3, O=Let's Encrypt",
                                    "subject_cn": d, "sans": [d, "www." + d], "not_after": t + timedelta(days=90),
                                    "first_seen": t, "last_seen": t} for i, d in enumerate(domains)])
        _write(conn, HostCertificate, [{"host_id": 2 * i + 1, "certificate_id": i + 1, "first_seen": t,
                                        "last_seen": t} for i in range(sites)])
        # Operators: 40% of the sites in groups of 2-8 sharing a GA id and a wallet; every site
        # also carries a common ad network and a video host.
        indicators, sightings, groups = [], [], []
        ind_id = 0
        i = 0
        while i < int(sites * 0.4):
            size = rnd.randint(2, 8)
            members = list(range(i, min(i + size, sites)))
            groups.append(members)
            for kind, value in (("ga", f"G-OP{len(groups):06d}"), ("btc", f"bc1qop{len(groups):08d}")):
                ind_id += 1
                indicators.append({"id": ind_id, "type": kind, "value": value, "first_seen": t, "last_seen": t})
                sightings += [{"indicator_id": ind_id, "site_id": m + 1, "first_seen": t, "last_seen": t}
                              for m in members]
            i += size
        for kind, value in (("ad_network", "popads.net"), ("video_host", "streamtape.com")):
            ind_id += 1
            indicators.append({"id": ind_id, "type": kind, "value": value, "first_seen": t, "last_seen": t})
            sightings += [{"indicator_id": ind_id, "site_id": m + 1, "first_seen": t, "last_seen": t}
                          for m in range(0, sites, 3)]
        _write(conn, Indicator, indicators)
        _write(conn, IndicatorSighting, sightings)
        _write(conn, Cluster, [{"id": g + 1, "key": f"op-{g:06x}", "created_at": t, "updated_at": t}
                               for g in range(len(groups))])
        _write(conn, ClusterMember, [{"cluster_id": g + 1, "site_id": m + 1, "strength": 1.0, "first_seen": t,
                                      "last_seen": t} for g, members in enumerate(groups) for m in members])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    sample = max(groups[len(groups) // 2:len(groups) // 2 + 50], key=len)
    return {"site": domains[sample[0]], "operator_size": len(sample), "flagged": sum(flagged),
            "pages": page_id, "groups": len(groups)}


def best_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


class _Counter(io.TextIOBase):
    """A sink for the export that checks memory as it goes."""

    def __init__(self, sample_at: int) -> None:
        self.chars = 0
        self.sites = 0
        self.sample_at = sample_at
        self.peak_at_sample: int | None = None

    def write(self, s: str) -> int:
        self.chars += len(s)
        if s.startswith(("\n{", ",\n")):
            self.sites += 1
            if self.sites == self.sample_at:
                self.peak_at_sample = tracemalloc.get_traced_memory()[1]
        return len(s)


def measure(url: str, facts: dict) -> dict[str, str]:
    from collector.writers.json_export import write_json
    from storage.clusters import network_of
    from storage.filters import SiteFilter
    from storage.queries import list_sites

    engine = open_engine(url)
    Session = session_factory(engine)
    out: dict[str, str] = {}
    with Session() as s:
        out["sites --piracy (top 200)"] = f"{best_ms(lambda: list_sites(s, SiteFilter(piracy=True, limit=200))):.0f} ms"
        out["sites --piracy --country RU"] = (
            f"{best_ms(lambda: list_sites(s, SiteFilter(piracy=True, country='RU', limit=200))):.0f} ms")
        try:
            from storage.dossier import dossier
        except ImportError:
            dossier = None
        if dossier is not None:
            out[f"site {facts['site']} (dossier)"] = f"{best_ms(lambda: dossier(s, facts['site'])):.0f} ms"
        net = network_of(s, facts["site"])
        out[f"network {facts['site']} ({len(net['sites'])} sites)"] = (
            f"{best_ms(lambda: network_of(s, facts['site'])):.0f} ms")
    with Session() as s:
        tracemalloc.start()
        sink = _Counter(sample_at=max(1, facts["flagged"] // 10))
        start = time.perf_counter()
        count = write_json(s, sink, filters=SiteFilter(piracy=True))
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out["export --piracy (json)"] = (f"{count} sites in {seconds:.1f} s ({count / seconds:.0f} sites/s), "
                                         f"{sink.chars / 1e6:.0f} MB")
        out["export peak Python memory"] = (f"{(sink.peak_at_sample or 0) / 2**20:.1f} MiB after 10%, "
                                            f"{peak / 2**20:.1f} MiB at the end")
    engine.dispose()
    return out


def run(label: str, url: str, args) -> None:
    upgrade(url)
    start = time.perf_counter()
    facts = fill(url, args.sites, args.pages_per_site)
    print(f"\n{label}: {args.sites} sites, {facts['pages']} pages, {facts['groups']} operator groups "
          f"filled in {time.perf_counter() - start:.0f} s")
    for name, figure in measure(url, facts).items():
        print(f"  {name:<48} {figure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--pages-per-site", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("ISOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="An admin URL on the local server (a throw-away database is made beside it).")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL database (its URL is printed).")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if not args.skip_postgres:
        admin_url = make_url(normalise_url(args.postgres))
        name = f"isop_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        try:
            run("PostgreSQL", url, args)
        finally:
            if args.keep:
                print(f"kept: {url}")
            else:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
