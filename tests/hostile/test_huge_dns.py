"""A site with an A record set of 1,500 addresses (issue 11): every address is stored from
DNS (the answer comes over TCP after a truncated UDP one), but only ``[enrich]
max_addresses_per_site`` of them are looked up at Team Cymru and RDAP, and what was
skipped is recorded; a lookup batch is capped as well."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from helpers.extra_world import extended_world
from sqlalchemy import func, select

from collector.config import load_config
from enrich.run import EnrichRequest, plan_hosting, run_enrichment
from storage.db import open_engine, session_factory
from storage.migrate import upgrade
from storage.models import DnsObservation, Lookup
from storage.sites import record_hosts

ADDRESSES = [f"45.{10 + i // 200}.{i % 200}.7" for i in range(1500)]
"""1,500 addresses in 8 /16s that no world network holds: each would be a lookup of its own."""


@pytest.fixture(scope="module")
def huge_world(tmp_path_factory):
    records = ", ".join(f'"{ip}"' for ip in ADDRESSES)
    root = extended_world(tmp_path_factory.mktemp("huge-dns") / "w", {"hugeset.net": f'''
[registration]
registrar = "NameCheap, Inc."
created = "2024-01-01T00:00:00Z"
updated = "2025-01-01T00:00:00Z"
expires = "2027-01-01T00:00:00Z"
nameservers = ["dns1.registrar-servers.com", "dns2.registrar-servers.com"]

[dns]
"@" = {{ A = [{records}], NS = ["dns1.registrar-servers.com.", "dns2.registrar-servers.com."] }}
'''})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("huge-dns-state")) as running:
        yield running


def test_a_huge_address_set_is_capped_and_the_rest_recorded(huge_world, tmp_path):
    url = f"sqlite:///{tmp_path / 'isop.db'}"
    upgrade(url)
    (tmp_path / "isop.toml").write_text(huge_world.config_text(url), encoding="utf-8")
    config = load_config(tmp_path / "isop.toml", env={})
    per_site = config.enrich.max_addresses_per_site
    assert per_site == 16
    engine = open_engine(url)
    Session = session_factory(engine)
    with Session() as s, s.begin():
        record_hosts(s, ["hugeset.net"], datetime.now(UTC))
    result = asyncio.run(run_enrichment(config, EnrichRequest(domains=["hugeset.net"], only=("dns", "hosting")),
                                        Session, None))
    with Session() as s:
        stored = s.scalar(select(func.count()).select_from(DnsObservation)
                          .where(DnsObservation.name == "hugeset.net", DnsObservation.rtype == "A"))
        rows = s.execute(select(Lookup.service, Lookup.outcome, Lookup.detail)
                         .where(Lookup.target == "hugeset.net")).all()
    engine.dispose()
    assert stored == len(ADDRESSES), "DNS keeps every address (a truncated answer is asked again over TCP)"
    cymru = result.sent["hosting/cymru"]
    rdap = sum(v for k, v in result.sent.items() if k.startswith("hosting/rdap"))
    assert 0 < cymru <= 3 * per_site, result.sent
    assert rdap <= 3 * per_site, result.sent
    assert result.counts["hosting/skipped_addresses"] == len(ADDRESSES) - per_site
    skipped = [r for r in rows if r.service == "hosting" and r.outcome == "skipped"]
    assert len(skipped) == 1 and f"{len(ADDRESSES) - per_site} of {len(ADDRESSES)}" in skipped[0].detail, rows
    marker = [r for r in rows if r.service == "site:hosting"]
    assert marker and f"{len(ADDRESSES) - per_site} addresses skipped" in (marker[0].detail or ""), rows


def test_batches_run_one_after_another_in_the_same_run(huge_world, tmp_path):
    """A small hosting_batch bounds each batch, not the run: every due site gets hosting."""
    url = f"sqlite:///{tmp_path / 'isop.db'}"
    upgrade(url)
    (tmp_path / "isop.toml").write_text(huge_world.config_text(url), encoding="utf-8")
    config = load_config(tmp_path / "isop.toml", env={"ISOP_ENRICH_HOSTING_BATCH": "8"})
    assert config.enrich.hosting_batch == 8
    domains = ["hugeset.net", "fmovix.xyz", "rlsbay.net"]
    engine = open_engine(url)
    Session = session_factory(engine)
    with Session() as s, s.begin():
        record_hosts(s, domains, datetime.now(UTC))
    asyncio.run(run_enrichment(config, EnrichRequest(domains=domains, only=("dns", "hosting")), Session, None))
    with Session() as s:
        marked = set(s.scalars(select(Lookup.target).where(Lookup.service == "site:hosting")))
    engine.dispose()
    assert marked == set(domains), marked


def test_a_lookup_batch_is_capped_and_the_sites_left_over_wait_for_the_next_batch():
    sites = {1: {f"10.0.0.{i}" for i in range(40)}, 2: {"192.0.2.1", "192.0.2.2"}, 3: {f"198.51.100.{i}" for i in range(5)}}
    plan = plan_hosting(sites, per_site=4, batch=6)
    assert plan.chosen == {1: ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"], 2: ["192.0.2.1", "192.0.2.2"]}
    assert plan.skipped[1] == 36 and plan.deferred == {3}
    assert sum(len(v) for v in plan.chosen.values()) <= 6
    detail = plan.skipped_detail()
    assert detail[1][:2] == (40, 36) and detail[3][:2] == (5, 5) and "later batch" in detail[3][2]
    alone = plan_hosting({7: {f"10.1.0.{i}" for i in range(40)}}, per_site=30, batch=8)
    assert len(alone.chosen[7]) == 8 and alone.skipped[7] == 32
