"""enrich.dns_lookup against the sandbox world's DNS server (and, for what the sandbox cannot
do — REFUSED, lame servers, odd record data — a tiny scripted DNS server on loopback,
tests/scripted_dns.py); the reserved-address table it shares (storage.addresses)."""

from __future__ import annotations

import asyncio
import ipaddress
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path

import dns.name
import dns.nameserver
import dns.rdata
import dns.rdataclass
import pytest
from helpers.scripted_dns import with_scripted_dns

from collector.sandbox.dns import start_dns
from collector.sandbox.world import load_world
from enrich.dns_lookup import (
    DnsAnswer,
    cname_chain,
    lookup,
    lookup_domain,
    make_resolver,
    rdata_text,
)
from enrich.ratelimit import RateLimiter
from spiders.resolver import StrictDo53Nameserver, make_async_resolver
from storage.addresses import is_reserved

WORLD = Path(__file__).resolve().parents[1] / "config" / "sandbox" / "default"
TIMEOUT = 2.0
SHORT = 0.2  # for the few tests that must wait for a server that never answers


def run(coro: Awaitable) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def domain_toml(name: str) -> dict:
    return tomllib.loads((WORLD / "domains" / f"{name}.toml").read_text())


def all_domains() -> list[str]:
    return sorted(p.name[: -len(".toml")] for p in (WORLD / "domains").glob("*.toml"))


def dns_fault(name: str) -> str:
    return domain_toml(name).get("faults", {}).get("dns", "")


def expected(rtype: str, values: list[str]) -> tuple[str, ...]:
    """What the world file's values look like once normalised (written independently)."""
    out = []
    for v in values:
        if rtype in ("A", "AAAA"):
            out.append(str(ipaddress.ip_address(v)))
        elif rtype in ("NS", "CNAME"):
            out.append(v.rstrip(".").lower())
        elif rtype == "MX":
            pref, host = v.split()
            out.append(f"{int(pref)} {host.rstrip('.').lower()}")
        else:
            out.append(v)
    if rtype == "MX":
        return tuple(sorted(out, key=lambda s: (int(s.split()[0]), s.split()[1])))
    return tuple(sorted(set(out)))


def fqdn(owner: str, domain: str) -> str:
    return domain if owner == "@" else f"{owner.lower().rstrip('.')}.{domain}"


@pytest.fixture(scope="module")
def resolvers(sandbox) -> list[str]:
    return list(sandbox.resolvers)


# -- records of the default world ---------------------------------------------------------------


def test_records_match_every_world_domain(resolvers: list[str]) -> None:
    """Every A, AAAA, NS, MX, TXT and CNAME of every (fault-free) domain file, as ``ok``."""
    cases = []
    for domain in all_domains():
        if dns_fault(domain):
            continue
        for owner, rrsets in domain_toml(domain).get("dns", {}).items():
            if "*" in owner:
                continue
            for rtype, values in rrsets.items():
                if rtype.upper() in ("A", "AAAA", "NS", "MX", "TXT", "CNAME"):
                    values = [values] if isinstance(values, str) else values
                    cases.append((fqdn(owner, domain), rtype.upper(), expected(rtype.upper(), values)))
    assert len(cases) > 100

    async def main() -> list[DnsAnswer]:
        resolver = make_resolver(resolvers, TIMEOUT)
        limiter = RateLimiter(max_concurrent=32, per_second=0)
        return await asyncio.gather(*(lookup(resolver, n, t, TIMEOUT, limiter=limiter)
                                      for n, t, _ in cases))

    answers = run(main())
    for (name, rtype, want), got in zip(cases, answers, strict=True):
        assert (got.name, got.rtype, got.status, got.values, got.error) == (name, rtype, "ok", want, None)
        assert got.ttl == 300


@pytest.mark.parametrize("domain", ["bunkerdns.net", "cinemadispatch.com", "baytorrents.se",
                                    "aurelle-sale.cc"])
def test_lookup_domain_matches_the_world_file(resolvers: list[str], domain: str) -> None:
    records = {fqdn(o, domain): {t.upper(): v for t, v in r.items()}
               for o, r in domain_toml(domain)["dns"].items()}
    apex = records[domain]
    www = f"www.{domain}"

    async def main() -> list[DnsAnswer]:
        resolver = make_resolver(resolvers, TIMEOUT)
        return await lookup_domain(resolver, domain.upper() + ".", [www, www.upper(), domain],
                                   TIMEOUT, RateLimiter(4, 0))

    answers = run(main())
    got = {(a.name, a.rtype): a for a in answers}
    assert len(got) == len(answers)  # each (name, type) once
    assert [(a.name, a.rtype) for a in answers][:7] == [
        (domain, "A"), (domain, "AAAA"), (domain, "CNAME"), (domain, "NS"), (domain, "MX"),
        (domain, "TXT"), (domain, "SOA")]
    for rtype in ("A", "AAAA", "NS", "MX", "TXT"):
        answer = got[(domain, rtype)]
        if rtype in apex:
            assert (answer.status, answer.values) == ("ok", expected(rtype, apex[rtype]))
        else:
            assert (answer.status, answer.values, answer.ttl) == ("nodata", (), 60)
    assert got[(domain, "CNAME")].status == "nodata"
    soa = got[(domain, "SOA")]
    mname, rname, *numbers = soa.values[0].split()
    assert soa.status == "ok" and mname == expected("NS", apex["NS"])[0] and rname == f"hostmaster.{domain}"
    assert len(numbers) == 5 and all(n.isdigit() for n in numbers)
    # www: either a CNAME to the apex (then its addresses are the apex's) or its own A
    if "CNAME" in records[www]:
        target = expected("CNAME", records[www]["CNAME"])[0]
        assert got[(www, "CNAME")].values == (target,)
        assert got[(www, "A")].values == expected("A", records[target]["A"])
    else:
        assert got[(www, "CNAME")].status == "nodata"
        assert got[(www, "A")].values == expected("A", records[www]["A"])


def test_names_are_normalised_and_types_checked(resolvers: list[str]) -> None:
    resolver = make_resolver(resolvers, TIMEOUT)
    answer = run(lookup(resolver, "WWW.BunkerDNS.net.", "cname", TIMEOUT))
    assert answer == DnsAnswer("www.bunkerdns.net", "CNAME", "ok", ("bunkerdns.net",), 300, None)
    with pytest.raises(ValueError):
        run(lookup(resolver, "bunkerdns.net", "NOTATYPE", TIMEOUT))
    bad = run(lookup(resolver, "a..b.example", "A", TIMEOUT))
    assert bad.status == "malformed" and "bad name" in (bad.error or "")


def test_cname_chain(resolvers: list[str]) -> None:
    async def main() -> list[list[str]]:
        resolver = make_resolver(resolvers, TIMEOUT)
        return [await cname_chain(resolver, n, TIMEOUT)
                for n in ("www.cinemadispatch.com", "cinemadispatch.com", "nope.cinemadispatch.com",
                          "www.popunderz.com")]

    assert run(main()) == [["cinemadispatch.com"], [], [], []]


# -- failures are statuses ----------------------------------------------------------------------


def test_the_worlds_dns_faults_are_statuses(resolvers: list[str]) -> None:
    faulty = {d: dns_fault(d) for d in all_domains() if dns_fault(d)}
    assert faulty.get("popunderz.com") == "servfail"

    async def main() -> dict[str, list[DnsAnswer]]:
        resolver = make_resolver(resolvers, TIMEOUT)
        out = {}
        for domain, fault in faulty.items():
            if fault == "timeout":  # a short timeout: the test must not wait long
                out[domain] = [await lookup(resolver, domain, "A", SHORT)]
            else:
                hosts = [s["host"] for s in domain_toml(domain).get("site", [])]
                out[domain] = await lookup_domain(resolver, domain, hosts, TIMEOUT, RateLimiter(8, 0))
        return out

    got = run(main())
    for domain, answers in got.items():
        assert answers and {a.status for a in answers} == {faulty[domain]}, domain
        assert all(a.values == () and a.error for a in answers if a.status != "nxdomain")
    popunderz = got["popunderz.com"]
    assert {a.name for a in popunderz} == {"popunderz.com", "www.popunderz.com", "cdn.popunderz.com"}
    assert "SERVFAIL" in (popunderz[0].error or "")


def test_missing_names_are_nxdomain_and_missing_types_nodata(resolvers: list[str]) -> None:
    async def main() -> list[DnsAnswer]:
        resolver = make_resolver(resolvers, TIMEOUT)
        return [await lookup(resolver, "no-such-host.bunkerdns.net", "A", TIMEOUT),
                await lookup(resolver, "no-such-domain-isop-test.com", "MX", TIMEOUT),
                await lookup(resolver, "bunkerdns.net", "AAAA", TIMEOUT)]

    host, domain, nodata = run(main())
    assert (host.status, host.values, host.ttl, host.error) == ("nxdomain", (), 60, None)
    assert domain.status == "nxdomain"
    assert (nodata.status, nodata.ttl) == ("nodata", 60)


FAULT_WORLD = {
    "slow.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "timeout"\n',
    "junk.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "malformed"\n',
    "gone.test": '[dns]\n"@" = { A = ["185.212.41.7"] }\n[faults]\ndns = "nxdomain"\n',
    "loop.test": ('[dns]\n"a" = { CNAME = ["b.loop.test."] }\n"b" = { CNAME = ["c.loop.test."] }\n'
                  '"c" = { CNAME = ["a.loop.test."] }\n"d" = { CNAME = ["e.loop.test."] }\n'
                  '"e" = { A = ["185.212.41.8"] }\n'),
}


@pytest.fixture
def fault_world(tmp_path: Path):
    """A small world with the DNS faults the default world does not use."""
    (tmp_path / "domains").mkdir()
    (tmp_path / "world.toml").write_text('[world]\nname = "faults"\n')
    for name, text in FAULT_WORLD.items():
        (tmp_path / "domains" / f"{name}.toml").write_text(text)
    return load_world(tmp_path)


def with_world_dns(world, body: Callable[[list[str]], Awaitable[object]]) -> object:
    """Run ``body(resolvers)`` with the sandbox DNS server for ``world`` on this loop."""
    async def main() -> object:
        server = await start_dns(world)
        try:
            return await body([f"127.0.0.1:{server.port}"])
        finally:
            await server.close()
    return run(main())


def test_timeout_malformed_nxdomain_faults(fault_world) -> None:
    async def body(resolvers: list[str]) -> list[DnsAnswer]:
        strict = make_resolver(resolvers, TIMEOUT)
        plain = make_async_resolver(resolvers, TIMEOUT)
        return [await lookup(strict, "slow.test", "A", SHORT),
                await lookup(strict, "junk.test", "A", TIMEOUT),
                await lookup(strict, "www.gone.test", "A", TIMEOUT),
                await lookup(plain, "junk.test", "A", SHORT)]

    slow, junk, gone, junk_plain = with_world_dns(fault_world, body)
    assert slow.status == "timeout" and slow.error
    assert junk.status == "malformed" and "FormError" in (junk.error or "")
    assert gone.status == "nxdomain"
    # dnspython's stock nameserver silently drops the garbage and waits: why enrichment is strict
    assert junk_plain.status == "timeout"


def test_cname_chain_is_loop_safe_and_bounded(fault_world) -> None:
    async def body(resolvers: list[str]) -> tuple:
        resolver = make_resolver(resolvers, TIMEOUT)
        return (await cname_chain(resolver, "a.loop.test", TIMEOUT),
                await cname_chain(resolver, "a.loop.test", TIMEOUT, max_depth=2),
                await cname_chain(resolver, "d.loop.test", TIMEOUT),
                await lookup(resolver, "a.loop.test", "A", TIMEOUT),
                await lookup(resolver, "d.loop.test", "A", TIMEOUT),
                await lookup_domain(resolver, "loop.test", ["a.loop.test"], TIMEOUT, None))

    loop, bounded, straight, loop_a, straight_a, domain = with_world_dns(fault_world, body)
    assert loop == ["b.loop.test", "c.loop.test", "a.loop.test"]
    assert bounded == ["b.loop.test", "c.loop.test"]
    assert straight == ["e.loop.test"]
    assert loop_a.status == "malformed" and "CNAME" in (loop_a.error or "")
    assert (straight_a.status, straight_a.values) == ("ok", ("185.212.41.8",))
    cnames = [(a.name, a.values) for a in domain if a.rtype == "CNAME"]
    assert cnames == [("loop.test", ()), ("a.loop.test", ("b.loop.test",)),
                      ("b.loop.test", ("c.loop.test",)), ("c.loop.test", ("a.loop.test",))]


# -- a scripted server for what the sandbox never does (tests/scripted_dns.py) ----------------


def test_refused_and_lame_servers() -> None:
    async def body(resolvers: list[str]) -> dict[str, DnsAnswer]:
        resolver = make_resolver(resolvers, TIMEOUT)
        names = ["refused", "lame", "nxlame", "upward", "down", "recursive", "garbage"]
        return {n: await lookup(resolver, f"{n}.fake", "A", TIMEOUT) for n in names}

    got = with_scripted_dns(body)
    assert got["refused"].status == "refused" and "REFUSED" in (got["refused"].error or "")
    assert got["lame"].status == "lame" and got["lame"].values == ("185.212.41.7",)
    assert "AA" in (got["lame"].error or "")
    assert got["nxlame"].status == "lame"
    assert got["upward"].status == "lame" and "unrelated referral to ." in (got["upward"].error or "")
    assert got["down"].status == "lame" and "delegation to down.fake." in (got["down"].error or "")
    assert (got["recursive"].status, got["recursive"].values) == ("ok", ("185.212.41.7",))
    assert got["garbage"].status == "malformed"


def test_values_are_normalised() -> None:
    async def body(resolvers: list[str]) -> dict[str, tuple[str, ...]]:
        resolver = make_resolver(resolvers, TIMEOUT)
        out = {}
        for rtype in ("TXT", "MX", "NS", "AAAA", "SOA"):
            answer = await lookup(resolver, "values.fake", rtype, TIMEOUT)
            assert answer.status == "ok", answer
            out[rtype] = answer.values
        return out

    got = with_scripted_dns(body)
    assert got["TXT"] == ("café", "v=spf1 -all", "\ufffd\ufffdok")
    assert got["MX"] == ("0 .", "5 b.example.net", "20 mx.example.net")
    assert got["NS"] == ("ns1.example.net", "ns2.example.net")
    assert got["AAAA"] == ("2001:db8::1",)
    assert got["SOA"] == ("ns1.example.net hostmaster.example.net 7 3600 600 86400 300",)
    cname = dns.rdata.from_text("IN", "CNAME", "Target.Example.COM.")
    assert rdata_text(cname) == "target.example.com"


def test_make_async_resolver_keeps_its_default() -> None:
    plain = make_async_resolver(["127.0.0.1:5353"], 3.0)
    assert [type(ns) for ns in plain.nameservers] == [dns.nameserver.Do53Nameserver]
    assert (plain.lifetime, plain.timeout) == (3.0, 2.0)
    strict = make_resolver(["127.0.0.1:5353", "[::1]:53"], 3.0)
    assert [type(ns) for ns in strict.nameservers] == [StrictDo53Nameserver] * 2
    assert [(ns.address, ns.port) for ns in strict.nameservers] == [("127.0.0.1", 5353), ("::1", 53)]


# -- reserved addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(("ip", "kind"), [
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("0.1.2.3", "reserved"),
    ("127.0.0.2", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"),
    ("100.64.0.1", "cgnat"), ("100.127.255.254", "cgnat"),
    ("169.254.10.1", "link-local"), ("fe80::1", "link-local"),
    ("192.0.2.55", "documentation"), ("198.51.100.1", "documentation"),
    ("203.0.113.9", "documentation"), ("2001:db8::53", "documentation"),
    ("224.0.0.251", "multicast"), ("239.1.1.1", "multicast"), ("ff02::fb", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("198.18.0.1", "reserved"),
    ("192.0.0.8", "reserved"), ("2001::1", "reserved"), ("4000::1", "reserved"),
    ("100::1", "reserved"),
    ("185.212.41.7", None), ("104.21.153.84", None), ("100.128.0.1", None), ("172.32.0.1", None),
    ("2606:4700:3030::6815:8518", None), ("::ffff:104.21.153.84", None), ("8.8.8.8", None),
])
def test_is_reserved(ip: str, kind: str | None) -> None:
    assert is_reserved(ip) == kind
    assert is_reserved(ipaddress.ip_address(ip)) == kind


def test_is_reserved_rejects_non_addresses() -> None:
    with pytest.raises(ValueError):
        is_reserved("example.com")


# -- lookups under the rate limiter --------------------------------------------------------------


def test_limiter_bounds_concurrency_of_real_lookups(resolvers: list[str]) -> None:
    limiter = RateLimiter(max_concurrent=3, per_second=0)
    hosts = [f"www.{d}" for d in all_domains() if not dns_fault(d)][:10]

    async def main() -> list[DnsAnswer]:
        return await lookup_domain(make_resolver(resolvers, TIMEOUT), "bunkerdns.net", hosts,
                                   TIMEOUT, limiter)

    answers = run(main())
    assert len(answers) >= 7 + 3 * len(hosts)
    assert limiter.max_in_flight == 3 and limiter.in_flight == 0
