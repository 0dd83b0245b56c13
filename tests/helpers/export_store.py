"""A store built by hand with every kind of fact, its verdicts, and the export schema's validator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

from storage.crawl import CrawlBatch, write_batch, write_verdicts
from storage.enrichment import (
    link_ip_network,
    record_asn,
    record_certificate,
    record_dns,
    record_ips,
    record_network,
    record_registration,
)
from storage.models import Cluster, ClusterMember, RelationKind, SiteStatusObservation
from storage.observe import upsert
from storage.sites import record_hosts

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


T1 = T0 + timedelta(days=10)


SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "export.schema.json").read_text())


REASONS = ("Reads manga chapters online (312 chapter pages).", "Offers chapters as ZIP downloads.")


CERT = "ab" * 32


APEX_CERT = "cd" * 32


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def schema_errors(value: Any, schema: dict, root: dict | None = None, path: str = "$") -> list[str]:
    root = root or schema
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_errors(value, target, root, path)
    known = {"$schema", "$id", "$defs", "title", "description", "type", "enum", "required", "properties",
             "additionalProperties", "items", "pattern", "minimum", "maximum", "format"}
    assert set(schema) <= known, f"validator does not support {set(schema) - known}"
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is_type(value, t) for t in types):
            return [f"{path}: {value!r} is not of type {types}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, str) and schema.get("format") == "date-time":
        try:
            assert datetime.fromisoformat(value).tzinfo is not None
        except (ValueError, AssertionError):
            errors.append(f"{path}: {value!r} is not an ISO-8601 date-time with a zone")
    if isinstance(value, dict):
        errors += [f"{path}: missing {k!r}" for k in schema.get("required", ()) if k not in value]
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            errors += [f"{path}: unexpected {k!r}" for k in value if k not in props]
        for k, sub in props.items():
            if k in value:
                errors += schema_errors(value[k], sub, root, f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], root, f"{path}[{i}]")
    return errors


def assert_valid(document: dict) -> None:
    assert schema_errors(document, SCHEMA) == []
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def verdict(is_piracy: bool, category: str, score: float, *signals: str,
            reasons: tuple[str, ...] = (), delivery: tuple[str, ...] = ()) -> NS:
    return NS(is_piracy=is_piracy, category=category, score=score, signals=signals, version="test-1",
              reasons=reasons, delivery=delivery)


def build_store(s) -> dict[str, int]:
    """One fully known site (toonmoa101.com), its relatives (bare) and a bare IDN site."""
    ids = record_hosts(s, ["toonmoa101.com", "www.toonmoa101.com", "cdn.toonmoa101.com", "웹툰.한국"], T0)
    site_id = ids["toonmoa101.com"][0]

    # Verdicts: an older one, then the latest.
    write_verdicts(s, None, {"toonmoa101.com": verdict(False, "none", 0.2, "few pages")},
                   {"toonmoa101.com": site_id}, {}, T0)
    # Indicators, hops and the latest verdict, as a crawl writes them.
    ga, btc = NS(type="ga", value="G-TOON101", context="gtag"), NS(type="btc", value="bc1qtoonmoa", context=None)
    write_batch(s, None, CrawlBatch(
        indicators=[NS(url="https://toonmoa101.com/", found=[ga, btc], seen_at=T0),
                    NS(url="https://www.toonmoa101.com/about", found=[ga], seen_at=T1)],
        relations=[NS(from_host="toonmoa101.com", to_host="toonmoa102.com", kind=RelationKind.REDIRECT,
                      evidence_url="https://toonmoa101.com/", seen_at=T0),
                   NS(from_host="toonmoa101.com", to_host="toonmoa104.com", kind=RelationKind.ANNOUNCED,
                      evidence_url="https://toonmoa101.com/notice", seen_at=T1),
                   NS(from_host="toonmoa101.com", to_host="toonmoa-mirror.net", kind=RelationKind.MIRROR,
                      evidence_url=None, seen_at=T0),
                   NS(from_host="toonmoa101.com", to_host="toonmoa103.com", kind=RelationKind.NUMBERED,
                      evidence_url=None, seen_at=T1)],
        verdicts={"toonmoa101.com": verdict(True, "manga", 0.93, "manga reader", "ads: popcash",
                                            reasons=REASONS, delivery=("ddl",))},
    ), T1)

    # DNS: the apex's A answer changed; NS only answered once; other types on the hosts.
    record_dns(s, [("toonmoa101.com", "A", "185.212.40.10", 300), ("toonmoa101.com", "A", "185.212.40.11", 300),
                   ("toonmoa101.com", "NS", "ns1.dnsowl.com", 3600), ("toonmoa101.com", "NS", "ns2.dnsowl.com", 3600)],
               T0)
    record_dns(s, [("toonmoa101.com", "A", "185.212.40.10", 300), ("toonmoa101.com", "A", "185.212.40.12", 300),
                   ("toonmoa101.com", "AAAA", "2a0b:4342:1a31::10", 300),
                   ("toonmoa101.com", "MX", "10 mail.toonmoa101.com", 300),
                   ("toonmoa101.com", "TXT", "v=spf1 -all", 300),
                   ("www.toonmoa101.com", "CNAME", "toonmoa101.com", 300),
                   ("cdn.toonmoa101.com", "A", "104.21.5.7", 300),
                   ("unrelated.example", "A", "192.0.2.1", 300)], T1)

    # Hosting: .10 moved network (the later one counts), .12 and the IPv6 address unknown.
    ip_ids = record_ips(s, {"185.212.40.10": None, "104.21.5.7": None}, T0)
    old = record_network(s, {"cidr": "185.212.40.0/22", "asn": 209588, "org": "Old Hosting Ltd", "country": "NL",
                             "abuse_email": "abuse@old.example"}, None, T0)
    new = record_network(s, {"cidr": "185.212.40.0/22", "asn": 209588, "org": "Flyservers S.A.", "country": "PA",
                             "abuse_email": "abuse@flyservers.example"}, None, T1)
    cdn = record_network(s, {"cidr": "104.21.0.0/17", "asn": 13335, "org": "Cloudflare, Inc.", "country": "US",
                             "abuse_email": "abuse@cloudflare.com", "cdn": "cloudflare"}, None, T1)
    link_ip_network(s, ip_ids["185.212.40.10"], old, T0)
    link_ip_network(s, ip_ids["185.212.40.10"], new, T1)
    link_ip_network(s, ip_ids["104.21.5.7"], cdn, T1)
    record_asn(s, 209588, "OLD-AS", "NL", "ripencc", None, T0)
    record_asn(s, 209588, "FLYSERVERS-AS", "PA", "ripencc", None, T1)
    # 13335 has no Asn row: as_name stays null.

    # Registration: an older WHOIS record, then the latest RDAP one.
    record_registration(s, site_id, "whois", "whois.verisign-grs.com", {
        "registrar": "Old Registrar", "created": datetime(2024, 3, 1, tzinfo=UTC),
        "expires": datetime(2025, 3, 1, tzinfo=UTC), "nameservers": ["ns1.old.example"]}, "raw whois", T0)
    record_registration(s, site_id, "rdap", "rdap.verisign.com", {
        "registrar": "NameSilo, LLC", "created": datetime(2024, 3, 1, 8, 30, tzinfo=UTC),
        "expires": datetime(2027, 3, 1, tzinfo=UTC), "nameservers": ["ns1.dnsowl.com", "ns2.dnsowl.com"],
        "registrant_country": "KR", "abuse_email": "abuse@namesilo.com"}, "{}", T1)

    # Certificates: the apex's older one, www's latest, and a later one on another host (ignored).
    record_certificate(s, "toonmoa101.com", {"sha256": APEX_CERT, "issuer": "CN=R3", "subject_cn": "toonmoa101.com",
                                             "sans": ["toonmoa101.com"]}, T0)
    record_certificate(s, "www.toonmoa101.com", {
        "sha256": CERT, "issuer": "CN=E5, O=Let's Encrypt", "subject_cn": "toonmoa101.com",
        "sans": ["toonmoa101.com", "www.toonmoa101.com"], "not_after": datetime(2026, 4, 1, tzinfo=UTC)}, T1)
    record_certificate(s, "cdn.toonmoa101.com", {"sha256": "ef" * 32, "subject_cn": "cdn"}, T1)

    upsert(s, SiteStatusObservation, [
        {"site_id": site_id, "status": "down", "detail": "HTTP 503", "first_seen": T0, "last_seen": T0},
        {"site_id": site_id, "status": "active", "detail": "", "first_seen": T1, "last_seen": T1}],
        key=["site_id", "status", "detail"])

    cluster = Cluster(key="op-7f3a", label="toonmoa network", created_at=T1, updated_at=T1)
    s.add(cluster)
    s.flush()
    s.add(ClusterMember(cluster_id=cluster.id, site_id=site_id, strength=0.8, first_seen=T1, last_seen=T1))
    s.flush()
    return {domain: sid for domain, (sid, _host) in ids.items()}
