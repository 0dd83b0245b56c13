"""enrich.network_cache: networks already known answer for their addresses, by age."""

from __future__ import annotations

import datetime as dt

from enrich.network_cache import NetworkCache, cache_network
from enrich.network_facts import NetworkFacts


def _facts(ip: str, cidr: str, asn_cidr: str | None = None, asn: int = 64500) -> NetworkFacts:
    return NetworkFacts(ip=ip, asn=asn, asn_cidr=asn_cidr or cidr, cidr=cidr, org="Example Hosting",
                        asn_name="EXAMPLE-AS")


def test_network_cache_seeding_and_age() -> None:
    now = [1_000_000.0]
    cache = NetworkCache(dt.timedelta(days=1), clock=lambda: now[0])
    assert cache.add(_facts("198.100.1.1", "198.100.0.0/16"), fetched_at=now[0] - 3600)
    assert cache.add(_facts("198.100.7.1", "198.100.0.0/16", "198.100.4.0/22", asn=64501),
                     fetched_at=now[0] - 60)
    assert not cache.add(NetworkFacts(ip="198.100.1.1"))
    assert len(cache) == 2
    assert cache.get("198.100.5.5").asn == 64501  # the most specific network wins
    assert cache.get("198.100.200.1").asn == 64500
    assert cache.get("198.101.0.1") is None and cache.get("nonsense") is None
    now[0] += 86400 - 100  # the /22 is still fresh, the /16 is not
    assert cache.get("198.100.5.5").asn == 64501
    assert cache.get("198.100.200.1") is None
    # naive datetimes are UTC, as the store keeps them
    stored = dt.datetime.fromtimestamp(now[0], dt.UTC).replace(tzinfo=None)
    cache.add(_facts("2001:4860::1", "2001:4860::/32"), fetched_at=stored)
    assert cache.get("2001:4860:1::99").cidr == "2001:4860::/32"


def test_network_cache_seeds_from_stored_rows() -> None:
    class Row:  # the attributes of storage.models.Network
        cidr, start_address, end_address, asn = "185.178.208.0/22", "185.178.208.0", "185.178.211.255", 57724
        name, handle, org, country, rir = "DDOS-GUARD", "185.178.208.0 - 185.178.211.255", "DDOS-GUARD LTD", "RU", "ripencc"
        abuse_email, cdn, raw = "abuse@ddos-guard.net", "DDoS-Guard", {"handle": "x"}
        last_seen = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    cache = NetworkCache(3600)
    assert cache.add_stored(Row())
    f = cache.get("185.178.209.1")
    assert f is not None and f.asn == 57724 and f.org == "DDOS-GUARD LTD" and f.cidr == Row.cidr
    Row.cidr = "garbage"
    assert not cache.add_stored(Row())
    old = NetworkCache(3600)
    Row.cidr, Row.last_seen = "185.178.208.0/22", dt.datetime(2020, 1, 1)
    assert old.add_stored(Row()) and old.get("185.178.209.1") is None


def test_cache_network_is_the_more_specific_block() -> None:
    assert str(cache_network(_facts("10.1.2.3", "10.0.0.0/8", "10.1.0.0/16"))) == "10.1.0.0/16"
    assert str(cache_network(_facts("10.1.2.3", "10.1.2.0/24", "10.0.0.0/8"))) == "10.1.2.0/24"
    assert cache_network(_facts("10.9.9.9", "10.1.0.0/16")) is None  # the address is elsewhere
    assert cache_network(NetworkFacts(ip="", cidr="10.0.0.0/8", asn_cidr="11.0.0.0/8")) is None
