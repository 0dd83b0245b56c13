"""Enrichment throughput: isop's concurrent enrichment against a sequential lookup loop.

    .venv/bin/python bench/enrich.py [--domains 2000] [--networks 300] [--baseline-sample 100]

Generates a sandbox world of ``--domains`` registered domains spread over ``--networks``
networks (every RIR, several TLDs with and without RDAP), serves it with added latency
(30 ms per DNS answer, 150 ms per RDAP and WHOIS answer), then, in one run:

1. ``isop``'s enrichment of every domain (DNS, hosting, registration; TLS is left out: the
   generated domains have no web sites), into a fresh SQLite store;
2. a straightforward sequential loop for the same work: dnspython queries (A, AAAA, NS,
   MX, TXT, SOA), ipwhois ``lookup_rdap`` for each address, and the domain's RDAP record
   (urllib) or WHOIS (a socket through the proxy) — one lookup after another, no cache.
   The loop runs on ``--baseline-sample`` domains and its time is scaled to all of them
   (the loop is sequential: its time is linear in the number of domains).

Prints both times, the ratio (target: isop at least 20x faster), the queries each sent per
service, and RDAP network queries against distinct networks (target: no more).
Everything goes through the sandbox's proxy and DNS on 127.0.0.1; the network guard of the
test suite is installed in this process.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "guard"))

TLDS = ["com", "net", "org", "xyz", "cc", "tv", "io", "to", "ru", "se", "me", "kr"]
RIRS = ["arin", "ripencc", "apnic", "lacnic", "afrinic"]
LATENCY = {"dns": 30, "rdap": 150, "whois": 150, "http": 20}
RATES = {"rdap": 10, "whois": 5}
"""Per-server query rates for the bench (the defaults, 5 and 2, are for unknown servers)."""


def make_world(dest: Path, domains: int, networks: int, seed: int = 7) -> tuple[Path, list[str], int]:
    """A world folder with ``domains`` domains over ``networks`` /24 networks; returns
    (folder, domain names, number of networks actually used)."""
    rng = random.Random(seed)
    src = REPO / "config" / "sandbox" / "default"
    dest.mkdir(parents=True)
    for name in ("registries.toml", "registrars.toml"):
        shutil.copy(src / name, dest / name)
    (dest / "world.toml").write_text(
        '[world]\nname = "bench-enrich"\ndescription = "generated for bench/enrich.py"\n\n[latency]\n'
        + "".join(f"{k} = {v}\n" for k, v in LATENCY.items()), encoding="utf-8")
    (dest / "seeds.txt").write_text("# none\n", encoding="utf-8")
    nets = []
    lines = []
    for i in range(networks):
        cidr = ipaddress.ip_network(f"{45 + i // 250}.{i % 250}.{(i * 7) % 250}.0/24")
        rir = RIRS[i % len(RIRS)]
        asn = 64000 + i if i % 3 else 200000 + i
        nets.append(cidr)
        lines.append(f'[[network]]\ncidr = "{cidr}"\nasn = {asn}\nas_name = "BENCH-AS{asn}"\n'
                     f'org = "Bench Hosting {i} Ltd"\norg_handle = "BH{i}"\ncountry = "{["NL", "US", "SG", "BR", "ZA"][i % 5]}"\n'
                     f'rir = "{rir}"\nallocated = "2015-01-{1 + i % 28:02d}"\nabuse_email = "abuse@bench{i}.example"\n\n')
    (dest / "networks.toml").write_text("".join(lines), encoding="utf-8")
    registrars = ["NameCheap, Inc.", "Tucows Domains Inc.", "GoDaddy.com, LLC"]
    (dest / "domains").mkdir()
    names = []
    used = set()
    for d in range(domains):
        tld = TLDS[d % len(TLDS)]
        name = f"bench{d:05d}.{tld}"
        net = nets[rng.randrange(len(nets))]
        used.add(net)
        ip = net[10 + d % 200]
        reg = registrars[d % len(registrars)]
        (dest / "domains" / f"{name}.toml").write_text(
            f'[registration]\nregistrar = "{reg}"\ncreated = "2021-03-{1 + d % 28:02d}T10:00:00Z"\n'
            f'updated = "2025-03-01T10:00:00Z"\nexpires = "2027-03-{1 + d % 28:02d}T10:00:00Z"\n'
            f'status = ["clientTransferProhibited"]\nnameservers = ["ns1.benchdns.example", "ns2.benchdns.example"]\n'
            f'redacted = true\n\n[dns]\n"@" = {{ A = ["{ip}"], NS = ["ns1.benchdns.example."], '
            f'MX = ["10 mx.{name}."], TXT = ["v=spf1 -all"] }}\n"www" = {{ A = ["{ip}"] }}\n',
            encoding="utf-8")
        names.append(name)
    return dest, names, len(used)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--networks", type=int, default=300)
    parser.add_argument("--baseline-sample", type=int, default=100,
                        help="domains the sequential loop runs on (its time is scaled to all)")
    args = parser.parse_args()
    import netguard

    netguard.install()
    with tempfile.TemporaryDirectory(prefix="isop-bench-enrich-") as tmp:
        world, names, used = make_world(Path(tmp) / "world", args.domains, args.networks)
        print(f"world: {len(names)} domains over {used} networks; latency {LATENCY} ms")
        run(Path(tmp), world, names, used, args.baseline_sample)


def run(tmp: Path, world: Path, names: list[str], used: int, sample: int) -> None:
    import asyncio
    from datetime import UTC, datetime

    from bench.enrich_baseline import sequential
    from collector.config import load_config
    from collector.sandbox.server import ThreadedSandbox
    from enrich.run import EnrichRequest, run_enrichment
    from storage.db import open_engine, session_factory
    from storage.migrate import upgrade
    from storage.sites import record_hosts

    with ThreadedSandbox(world, state_dir=tmp / "sandbox") as sandbox:
        url = f"sqlite:///{tmp / 'isop.db'}"
        (tmp / "isop.toml").write_text(sandbox.config_text(url), encoding="utf-8")
        config = load_config(tmp / "isop.toml", env={"ISOP_ENRICH_RDAP_RATE": str(RATES["rdap"]),
                                                       "ISOP_ENRICH_WHOIS_RATE": str(RATES["whois"])})
        print(f"isop politeness: {RATES['rdap']}/s per RDAP server, {RATES['whois']}/s per WHOIS server, "
              f"{config.enrich.dns_rate:g}/s to the resolvers, {config.enrich.concurrency} lookups in flight")
        upgrade(url)
        engine = open_engine(url)
        Session = session_factory(engine)
        with Session() as s, s.begin():
            record_hosts(s, names, datetime.now(UTC))
        started = time.perf_counter()
        result = asyncio.run(run_enrichment(config, EnrichRequest(domains=names, only=("dns", "hosting", "whois")),
                                            Session, None))
        isop_secs = time.perf_counter() - started
        engine.dispose()
        print(f"isop       : {len(names)} domains in {isop_secs:7.1f} s  ({result.counts.most_common(8)})")
        print("  sent     : " + ", ".join(f"{k} {v}" for k, v in sorted(result.sent.items())))
        rdap_ip = sum(v for k, v in result.sent.items() if k.startswith("hosting/rdap"))
        print(f"  RDAP network queries {rdap_ip} for {used} distinct networks "
              f"({'ok' if rdap_ip <= used else 'MORE THAN NETWORKS'})")
        sample_names = names[:: max(1, len(names) // sample)][:sample]
        started = time.perf_counter()
        sent: Counter = sequential(config, sample_names)
        base_secs = (time.perf_counter() - started) * len(names) / len(sample_names)
        print(f"sequential : {len(sample_names)} domains in {base_secs * len(sample_names) / len(names):7.1f} s, "
              f"scaled to {len(names)}: {base_secs:7.1f} s")
        print("  sent     : " + ", ".join(f"{k} {v}" for k, v in sorted(sent.items())) + f" (for {len(sample_names)})")
        print(f"ratio      : isop {base_secs / isop_secs:.1f}x faster (target >= 20x)")


if __name__ == "__main__":
    main()
