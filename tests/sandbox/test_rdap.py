"""RdapService: bootstrap files, RIR objects and redirects, domain objects, faults, and
ipwhois.IPWhois.lookup_rdap() end to end (DNS ASN lookup on a loopback server, HTTP through a
urllib opener that hands requests to the service without sockets)."""

from __future__ import annotations

import asyncio
import email.message
import io
import json
import textwrap
import threading
import time
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dns.resolver
import pytest

from collector.sandbox.dns import start_dns
from collector.sandbox.http import Request, Response
from collector.sandbox.rdap import RdapService, rdap_status
from collector.sandbox.world import World, load_world

WORLD = {
    "registries.toml": """
        [[registry]]
        tlds = ["com", "net"]
        operator = "VeriSign Global Registry Services"
        whois_server = "whois.verisign-grs.com"
        whois_format = "verisign"
        thin = true
        rdap_base = "https://rdap.verisign.com/com/v1/"

        [[registry]]
        tlds = ["org"]
        operator = "Public Interest Registry"
        whois_server = "whois.pir.org"
        whois_format = "pir"
        rdap_base = "https://rdap.publicinterestregistry.org/rdap/"

        [[registry]]
        tlds = ["to"]
        operator = "Tonic"
        whois_server = "whois.tonic.to"
        whois_format = "tonic"
    """,
    "registrars.toml": """
        [[registrar]]
        name = "NameCheap, Inc."
        iana_id = 1068
        url = "http://www.namecheap.com"
        whois_server = "whois.namecheap.com"
        rdap_base = "https://rdap.namecheap.com/"
        abuse_email = "abuse@namecheap.com"
        abuse_phone = "+1.6613102107"
        country = "US"

        [[registrar]]
        name = "Other Registrar"
        iana_id = 9999
        rdap_base = "https://rdap.other.example/rdap/"
    """,
    "networks.toml": """
        [[network]]
        cidr = "185.212.40.0/22"
        asn = 209588
        as_name = "FLYSERV-AS"
        org = "Flyservers S.A."
        org_handle = "ORG-FS52-RIPE"
        country = "PA"
        rir = "ripencc"
        allocated = "2019-05-14"
        abuse_email = "abuse@flyservers.example"

        [[network]]
        cidr = "104.16.0.0/13"
        asn = 13335
        as_name = "CLOUDFLARENET"
        org = "Cloudflare, Inc."
        org_handle = "CLOUD14"
        country = "US"
        rir = "arin"
        allocated = "2014-03-28"
        abuse_email = "abuse@cloudflare.example"

        [[network]]
        cidr = "2a06:98c0::/29"
        asn = 13335
        as_name = "CLOUDFLARENET"
        org = "Cloudflare, Inc."
        country = "US"
        rir = "ripencc"
        allocated = "2015-03-28"
        abuse_email = "abuse@cloudflare.example"

        [[network]]
        cidr = "103.224.182.0/23"
        asn = 133618
        as_name = "TRELLIAN-AS-AP"
        org = "Trellian Pty. Limited"
        country = "AU"
        rir = "apnic"
        allocated = "2012-02-01"
        abuse_email = "abuse@trellian.example"
    """,
}

REGISTRATION = """
[registration]
registrar = "NameCheap, Inc."
created = "2023-04-02T10:11:12Z"
updated = "2025-03-01T08:00:00Z"
expires = "2026-04-02T10:11:12Z"
status = ["clientTransferProhibited", "clientDeleteProhibited"]
nameservers = ["ns1.example-dns.net", "ns2.example-dns.net"]
registrant_org = "{org}"
registrant_country = "IS"
redacted = {redacted}
dnssec = true
"""


def build_world(root: Path, latency_ms: float = 0) -> World:
    (root / "domains").mkdir(parents=True)
    (root / "world.toml").write_text(f'[world]\nname = "rdapworld"\n[latency]\nrdap = {latency_ms}\n')
    for name, text in WORLD.items():
        (root / name).write_text(textwrap.dedent(text))
    domains = root / "domains"
    (domains / "pirate.com.toml").write_text(REGISTRATION.format(org="Withheld for Privacy ehf", redacted="true"))
    (domains / "open.org.toml").write_text(REGISTRATION.format(org="Open Media Ltd", redacted="false"))
    (domains / "pirate.to.toml").write_text(REGISTRATION.format(org="X", redacted="true"))
    for fault in ("429", "timeout", "malformed", "500", "404"):
        (domains / f"f{fault}.com.toml").write_text(
            REGISTRATION.format(org="X", redacted="true") + f'[faults]\nrdap = "{fault}"\nretry_after = 7\n')
    (domains / "dnsonly.com.toml").write_text('[dns]\n"@" = { A = ["104.16.1.1"] }\n')
    return load_world(root)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path)


@pytest.fixture
def service(world: World) -> RdapService:
    return RdapService(world)


def get(service: RdapService, url: str) -> Response:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return asyncio.run(service.handle(Request("GET", parts.scheme, parts.hostname or "", port, target,
                                              {"accept": "application/rdap+json"})))


def body(response: Response) -> Any:
    assert isinstance(response.body, bytes)
    return json.loads(response.body)


def header(response: Response, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


# -- bootstrap -----------------------------------------------------------------------------------


def test_hosts(service: RdapService) -> None:
    assert {"data.iana.org", "rdap.arin.net", "rdap.db.ripe.net", "rdap.apnic.net", "rdap.lacnic.net",
            "rdap.afrinic.net", "rdap.verisign.com", "rdap.publicinterestregistry.org",
            "rdap.namecheap.com", "rdap.other.example"} <= service.hosts()


def test_iana_bootstrap_files(service: RdapService) -> None:
    dns_json = body(get(service, "https://data.iana.org/rdap/dns.json"))
    assert dns_json["version"] == "1.0"
    assert dns_json["services"] == [[["com", "net"], ["https://rdap.verisign.com/com/v1/"]],
                                    [["org"], ["https://rdap.publicinterestregistry.org/rdap/"]]]
    v4 = body(get(service, "https://data.iana.org/rdap/ipv4.json"))["services"]
    assert [["185.0.0.0/8"], ["https://rdap.db.ripe.net/"]] in v4
    assert [["104.0.0.0/8"], ["https://rdap.arin.net/registry/"]] in v4
    assert [["103.0.0.0/8"], ["https://rdap.apnic.net/"]] in v4
    assert body(get(service, "https://data.iana.org/rdap/ipv6.json"))["services"] == [
        [["2a06::/16"], ["https://rdap.db.ripe.net/"]]]
    asn = body(get(service, "https://data.iana.org/rdap/asn.json"))["services"]
    assert [["13335"], ["https://rdap.arin.net/registry/"]] in asn
    assert get(service, "https://data.iana.org/rdap/nope.json").status == 404


# -- RIRs ----------------------------------------------------------------------------------------


def test_ip_network_object(service: RdapService) -> None:
    response = get(service, "https://rdap.db.ripe.net/ip/185.212.41.7")
    assert response.status == 200 and header(response, "content-type") == "application/rdap+json"
    net = body(response)
    assert net["objectClassName"] == "ip network" and net["ipVersion"] == "v4"
    assert (net["startAddress"], net["endAddress"]) == ("185.212.40.0", "185.212.43.255")
    assert net["cidr0_cidrs"] == [{"v4prefix": "185.212.40.0", "length": 22}]
    assert net["country"] == "PA" and net["name"] == "FLYSERV-AS" and net["parentHandle"]
    assert {e["eventAction"] for e in net["events"]} == {"registration", "last changed"}
    assert net["links"][0]["rel"] == "self" and net["notices"]
    org = next(e for e in net["entities"] if "registrant" in e["roles"])
    assert org["handle"] == "ORG-FS52-RIPE"
    assert ["fn", {}, "text", "Flyservers S.A."] in org["vcardArray"][1]
    assert ["kind", {}, "text", "org"] in org["vcardArray"][1]
    abuse = next(e for e in net["entities"] if "abuse" in e["roles"])
    assert ["email", {}, "text", "abuse@flyservers.example"] in abuse["vcardArray"][1]
    cidr = body(get(service, "https://rdap.db.ripe.net/ip/185.212.40.0/22"))
    assert cidr["handle"] == net["handle"]


def test_arin_nests_abuse_and_answers_autnum_and_entities(service: RdapService) -> None:
    net = body(get(service, "https://rdap.arin.net/registry/ip/104.16.1.1"))
    assert net["handle"] == "NET-104-16-0-0-1" and net["parentHandle"] == "NET-104-0-0-0-1"
    org = net["entities"][0]
    assert org["handle"] == "CLOUD14" and org["entities"][0]["roles"] == ["abuse"]
    assert ["email", {}, "text", "abuse@cloudflare.example"] in org["entities"][0]["vcardArray"][1]
    autnum = body(get(service, "https://rdap.arin.net/registry/autnum/13335"))
    assert autnum["objectClassName"] == "autnum" and autnum["startAutnum"] == 13335
    entity = body(get(service, "https://rdap.arin.net/registry/entity/CLOUD14"))
    assert entity["objectClassName"] == "entity" and entity["handle"] == "CLOUD14"
    abuse_handle = org["entities"][0]["handle"]
    assert get(service, f"https://rdap.arin.net/registry/entity/{abuse_handle}").status == 200
    assert get(service, "https://rdap.arin.net/registry/entity/NOPE-ARIN").status == 404


def test_arin_redirects_other_rirs_and_others_do_not(service: RdapService) -> None:
    redirect = get(service, "http://rdap.arin.net/registry/ip/185.212.41.7")
    assert redirect.status in (301, 302, 303)
    assert header(redirect, "location") == "https://rdap.db.ripe.net/ip/185.212.41.7"
    assert header(get(service, "https://rdap.arin.net/registry/autnum/133618"), "location") == \
        "https://rdap.apnic.net/autnum/133618"
    assert get(service, "https://rdap.db.ripe.net/ip/104.16.1.1").status == 404
    v6 = get(service, "https://rdap.arin.net/registry/ip/2a06:98c0::1")
    assert header(v6, "location") == "https://rdap.db.ripe.net/ip/2a06:98c0::1"
    missing = get(service, "https://rdap.arin.net/registry/ip/9.9.9.9")
    assert missing.status == 404 and body(missing)["errorCode"] == 404
    assert get(service, "https://rdap.arin.net/registry/ip/not-an-ip").status == 400
    boot = get(service, "https://rdap-bootstrap.arin.net/bootstrap/domain/pirate.com")
    assert header(boot, "location") == "https://rdap.verisign.com/com/v1/domain/pirate.com"


# -- domains -------------------------------------------------------------------------------------


def test_thin_registry_domain(service: RdapService) -> None:
    dom = body(get(service, "https://rdap.verisign.com/com/v1/domain/pirate.com"))
    assert dom["objectClassName"] == "domain" and dom["ldhName"] == "PIRATE.COM"
    assert dom["status"] == ["client transfer prohibited", "client delete prohibited"]
    assert dom["secureDNS"] == {"delegationSigned": True}
    assert [ns["ldhName"] for ns in dom["nameservers"]] == ["NS1.EXAMPLE-DNS.NET", "NS2.EXAMPLE-DNS.NET"]
    events = {e["eventAction"]: e["eventDate"] for e in dom["events"]}
    assert events["registration"] == "2023-04-02T10:11:12Z" and events["expiration"] == "2026-04-02T10:11:12Z"
    assert events["last changed"] == "2025-03-01T08:00:00Z"
    (registrar,) = dom["entities"]  # thin: no registrant
    assert registrar["roles"] == ["registrar"]
    assert registrar["publicIds"] == [{"type": "IANA Registrar ID", "identifier": "1068"}]
    abuse = registrar["entities"][0]["vcardArray"][1]
    assert ["email", {}, "text", "abuse@namecheap.com"] in abuse
    assert ["tel", {"type": "voice"}, "uri", "tel:+1.6613102107"] in abuse
    related = [link["href"] for link in dom["links"] if link["rel"] == "related"]
    assert related == ["https://rdap.namecheap.com/domain/PIRATE.COM"]
    assert get(service, "https://rdap.verisign.com/com/v1/entity/1068").status == 200


def test_registrar_domain_with_redaction(service: RdapService) -> None:
    dom = body(get(service, "https://rdap.namecheap.com/domain/PIRATE.COM"))
    registrant = next(e for e in dom["entities"] if "registrant" in e["roles"])
    card = registrant["vcardArray"][1]
    assert ["fn", {}, "text", "REDACTED FOR PRIVACY"] in card
    assert ["org", {}, "text", "Withheld for Privacy ehf"] in card
    assert next(p for p in card if p[0] == "adr")[3][6] == "IS"
    assert not any(p[0] in ("email", "tel") for p in card) and "handle" not in registrant
    assert "redacted" in dom["rdapConformance"]
    assert {r["name"]["type"] for r in dom["redacted"]} >= {"Registrant Name", "Registrant Email",
                                                           "Registrant Phone", "Registry Registrant ID"}
    assert get(service, "https://rdap.other.example/rdap/domain/pirate.com").status == 404


def test_thick_registry_and_published_registrant(service: RdapService) -> None:
    dom = body(get(service, "https://rdap.publicinterestregistry.org/rdap/domain/open.org"))
    registrant = next(e for e in dom["entities"] if "registrant" in e["roles"])
    assert ["org", {}, "text", "Open Media Ltd"] in registrant["vcardArray"][1] and "redacted" not in dom
    handle = registrant["handle"]
    assert get(service, f"https://rdap.namecheap.com/entity/{handle}").status == 200


def test_unknown_domains_and_tlds_without_rdap(service: RdapService) -> None:
    for url in ["https://rdap.verisign.com/com/v1/domain/nothere.com",
                "https://rdap.verisign.com/com/v1/domain/dnsonly.com",
                "https://rdap.verisign.com/com/v1/domain/open.org",
                "https://rdap.nic.to/domain/pirate.to"]:
        response = get(service, url)
        assert response.status == 404, url
    assert body(get(service, "https://rdap.verisign.com/com/v1/domain/nothere.com"))["errorCode"] == 404
    assert "notices" in body(get(service, "https://rdap.verisign.com/com/v1/help"))


def test_status_mapping() -> None:
    assert rdap_status("clientTransferProhibited") == "client transfer prohibited"
    assert rdap_status("ok") == "active" and rdap_status("pendingDelete") == "pending delete"


# -- faults --------------------------------------------------------------------------------------


def test_429_once_per_domain_then_success(service: RdapService) -> None:
    first = get(service, "https://rdap.verisign.com/com/v1/domain/f429.com")
    assert first.status == 429 and header(first, "retry-after") == "7"
    assert get(service, "https://rdap.verisign.com/com/v1/domain/f429.com").status == 200
    assert get(service, "https://rdap.namecheap.com/domain/f429.com").status == 200
    assert RdapService(service.world).rate_limited == set()  # state is per instance


def test_other_faults(service: RdapService) -> None:
    assert get(service, "https://rdap.verisign.com/com/v1/domain/f500.com").status == 500
    assert get(service, "https://rdap.verisign.com/com/v1/domain/f404.com").status == 404
    broken = get(service, "https://rdap.verisign.com/com/v1/domain/fmalformed.com")
    assert broken.status == 200
    with pytest.raises(json.JSONDecodeError):
        body(broken)

    async def stalls() -> None:
        request = Request("GET", "https", "rdap.verisign.com", 443, "/com/v1/domain/ftimeout.com")
        await asyncio.wait_for(service.handle(request), 0.2)

    with pytest.raises(TimeoutError):
        asyncio.run(stalls())
    service.stall_seconds = 0.01
    assert get(service, "https://rdap.verisign.com/com/v1/domain/ftimeout.com").status == 504


def test_latency(tmp_path: Path) -> None:
    service = RdapService(build_world(tmp_path, latency_ms=150))

    async def many() -> float:
        start = time.monotonic()
        requests = [Request("GET", "https", "rdap.arin.net", 443, "/registry/ip/104.16.1.1")] * 10
        await asyncio.gather(*(service.handle(r) for r in requests))
        return time.monotonic() - start

    assert 0.15 <= asyncio.run(many()) < 1.0


# -- ipwhois end to end --------------------------------------------------------------------------


class ServiceHandler(urllib.request.BaseHandler):
    """A urllib handler that answers http(s) requests from an RdapService, no sockets."""

    handler_order = 100  # before urllib's own HTTP(S)Handler

    def __init__(self, service: RdapService) -> None:
        self.service = service
        self.seen: list[str] = []

    def _open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
        parts = urlsplit(req.full_url)
        if parts.hostname not in self.service.hosts():
            raise urllib.error.URLError(f"no sandbox service for {parts.hostname}")
        self.seen.append(req.full_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request = Request(req.get_method(), parts.scheme, parts.hostname, parts.port or 443, target,
                          {k.lower(): v for k, v in req.header_items()})
        response = asyncio.run(self.service.handle(request))
        headers = email.message.Message()
        for name, value in response.headers:
            headers[name] = value
        assert isinstance(response.body, bytes)
        result = urllib.response.addinfourl(io.BytesIO(response.body), headers, req.full_url, response.status)
        result.msg = "OK" if response.status == 200 else "sandbox"
        return result

    http_open = _open
    https_open = _open


@pytest.fixture
def dns_port(world: World) -> Iterator[int]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_dns(world), loop).result(5)
    try:
        yield server.port
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def sandbox_ipwhois(address: str, dns_port: int, handler: ServiceHandler) -> Any:
    from ipwhois import IPWhois

    obj = IPWhois(address, timeout=3, proxy_opener=urllib.request.build_opener(handler))
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = dns_port
    obj.net.dns_resolver = resolver
    return obj


def test_ipwhois_lookup_rdap_end_to_end(service: RdapService, dns_port: int) -> None:
    handler = ServiceHandler(service)
    result = sandbox_ipwhois("185.212.41.7", dns_port, handler).lookup_rdap(asn_methods=["dns"], depth=1)
    assert result["asn"] == "209588" and result["asn_registry"] == "ripencc"
    assert result["asn_description"] == "FLYSERV-AS - Flyservers S.A., PA"
    assert result["network"]["cidr"] == "185.212.40.0/22" and result["network"]["country"] == "PA"
    assert handler.seen[0] == "https://rdap.db.ripe.net/ip/185.212.41.7"
    emails = [c["contact"]["email"][0]["value"] for c in result["objects"].values()
              if c["contact"] and c["contact"]["email"]]
    assert "abuse@flyservers.example" in emails

    arin = sandbox_ipwhois("104.16.1.1", dns_port, handler).lookup_rdap(asn_methods=["dns"], depth=1)
    assert arin["network"]["handle"] == "NET-104-16-0-0-1"
    abuse = next(o for o in arin["objects"].values() if "abuse" in (o["roles"] or []))
    assert abuse["contact"]["email"][0]["value"] == "abuse@cloudflare.example"


def test_urllib_follows_the_arin_redirect(service: RdapService) -> None:
    handler = ServiceHandler(service)
    opener = urllib.request.build_opener(handler)
    with opener.open("http://rdap.arin.net/registry/ip/185.212.41.7") as response:
        assert response.geturl() == "https://rdap.db.ripe.net/ip/185.212.41.7"
        assert json.load(response)["country"] == "PA"


def test_ipwhois_bootstrap_mode_follows_redirects(service: RdapService, dns_port: int) -> None:
    handler = ServiceHandler(service)
    result = sandbox_ipwhois("103.224.182.10", dns_port, handler).lookup_rdap(bootstrap=True, inc_nir=False)  # ipwhois needs inc_nir off here
    assert result["network"]["cidr"] == "103.224.182.0/23" and result["network"]["country"] == "AU"
    assert handler.seen[:2] == ["https://rdap-bootstrap.arin.net/bootstrap/ip/103.224.182.10",
                                "https://rdap.apnic.net/ip/103.224.182.10"]
