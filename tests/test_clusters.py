"""Operator networks: links from shared identifiers, clusters, stable cluster keys.

Every test runs on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers.cluster_store import T0, sight
from sqlalchemy import select

from storage.clusters import (
    MAX_SITES_PER_IDENTIFIER,
    compute_clusters,
    identifier_weight,
    network_of,
    recompute,
    site_links,
    store_clusters,
)
from storage.db import session_factory
from storage.enrichment import (
    link_ip_network,
    record_certificate,
    record_dns,
    record_ips,
    record_network,
    record_registration,
)
from storage.models import Cluster, ClusterMember, Site
from storage.sites import record_hosts


def cdn_ip(s, address: str, cdn: str | None) -> None:
    ip_id = record_ips(s, {address: None}, T0)[address]
    net = record_network(s, {"cidr": address.rsplit(".", 1)[0] + ".0/24", "asn": 13335, "org": "Net", "cdn": cdn},
                         None, T0)
    link_ip_network(s, ip_id, net, T0)


def build(store) -> None:
    with session_factory(store)() as s, s.begin():
        # One operator: a GA id and a BTC wallet on both sites.
        for d in ("alpha.com", "beta.net"):
            sight(s, d, "ga", "UA-111111")
            sight(s, d, "btc", "bc1qoperatorwallet")
        # Cloudflare customers: the same anycast IP, nothing else.
        record_hosts(s, ["www.gamma.org", "delta.org"], T0)
        cdn_ip(s, "104.16.1.1", "cloudflare")
        record_dns(s, [("www.gamma.org", "A", "104.16.1.1", 300), ("delta.org", "A", "104.16.1.1", 300)], T0)
        # Thirty sites on a popular nameserver pair (DNS for some, registration for others).
        pop = [f"pop{i}.com" for i in range(30)]
        ids = record_hosts(s, pop, T0)
        record_dns(s, [(d, "NS", ns, 3600) for d in pop[:20] for ns in ("adam.ns.cloudflare.com.",
                                                                          "lola.ns.cloudflare.com.")], T0)
        for d in pop[20:]:
            record_registration(s, ids[d][0], "rdap", None,
                                {"nameservers": ["LOLA.NS.CLOUDFLARE.COM", "ADAM.NS.CLOUDFLARE.COM"]}, "{}", T0)
        # The same ad network and video host: unrelated sites.
        for d in ("epsilon.com", "zeta.com"):
            sight(s, d, "ad_network", "popads.net")
            sight(s, d, "video_host", "streamtape.com")
        # A GA id on forty sites (a theme's default): too common.
        for i in range(40):
            sight(s, f"common{i}.net", "ga", "UA-000000")
        # A dedicated IP alone links weakly; with the same favicon the two sites join.
        record_hosts(s, ["eta.com", "iota.com", "kappa.com", "lambda.com"], T0)
        cdn_ip(s, "185.212.41.7", None)
        record_dns(s, [(d, "A", "185.212.41.7", 300) for d in ("eta.com", "iota.com")], T0)
        record_dns(s, [(d, "A", "185.212.42.9", 300) for d in ("kappa.com", "lambda.com")], T0)
        sight(s, "kappa.com", "favicon_mmh3", "-1234567")
        sight(s, "lambda.com", "favicon_mmh3", "-1234567")
        # One certificate naming two sites, presented by both.
        record_certificate(s, "mu.com", {"sha256": "ab" * 32, "sans": ["mu.com", "*.nu.com", "nu.com"]}, T0)
        record_certificate(s, "www.nu.com", {"sha256": "ab" * 32, "sans": ["mu.com", "*.nu.com", "nu.com"]}, T0)


def clusters_of(store, threshold: float = 0.6) -> list[list[str]]:
    with session_factory(store)() as s:
        return compute_clusters(s, threshold)


def test_weights_fall_with_sharing_and_stop_at_the_limit():
    assert identifier_weight("btc", 2) == 1.0
    assert 0.6 < identifier_weight("btc", 10) < 1.0
    assert identifier_weight("btc", MAX_SITES_PER_IDENTIFIER + 1) == 0.0
    assert identifier_weight("btc", 1) == 0.0
    assert identifier_weight("video_host", 2) == identifier_weight("ad_network", 2) == 0.0
    assert identifier_weight("ip", 2) < 0.6 and identifier_weight("nameservers", 2) < 0.6
    assert identifier_weight("nameservers", 2) > identifier_weight("nameservers", 5)


def test_specific_identifiers_join_shared_infrastructure_does_not(store):
    build(store)
    assert clusters_of(store) == [["alpha.com", "beta.net"], ["kappa.com", "lambda.com"], ["mu.com", "nu.com"]]


def test_links_carry_their_identifiers(store):
    build(store)
    with session_factory(store)() as s:
        links = {(lk.a, lk.b): lk for lk in site_links(s)}
    op = links[("alpha.com", "beta.net")]
    assert {(i.type, i.value) for i in op.identifiers} == {("ga", "UA-111111"), ("btc", "bc1qoperatorwallet")}
    assert op.raw == pytest.approx(2.0) and op.strength == 1.0
    weak = links[("eta.com", "iota.com")]
    assert [(i.type, i.value) for i in weak.identifiers] == [("ip", "185.212.41.7")]
    assert weak.strength == pytest.approx(0.5)
    both = links[("kappa.com", "lambda.com")]
    assert {i.type for i in both.identifiers} == {"ip", "favicon_mmh3"} and both.strength == 1.0
    assert {i.type for i in links[("mu.com", "nu.com")].identifiers} == {"cert"}
    # Nothing from the CDN address, the popular nameservers, the ad network or the common GA id.
    linked = {d for pair in links for d in pair}
    assert not linked & {"www.gamma.org", "gamma.org", "delta.org", "epsilon.com", "zeta.com"}
    assert not any(d.startswith(("pop", "common")) for d in linked)


def test_addresses_in_cdn_ranges_never_link_sites_even_without_a_network_lookup(store):
    """IPv4 and IPv6 edges of a CDN's published ranges, never looked up (or looked up and
    failed): no link, in the whole-store computation and around one site alike."""
    with session_factory(store)() as s, s.begin():
        record_hosts(s, ["rho.com", "sigma.com", "tau.com", "upsilon.com"], T0)
        record_dns(s, [(d, "AAAA", "2606:4700:3030::6815:7faa", 300) for d in ("rho.com", "sigma.com")], T0)
        record_dns(s, [(d, "A", "104.21.127.170", 300) for d in ("rho.com", "sigma.com")], T0)
        # the control: a dedicated IPv6 address outside every CDN range links them weakly
        record_dns(s, [(d, "AAAA", "2a01:4f8:c0c:1234::1", 300) for d in ("tau.com", "upsilon.com")], T0)
    with session_factory(store)() as s:
        links = {(lk.a, lk.b): lk for lk in site_links(s)}
        around = network_of(s, "rho.com")
    assert ("rho.com", "sigma.com") not in links
    assert [(i.type, i.value) for i in links[("tau.com", "upsilon.com")].identifiers] == \
        [("ip", "2a01:4f8:c0c:1234::1")]
    assert around is None or "sigma.com" not in {m for m in getattr(around, "members", ())}


def test_few_sites_on_the_same_nameservers_link_weakly_and_never_join(store):
    """Issue 12 changed this test: a nameserver set is infrastructure, so it links weakly
    (shown as a reason) but never joins two sites, at any threshold (it used to at 0.4)."""
    with session_factory(store)() as s, s.begin():
        record_hosts(s, ["xi.com", "omicron.com"], T0)
        record_dns(s, [(d, "NS", ns, 3600) for d in ("xi.com", "omicron.com")
                       for ns in ("ns1.operator-dns.net.", "ns2.operator-dns.net.")], T0)
    with session_factory(store)() as s:
        (link,) = site_links(s)
    assert (link.a, link.b) == ("omicron.com", "xi.com")
    assert [(i.type, i.value) for i in link.identifiers] == [("nameservers", "ns1.operator-dns.net,ns2.operator-dns.net")]
    assert link.identifiers[0].kind == "infrastructure" and not link.joins(0.4)
    assert clusters_of(store) == [] and clusters_of(store, threshold=0.4) == []


def test_cluster_keys_are_stable_across_recomputation(store):
    build(store)
    Session = session_factory(store)
    with Session() as s, s.begin():
        first = recompute(s, T0)
    assert set(first) == {"alpha.com", "beta.net", "kappa.com", "lambda.com", "mu.com", "nu.com"}
    key = first["alpha.com"]
    assert key.startswith("op-") and first["beta.net"] == key and len(set(first.values())) == 3

    # A third site of the operator shows up (the wallet only) and the clusters are recomputed.
    with Session() as s, s.begin():
        sight(s, "theta.io", "btc", "bc1qoperatorwallet", T0 + timedelta(days=1))
    with Session() as s, s.begin():
        second = recompute(s, T0 + timedelta(days=1))
    assert second["theta.io"] == second["alpha.com"] == key
    assert {d: k for d, k in second.items() if d != "theta.io"} == first

    with Session() as s, s.begin():
        third = store_clusters(s, [["alpha.com", "beta.net", "theta.io"]], T0 + timedelta(days=2))
    assert third == {"alpha.com": key, "beta.net": key, "theta.io": key}
    with Session() as s:
        rows = s.execute(select(Site.domain, ClusterMember.first_seen, ClusterMember.last_seen, ClusterMember.strength)
                         .join(ClusterMember, ClusterMember.site_id == Site.id)
                         .join(Cluster, Cluster.id == ClusterMember.cluster_id).where(Cluster.key == key)
                         .order_by(Site.domain)).all()
        assert s.scalar(select(Cluster.updated_at).where(Cluster.key == key)) == T0 + timedelta(days=2)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("alpha.com", T0, T0 + timedelta(days=2)),
        ("beta.net", T0, T0 + timedelta(days=2)),
        ("theta.io", T0 + timedelta(days=1), T0 + timedelta(days=2)),
    ]
    # Strength: the member's strongest link inside the cluster (theta.io: a wallet on 3 sites,
    # which since issue 12 keeps its full weight up to [clusters] uncorroborated_sites).
    assert [r[3] for r in rows] == [1.0, 1.0, 1.0]


def test_a_split_cluster_keeps_its_key_for_the_larger_part(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        record_hosts(s, ["a1.com", "a2.com", "a3.com", "b1.com", "b2.com"], T0)
        before = store_clusters(s, [["a1.com", "a2.com", "a3.com", "b1.com", "b2.com"]], T0, links=[])
    with Session() as s, s.begin():
        after = store_clusters(s, [["b1.com", "b2.com"], ["a1.com", "a2.com", "a3.com"]], T0 + timedelta(hours=1),
                               links=[])
    assert after["a1.com"] == before["a1.com"]
    assert after["b1.com"] == after["b2.com"] != before["a1.com"]
    assert after["b1.com"].startswith("op-")


def test_network_of_shows_the_cluster_with_its_links(store):
    build(store)
    with session_factory(store)() as s, s.begin():
        keys = recompute(s, T0)
    with session_factory(store)() as s:
        net = network_of(s, "www.alpha.com")
        lone = network_of(s, "eta.com")
    assert net["domain"] == "alpha.com" and net["cluster"] == keys["alpha.com"]
    assert net["sites"] == ["alpha.com", "beta.net"]
    (link,) = net["links"]
    assert (link["a"], link["b"], link["strength"], link["joins"]) == ("alpha.com", "beta.net", 1.0, True)
    assert {(i["type"], i["value"]) for i in link["identifiers"]} == {("ga", "UA-111111"),
                                                                        ("btc", "bc1qoperatorwallet")}
    assert lone["sites"] == ["eta.com"] and lone["cluster"] is None
    assert [(lk["b"], lk["joins"]) for lk in lone["links"]] == [("iota.com", False)]


def test_network_of_grows_the_same_networks_as_the_whole_store_computation(store):
    """network_of gathers identifiers around one site; it must find what the global pass finds."""
    build(store)
    with session_factory(store)() as s:
        components = {d: c for c in compute_clusters(s) for d in c}
        links = site_links(s)
        for domain in s.scalars(select(Site.domain)):
            net = network_of(s, domain)
            assert net["sites"] == components.get(domain, [domain]), domain
            own = {(lk.a, lk.b, round(lk.raw, 4)) for lk in links if domain in (lk.a, lk.b)}
            assert {(lk["a"], lk["b"], lk["raw"]) for lk in net["links"] if domain in (lk["a"], lk["b"])} == own
            assert net["truncated"] is False
