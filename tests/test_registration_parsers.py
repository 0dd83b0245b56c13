"""The registration parsers (enrich/whois_parse.py, enrich/rdap_parse.py) against real answers
captured from registries (tests/fixtures/registry/, copied from ../shared/data/), hostile
input, and what the sandbox world's own WHOIS and RDAP services render."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.sandbox import rdap as sandbox_rdap
from collector.sandbox import whois as sandbox_whois
from collector.sandbox.world import Domain, World, load_world
from enrich.rdap_parse import NetworkInfo, parse_rdap_domain, parse_rdap_network
from enrich.registration import (
    Registration,
    is_placeholder,
    normalise_status,
    parse_date,
    status_tuple,
)
from enrich.whois_parse import MAX_CHARS, parse_whois

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "registry"
WHOIS = FIXTURES / "whois"
RDAP = FIXTURES / "rdap"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# -- the WHOIS samples ---------------------------------------------------------------------------

DOMAIN_OF = {
    "ccwhois.verisign-grs.com/cc/found/found.txt": "m4r0c-s3curity.cc",
    "tvwhois.verisign-grs.com/tv/found/found.txt": "set.tv",
    "tvwhois.verisign-grs.com/tv/found/found_status_registered.txt": "google.tv",
    "whois.iis.se/se/found/found.txt": "populiscreate.se",
    "whois.iis.se/se/found/found_status_registered.txt": "google.se",
    "whois.iis.se/se/found/other_status_serverhold.txt": "ogogle.se",
    "whois.markmonitor.com/com/found/found.txt": "google.com",
    "whois.tcinet.ru/ru/found/found.txt": "masterhost.ru",
    "whois.tcinet.ru/ru/found/found_status_registered.txt": "google.ru",
    "whois.tonic.to/to/found/found.txt": "go.to",
    "whois.verisign-grs.com/com/found/found.txt": "y.com",
    "whois.verisign-grs.com/com/found/found_status_registered.txt": "google.com",
    "whois.verisign-grs.com/com/pending-delete/pending_delete.txt": "killianestates.com",
    "whois.nic.io/io/reserved/reserved.txt": "reserved.io",
    "whois.nic.io/io/reserved/reserved_status_reserved.txt": "reserved.io",
}
"""Samples whose file name is not the domain they answer for."""

STATUS_BY_FOLDER = {"found": "found", "pending-delete": "found", "not-assigned": "found",
                    "not-found": "not_found", "reserved": "not_found", "throttled": "throttled"}
MISFILED = {
    "whois.namecheap.com/com/found/slavichy.com.txt": "not_found",  # "Domain 'slavichy.com' not found"
    "whois.nic.me/me/found/wossna.me.txt": "error",  # an empty capture
}
"""Samples filed under found/ whose content says otherwise."""
NO_REGISTRAR_NOR_DATES = {"whois.tonic.to/to/found/found.txt"}
"""Tonic prints name servers only."""

SAMPLES = sorted(str(p.relative_to(WHOIS)) for p in WHOIS.rglob("*.txt"))


def domain_for(rel: str) -> str:
    if rel in DOMAIN_OF:
        return DOMAIN_OF[rel]
    stem = Path(rel).stem
    return stem if "." in stem else f"u34jedzcq.{rel.split('/')[1]}"


def whois_sample(rel: str) -> Registration:
    text = (WHOIS / rel).read_bytes().decode("utf-8")
    return parse_whois(text, domain_for(rel), rel.split("/")[0])


def expected_status(rel: str) -> str:
    return MISFILED.get(rel) or STATUS_BY_FOLDER[rel.split("/")[2]]


def test_every_sample_folder_is_known() -> None:
    assert len(SAMPLES) == 57
    assert {rel.split("/")[2] for rel in SAMPLES} == set(STATUS_BY_FOLDER)


@pytest.mark.parametrize("rel", SAMPLES)
def test_whois_sample_status(rel: str) -> None:
    reg = whois_sample(rel)
    assert reg.status == expected_status(rel), reg.error
    assert reg.source == "whois"
    assert reg.domain == domain_for(rel)
    assert (reg.error is not None) == (reg.status == "error")
    if reg.status != "found":
        assert (reg.registrar, reg.created, reg.nameservers) == (None, None, ())


@pytest.mark.parametrize("rel", [r for r in SAMPLES if expected_status(r) == "found"])
def test_whois_found_samples_have_registrar_and_dates(rel: str) -> None:
    reg = whois_sample(rel)
    if rel in NO_REGISTRAR_NOR_DATES:
        assert reg.nameservers
        return
    assert reg.registrar
    assert reg.created is not None and reg.expires is not None
    assert reg.created < reg.expires
    for when in (reg.created, reg.updated, reg.expires):
        assert when is None or when.tzinfo is UTC
    assert list(reg.nameservers) == sorted(set(reg.nameservers))
    assert all(ns == ns.lower() and not ns.endswith(".") for ns in reg.nameservers)


def test_whois_sample_counts() -> None:
    counts: dict[str, int] = {}
    for rel in SAMPLES:
        status = whois_sample(rel).status
        counts[status] = counts.get(status, 0) + 1
    assert counts == {"found": 32, "not_found": 23, "throttled": 1, "error": 1}


GOOGLE_LOCKS = ("clientDeleteProhibited", "clientTransferProhibited", "clientUpdateProhibited",
                "serverDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited")
GOOGLE_NS = ("ns1.google.com", "ns2.google.com", "ns3.google.com", "ns4.google.com")

WHOIS_FIELDS = {
    # Verisign thin, current layout
    "whois.verisign-grs.com/com/found/found_status_registered.txt": dict(
        registrar="MarkMonitor Inc.", registrar_iana_id=292, created=utc(1997, 9, 15, 4),
        updated=utc(2011, 7, 20, 16, 55, 31), expires=utc(2020, 9, 14, 4), nameservers=GOOGLE_NS,
        statuses=GOOGLE_LOCKS, abuse_email="abusecomplaints@markmonitor.com",
        referral_server="whois.markmonitor.com", registrant_org=None, redacted=False),
    "whois.verisign-grs.com/net/found/y.com.txt": dict(
        registrar="RESERVED-Internet Assigned Numbers Authority", registrar_iana_id=376,
        nameservers=(), abuse_email=None, referral_server="whois.iana.org"),
    # Verisign thin, pre-2014 layout
    "whois.verisign-grs.com/com/found/found.txt": dict(
        registrar="RESERVED-INTERNET ASSIGNED NUMBERS AUTHORITY", registrar_iana_id=None,
        created=utc(1993, 12, 1), updated=utc(2009, 12, 9), expires=utc(2010, 12, 8),
        nameservers=(), referral_server="whois.iana.org",
        statuses=("serverDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited")),
    "ccwhois.verisign-grs.com/cc/found/found.txt": dict(
        registrar="TUCOWS INC.", created=utc(2009, 3, 26), expires=utc(2011, 3, 26),
        statuses=("clientTransferProhibited", "clientUpdateProhibited"),
        referral_server="whois.tucows.com", nameservers=()),
    "tvwhois.verisign-grs.com/tv/found/found.txt": dict(
        registrar=".TV RESERVED DOMAINS", referral_server=None, statuses=("serverTransferProhibited",)),
    "whois.verisign-grs.com/com/pending-delete/pending_delete.txt": dict(
        registrar="GODADDY.COM, LLC", statuses=("pendingDelete",), expires=utc(2013, 5, 26),
        nameservers=("ns75.domaincontrol.com", "ns76.domaincontrol.com")),
    # PIR, CentralNic, Identity Digital
    "whois.pir.org/org/found/google.org.txt": dict(
        registrar="MarkMonitor Inc.", registrar_iana_id=292, created=utc(1998, 10, 21, 4),
        expires=utc(2026, 10, 20, 4), nameservers=GOOGLE_NS, statuses=GOOGLE_LOCKS, redacted=False),
    "whois.nic.xyz/xyz/found/abc.xyz.txt": dict(
        created=utc(2014, 3, 20, 12, 59, 17), updated=utc(2026, 3, 6, 12, 0, 40),
        expires=utc(2027, 3, 20, 23, 59, 59), referral_server="whois.markmonitor.com",
        statuses=("clientDeleteProhibited", "clientTransferProhibited", "clientUpdateProhibited")),
    "whois.nic.io/io/found/google.io.txt": dict(
        registrant_org="Google LLC", registrant_country="US", redacted=True, nameservers=GOOGLE_NS),
    "whois.nic.io/io/found/redis.io.txt": dict(
        registrar="Name.com, Inc.", registrar_iana_id=625, referral_server="whois.name.com",
        registrant_org="Domain Protection Services, Inc.", registrant_country="US", redacted=True,
        abuse_email="abuse@name.com"),
    "whois.nic.me/me/found/factoryoutlet.me.txt": dict(
        registrar="Dominet (HK) Limited", registrar_iana_id=3775, statuses=("ok",),
        abuse_email="b10regadm@list.alibaba-inc.com", referral_server=None,
        registrant_org="Weijie Xu", registrant_country="CN", redacted=True,
        nameservers=("ns1.afternic.com", "ns2.afternic.com",
                     "verification-m3erh32ujyoastvophjvuz.ns101.verify.hn")),
    # registrar servers (2013 RAA)
    "whois.markmonitor.com/com/found/found.txt": dict(
        registrar="MarkMonitor, Inc.", created=utc(1997, 9, 15, 7), updated=utc(2015, 6, 12, 17, 38, 52),
        expires=utc(2020, 9, 14, 4), statuses=GOOGLE_LOCKS, registrant_org="Google Inc.",
        registrant_country="US", redacted=False),
    "whois.cdmon.com/com/found/cdmon.com.txt": dict(
        registrar="10DENCEHISPAHARD, S.L", registrar_iana_id=1403, expires=utc(2034, 8, 12, 15, 2, 53),
        registrant_org="10dencehispahard,s.l.", registrant_country="ES", redacted=True),
    "whois.comlaude.com/com/found/adobe.com.txt": dict(
        registrar="NOM-IQ Ltd dba Com Laude", registrar_iana_id=470, created=utc(1986, 11, 17, 5),
        registrant_org="Adobe Inc.", registrant_country="US", redacted=True,  # the tech contact
        abuse_email="abuse@comlaude.com"),
    "whois.dotname.co.kr/com/found/ggemtv.com.txt": dict(
        registrar="Dotname Korea Corp.", registrar_iana_id=1132, statuses=("ok",),
        abuse_email="abuse@dotnamekorea.com", redacted=False),
    # KISA .kr
    "whois.kr/kr/found/google.kr.txt": dict(
        registrar="Whois Corp.", registrar_iana_id=None, created=utc(2007, 3, 2),
        updated=utc(2026, 4, 15), expires=utc(2027, 3, 2), nameservers=GOOGLE_NS[:2],
        statuses=("clientTransferProhibited", "clientUpdateProhibited"),
        registrant_org="Google Korea, LLC", registrant_country=None, redacted=False),
    "whois.kr/kr/found/lg.co.kr.txt": dict(
        created=utc(1995, 3, 20), expires=utc(2033, 10, 15), statuses=(),
        nameservers=("prmns.lg.co.kr", "secns.lg.co.kr"), registrant_org="LG Corp."),
    # Tonic .to
    "whois.tonic.to/to/found/found.txt": dict(
        registrar=None, created=None, nameservers=("ns-1.myphotoalbum.com", "ns-2.myphotoalbum.com")),
    # TCI .ru
    "whois.tcinet.ru/ru/found/found.txt": dict(
        registrar="RD-RU", created=utc(1999, 12, 15, 16, 20, 39), updated=None,
        expires=utc(2021, 12, 31, 21), registrant_org='LLC "MASTERHOST"', redacted=False,
        nameservers=("ns3.masterhost.ru", "ns4.masterhost.ru", "ns5.masterhost.ru"),
        statuses=("delegated", "registered", "unverified")),
    "whois.tcinet.ru/ru/found/found_status_registered.txt": dict(
        registrar="RU-CENTER-RU", registrant_org="Google LLC", nameservers=GOOGLE_NS),
    # IIS .se
    "whois.iis.se/se/found/loopia.se.txt": dict(
        registrar="Loopia AB", created=utc(2003, 9, 15), updated=utc(2025, 9, 15),
        expires=utc(2026, 9, 15), nameservers=("ns1.loopia.se", "ns2.loopia.se"),
        statuses=("serverDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited"),
        registrant_org=None),
    "whois.iis.se/se/found/found.txt": dict(registrar="EuroDNS S.A", updated=None, statuses=("ok",)),
    "whois.iis.se/se/found/other_status_serverhold.txt": dict(statuses=("serverHold",)),
}


@pytest.mark.parametrize("rel", sorted(WHOIS_FIELDS))
def test_whois_sample_fields(rel: str) -> None:
    reg = whois_sample(rel)
    got = {field: getattr(reg, field) for field in WHOIS_FIELDS[rel]}
    assert got == WHOIS_FIELDS[rel]


def test_whois_accepts_bytes_and_picks_the_record_asked_for() -> None:
    text = ("   Domain Name: GOOGLE.COM.EVIL.NET\n   Registrar: BAD REGISTRAR\n"
            "   Creation Date: 01-jan-2001\n\n"
            "   Domain Name: GOOGLE.COM\n   Registrar: MARKMONITOR INC.\n"
            "   Creation Date: 15-sep-1997\n   Expiration Date: 14-sep-2020\n")
    reg = parse_whois(text.encode(), "Google.COM.")
    assert (reg.domain, reg.registrar, reg.created) == ("google.com", "MARKMONITOR INC.", utc(1997, 9, 15))


# -- dates and status codes ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2011-07-20T16:55:31Z", utc(2011, 7, 20, 16, 55, 31)),
    ("2026-03-06T12:00:40.0Z", utc(2026, 3, 6, 12, 0, 40)),
    ("2015-06-12T10:38:52-0700", utc(2015, 6, 12, 17, 38, 52)),
    ("2026-07-12T14:34:25+0200", utc(2026, 7, 12, 12, 34, 25)),
    ("2021-12-14T20:28:53-05:00", utc(2021, 12, 15, 1, 28, 53)),
    ("2019-10-20T01:02:03.123456789Z", utc(2019, 10, 20, 1, 2, 3, 123456)),
    ("2007-03-14", utc(2007, 3, 14)),
    ("2007. 03. 14.", utc(2007, 3, 14)),
    ("2007/03/14", utc(2007, 3, 14)),
    ("2007.03.14", utc(2007, 3, 14)),
    ("14-Mar-2007", utc(2007, 3, 14)),
    ("07-may-2010", utc(2010, 5, 7)),
    ("Mon, 6 Dec 2010 08:02:37 EST", utc(2010, 12, 6, 13, 2, 37)),
    ("20070314", utc(2007, 3, 14)),
    ("before Aug-1996", None),
    ("2007-13-45", None),
    ("-", None),
    ("", None),
    (None, None),
    (20070314, None),
])
def test_parse_date(text: object, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("raw", "code"), [
    ("client transfer prohibited", "clientTransferProhibited"),
    ("CLIENT-XFER-PROHIBITED", "clientTransferProhibited"),
    ("clientTransferProhibited", "clientTransferProhibited"),
    ("server hold", "serverHold"),
    ("auto renew period", "autoRenewPeriod"),
    ("pending delete", "pendingDelete"),
    ("active", "ok"),
    ("OK", "ok"),
    ("REGISTERED", "registered"),
    ("  ", None),
])
def test_normalise_status(raw: str, code: str | None) -> None:
    assert normalise_status(raw) == code


# -- RDAP domains --------------------------------------------------------------------------------


def rdap_sample(name: str) -> object:
    return json.loads((RDAP / name).read_text("utf-8"))


def test_rdap_domain_verisign_thin() -> None:
    reg = parse_rdap_domain(rdap_sample("rdap_response_domain1.json"), "google.com")
    assert reg == Registration(
        domain="google.com", source="rdap", status="found", registrar="MarkMonitor Inc.",
        registrar_iana_id=292, created=utc(1997, 9, 15, 4), updated=None,
        expires=utc(2028, 9, 14, 4), nameservers=GOOGLE_NS, statuses=GOOGLE_LOCKS,
        abuse_email="abusecomplaints@markmonitor.com", redacted=False)


def test_rdap_domain_norid() -> None:
    reg = parse_rdap_domain(rdap_sample("rdap_response_domain2.json"), "norway.no")
    assert reg == Registration(
        domain="norway.no", source="rdap", status="found", registrar="Domeneshop AS",
        created=utc(2017, 1, 24, 12, 9, 23), updated=utc(2021, 1, 14, 5, 16, 59),
        nameservers=("ns1-09.azure-dns.com", "ns2-09.azure-dns.net", "ns3-09.azure-dns.org",
                     "ns4-09.azure-dns.info"))


def test_rdap_domain_registrar_eu() -> None:
    reg = parse_rdap_domain(rdap_sample("rdap_response_domain3.json"), "THEMARQUETRY.COM")
    assert reg == Registration(
        domain="themarquetry.com", source="rdap", status="found",
        registrar="Hosting Concepts B.V. d/b/a Registrar.eu", registrar_iana_id=1647,
        created=utc(2021, 3, 16, 17, 7, 37), expires=utc(2022, 3, 16, 17, 7, 37),
        nameservers=("ns1.dns-parking.com", "ns2.dns-parking.com"),
        statuses=("clientTransferProhibited",), abuse_email="abuse@registrar.eu")


def test_rdap_domain_last_update_of_database_is_not_updated() -> None:
    data = rdap_sample("rdap_response_domain3.json")
    assert any(e["eventAction"] == "last update of RDAP database" for e in data["events"])
    assert parse_rdap_domain(data, "themarquetry.com").updated is None


def test_rdap_domain_registrant_and_redaction() -> None:
    data = rdap_sample("rdap_response_domain1.json")
    data["entities"].insert(0, {
        "objectClassName": "entity", "roles": ["registrant"],
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "REDACTED"],
                                 ["org", {}, "text", "Google LLC"],
                                 ["adr", {}, "text", ["", "", "", "", "CA", "", "US"]]]],
        "remarks": [{"title": "REDACTED FOR PRIVACY", "type": "object redacted due to authorization"}]})
    reg = parse_rdap_domain(data, "google.com")
    assert (reg.registrant_org, reg.registrant_country, reg.redacted) == ("Google LLC", "US", True)


@pytest.mark.parametrize(("code", "status"), [(404, "not_found"), (429, "throttled"),
                                              (500, "error"), (400, "error")])
def test_rdap_error_objects(code: int, status: str) -> None:
    body = json.dumps(sandbox_rdap.error_object(code, "Some Title", "what happened"))
    reg = parse_rdap_domain(body, "example.com")
    assert reg.status == status
    if status == "error":
        assert reg.error is not None and str(code) in reg.error and "Some Title" in reg.error
    network = parse_rdap_network(body)
    assert network.error is not None and str(code) in network.error


# -- RDAP networks -------------------------------------------------------------------------------

NETWORKS = {
    "rdap_response_ip_v4.json": NetworkInfo(
        handle="1.1.1.0 - 1.1.1.255", cidrs=("1.1.1.0/24",), name="APNIC-LABS", country="AU",
        owner_org="APNIC RESEARCH", abuse_email="helpdesk@apnic.net", source_rir="apnic"),
    "rdap_response_cidr_v4.json": NetworkInfo(
        handle="1.1.1.0 - 1.1.1.255", cidrs=("1.1.1.0/24",), name="APNIC-LABS", country="AU",
        owner_org="APNIC RESEARCH", abuse_email="helpdesk@apnic.net", source_rir="apnic"),
    "rdap_response_ip_v4_2.json": NetworkInfo(
        handle="130.59.0.0 - 130.59.255.255", cidrs=("130.59.0.0/16",), name="SWITCH-LAN",
        country="CH", owner_org=None, abuse_email="abuse@switch.ch",
        parent_handle="0.0.0.0 - 255.255.255.255", source_rir="ripencc"),
    "rdap_response_ip_v4_3.json": NetworkInfo(
        handle="NET-13-64-0-0-1", cidrs=("13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14"),
        name="MSFT", country=None, owner_org="Microsoft Corporation",
        abuse_email="abuse@microsoft.com", parent_handle="NET-13-0-0-0-0", source_rir="arin"),
    # ARIN lists a network-level abuse POC (ZG39-ARIN) beside the org's nested one: the
    # shallower, network-specific one wins.
    "rdap_response_ip_v6.json": NetworkInfo(
        handle="NET6-2001-4860-1", cidrs=("2001:4860::/32",), name="GOOGLE-IPV6", country=None,
        owner_org="Google LLC", abuse_email="arin-contact@google.com",
        parent_handle="NET6-2001-4800-0", source_rir="arin"),
    "rdap_response_cidr_v6.json": NetworkInfo(
        handle="NET6-2001-4860-1", cidrs=("2001:4860::/32",), name="GOOGLE-IPV6", country=None,
        owner_org="Google LLC", abuse_email="arin-contact@google.com",
        parent_handle="NET6-2001-4800-0", source_rir="arin"),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_rdap_network_samples(name: str) -> None:
    assert parse_rdap_network(rdap_sample(name)) == NETWORKS[name]


def test_rdap_network_from_address_range_without_cidr0() -> None:
    data = rdap_sample("rdap_response_ip_v4_3.json")
    del data["cidr0_cidrs"]
    assert parse_rdap_network(data).cidrs == ("13.64.0.0/11", "13.96.0.0/13", "13.104.0.0/14")


@pytest.mark.parametrize("name", ["rdap_response_asn.json", "rdap_response_entity.json"])
def test_rdap_other_objects_are_errors(name: str) -> None:
    assert parse_rdap_network(rdap_sample(name)).error
    assert parse_rdap_domain(rdap_sample(name), "example.com").status == "error"


# -- hostile input -------------------------------------------------------------------------------

RNG = random.Random(9083)
GARBAGE = bytes(RNG.randrange(256) for _ in range(4096))


@pytest.mark.parametrize("text", [
    "", "   \n\t\n", GARBAGE, GARBAGE.decode("latin-1"), "\x00" * 1000,
    sandbox_whois.garbage("ddalgitoon101.com"), "x" * 10_000_000,
    "lorem ipsum dolor sit amet\n" * 400_000, None, 42, ["Registrar: x"],
], ids=["empty", "blank", "bytes", "latin1", "nul", "sandbox-garbage", "10MB-line",
        "10MB-lines", "none", "int", "list"])
def test_whois_hostile_input_is_an_error(text: object) -> None:
    reg = parse_whois(text, "example.com", "whois.example")  # type: ignore[arg-type]
    assert reg.status == "error"
    assert reg.error and "\n" not in reg.error and len(reg.error) <= 200


def test_whois_reads_only_the_first_200k() -> None:
    head = "Domain Name: EXAMPLE.COM\nRegistrar: Early Registrar\n"
    tail = "\nCreation Date: 2001-01-01T00:00:00Z\n"
    reg = parse_whois(head + "#" * (MAX_CHARS + 10) + tail, "example.com")
    assert (reg.status, reg.registrar, reg.created) == ("found", "Early Registrar", None)


def test_whois_ten_megabytes_of_records_is_bounded() -> None:
    block = "Name Server: ns{}.example.net\n"
    text = "Registrar: Big\n" + "".join(block.format(i) for i in range(400_000))
    reg = parse_whois(text, "example.com")
    assert reg.status == "found" and 0 < len(reg.nameservers) < 20_000


def nested(depth: int) -> dict:
    node: dict = {"objectClassName": "entity", "roles": ["registrar"]}
    for _ in range(depth):
        node = {"objectClassName": "entity", "roles": ["technical"], "entities": [node]}
    return node


@pytest.mark.parametrize("data", [
    None, 42, "", "not json", b"\xff\xfe\x00", "[" * 200_000 + "]" * 200_000, [], ["vcard"],
    {}, {"objectClassName": "domain"}, {"objectClassName": "domain", "ldhName": 5},
    {"objectClassName": "domain", "ldhName": "example.com", "events": "yesterday"},
    {"objectClassName": "domain", "ldhName": "example.com", "entities": {"roles": ["registrar"]}},
    {"objectClassName": "domain", "ldhName": "example.com", "entities": [1, "two"]},
    {"objectClassName": "domain", "ldhName": "example.com", "status": [["nested"]]},
    {"objectClassName": "domain", "ldhName": "example.com", "nameservers": ["ns1.example.com"]},
    {"objectClassName": "domain", "ldhName": "example.com",
     "entities": [{"roles": "registrar", "vcardArray": ["vcard", []]}]},
    {"objectClassName": "domain", "ldhName": "example.com", "errorCode": True},
    {"objectClassName": "domain", "ldhName": "example.com", "redacted": "yes"},
    {"objectClassName": "ip network", "ldhName": "example.com"},
    "x" * 5_000_000,
], ids=lambda d: type(d).__name__ + ":" + repr(d)[:40])
def test_rdap_domain_hostile_input_is_an_error(data: object) -> None:
    reg = parse_rdap_domain(data, "example.com")
    assert reg.status == "error"
    assert reg.error and "\n" not in reg.error


def test_rdap_deeply_nested_entities_are_bounded() -> None:
    data = {"objectClassName": "domain", "ldhName": "example.com", "entities": [nested(50_000)]}
    reg = parse_rdap_domain(data, "example.com")
    assert reg.status == "found" and reg.registrar is None
    network = parse_rdap_network({"objectClassName": "ip network", "startAddress": "10.0.0.0",
                                  "endAddress": "10.0.0.255", "entities": [nested(50_000)]})
    assert network.cidrs == ("10.0.0.0/24",) and network.error is None


def test_rdap_wrong_types_deep_in_vcards_are_ignored() -> None:
    data = rdap_sample("rdap_response_domain1.json")
    registrar = data["entities"][0]
    registrar["vcardArray"][1].append([1, 2])
    registrar["vcardArray"][1].append(["fn"])
    registrar["publicIds"][0]["identifier"] = ["292"]
    registrar["entities"][0]["vcardArray"] = ["vcard", "not a list"]
    reg = parse_rdap_domain(data, "google.com")
    assert (reg.status, reg.registrar, reg.registrar_iana_id, reg.abuse_email) == (
        "found", "MarkMonitor Inc.", None, None)


@pytest.mark.parametrize("data", [
    None, [], "{", {"objectClassName": "ip network"},
    {"objectClassName": "ip network", "startAddress": "10.0.0.9", "endAddress": "10.0.0.1"},
    {"objectClassName": "ip network", "startAddress": "10.0.0.0", "endAddress": "::1"},
    {"objectClassName": "ip network", "startAddress": 167772160, "endAddress": 167772415},
    {"objectClassName": "ip network", "cidr0_cidrs": [{"v4prefix": "10.0.0.0", "length": 99}]},
    {"objectClassName": "ip network", "cidr0_cidrs": "10.0.0.0/8"},
    {"objectClassName": "ip network", "cidr0_cidrs": [{"v4prefix": "10.0.0.0", "length": 8}],
     "entities": [{"roles": ["abuse"], "entities": "none"}]},
], ids=lambda d: repr(d)[:50])
def test_rdap_network_hostile_input_is_an_error(data: object) -> None:
    info = parse_rdap_network(data)
    assert info.error and info.cidrs == ()


# -- the sandbox world's own answers -------------------------------------------------------------

NOW = utc(2026, 7, 1, 12)
WORLD = load_world()
REGISTERED = sorted(name for name, d in WORLD.domains.items() if d.registration is not None)

REGISTRY_FIELDS = {
    # what each registry format can carry besides name servers
    "verisign": {"registrar", "iana", "dates", "statuses", "abuse"},
    "centralnic": {"registrar", "iana", "dates", "statuses", "abuse"},
    "pir": {"registrar", "iana", "dates", "statuses", "abuse"},
    "nicio": {"registrar", "iana", "dates", "statuses", "abuse", "registrant", "redacted"},
    "nicme": {"registrar", "iana", "dates", "statuses", "abuse", "registrant", "redacted"},
    "icann": {"registrar", "iana", "dates", "statuses", "abuse", "registrant", "redacted"},
    "kr": {"registrar", "day-dates", "statuses", "registrant-org", "redacted"},
    "iis": {"registrar", "day-dates", "statuses"},
    "ru": {"registrar-handle", "created-expires", "statuses", "org-unless-redacted", "redacted"},
    "tonic": set(),
}


def expected_org(domain: Domain) -> str | None:
    """The world's registrant organisation as a parser reports it (stand-ins are not data)."""
    org = domain.registration.registrant_org  # type: ignore[union-attr]
    return None if not org or is_placeholder(org) else org


def check(reg: Registration, domain: Domain, world: World, carries: set[str], what: str) -> None:
    """Compare ``reg`` with the world's registration for the fields ``carries`` names."""
    r = domain.registration
    assert r is not None
    registrar = world.registrars[r.registrar]
    assert reg.status == "found", f"{what}: {reg.error}"
    assert reg.nameservers == tuple(sorted(r.nameservers)), what
    if "registrar" in carries:
        assert reg.registrar == registrar.name, what
    if "registrar-handle" in carries:
        assert reg.registrar and reg.registrar.endswith("-RU"), what
    if "iana" in carries:
        assert reg.registrar_iana_id == (registrar.iana_id or None), what
    if "abuse" in carries:
        assert reg.abuse_email == registrar.abuse_email, what
    if "dates" in carries:
        assert (reg.created, reg.updated, reg.expires) == (r.created, r.updated, r.expires), what
    if "day-dates" in carries:
        got = tuple(d.date() if d else None for d in (reg.created, reg.updated, reg.expires))
        assert got == (r.created.date(), r.updated.date(), r.expires.date()), what
    if "created-expires" in carries:
        assert (reg.created, reg.expires) == (r.created, r.expires), what
    if "statuses" in carries:
        assert reg.statuses == (status_tuple(list(r.status)) or ("ok",)), what
    if "registrant" in carries:
        assert (reg.registrant_org, reg.registrant_country) == (
            expected_org(domain), r.registrant_country or None), what
    if "registrant-org" in carries:
        assert reg.registrant_org == expected_org(domain), what
    if "org-unless-redacted" in carries:  # .ru prints "person: Private Person" instead
        assert reg.registrant_org == (None if r.redacted else expected_org(domain)), what
    if "redacted" in carries:
        assert reg.redacted == r.redacted, what


@pytest.mark.parametrize("name", REGISTERED)
def test_sandbox_whois_parses_back_to_the_world(name: str) -> None:
    domain = WORLD.domains[name]
    assert domain.registration is not None
    registry = WORLD.registry_for(domain.tld)
    registrar = WORLD.registrars[domain.registration.registrar]
    assert registry is not None
    service = sandbox_whois.WhoisService(WORLD)
    service.clock = lambda: NOW

    text = service.text(registry.whois_server, name, domain)
    reg = parse_whois(text, name, registry.whois_server)
    check(reg, domain, WORLD, REGISTRY_FIELDS[registry.whois_format], f"{registry.whois_server} {name}")
    if registry.whois_format in ("verisign", "centralnic", "pir", "nicio", "nicme"):
        assert reg.referral_server == registrar.whois_server

    if registrar.whois_server:  # the registrar's own server: the full 2013-RAA record
        text = service.text(registrar.whois_server, name, domain)
        reg = parse_whois(text, name, registrar.whois_server)
        check(reg, domain, WORLD, REGISTRY_FIELDS[registrar.whois_format],
              f"{registrar.whois_server} {name}")


def has_rdap(name: str) -> bool:
    registry = WORLD.registry_for(WORLD.domains[name].tld)
    return bool(registry and registry.rdap_base)


@pytest.mark.parametrize("name", [n for n in REGISTERED if has_rdap(n)])
def test_sandbox_rdap_parses_back_to_the_world(name: str) -> None:
    domain = WORLD.domains[name]
    assert domain.registration is not None
    registry = WORLD.registry_for(domain.tld)
    registrar = WORLD.registrars[domain.registration.registrar]
    assert registry is not None
    answers = [(registry.rdap_base, False)]
    if registrar.rdap_base:
        answers.append((registrar.rdap_base, True))
    for base, full in answers:
        obj = sandbox_rdap.domain_object(domain, registry, registrar, base, full=full, now=NOW)
        reg = parse_rdap_domain(json.dumps(obj), name)
        carries = {"registrar", "iana", "abuse", "dates", "statuses"}
        if full or not registry.thin:
            carries |= {"registrant", "redacted"}
        check(reg, domain, WORLD, carries, f"{base} {name}")
        assert reg.source == "rdap"


def test_sandbox_whois_faults() -> None:
    assert parse_whois(sandbox_whois.throttled_text("pir"), "x.org").status == "throttled"
    assert parse_whois(sandbox_whois.garbage("x.com"), "x.com").status == "error"
    for fmt in sandbox_whois.FOUND:
        text = sandbox_whois.not_found_text(fmt, "nosuchname.com", NOW)
        assert parse_whois(text, "nosuchname.com").status == "not_found", fmt


@pytest.mark.parametrize("cidr", [n.cidr for n in WORLD.networks])
def test_sandbox_rdap_networks_parse_back(cidr: str) -> None:
    net = next(n for n in WORLD.networks if n.cidr == cidr)
    info = parse_rdap_network(json.dumps(sandbox_rdap.ip_network_object(net)))
    assert info.error is None
    assert info.cidrs == (net.network.with_prefixlen,)
    assert (info.country, info.owner_org, info.source_rir) == (net.country, net.org, net.rir)
    assert info.abuse_email == (net.abuse_email or None)
    assert info.parent_handle == sandbox_rdap.parent_handle(net)
