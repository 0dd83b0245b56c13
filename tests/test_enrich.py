"""Enrichment runs against the sandbox world, into SQLite and PostgreSQL stores."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collector.config import load_config
from collector.sandbox.world import load_world
from enrich.run import EnrichRequest, run_enrichment
from storage.db import open_engine, session_factory
from storage.migrate import upgrade
from storage.models import (
    DnsObservation,
    DomainRegistration,
    IpAddress,
    IpNetwork,
    Lookup,
    Network,
    Site,
)
from storage.sites import record_hosts

WORLD = load_world()
# across TLDs with RDAP (com net xyz cc tv org) and without (kr to ru io me se), a
# Cloudflare-fronted site, a reserved address, an RDAP 429, malformed WHOIS, SERVFAIL
SAMPLE = ["torrentwang.net", "fmovix.xyz", "cuevanahd.io", "jusoya.kr", "baytorrents.to", "torrentbaza.ru",
          "tvnamu.me", "aurelle-sale.cc", "iptvbrasuca.tv", "lumenos.org", "cinemadispatch.com", "vidtape.xyz",
          "ddalgitoon100.com", "ddalgitoon101.com", "popunderz.com", "baytorrents.se"]


def enrich(sandbox, url: str, tmp: Path, domains=SAMPLE, only=("dns", "hosting", "whois", "tls"), stale=None):
    (tmp / "isop.toml").write_text(sandbox.config_text(url), encoding="utf-8")
    config = load_config(tmp / "isop.toml", env={})
    engine = open_engine(url)
    Session = session_factory(engine)
    with Session() as s, s.begin():
        record_hosts(s, list(domains), datetime.now(UTC))
    result = asyncio.run(run_enrichment(config, EnrichRequest(domains=list(domains), only=only, stale_after=stale),
                                        Session, None))
    return result, engine, Session


@pytest.fixture
def enriched(sandbox, store_url, tmp_path):
    upgrade(store_url)
    result, engine, Session = enrich(sandbox, store_url, tmp_path)
    yield result, Session, store_url, tmp_path
    engine.dispose()


def latest_registration(session, domain):
    site = session.scalar(select(Site).where(Site.domain == domain))
    return session.scalars(select(DomainRegistration).where(DomainRegistration.site_id == site.id)
                           .order_by(DomainRegistration.last_seen.desc())).first()


def test_registration_matches_the_world_across_tlds(enriched):
    result, Session, _, _ = enriched
    with Session() as s:
        for name in SAMPLE:
            d = WORLD.domains[name]
            if not d.registration or d.faults.whois:
                continue
            reg = latest_registration(s, name)
            assert reg is not None, name
            if d.tld == "to":  # Tonic's WHOIS publishes name servers only, as the real one does
                assert set(reg.nameservers) == set(d.registration.nameservers), name
                continue
            if d.tld == "ru":  # TCI's WHOIS names the registrar by its handle (REGRU-RU)
                assert reg.registrar and reg.registrar.endswith("-RU"), name
            else:
                assert reg.registrar == d.registration.registrar, name
            assert reg.created is not None and reg.created.date() == d.registration.created.date(), name
            assert reg.expires is not None and reg.expires.date() == d.registration.expires.date(), name
            assert reg.source == ("whois" if name.rsplit(".", 1)[1] in ("kr", "to", "ru", "io", "me", "se") else "rdap"), \
                (name, reg.source)
            assert reg.raw


def test_hosting_abuse_contacts_cdn_and_reserved(enriched):
    _, Session, _, _ = enriched
    nets = {str(n.cidr): n for n in WORLD.networks}
    with Session() as s:
        rows = s.execute(select(IpAddress.address, Network.cidr, Network.abuse_email, Network.cdn)
                         .join(IpNetwork, IpNetwork.ip_id == IpAddress.id)
                         .join(Network, Network.id == IpNetwork.network_id)).all()
        assert rows
        for address, _cidr, abuse, cdn in rows:
            world_net = next(n for c, n in nets.items() if ipaddress.ip_address(address) in ipaddress.ip_network(c))
            assert abuse == world_net.abuse_email, address
            assert (cdn or None) == (world_net.cdn or None), address
        fronted = {a for a, _, _, cdn in rows if cdn == "Cloudflare"}
        assert any(ip in fronted for ip in WORLD.domains["fmovix.xyz"].records["fmovix.xyz"]["A"])
        reserved = s.execute(select(IpAddress.address, IpAddress.reserved).where(IpAddress.reserved.is_not(None))).all()
        assert ("127.0.0.2", "loopback") in [tuple(r) for r in reserved]
        assert not s.scalar(select(func.count()).select_from(IpNetwork).join(IpAddress, IpAddress.id == IpNetwork.ip_id)
                            .where(IpAddress.address == "127.0.0.2"))


def test_faults_are_recorded_not_fatal(enriched):
    result, Session, _, _ = enriched
    assert result.outcome == "ok"
    with Session() as s:
        outcomes = {(r.service, r.target): r.outcome for r in s.scalars(select(Lookup))}
    assert outcomes[("site:dns", "popunderz.com")] == "servfail"
    assert outcomes[("site:whois", "vidtape.xyz")] == "ok", "the RDAP 429 was waited out"
    assert outcomes[("site:tls", "torrentwang.net")] == "ok"
    assert outcomes[("site:tls", "torrentbaza.ru")] == "error", "served over plain HTTP only: no certificate"
    # its registry's WHOIS answers garbage, but RDAP (asked first for .com) answers
    assert outcomes[("site:whois", "ddalgitoon101.com")] == "ok"
    assert result.sent["rdap/" + "rdap.centralnic.com"] or any(k.startswith("rdap/") for k in result.sent)


def test_one_rdap_query_per_network(enriched):
    result, Session, _, _ = enriched
    with Session() as s:
        networks = s.scalar(select(func.count(func.distinct(Network.cidr))))
    rdap = sum(v for k, v in result.sent.items() if k.startswith("hosting/rdap"))
    assert 0 < rdap <= networks + 1  # +1: the bootstrap redirect of an address Cymru does not know


def test_repeated_enrichment_adds_history_not_duplicates(enriched, sandbox):
    _, Session, url, tmp = enriched
    with Session() as s:
        before = {m.__name__: s.scalar(select(func.count()).select_from(m))
                  for m in (DnsObservation, Network, DomainRegistration, IpAddress)}
        first_seen = s.scalar(select(func.min(DnsObservation.first_seen)))
        last_seen = s.scalar(select(func.max(DnsObservation.last_seen)))
    result, engine, Session2 = enrich(sandbox, url, tmp, only=("dns", "hosting", "whois"), stale=0)
    engine.dispose()
    with Session() as s:
        after = {m.__name__: s.scalar(select(func.count()).select_from(m))
                 for m in (DnsObservation, Network, DomainRegistration, IpAddress)}
        assert after == before, "re-observed facts are not new rows"
        assert s.scalar(select(func.min(DnsObservation.first_seen))) == first_seen
        assert s.scalar(select(func.max(DnsObservation.last_seen))) > last_seen
    assert result.sent.get("hosting/cymru", 0) == 0, "fresh networks are reused, not looked up again"


def test_due_sites_and_phases_kept(sandbox, tmp_path):
    url = f"sqlite:///{tmp_path / 'isop.db'}"
    upgrade(url)
    result, engine, Session = enrich(sandbox, url, tmp_path, domains=["torrentwang.net"], only=("dns",))
    from storage.enrichment import sites_due

    with Session() as s:
        now = datetime.now(UTC)
        named = sites_due(s, ["whois"], now, ["torrentwang.net"])
        assert [d for _, d in named] == ["torrentwang.net"]
        assert sites_due(s, ["dns"], datetime(2000, 1, 1, tzinfo=UTC)) == [], \
            "only crawled sites are due, and dns was just done"
    engine.dispose()


def test_cli_usage_errors(tmp_path, guarded_env):
    for args in (["enrich", "--only", "dns,bogus"], ["enrich", "--stale-after", "7x"], ["enrich", "--domain", "a..b"]):
        r = subprocess.run([sys.executable, "-m", "collector.cli", *args], env=guarded_env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_refresh_bootstrap_through_the_proxy(sandbox, tmp_path, guarded_env):
    (tmp_path / "isop.toml").write_text(sandbox.config_text(f"sqlite:///{tmp_path / 'isop.db'}"), encoding="utf-8")
    out = tmp_path / "dns.json"
    r = subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(tmp_path / "isop.toml"),
                        "refresh", "bootstrap", "--output", str(out)], env=guarded_env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    from enrich.rdap_client import Bootstrap

    assert Bootstrap.load(out).base_urls("example.com")


def test_enrich_command_end_to_end(sandbox, tmp_path, guarded_env):
    url = f"sqlite:///{tmp_path / 'isop.db'}"
    (tmp_path / "isop.toml").write_text(sandbox.config_text(url), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(tmp_path / "isop.toml"), "enrich",
                        "--domain", "torrentwang.net", "--domain", "jusoya.kr", "--no-progress"],
                       env=guarded_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "enrich run" in r.stdout and "queries sent" in r.stdout
    engine = open_engine(url)
    with session_factory(engine)() as s:
        assert {d for (d,) in s.execute(select(Site.domain).join(DomainRegistration,
                                                                  DomainRegistration.site_id == Site.id))} \
            == {"torrentwang.net", "jusoya.kr"}
    engine.dispose()


def test_hostile_certificate_names_are_skipped_not_fatal(store_url):
    from storage.enrichment import record_certificate

    upgrade(store_url)
    engine = open_engine(store_url)
    now = datetime.now(UTC)
    with session_factory(engine)() as s, s.begin():
        record_hosts(s, ["known-site.com"], now)
        leads = record_certificate(s, "known-site.com", {
            "sha256": "ab" * 32, "sans": ["known-site.com", "www.known-site.com", "*.wild.net", "bad..name",
                                          "x" * 300 + ".com", "203.0.113.9", "2001:db8::1", "mirror-site.org",
                                          "no-suffix.invalidtld", 42]}, now)
    assert leads == ["mirror-site.org"]
    with session_factory(engine)() as s:
        assert s.scalar(select(Site.id).where(Site.domain == "mirror-site.org")) is not None
    engine.dispose()
