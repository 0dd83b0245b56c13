"""enrich.cymru: Team Cymru's IP-to-ASN service over DNS, against the sandbox world's DNS
server and the scripted one (tests/scripted_dns.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import tomllib
from collections.abc import Awaitable
from pathlib import Path

import pytest
from helpers.scripted_dns import with_scripted_dns

from enrich.cymru import (
    CymruAsn,
    CymruFormatError,
    CymruOrigin,
    cymru_asn,
    cymru_origin,
    cymru_origin_name,
    parse_cymru_asn,
    parse_cymru_origin,
)
from enrich.dns_lookup import DnsAnswer, lookup, make_resolver
from enrich.ratelimit import RateLimiter
from storage.addresses import is_reserved

WORLD = Path(__file__).resolve().parents[1] / "config" / "sandbox" / "default"
TIMEOUT = 2.0


def run(coro: Awaitable) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def resolvers(sandbox) -> list[str]:
    return list(sandbox.resolvers)


# -- Team Cymru ---------------------------------------------------------------------------------


def networks() -> list[dict]:
    return tomllib.loads((WORLD / "networks.toml").read_text())["network"]


def test_cymru_origin_and_asn_match_the_worlds_networks(resolvers: list[str]) -> None:
    nets = networks()
    first_of_asn: dict[int, dict] = {}
    for n in nets:
        first_of_asn.setdefault(n["asn"], n)
    probes = []
    for n in nets:
        network = ipaddress.ip_network(n["cidr"])
        ip = network.network_address + 1
        best = max((m for m in nets if ip in ipaddress.ip_network(m["cidr"])),
                   key=lambda m: ipaddress.ip_network(m["cidr"]).prefixlen)
        probes.append((str(ip), best))
    assert any(ipaddress.ip_address(ip).version == 6 for ip, _ in probes)

    async def main() -> tuple[list, list]:
        resolver = make_resolver(resolvers, TIMEOUT)
        limiter = RateLimiter(16, 0)
        origins = await asyncio.gather(*(cymru_origin(resolver, ip, TIMEOUT, limiter=limiter)
                                         for ip, _ in probes))
        asns = await asyncio.gather(*(cymru_asn(resolver, asn, TIMEOUT, limiter=limiter)
                                      for asn in first_of_asn))
        return origins, asns

    origins, asns = run(main())
    for (ip, net), origin in zip(probes, origins, strict=True):
        first = first_of_asn[net["asn"]]
        assert origin == CymruOrigin(
            asns=(net["asn"],), prefix=str(ipaddress.ip_network(net["cidr"])), country=net["country"],
            rir=net["rir"], allocated=net.get("allocated", ""),
            as_names=(f"{first['as_name']} - {first['org']}, {first['country']}",)), ip
    for (asn, n), got in zip(first_of_asn.items(), asns, strict=True):
        assert isinstance(got, CymruAsn)
        assert (got.asn, got.country, got.rir, got.allocated, got.handle) == (
            asn, n["country"], n["rir"], n.get("allocated", ""), n["as_name"])


def test_cymru_for_world_domains_addresses(resolvers: list[str]) -> None:
    """The addresses sites resolve to are attributed to the world's networks; a reserved
    one (ddalgitoon100.com's 127.0.0.2) is never looked up."""
    async def main() -> tuple:
        resolver = make_resolver(resolvers, TIMEOUT)
        a = await lookup(resolver, "cinemadispatch.com", "A", TIMEOUT)
        aaaa = await lookup(resolver, "cinemadispatch.com", "AAAA", TIMEOUT)
        origins = [await cymru_origin(resolver, ip, TIMEOUT, names=False) for ip in a.values + aaaa.values]
        dead = await lookup(resolver, "ddalgitoon100.com", "A", TIMEOUT)
        unknown = await cymru_origin(resolver, "1.1.1.1", TIMEOUT)
        limiter = RateLimiter(1, 0)
        with pytest.raises(ValueError, match="loopback"):
            await cymru_origin(resolver, dead.values[0], TIMEOUT, limiter=limiter)
        return origins, dead, unknown, limiter

    origins, dead, unknown, limiter = run(main())
    assert len(origins) == 4 and all(isinstance(o, CymruOrigin) and o.asns == (13335,) for o in origins)
    assert {o.prefix for o in origins} == {"104.21.0.0/16", "172.67.0.0/16", "2606:4700::/32"}
    assert origins[0].as_names == ()
    assert dead.values == ("127.0.0.2",) and is_reserved(dead.values[0]) == "loopback"
    assert limiter.max_in_flight == 0  # no query was made for it
    assert isinstance(unknown, DnsAnswer) and unknown.status == "nxdomain"
    assert unknown.name == "1.1.1.1.origin.asn.cymru.com"


def test_cymru_origin_skips_bad_lines_and_checks_answers() -> None:
    async def body(resolvers: list[str]) -> tuple:
        resolver = make_resolver(resolvers, TIMEOUT)
        return (await cymru_origin(resolver, "185.212.41.7", TIMEOUT, names=False),
                await cymru_origin(resolver, "185.212.41.8", TIMEOUT),
                await cymru_origin(resolver, "185.212.41.7", TIMEOUT),
                await cymru_asn(resolver, 64501, TIMEOUT))

    best, bad, named, wrong_asn = with_scripted_dns(body)
    assert best == CymruOrigin((64501, 64502), "185.212.41.0/24", "GB", "ripencc", "2020-01-02")
    assert isinstance(bad, DnsAnswer) and bad.status == "malformed"
    assert "'AS1' is not an AS number" in (bad.error or "") and "does not contain" in (bad.error or "")
    assert isinstance(named, CymruOrigin) and named.as_names == ("", "")  # AS lookups failed
    assert isinstance(wrong_asn, DnsAnswer) and wrong_asn.status == "malformed"
    assert "AS64999" in (wrong_asn.error or "")


def test_cymru_query_names() -> None:
    assert cymru_origin_name("74.125.225.1") == "1.225.125.74.origin.asn.cymru.com"
    six = cymru_origin_name("2606:4700::6810:1")
    assert six.endswith(".origin6.asn.cymru.com") and six.count(".") == 32 + 3
    assert six.startswith("1.0.0.0.0.1.8.6.0.0.0.0.") and "0.0.7.4.6.0.6.2.origin6" in six
    assert cymru_origin_name("::ffff:74.125.225.1") == "1.225.125.74.origin.asn.cymru.com"


def test_parse_cymru_origin() -> None:
    one = parse_cymru_origin("15169 | 74.125.225.0/24 | US | arin | 2007-03-13")
    assert one == CymruOrigin((15169,), "74.125.225.0/24", "US", "arin", "2007-03-13")
    multi = parse_cymru_origin(" 15169 36040 | 2001:4860::/32 | US | arin | ")
    assert (multi.asns, multi.prefix, multi.allocated) == ((15169, 36040), "2001:4860::/32", "")
    several = parse_cymru_origin("209588 | 185.212.40.0/22 | PA | ripencc | 2019-05-14\n"
                                 "60068 | 185.212.41.0/24 | GB | ripencc | 2020-01-02\n"
                                 "60069 | 185.212.42.0/24 | GB | ripencc | 2020-01-02\n")
    assert (several.asns, several.prefix) == ((60068,), "185.212.41.0/24")


@pytest.mark.parametrize(("txt", "reason"), [
    ("", "empty"),
    ("15169 | 74.125.225.0/24 | US | arin", "4 fields"),
    ("15169 | 74.125.225.0/24 | US | arin | 2007-03-13 | extra", "more than 5 fields"),
    (" | 74.125.225.0/24 | US | arin | 2007-03-13", "no AS number"),
    ("AS15169 | 74.125.225.0/24 | US | arin | 2007-03-13", "not an AS number"),
    ("NA | 74.125.225.0/24 | US | arin | 2007-03-13", "not an AS number"),
    ("0 | 74.125.225.0/24 | US | arin | 2007-03-13", "not an AS number"),
    ("4294967296 | 74.125.225.0/24 | US | arin | 2007-03-13", "not an AS number"),
    ("15169 | 74.125.225.1/24 | US | arin | 2007-03-13", "not a network prefix"),
    ("15169 | google | US | arin | 2007-03-13", "not a network prefix"),
    ("15169 | 74.125.225.0 | US | arin | 2007-03-13", "no prefix length"),
    ("15169 | 74.125.225.0/24 | USA | arin | 2007-03-13", "not a country code"),
    ("15169 | 74.125.225.0/24 | US | ARIN! | 2007-03-13", "not a registry name"),
    ("15169 | 74.125.225.0/24 | US | arin | 2007-13-45", "not a YYYY-MM-DD date"),
    ("15169 | 74.125.225.0/24 | US | arin | 20070313", "not a YYYY-MM-DD date"),
    ("15169 | 74.125.225.0/24 | US | arin | 2007-03-13\ngarbage", "1 fields"),
])
def test_parse_cymru_origin_rejects(txt: str, reason: str) -> None:
    with pytest.raises(CymruFormatError, match=reason):
        parse_cymru_origin(txt)


def test_parse_cymru_asn() -> None:
    got = parse_cymru_asn("15169 | US | arin | 2000-03-30 | GOOGLE - Google Inc., US")
    assert got == CymruAsn(15169, "US", "arin", "2000-03-30", "GOOGLE - Google Inc., US")
    assert got.handle == "GOOGLE"
    odd = parse_cymru_asn("64500 |  | ripencc |  | ODD | NAME - with a bar, EU")
    assert (odd.country, odd.allocated, odd.name, odd.handle) == ("", "", "ODD | NAME - with a bar, EU", "ODD | NAME")


@pytest.mark.parametrize(("txt", "reason"), [
    ("", "empty"),
    ("15169 | US | arin | 2000-03-30", "4 fields"),
    ("AS15169 | US | arin | 2000-03-30 | GOOGLE", "not an AS number"),
    ("15169 | United States | arin | 2000-03-30 | GOOGLE", "not a country code"),
    ("15169 | US | arin | March 2000 | GOOGLE", "not a YYYY-MM-DD date"),
    ("15169 | US | arin | 2000-03-30 |  ", "no AS name"),
    ("15169 | US | arin | 2000-03-30 | GOOGLE\n15169 | US | arin | 2000-03-30 | GOOGLE", "one line"),
])
def test_parse_cymru_asn_rejects(txt: str, reason: str) -> None:
    with pytest.raises(CymruFormatError, match=reason):
        parse_cymru_asn(txt)
