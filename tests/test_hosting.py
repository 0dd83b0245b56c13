"""Hosting enrichment (enrich.hosting): ipwhois through the sandbox's Cymru DNS, proxy and RDAP."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from enrich.hosting import MAX_RAW_CHARS, HostingLookup, _bounded_raw
from enrich.network_cache import NetworkCache
from enrich.network_facts import NetworkFacts

WORLD = Path(__file__).resolve().parents[1] / "config" / "sandbox" / "default"
TIMEOUT = 5.0
RDAP_HOST = {"arin": "rdap.arin.net", "ripencc": "rdap.db.ripe.net", "apnic": "rdap.apnic.net",
             "lacnic": "rdap.lacnic.net", "afrinic": "rdap.afrinic.net"}


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def hosting(sandbox, **kwargs) -> HostingLookup:  # type: ignore[no-untyped-def]
    return HostingLookup(sandbox.resolvers, sandbox.proxy_url, str(sandbox.ca_path), TIMEOUT, **kwargs)


def inside(cidr: str, offset: int) -> str:
    """An address ``offset`` into ``cidr`` (offsets avoid all-zero trailing IPv6 groups)."""
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + offset)


def world_networks() -> list[dict]:
    return tomllib.loads((WORLD / "networks.toml").read_text())["network"]


def in_world(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr.version == ipaddress.ip_network(n["cidr"]).version
               and addr in ipaddress.ip_network(n["cidr"]) for n in world_networks())


def world_addresses() -> Iterator[str]:
    """Every A/AAAA value in the world's domain files."""
    for path in sorted((WORLD / "domains").glob("*.toml")):
        for records in tomllib.loads(path.read_text()).get("dns", {}).values():
            yield from records.get("A", [])
            yield from records.get("AAAA", [])


# -- against the sandbox ---------------------------------------------------------------------------


def test_every_world_network_and_reuse(sandbox) -> None:
    nets = world_networks()
    first = [inside(n["cidr"], 0x1234 if ":" in n["cidr"] else 7) for n in nets]
    second = [inside(n["cidr"], 0x5678 if ":" in n["cidr"] else 99) for n in nets]

    async def main() -> tuple[list[NetworkFacts], Counter, list[NetworkFacts], Counter]:
        async with hosting(sandbox) as h:
            a = await h.lookup_many(first)
            after_first = Counter(h.sent)
            b = await h.lookup_many(second)
            return a, after_first, b, Counter(h.sent)

    facts, sent, again, sent_after = run(main())
    for net, ip, f in zip(nets, first, facts, strict=True):
        assert f.status == "ok", (ip, f.error)
        assert f.ip == str(ipaddress.ip_address(ip))
        assert not f.reused and f.reserved is None and f.error is None
        assert f.asn == net["asn"]
        assert f.asn_name == net["as_name"]
        assert f.asn_cidr == net["cidr"]
        assert f.asn_country == net["country"]
        assert f.asn_registry == net["rir"]
        assert f.asn_date == net["allocated"]
        assert f.cidr == net["cidr"]
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(f"{f.start_address}/{net['cidr'].split('/')[1]}")
        assert f.org == net["org"]
        assert f.country == net["country"]
        assert f.abuse_email == net["abuse_email"]
        assert f.rir == net["rir"]
        assert f.handle and f.name == net["as_name"]
        assert f.raw and f.raw["objectClassName"] == "ip network" and "notices" not in f.raw
        assert f.cdn == (net["cdn"] or None), ip

    # one origin and one AS-name query per network, one RDAP request at its own RIR
    assert sent["cymru"] == 2 * len(nets)
    expected = Counter(f"rdap:{RDAP_HOST[n['rir']]}" for n in nets)
    assert {k: v for k, v in sent.items() if k.startswith("rdap:")} == expected
    assert set(sent) == {"cymru", *expected}

    # a second address in each network: answered from the cache, nothing sent
    assert sent_after == sent
    for f1, ip, f2 in zip(facts, second, again, strict=True):
        assert f2.reused and f2.status == "ok" and f2.ip == ip
        assert (f2.asn, f2.cidr, f2.org, f2.abuse_email, f2.cdn) == (f1.asn, f1.cidr, f1.org, f1.abuse_email, f1.cdn)


def test_reserved_addresses_send_nothing(sandbox) -> None:
    ips = {"127.0.0.2": "loopback", "10.20.30.40": "private", "192.0.2.15": "documentation",
           "::1": "loopback", "fc00::1": "private", "169.254.1.1": "link-local",
           "::ffff:192.168.1.1": "private"}

    async def main() -> tuple[list[NetworkFacts], Counter]:
        async with hosting(sandbox) as h:
            return await h.lookup_many(ips), h.sent

    facts, sent = run(main())
    for f, kind in zip(facts, ips.values(), strict=True):
        assert f.status == "reserved" and f.reserved == kind and f.asn is None
        assert f.error and "\n" not in f.error
    assert facts[-1].ip == "192.168.1.1"
    assert not sent


def test_cloudflare_fronted_sites(sandbox) -> None:
    cloudflare = [ipaddress.ip_network(c) for c in ("104.21.0.0/16", "172.67.0.0/16", "2606:4700::/32")]
    ips = sorted({ip for ip in world_addresses()
                  if any(ipaddress.ip_address(ip) in n for n in cloudflare
                         if n.version == ipaddress.ip_address(ip).version)})
    assert len(ips) >= 10, "the world should have Cloudflare-fronted sites"

    async def main() -> tuple[list[NetworkFacts], Counter]:
        async with hosting(sandbox) as h:
            return await h.lookup_many(ips), h.sent

    facts, sent = run(main())
    for f in facts:
        assert f.status == "ok", (f.ip, f.error)
        assert f.cdn == "Cloudflare" and f.asn == 13335 and f.org == "Cloudflare, Inc."
    # one lookup per Cloudflare network, every other address reused
    assert sum(not f.reused for f in facts) == len({f.cidr for f in facts})
    assert sent["rdap:rdap.arin.net"] == len({f.cidr for f in facts})


def test_address_in_no_world_network_fails_with_a_reason(sandbox) -> None:
    ip = "45.11.22.33"
    assert not in_world(ip)

    async def main() -> tuple[NetworkFacts, NetworkFacts, Counter]:
        async with hosting(sandbox) as h:
            first = await h.lookup(ip)
            sent = Counter(h.sent)
            again = await h.lookup(ip)  # failures are remembered for a while
            assert h.sent == sent
            return first, again, sent

    f, again, sent = run(main())
    assert f.status == "asn_failed" and not f.reused
    assert f.asn is None and f.org is None
    assert f.error and "\n" not in f.error and "Team Cymru" in f.error and ip in f.error
    # without an ASN, the RIR is asked through ARIN's bootstrap, which knows nothing either
    assert sent["rdap:rdap-bootstrap.arin.net"] == 1 and sent["cymru"] >= 1
    assert again.reused and again.status == "asn_failed"


def test_unannounced_network_falls_back_to_the_bootstrap(sandbox) -> None:
    """A resolver that never answers: the ASN half times out, RDAP still finds the owner."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]

        async def main() -> tuple[NetworkFacts, Counter]:
            async with HostingLookup([f"127.0.0.1:{port}"], sandbox.proxy_url, str(sandbox.ca_path),
                                     0.3) as h:
                return await h.lookup("88.198.10.20"), h.sent

        f, sent = run(main())
    finally:
        silent.close()
    assert f.status == "timeout" and f.asn is None
    assert f.error and "timed out" in f.error
    assert f.org == "Hetzner Online GmbH" and f.cidr == "88.198.0.0/16" and f.abuse_email == "abuse@hetzner.com"
    assert sent["rdap:rdap-bootstrap.arin.net"] == 1 and sent["rdap:rdap.db.ripe.net"] == 1


def test_rdap_failure_keeps_the_asn(sandbox) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there now

    async def main() -> NetworkFacts:
        async with HostingLookup(sandbox.resolvers, f"http://127.0.0.1:{port}", str(sandbox.ca_path),
                                 TIMEOUT, retry_count=0) as h:
            return await h.lookup("51.38.1.2")

    f = run(main())
    assert f.status == "rdap_failed"
    assert f.asn == 16276 and f.asn_name == "OVH" and f.org is None
    assert f.error and "\n" not in f.error and "rdap.db.ripe.net" in f.error


def test_bad_input_is_a_status() -> None:
    async def main() -> list[NetworkFacts]:
        async with HostingLookup([], "http://127.0.0.1:9", None, 1.0) as h:
            return await h.lookup_many(["not-an-ip", "", "300.1.2.3"])

    for f in run(main()):
        assert f.status == "error" and f.error and "not an IP address" in f.error


# -- the network cache, seeded ------------------------------------------------------------------


def _facts(ip: str, cidr: str, asn_cidr: str | None = None, asn: int = 64500) -> NetworkFacts:
    return NetworkFacts(ip=ip, asn=asn, asn_cidr=asn_cidr or cidr, cidr=cidr, org="Example Hosting",
                        asn_name="EXAMPLE-AS")


def test_seeded_cache_answers_without_sending() -> None:
    cache = NetworkCache(3600)
    cache.add(_facts("104.21.5.5", "104.21.0.0/16", asn=13335))

    async def main() -> tuple[NetworkFacts, Counter]:
        # the proxy and resolver point nowhere: any query would fail
        async with HostingLookup(["127.0.0.1:9"], "http://127.0.0.1:9", None, 1.0, cache=cache) as h:
            return await h.lookup("104.21.200.1"), h.sent

    f, sent = run(main())
    assert f.reused and f.status == "ok" and f.ip == "104.21.200.1" and f.cdn == "Cloudflare"
    assert not sent


def test_raw_is_bounded() -> None:
    big = {"objectClassName": "ip network", "handle": "NET-1", "startAddress": "1.0.0.0",
           "notices": [{"title": "x"}],
           "entities": [{"handle": f"E{i}", "remarks": [{"description": ["y" * 500]}]} for i in range(200)]}
    out = _bounded_raw(big)
    assert out is not None and "notices" not in out and out["handle"] == "NET-1"
    assert len(json.dumps(out)) <= MAX_RAW_CHARS
    assert hash(NetworkFacts(ip="1.2.3.4", raw=out)) == hash(NetworkFacts(ip="1.2.3.4"))
    assert _bounded_raw(None) is None
