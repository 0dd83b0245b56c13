"""The sandbox DNS server over real loopback sockets: zones, wildcards, CNAME chains, negative
answers, faults, Team Cymru TXT, ipwhois ASN lookups, UDP+TCP and concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from collector.sandbox.dns import DnsServer, DnsService, cymru_origins, garble, start_dns
from collector.sandbox.world import World, load_world

NETWORKS = """
[[network]]
cidr = "185.212.40.0/22"
asn = 209588
as_name = "FLYSERV-AS"
org = "Flyservers S.A."
country = "PA"
rir = "ripencc"
allocated = "2019-05-14"

[[network]]
cidr = "185.212.41.0/24"
asn = 60068
as_name = "CDN77"
org = "Datacamp Limited"
country = "GB"
rir = "ripencc"
allocated = "2020-01-02"

[[network]]
cidr = "104.16.0.0/13"
asn = 13335
as_name = "CLOUDFLARENET"
org = "Cloudflare, Inc."
country = "US"
rir = "arin"
allocated = "2014-03-28"

[[network]]
cidr = "2606:4700::/32"
asn = 13335
as_name = "CLOUDFLARENET"
org = "Cloudflare, Inc."
country = "US"
rir = "arin"
allocated = "2011-11-01"
"""

DOMAINS = {
    "pirate.test": """
        [dns]
        "@" = { A = ["185.212.41.7"], AAAA = ["2606:4700::6810:1"], NS = ["ns1.dns.test.", "ns2.dns.test."], MX = ["10 mx.pirate.test."], TXT = ["v=spf1 -all", "google-site-verification=abc"] }
        "www" = { CNAME = ["pirate.test."] }
        "cdn" = { CNAME = ["www.pirate.test"] }
        "mirror" = { CNAME = ["mirror.other.test."] }
        "away" = { CNAME = ["cdn.example-cdn.net."] }
        "a.deep" = { A = ["185.212.41.8"] }
        "*" = { A = ["185.212.41.9"] }
        "mx" = { A = ["185.212.41.10"] }
    """,
    "other.test": """
        [dns]
        "mirror" = { A = ["104.16.1.1"] }
    """,
    "sick.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "servfail"\n',
    "slow.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "timeout"\n',
    "gone.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "nxdomain"\n',
    "junk.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "malformed"\n',
}


def build_world(root: Path, latency_ms: float = 0) -> World:
    (root / "domains").mkdir(parents=True)
    (root / "world.toml").write_text(f'[world]\nname = "dnsworld"\n[latency]\ndns = {latency_ms}\n')
    (root / "networks.toml").write_text(NETWORKS)
    for name, text in DOMAINS.items():
        (root / "domains" / f"{name}.toml").write_text(textwrap.dedent(text))
    return load_world(root)


@dataclasses.dataclass
class Running:
    server: DnsServer
    loop: asyncio.AbstractEventLoop

    @property
    def port(self) -> int:
        return self.server.port


def _serve(world: World) -> Iterator[Running]:
    """The server on its own event loop in a thread, so blocking clients can query it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_dns(world), loop).result(5)
    try:
        yield Running(server, loop)
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("dnsworld"))


@pytest.fixture(scope="module")
def dns_server(world: World) -> Iterator[Running]:
    yield from _serve(world)


def ask(port: int, name: str, rtype: str = "A", tcp: bool = False, timeout: float = 2.0) -> dns.message.Message:
    query = dns.message.make_query(name, rtype)
    if tcp:
        return dns.query.tcp(query, "127.0.0.1", port=port, timeout=timeout)
    return dns.query.udp(query, "127.0.0.1", port=port, timeout=timeout)


def values(msg: dns.message.Message, rtype: str) -> list[str]:
    rdtype = dns.rdatatype.from_text(rtype)
    return sorted(r.to_text() for rrset in msg.answer if rrset.rdtype == rdtype for r in rrset)


def resolver(port: int) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = port
    res.timeout = res.lifetime = 2
    return res


# -- zones ---------------------------------------------------------------------------------------


def test_a_aaaa_mx_txt_ns_with_aa_flag(dns_server: Running) -> None:
    port = dns_server.port
    msg = ask(port, "pirate.test")
    assert msg.rcode() == dns.rcode.NOERROR and msg.flags & dns.flags.AA
    assert values(msg, "A") == ["185.212.41.7"]
    assert values(ask(port, "pirate.test", "AAAA"), "AAAA") == ["2606:4700::6810:1"]
    assert values(ask(port, "pirate.test", "MX"), "MX") == ["10 mx.pirate.test."]
    assert values(ask(port, "pirate.test", "TXT"), "TXT") == ['"google-site-verification=abc"', '"v=spf1 -all"']
    assert values(ask(port, "pirate.test", "NS"), "NS") == ["ns1.dns.test.", "ns2.dns.test."]


def test_soa_is_synthesised_with_first_ns_as_mname(dns_server: Running) -> None:
    msg = ask(dns_server.port, "pirate.test", "SOA")
    soa = msg.answer[0][0]
    assert soa.mname.to_text() == "ns1.dns.test." and soa.rname.to_text() == "hostmaster.pirate.test."
    # a zone without NS records gets ns1/ns2.<apex>
    assert ask(dns_server.port, "other.test", "SOA").answer[0][0].mname.to_text() == "ns1.other.test."


def test_cname_chain_is_followed_inside_the_world(dns_server: Running) -> None:
    msg = ask(dns_server.port, "cdn.pirate.test")
    assert [r.name.to_text() for r in msg.answer] == ["cdn.pirate.test.", "www.pirate.test.", "pirate.test."]
    assert values(msg, "CNAME") == ["pirate.test.", "www.pirate.test."]
    assert values(msg, "A") == ["185.212.41.7"]
    across = ask(dns_server.port, "mirror.pirate.test")  # into another zone of the world
    assert values(across, "A") == ["104.16.1.1"]
    out = ask(dns_server.port, "away.pirate.test")  # target outside the world: CNAME only
    assert out.rcode() == dns.rcode.NOERROR and values(out, "CNAME") == ["cdn.example-cdn.net."]
    assert values(ask(dns_server.port, "www.pirate.test", "CNAME"), "CNAME") == ["pirate.test."]


def test_wildcard_and_empty_non_terminal(dns_server: Running) -> None:
    port = dns_server.port
    wild = ask(port, "anything.pirate.test")
    assert values(wild, "A") == ["185.212.41.9"] and wild.answer[0].name.to_text() == "anything.pirate.test."
    assert values(ask(port, "x.y.pirate.test"), "A") == ["185.212.41.9"]
    assert values(ask(port, "mx.pirate.test"), "A") == ["185.212.41.10"]  # exact beats wildcard
    ent = ask(port, "deep.pirate.test")  # exists (has a child): NODATA, not the wildcard
    assert ent.rcode() == dns.rcode.NOERROR and not ent.answer
    under = ask(port, "x.deep.pirate.test")  # below an existing name: the wildcard does not apply
    assert under.rcode() == dns.rcode.NXDOMAIN


def test_nodata_and_nxdomain_carry_soa(dns_server: Running) -> None:
    port = dns_server.port
    nodata = ask(port, "pirate.test", "CAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    missing = ask(port, "nope.other.test")
    assert missing.rcode() == dns.rcode.NXDOMAIN and missing.authority[0].name.to_text() == "other.test."
    outside = ask(port, "www.not-in-the-world.example")
    assert outside.rcode() == dns.rcode.NXDOMAIN and outside.flags & dns.flags.AA
    assert outside.authority[0].rdtype == dns.rdatatype.SOA


def test_resolver_sees_nxdomain_not_refused(dns_server: Running) -> None:
    res = resolver(dns_server.port)
    assert [r.to_text() for r in res.resolve("www.pirate.test", "A")] == ["185.212.41.7"]
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("unknown.invalid-tld-zzz", "A")


def test_tcp_answers_like_udp(dns_server: Running) -> None:
    assert values(ask(dns_server.port, "cdn.pirate.test", tcp=True), "A") == ["185.212.41.7"]


# -- faults --------------------------------------------------------------------------------------


def test_faults(dns_server: Running) -> None:
    port = dns_server.port
    assert ask(port, "sick.test").rcode() == dns.rcode.SERVFAIL
    assert ask(port, "www.gone.test").rcode() == dns.rcode.NXDOMAIN
    with pytest.raises(dns.exception.Timeout):
        ask(port, "slow.test", timeout=0.3)
    with pytest.raises(dns.exception.DNSException):
        ask(port, "junk.test")


def test_garbled_wire_does_not_parse(world: World) -> None:
    service = DnsService(world)
    wire = asyncio.run(service.answer(dns.message.make_query("junk.test", "A").to_wire()))
    assert wire is not None and len(wire) > 12
    with pytest.raises(dns.exception.DNSException):
        dns.message.from_wire(wire)
    assert garble(b"") == b"\x00" * 3


def test_unparseable_query_gets_formerr_or_nothing(world: World) -> None:
    service = DnsService(world)
    answer = asyncio.run(service.answer(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab"))
    assert answer is not None and answer[:2] == b"\x12\x34" and answer[3] & 0x0F == dns.rcode.FORMERR
    assert asyncio.run(service.answer(b"\x00")) is None


# -- Team Cymru ----------------------------------------------------------------------------------


def test_cymru_origin_most_specific_first(dns_server: Running) -> None:
    msg = ask(dns_server.port, "7.41.212.185.origin.asn.cymru.com", "TXT")
    assert [r.to_text() for r in msg.answer[0]] == [
        '"60068 | 185.212.41.0/24 | GB | ripencc | 2020-01-02"',
        '"209588 | 185.212.40.0/22 | PA | ripencc | 2019-05-14"',
    ]
    only_22 = ask(dns_server.port, "9.43.212.185.origin.asn.cymru.com", "TXT")
    assert [r.to_text() for r in only_22.answer[0]] == ['"209588 | 185.212.40.0/22 | PA | ripencc | 2019-05-14"']


def test_cymru_prefix_forms_and_misses(dns_server: Running) -> None:
    port = dns_server.port
    slash24 = ask(port, "41.212.185.origin.asn.cymru.com", "TXT")
    assert "185.212.41.0/24" in slash24.answer[0][0].to_text() and len(slash24.answer[0]) == 2
    assert ask(port, "212.185.origin.asn.cymru.com", "TXT").rcode() == dns.rcode.NXDOMAIN  # /16 ⊄ /22
    assert ask(port, "1.1.1.1.origin.asn.cymru.com", "TXT").rcode() == dns.rcode.NXDOMAIN
    assert ask(port, "x.1.1.1.origin.asn.cymru.com", "TXT").rcode() == dns.rcode.NXDOMAIN
    nodata = ask(port, "7.41.212.185.origin.asn.cymru.com", "A")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer


def test_cymru_origin6_and_asn(dns_server: Running) -> None:
    nibbles = ".".join(reversed("260647000000000000000000681001"))
    msg = ask(dns_server.port, f"{nibbles}.origin6.asn.cymru.com", "TXT")
    assert values(msg, "TXT") == ['"13335 | 2606:4700::/32 | US | arin | 2011-11-01"']
    asn = ask(dns_server.port, "AS209588.asn.cymru.com", "TXT")
    assert values(asn, "TXT") == ['"209588 | PA | ripencc | 2019-05-14 | FLYSERV-AS - Flyservers S.A., PA"']
    assert ask(dns_server.port, "AS1.asn.cymru.com", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_cymru_origins_helper(world: World) -> None:
    assert [n.asn for n in cymru_origins(world.networks, ["1", "16", "104"], 4)] == [13335]
    assert cymru_origins(world.networks, ["300", "1", "1", "1"], 4) == []
    # ipwhois strips trailing zero groups: 2606:4700:: is asked as 8 nibbles (a /32)
    assert [n.asn for n in cymru_origins(world.networks, list("00746062"), 6)] == [13335]


def test_ipwhois_asn_lookup_over_dns(dns_server: Running) -> None:
    from ipwhois.asn import IPASN
    from ipwhois.net import Net

    for address, asn, cidr, description in [
        ("185.212.41.7", "60068", "185.212.41.0/24", "CDN77 - Datacamp Limited, GB"),
        ("104.16.1.1", "13335", "104.16.0.0/13", "CLOUDFLARENET - Cloudflare, Inc., US"),
        ("2606:4700::6810:1", "13335", "2606:4700::/32", "CLOUDFLARENET - Cloudflare, Inc., US"),
    ]:
        net = Net(address)
        net.dns_resolver = resolver(dns_server.port)  # the injection point ipwhois offers
        result = IPASN(net).lookup(asn_methods=["dns"])
        assert (result["asn"], result["asn_cidr"], result["asn_description"]) == (asn, cidr, description)
        assert result["asn_registry"] in ("ripencc", "arin")


# -- server behaviour ----------------------------------------------------------------------------


def test_many_concurrent_queries_udp_and_tcp(dns_server: Running) -> None:
    async def burst() -> list[dns.message.Message]:
        queries = [dns.asyncquery.udp(dns.message.make_query(f"h{i}.pirate.test", "A"), "127.0.0.1",
                                      port=dns_server.port, timeout=5) for i in range(400)]
        queries += [dns.asyncquery.tcp(dns.message.make_query("pirate.test", "A"), "127.0.0.1",
                                       port=dns_server.port, timeout=5) for _ in range(40)]
        return await asyncio.gather(*queries)

    answers = asyncio.run(burst())
    assert all(values(a, "A") in (["185.212.41.9"], ["185.212.41.7"]) for a in answers)


def test_latency_is_added_without_blocking(tmp_path: Path) -> None:
    world = build_world(tmp_path, latency_ms=200)
    for running in _serve(world):
        async def burst(port: int) -> float:
            start = time.monotonic()
            await asyncio.gather(*(dns.asyncquery.udp(dns.message.make_query("pirate.test", "A"),
                                                      "127.0.0.1", port=port, timeout=5)
                                   for _ in range(20)))
            return time.monotonic() - start

        elapsed = asyncio.run(burst(running.port))
        assert 0.2 <= elapsed < 1.5  # 20 answers delayed 200 ms each, in parallel


def test_large_udp_answer_is_truncated_and_tcp_has_it(tmp_path: Path) -> None:
    root = tmp_path / "big"
    (root / "domains").mkdir(parents=True)
    (root / "world.toml").write_text('[world]\nname = "big"\n')
    txt = ", ".join(f'"record number {i} ' + "x" * 60 + '"' for i in range(30))
    (root / "domains" / "big.test.toml").write_text(f'[dns]\n"@" = {{ TXT = [{txt}] }}\n')
    for running in _serve(load_world(root)):
        udp = ask(running.port, "big.test", "TXT")
        assert udp.flags & dns.flags.TC and not udp.answer
        assert len(values(ask(running.port, "big.test", "TXT", tcp=True), "TXT")) == 30


def test_start_dns_refuses_non_loopback(world: World) -> None:
    with pytest.raises(ValueError):
        asyncio.run(start_dns(world, host="0.0.0.0"))
