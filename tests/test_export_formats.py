"""Partner export formats: STIX 2.1, MISP and CSV, from export records built by hand and from a store.

Records are built in the contract shape of ``storage/export.py``; one is hostile (quotes,
backslashes, ``</script>``, spreadsheet formulas, unicode) because every string is scraped.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stix2
from helpers.export_store import build_store
from pymisp import MISPEvent
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from collector.writers.csv_writer import COLUMNS, FORMULA_STARTS, write_csv
from collector.writers.misp import write_misp
from collector.writers.stix import IDENTITY, write_stix
from storage.db import session_factory
from storage.export import site_records

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=10)
GENERATED = datetime(2026, 2, 1, tzinfo=UTC)
FORMULA = "=cmd|'/c calc'!A1"
HOSTILE_DOMAIN = "o'brien\\x.example"

ALL_INDICATORS = [
    ("ga", "G-TOON101"), ("gtm", "GTM-ABC12"), ("adsense", "pub-1234567890"), ("yandex_metrica", "91827364"),
    ("btc", "bc1qtoonmoa"), ("eth", "0x96ed293Ea71B16F12C8C3D2465A45f593337F7DF"),
    ("trx", "TPmyJ52VUYbUQR7ibBVZVnRJ59uDw5zeF2"), ("xmr", "48YJ2DMEJ9A4XAxa4XSEnaVgjv7R9Yzs"),
    ("email", "ops@toonmoa101.com"), ("telegram", "t.me/toonmoa"), ("discord", "discord.gg/toon"),
    ("whatsapp", "wa.me/8613925566120"), ("phone", "+8613925566120"), ("paypal", "paypal.me/toonmoa"),
    ("favicon_mmh3", "-1893001073"), ("video_host", "dood.yt"), ("ad_network", "popads"),
]


def hosting(ip: str, asn: int | None = None, **facts) -> dict:
    return {"ip": ip, "asn": asn, "as_name": None, "cidr": None, "country": None, "org": None,
            "abuse_email": None, "cdn": None, **facts}


def bare(domain: str, **facts) -> dict:
    return {"domain": domain, "is_piracy": None, "category": None, "delivery": [], "score": None, "reasons": [],
            "signals": [], "status": None,
            "first_seen": T0.isoformat(), "last_seen": T0.isoformat(), "redirects_to": None, "related_domains": [],
            "cluster": None, "dns": {t: [] for t in ("A", "AAAA", "CNAME", "NS", "MX", "TXT")}, "hosting": [],
            "whois": {"registrar": None, "created": None, "expires": None, "nameservers": [],
                      "registrant_country": None, "abuse_email": None, "source": None},
            "tls": {"sha256": None, "issuer": None, "subject_cn": None, "sans": [], "not_after": None},
            "indicators": [], **facts}


def records() -> list[dict]:
    """A full piracy site, its successor (sharing an AS, an address and a GA id), a hostile and a bare site."""
    cloudflare = dict(as_name="CLOUDFLARENET", cidr="104.21.0.0/17", country="US", org="Cloudflare, Inc.",
                      abuse_email="abuse@cloudflare.com", cdn="cloudflare")
    full = bare(
        "toonmoa101.com", is_piracy=True, category="manga", delivery=["ddl", "streaming"], score=0.93,
        reasons=["Reads manga chapters online.", "Offers chapters as ZIP downloads."],
        signals=["manga reader", "ads: popcash"],
        status="active", last_seen=T1.isoformat(), redirects_to="toonmoa104.com",
        related_domains=["toonmoa-mirror.net"], cluster="op-7f3a",
        hosting=[hosting("104.21.5.7", 13335, **cloudflare),
                 hosting("185.212.40.10", 209588, as_name="FLYSERVERS-AS", cidr="185.212.40.0/22", country="PA",
                         org="Flyservers S.A.", abuse_email="abuse@flyservers.example"),
                 hosting("2a0b:4342:1a31::10")],
        whois={"registrar": "NameSilo, LLC", "created": "2024-03-01", "expires": "2027-03-01",
               "nameservers": ["ns1.dnsowl.com", "ns2.dnsowl.com"], "registrant_country": "KR",
               "abuse_email": "abuse@namesilo.com", "source": "rdap"},
        tls={"sha256": "ab" * 32, "issuer": "CN=E5, O=Let's Encrypt", "subject_cn": "toonmoa101.com",
             "sans": ["toonmoa101.com", "www.toonmoa101.com"], "not_after": "2026-04-01T00:00:00+00:00"},
        indicators=[{"type": t, "value": v} for t, v in ALL_INDICATORS])
    full["dns"]["A"], full["dns"]["AAAA"] = ["104.21.5.7", "185.212.40.10"], ["2a0b:4342:1a31::10"]
    successor = bare("toonmoa104.com", is_piracy=True, category="manga", score=0.8, status="active",
                     hosting=[hosting("104.21.5.7", 13335, **cloudflare)],
                     indicators=[{"type": "ga", "value": "G-TOON101"}])
    hostile = bare(
        HOSTILE_DOMAIN, is_piracy=False, category="none", score=0.1,
        signals=[FORMULA, "it's a \\ backslash </script><script>alert(1)</script>", "웹툰 ✓ \u202e"],
        status="-2+3", redirects_to="@evil.example", related_domains=["+mirror.example"],
        cluster="=HYPERLINK(\"http://x\")",
        hosting=[hosting("10.0.0.1", 64512, as_name="</script>", org=FORMULA, country="\tXX",
                         abuse_email="@abuse", cdn="-cdn")],
        whois={"registrar": "@SUM(1+1)*cmd|' /C calc'!A0", "created": "2024-03-01", "expires": None,
               "nameservers": ["=ns.example"], "registrant_country": None, "abuse_email": "+abuse@x",
               "source": "whois"},
        tls={"sha256": "cd" * 32, "issuer": "\rCN=it's", "subject_cn": "o'brien", "sans": [], "not_after": None},
        indicators=[{"type": "email", "value": "=1+1@evil.example"}, {"type": "ga", "value": "G-'QUOTE\\"},
                    {"type": "btc", "value": "bc1q'); DROP TABLE--"}, {"type": "telegram", "value": "t.me/it's"},
                    {"type": "ad_network", "value": "-ads"}])
    return [full, successor, hostile, bare("xn--yq5b48r.xn--3e0b707e")]


def export(writer, items, **kwargs) -> tuple[int, str]:
    out = io.StringIO()
    count = writer(iter(items), out, **kwargs)
    return count, out.getvalue()


# --- STIX 2.1 -----------------------------------------------------------------------------


def stix_objects(text: str) -> list[dict]:
    bundle = stix2.parse(text, allow_custom=True)  # validates every object stix2 knows
    assert bundle.type == "bundle"
    stix2.MemoryStore(bundle, allow_custom=True)
    document = json.loads(text)
    return document["objects"]


def refs(obj: dict) -> Iterator[str]:
    for key, value in obj.items():
        if key.endswith("_ref"):
            yield value
        elif key.endswith("_refs"):
            yield from value


def unquote_stix(literal: str) -> str:
    assert literal[0] == literal[-1] == "'"
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def test_stix_bundle_parses_with_the_expected_objects():
    count, text = export(write_stix, records(), generated_at=GENERATED)
    assert count == 4
    objects = stix_objects(text)
    types = Counter(o["type"] for o in objects)
    assert types["identity"] == 1 and types["infrastructure"] == 4
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))  # shared objects written once
    by_id = {o["id"]: o for o in objects}
    for obj in objects:
        for ref in refs(obj):
            assert ref in by_id, f"{obj['id']} refers to missing {ref}"

    assert types["autonomous-system"] == 3  # 13335 shared by two sites, 209588, 64512
    assert types["ipv4-addr"] == 3 and types["ipv6-addr"] == 1
    assert types["x509-certificate"] == 2
    # Sites, redirect/related targets not in the export, and the video host.
    assert {o["value"] for o in objects if o["type"] == "domain-name"} == {
        "toonmoa101.com", "toonmoa104.com", HOSTILE_DOMAIN, "xn--yq5b48r.xn--3e0b707e", "toonmoa-mirror.net",
        "@evil.example", "+mirror.example", "dood.yt"}
    assert {o["value"] for o in objects if o["type"] == "email-addr"} == {"ops@toonmoa101.com", "=1+1@evil.example"}
    assert {(o["account_type"], o["user_id"]) for o in objects if o["type"] == "user-account"} == {
        ("telegram", "t.me/toonmoa"), ("discord", "discord.gg/toon"), ("whatsapp", "wa.me/8613925566120"),
        ("paypal", "paypal.me/toonmoa"), ("telegram", "t.me/it's")}

    domain = next(o for o in objects if o.get("value") == "toonmoa101.com")
    addresses = {by_id[ref]["value"]: by_id[ref] for ref in domain["resolves_to_refs"]}
    assert set(addresses) == {"104.21.5.7", "185.212.40.10", "2a0b:4342:1a31::10"}
    asn = by_id[addresses["185.212.40.10"]["belongs_to_refs"][0]]
    assert (asn["number"], asn["name"]) == (209588, "FLYSERVERS-AS")
    assert "belongs_to_refs" not in addresses["2a0b:4342:1a31::10"]

    infra = next(o for o in objects if o["type"] == "infrastructure" and o["name"] == "toonmoa101.com")
    assert infra["infrastructure_types"] == ["piracy-manga"]
    assert infra["created_by_ref"] == IDENTITY.id
    assert infra["first_seen"].startswith("2026-01-01T12:00:00") and infra["last_seen"].startswith("2026-01-11")
    assert infra["x_isop_score"] == 0.93 and infra["x_isop_cluster"] == "op-7f3a"
    assert infra["x_isop_ad_networks"] == ["popads"]
    assert "manga reader" in infra["description"] and "NameSilo" in infra["description"]
    assert infra["x_isop_delivery"] == ["ddl", "streaming"] and infra["x_isop_category"] == "manga"
    assert infra["x_isop_reasons"] == ["Reads manga chapters online.", "Offers chapters as ZIP downloads."]
    assert "delivery ddl, streaming;" in infra["description"]
    assert infra["description"].index("Reasons:\n- Reads manga") < infra["description"].index("Signals:")
    rels = {(by_id[r["source_ref"]].get("name") or by_id[r["source_ref"]].get("value"), r["relationship_type"],
             by_id[r["target_ref"]].get("name") or by_id[r["target_ref"]].get("value"))
            for r in objects if r["type"] == "relationship"}
    assert ("toonmoa101.com", "indicates", "toonmoa101.com") in rels  # the domain's indicator
    assert ("toonmoa101.com", "consists-of", "toonmoa101.com") in rels  # infrastructure -> domain-name
    assert ("toonmoa101.com", "consists-of", "185.212.40.10") in rels
    assert ("toonmoa101.com", "related-to", "toonmoa104.com") in rels  # domain-name -> domain-name
    assert ("toonmoa101.com", "related-to", "dood.yt") in rels
    assert ("toonmoa101.com", "related-to", "ops@toonmoa101.com") in rels
    assert ("ga G-TOON101", "indicates", "toonmoa101.com") in rels
    assert ("ga G-TOON101", "indicates", "toonmoa104.com") in rels  # one shared indicator, two sites
    for hostile in (o for o in objects if o["type"] == "infrastructure" and o["name"] == HOSTILE_DOMAIN):
        assert hostile["infrastructure_types"] == ["unknown"]
        assert hostile["x_isop_signals"][1] == "it's a \\ backslash </script><script>alert(1)</script>"
        assert "x_isop_delivery" not in hostile and "x_isop_reasons" not in hostile  # empty lists are left out


def test_stix_patterns_are_valid_and_escaped():
    _count, text = export(write_stix, records(), generated_at=GENERATED)
    indicators = [o for o in stix_objects(text) if o["type"] == "indicator"]
    for indicator in indicators:
        assert run_validator(indicator["pattern"], stix_version="2.1") == [], indicator["pattern"]
    domains = {o["name"]: o for o in indicators if o["pattern"].startswith("[domain-name:")}
    assert set(domains) == {"toonmoa101.com", "toonmoa104.com", HOSTILE_DOMAIN, "xn--yq5b48r.xn--3e0b707e"}
    comparisons = Pattern(domains[HOSTILE_DOMAIN]["pattern"]).inspect().comparisons["domain-name"]
    assert unquote_stix(comparisons[0][2]) == HOSTILE_DOMAIN
    assert domains["toonmoa101.com"]["indicator_types"] == ["malicious-activity"]
    assert domains["toonmoa101.com"]["confidence"] == 93
    assert domains["toonmoa101.com"]["valid_from"].startswith("2026-01-01T12:00:00")
    assert domains[HOSTILE_DOMAIN]["indicator_types"] == ["benign"]
    assert "indicator_types" not in domains["xn--yq5b48r.xn--3e0b707e"]
    shared = {(o["x_isop_indicator_type"], o["x_isop_value"]): o for o in indicators if "x_isop_value" in o}
    assert set(shared) == {(t, v) for t, v in ALL_INDICATORS if t in {
        "ga", "gtm", "adsense", "yandex_metrica", "btc", "eth", "trx", "xmr", "phone", "favicon_mmh3"}} | {
        ("ga", "G-'QUOTE\\"), ("btc", "bc1q'); DROP TABLE--")}
    assert shared[("btc", "bc1qtoonmoa")]["pattern"] == "[cryptocurrency-wallet:value = 'bc1qtoonmoa']"
    assert shared[("phone", "+8613925566120")]["pattern"] == "[phone-number:value = '+8613925566120']"
    assert all(o["indicator_types"] == ["attribution"] for o in shared.values())
    tricky = Pattern(shared[("ga", "G-'QUOTE\\")]["pattern"]).inspect().comparisons["x-isop-tracking-id"]
    assert [unquote_stix(c[2]) for c in tricky] == ["ga", "G-'QUOTE\\"]


def test_stix_ids_are_stable_across_exports():
    _c, first = export(write_stix, records(), generated_at=GENERATED)
    _c, second = export(write_stix, records(), generated_at=GENERATED + timedelta(days=3))
    assert json.loads(first)["id"] != json.loads(second)["id"]  # a bundle is a new message
    assert [o["id"] for o in stix_objects(first)] == [o["id"] for o in stix_objects(second)]
    # A site exported alone keeps its ids.
    _c, alone = export(write_stix, records()[:1], generated_at=GENERATED)
    assert {o["id"] for o in stix_objects(alone)} <= {o["id"] for o in stix_objects(first)}


def test_stix_of_no_records_is_a_valid_bundle():
    count, text = export(write_stix, [])
    assert count == 0
    assert [o["type"] for o in stix_objects(text)] == ["identity"]


# --- MISP ---------------------------------------------------------------------------------


def misp_event(text: str, tmp_path: Path) -> MISPEvent:
    path = tmp_path / "event.json"
    path.write_text(text, encoding="utf-8")
    event = MISPEvent()
    event.load_file(path)
    return event


def attributes(obj) -> dict[str, list]:
    out: dict[str, list] = {}
    for a in obj.attributes:
        out.setdefault(a.object_relation, []).append(a)
    return out


def test_misp_event_loads_with_an_object_per_site(tmp_path):
    count, text = export(write_misp, records(), generated_at=GENERATED, info="isop test")
    assert count == 4
    event = misp_event(text, tmp_path)
    assert event.info == "isop test" and str(event.date) == "2026-02-01"
    assert [t.name for t in event.tags] == ["tlp:amber"]
    hubs = {attributes(o)["domain"][0].value: o for o in event.objects if o.name == "domain-ip"}
    assert set(hubs) == {"toonmoa101.com", "toonmoa104.com", HOSTILE_DOMAIN, "xn--yq5b48r.xn--3e0b707e",
                         "toonmoa-mirror.net", "@evil.example", "+mirror.example"}  # sites, then bare targets
    names = Counter(o.name for o in event.objects)
    assert names["whois"] == 2 and names["x509"] == 2 and names["asn"] == 3
    assert names["coin-address"] == 5 and names["tracking-id"] == 5  # G-TOON101 once for two sites
    assert names["user-account"] == 5 and names["favicon"] == 1 and names["phone-number"] == 1

    full = attributes(hubs["toonmoa101.com"])
    domain = full["domain"][0]
    assert domain.type == "domain" and domain.to_ids is True
    assert {t.name for t in domain.tags} == {'isop:category="manga"', 'isop:piracy="true"',
                                             'isop:delivery="ddl"', 'isop:delivery="streaming"'}
    assert {t.name for t in attributes(hubs["toonmoa104.com"])["domain"][0].tags} == {
        'isop:category="manga"', 'isop:piracy="true"'}  # no delivery seen, no delivery tag
    assert [a.value for a in full["ip"]] == ["104.21.5.7", "185.212.40.10", "2a0b:4342:1a31::10"]
    assert all(a.type == "ip-dst" and not a.to_ids for a in full["ip"])
    assert "manga reader" in full["text"][0].value
    text_value = full["text"][0].value
    assert "delivery ddl, streaming;" in text_value
    assert text_value.index("- Reads manga chapters online.") < text_value.index("Signals:") < \
        text_value.index("- manga reader")
    assert attributes(hubs[HOSTILE_DOMAIN])["domain"][0].to_ids is False

    uuids = {o.uuid: o for o in event.objects} | {a.uuid: a for a in event.attributes}
    for obj in event.objects:
        for ref in obj.references:
            assert ref.referenced_uuid in uuids, f"{obj.name} refers to a missing {ref.referenced_uuid}"
    linked = Counter((uuids[r.referenced_uuid].name if hasattr(uuids[r.referenced_uuid], "name")
                      else uuids[r.referenced_uuid].type, r.relationship_type)
                     for r in hubs["toonmoa101.com"].references)
    assert linked == Counter({("whois", "characterized-by"): 1, ("x509", "uses"): 1, ("asn", "hosted-by"): 2,
                              ("coin-address", "uses"): 4, ("tracking-id", "uses"): 4, ("user-account", "uses"): 4,
                              ("favicon", "uses"): 1, ("phone-number", "uses"): 1, ("email", "related-to"): 1,
                              ("hostname", "uses"): 1, ("text", "uses"): 1, ("domain-ip", "redirects-to"): 1,
                              ("domain-ip", "related-to"): 1})

    types = {(o.name, a.object_relation): a.type for o in event.objects for a in o.attributes}
    assert types[("coin-address", "address")] == "btc" and types[("coin-address", "address-xmr")] == "xmr"
    assert types[("coin-address", "address-crypto")] == "text"
    assert types[("whois", "registrar")] == "whois-registrar" and types[("whois", "nameserver")] == "hostname"
    assert types[("x509", "x509-fingerprint-sha256")] == "x509-fingerprint-sha256"
    assert types[("asn", "asn")] == "AS" and types[("favicon", "favicon-mmh3")] == "favicon-mmh3"
    assert types[("phone-number", "phone-number")] == "phone-number"
    assert {(a.type, a.value) for a in event.attributes} == {
        ("email", "ops@toonmoa101.com"), ("email", "=1+1@evil.example"), ("hostname", "dood.yt"),
        ("text", "popads"), ("text", "-ads")}


def test_misp_keeps_hostile_values_intact_and_uuids_stable(tmp_path):
    _c, first = export(write_misp, records(), generated_at=GENERATED)
    _c, second = export(write_misp, records(), generated_at=GENERATED + timedelta(days=1))
    one, two = misp_event(first, tmp_path), misp_event(second, tmp_path)
    assert one.uuid != two.uuid
    assert [o.uuid for o in one.objects] == [o.uuid for o in two.objects]
    assert [a.uuid for o in one.objects for a in o.attributes] == [a.uuid for o in two.objects for a in o.attributes]
    assert [r.uuid for o in one.objects for r in o.references] == [r.uuid for o in two.objects for r in o.references]
    values = {a.value for o in one.objects for a in o.attributes} | {a.value for a in one.attributes}
    for hostile in (HOSTILE_DOMAIN, "G-'QUOTE\\", "bc1q'); DROP TABLE--", "t.me/it's", "@SUM(1+1)*cmd|' /C calc'!A0"):
        assert hostile in values
    hub = next(o for o in one.objects if o.name == "domain-ip" and attributes(o)["domain"][0].value == HOSTILE_DOMAIN)
    assert FORMULA in attributes(hub)["text"][0].value and "</script><script>" in attributes(hub)["text"][0].value


def test_misp_of_no_records_is_a_valid_event(tmp_path):
    count, text = export(write_misp, [])
    assert count == 0
    event = misp_event(text, tmp_path)
    assert event.objects == [] and event.attributes == [] and [t.name for t in event.tags] == ["tlp:amber"]


# --- CSV ----------------------------------------------------------------------------------


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == list(COLUMNS)
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_csv_has_one_flat_row_per_site():
    count, text = export(write_csv, records())
    assert count == 4
    assert text.startswith('"domain","is_piracy","category","delivery"')  # every cell quoted
    rows = {r["domain"]: r for r in csv_rows(text)}
    assert list(rows) == ["toonmoa101.com", "toonmoa104.com", HOSTILE_DOMAIN, "xn--yq5b48r.xn--3e0b707e"]
    full = rows["toonmoa101.com"]
    assert {k: full[k] for k in (
        "is_piracy", "category", "delivery", "score", "status", "redirects_to", "related_domains", "cluster", "ips", "asns",
        "hosting_countries", "hosting_orgs", "hosting_abuse", "cdn", "registrar", "created", "expires",
        "nameservers", "registrar_abuse", "tls_sha256", "tls_issuer", "signals")} == {
        "is_piracy": "true", "category": "manga", "delivery": "ddl;streaming", "score": "0.93", "status": "active",
        "redirects_to": "toonmoa104.com", "related_domains": "toonmoa-mirror.net", "cluster": "op-7f3a",
        "ips": "104.21.5.7;185.212.40.10;2a0b:4342:1a31::10", "asns": "AS13335;AS209588",
        "hosting_countries": "US;PA", "hosting_orgs": "Cloudflare, Inc.;Flyservers S.A.",
        "hosting_abuse": "abuse@cloudflare.com;abuse@flyservers.example", "cdn": "cloudflare",
        "registrar": "NameSilo, LLC", "created": "2024-03-01", "expires": "2027-03-01",
        "nameservers": "ns1.dnsowl.com;ns2.dnsowl.com", "registrar_abuse": "abuse@namesilo.com",
        "tls_sha256": "ab" * 32, "tls_issuer": "CN=E5, O=Let's Encrypt", "signals": "manga reader | ads: popcash"}
    assert full["first_seen"] == T0.isoformat() and full["last_seen"] == T1.isoformat()
    assert full["indicators"].split(";") == [f"{t}:{v}" for t, v in ALL_INDICATORS]
    empty = rows["xn--yq5b48r.xn--3e0b707e"]
    assert all(empty[c] == "" for c in COLUMNS if c not in ("domain", "first_seen", "last_seen"))


def test_csv_cells_are_safe_from_formula_injection():
    _count, text = export(write_csv, records())
    rows = csv_rows(text)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (column, cell)
            for element in cell.split(";"):  # also where ';' is the list separator
                assert not element.startswith(FORMULA_STARTS), (column, element)
    hostile = next(r for r in rows if r["domain"] == HOSTILE_DOMAIN)
    assert hostile["status"] == "'-2+3" and hostile["redirects_to"] == "'@evil.example"
    assert hostile["related_domains"] == "'+mirror.example" and hostile["cluster"] == "'=HYPERLINK(\"http://x\")"
    assert hostile["hosting_orgs"] == "'" + FORMULA and hostile["hosting_countries"] == "'\tXX"
    assert hostile["registrar"] == "'@SUM(1+1)*cmd|' /C calc'!A0" and hostile["tls_issuer"] == "'\rCN=it's"
    assert hostile["registrar_abuse"] == "'+abuse@x" and hostile["cdn"] == "'-cdn" and hostile["asns"] == "AS64512"
    assert hostile["nameservers"] == "'=ns.example"
    assert hostile["signals"] == ("'" + FORMULA + " | it's a \\ backslash </script><script>alert(1)</script>"
                                  " | 웹툰 ✓ \u202e")
    assert hostile["indicators"] == ("email:=1+1@evil.example;ga:G-'QUOTE\\;btc:bc1q'); DROP TABLE--;"
                                     "telegram:t.me/it's;ad_network:-ads")


def test_csv_of_no_records_is_the_header():
    count, text = export(write_csv, [])
    assert count == 0 and csv_rows(text) == []


# --- streaming and a real store -----------------------------------------------------------


@pytest.mark.parametrize("writer", [write_stix, write_misp, write_csv])
def test_writers_stream_site_by_site(writer):
    """Each site is written before the next record is read, and records are not kept."""
    out = io.StringIO()
    base = records()[0]
    written: list[bool] = []

    def generate() -> Iterator[dict]:
        for i in range(50):
            record = copy.deepcopy(base) | {"domain": f"site{i:03d}.example", "related_domains": []}
            yield record
            written.append(f"site{i:03d}.example" in out.getvalue())

    assert writer(generate(), out) == 50
    assert all(written)


def test_formats_from_a_real_store(store, tmp_path):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
    with Session() as s:
        stix_count, stix_text = export(write_stix, site_records(s))
        misp_count, misp_text = export(write_misp, site_records(s, piracy=True))
        csv_count, csv_text = export(write_csv, site_records(s, batch_size=2))
    assert stix_count == csv_count == 6 and misp_count == 1
    objects = stix_objects(stix_text)
    assert len([o for o in objects if o["type"] == "infrastructure"]) == 6
    infra = next(o for o in objects if o["type"] == "infrastructure" and o["name"] == "toonmoa101.com")
    assert infra["infrastructure_types"] == ["piracy-manga"] and infra["x_isop_cluster"] == "op-7f3a"
    assert {o["value"] for o in objects if o["type"] == "ipv4-addr"} == {"104.21.5.7", "185.212.40.10",
                                                                        "185.212.40.12"}
    assert any(o.get("x_isop_value") == "bc1qtoonmoa" for o in objects)

    event = misp_event(misp_text, tmp_path)
    hubs = {attributes(o)["domain"][0].value for o in event.objects if o.name == "domain-ip"}
    assert hubs == {"toonmoa101.com", "toonmoa104.com", "toonmoa103.com", "toonmoa-mirror.net"}
    assert {o.name for o in event.objects} >= {"whois", "x509", "asn", "coin-address", "tracking-id"}

    rows = {r["domain"]: r for r in csv_rows(csv_text)}
    assert len(rows) == 6
    assert rows["toonmoa101.com"]["ips"] == "104.21.5.7;185.212.40.10;185.212.40.12;2a0b:4342:1a31::10"
    assert rows["toonmoa101.com"]["indicators"] == "btc:bc1qtoonmoa;ga:G-TOON101"
    assert rows["toonmoa101.com"]["registrar"] == "NameSilo, LLC"
