"""The JSON export (a public contract): every key, the latest facts, filters, streaming.

Every test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from helpers.export_store import (
    CERT,
    REASONS,
    SCHEMA,
    T0,
    T1,
    assert_valid,
    build_store,
    schema_errors,
    verdict,
)
from sqlalchemy import event

from collector.writers.json_export import write_json
from storage.crawl import write_verdicts
from storage.db import session_factory
from storage.export import site_records
from storage.filters import FilterError
from storage.sites import record_hosts

SITE_KEYS = {"domain", "is_piracy", "category", "delivery", "score", "reasons", "signals", "status", "first_seen", "last_seen",
             "redirects_to", "related_domains", "cluster", "dns", "hosting", "whois", "tls", "indicators"}
"""The latest verdict's reasons for toonmoa101.com, strongest first."""


# --- a tiny JSON Schema validator (the subset docs/export.schema.json uses) ----------------









def test_the_validator_catches_contract_breaks():
    site = {"domain": "x.com", "is_piracy": None, "category": "nope", "score": None, "signals": [],
            "status": None, "first_seen": T0.isoformat(), "last_seen": "yesterday", "redirects_to": None,
            "related_domains": [], "cluster": None, "dns": {"A": []}, "hosting": [],
            "whois": {}, "tls": {}, "indicators": [{"type": "icq", "value": "1"}]}
    errors = "\n".join(schema_errors({"generated_at": T0.isoformat(), "sites": [site]}, SCHEMA))
    for expected in ("'nope' not in", "'yesterday' is not an ISO-8601", "$.sites[0].dns: missing 'AAAA'",
                     "$.sites[0].whois: missing 'source'", "$.sites[0].tls: missing 'sha256'", "'icq' not in"):
        assert expected in errors


# --- building a store ---------------------------------------------------------------------






def export(s, **filters) -> dict:
    out = io.StringIO()
    count = write_json(s, out, **filters)
    document = json.loads(out.getvalue())
    assert count == len(document["sites"])
    assert_valid(document)
    return document


def by_domain(document: dict) -> dict[str, dict]:
    return {site["domain"]: site for site in document["sites"]}


# --- the tests ----------------------------------------------------------------------------


def test_a_fully_known_site_has_every_key_with_the_latest_facts(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
    with Session() as s:
        document = export(s)
    assert list(document) == ["generated_at", "sites"]
    assert datetime.fromisoformat(document["generated_at"]).tzinfo is not None
    site = by_domain(document)["toonmoa101.com"]
    assert set(site) == SITE_KEYS
    assert site == {
        "domain": "toonmoa101.com",
        "is_piracy": True, "category": "manga", "delivery": ["ddl"], "score": 0.93, "reasons": list(REASONS),
        "signals": ["manga reader", "ads: popcash"],
        "status": "active",
        "first_seen": T0.isoformat(), "last_seen": T1.isoformat(),
        "redirects_to": "toonmoa104.com",
        "related_domains": ["toonmoa-mirror.net", "toonmoa103.com"],
        "cluster": "op-7f3a",
        "dns": {"A": ["104.21.5.7", "185.212.40.10", "185.212.40.12"], "AAAA": ["2a0b:4342:1a31::10"],
                "CNAME": ["toonmoa101.com"], "NS": ["ns1.dnsowl.com", "ns2.dnsowl.com"],
                "MX": ["10 mail.toonmoa101.com"], "TXT": ["v=spf1 -all"]},
        "hosting": [
            {"ip": "104.21.5.7", "asn": 13335, "as_name": None, "cidr": "104.21.0.0/17", "country": "US",
             "org": "Cloudflare, Inc.", "abuse_email": "abuse@cloudflare.com", "cdn": "cloudflare"},
            {"ip": "185.212.40.10", "asn": 209588, "as_name": "FLYSERVERS-AS", "cidr": "185.212.40.0/22",
             "country": "PA", "org": "Flyservers S.A.", "abuse_email": "abuse@flyservers.example", "cdn": None},
            {"ip": "185.212.40.12", "asn": None, "as_name": None, "cidr": None, "country": None, "org": None,
             "abuse_email": None, "cdn": None},
            {"ip": "2a0b:4342:1a31::10", "asn": None, "as_name": None, "cidr": None, "country": None,
             "org": None, "abuse_email": None, "cdn": None},
        ],
        "whois": {"registrar": "NameSilo, LLC", "created": "2024-03-01", "expires": "2027-03-01",
                  "nameservers": ["ns1.dnsowl.com", "ns2.dnsowl.com"], "registrant_country": "KR",
                  "abuse_email": "abuse@namesilo.com", "source": "rdap"},
        "tls": {"sha256": CERT, "issuer": "CN=E5, O=Let's Encrypt", "subject_cn": "toonmoa101.com",
                "sans": ["toonmoa101.com", "www.toonmoa101.com"],
                "not_after": datetime(2026, 4, 1, tzinfo=UTC).isoformat()},
        "indicators": [{"type": "btc", "value": "bc1qtoonmoa"}, {"type": "ga", "value": "G-TOON101"}],
    }


def test_a_bare_site_has_every_key_with_nulls_and_empty_lists(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
    with Session() as s:
        sites = by_domain(export(s))
    assert set(sites) == {"toonmoa101.com", "toonmoa102.com", "toonmoa103.com", "toonmoa104.com",
                          "toonmoa-mirror.net", "xn--yq5b48r.xn--3e0b707e"}
    bare = sites["xn--yq5b48r.xn--3e0b707e"]  # 웹툰.한국, as punycode
    assert set(bare) == SITE_KEYS
    assert bare == {
        "domain": "xn--yq5b48r.xn--3e0b707e", "is_piracy": None, "category": None, "delivery": [], "score": None,
        "reasons": [], "signals": [],
        "status": None, "first_seen": T0.isoformat(), "last_seen": T0.isoformat(), "redirects_to": None,
        "related_domains": [], "cluster": None,
        "dns": {"A": [], "AAAA": [], "CNAME": [], "NS": [], "MX": [], "TXT": []}, "hosting": [],
        "whois": {"registrar": None, "created": None, "expires": None, "nameservers": [],
                  "registrant_country": None, "abuse_email": None, "source": None},
        "tls": {"sha256": None, "issuer": None, "subject_cn": None, "sans": [], "not_after": None},
        "indicators": [],
    }
    # Relations point one way: the target of a hop knows nothing of it.
    assert sites["toonmoa104.com"]["redirects_to"] is None and sites["toonmoa103.com"]["related_domains"] == []


def test_filters(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
        record_hosts(s, ["newsite.org"], T1 + timedelta(days=1))
        relatives = record_hosts(s, ["toonmoa102.com", "toonmoa103.com"], T0)
        write_verdicts(s, None, {"toonmoa102.com": verdict(True, "manga", 0.8),
                                 "toonmoa103.com": verdict(True, "torrent", 0.7)},
                       {"toonmoa102.com": relatives["toonmoa102.com"][0],
                        "toonmoa103.com": relatives["toonmoa103.com"][0]}, {}, T0)
        write_verdicts(s, None, {"toonmoa102.com": verdict(False, "none", 0.3)},  # the latest verdict counts
                       {"toonmoa102.com": relatives["toonmoa102.com"][0]}, {}, T0)
        write_verdicts(s, None, {"toonmoa102.com": verdict(True, "manga", 0.8)},
                       {"toonmoa102.com": relatives["toonmoa102.com"][0]}, {}, T1)
        write_verdicts(s, None, {"toonmoa103.com": verdict(False, "none", 0.2)},
                       {"toonmoa103.com": relatives["toonmoa103.com"][0]}, {}, T1)

    def domains(**filters) -> list[str]:
        with Session() as s:
            return [site["domain"] for site in export(s, **filters)["sites"]]

    everything = domains()
    assert len(everything) == 7
    assert sorted(domains(piracy=True)) == ["toonmoa101.com", "toonmoa102.com"]
    assert domains(piracy=False) == ["toonmoa103.com"]  # unclassified sites match neither
    assert sorted(domains(category="manga")) == ["toonmoa101.com", "toonmoa102.com"]
    assert domains(category="none", piracy=False) == ["toonmoa103.com"]
    assert domains(category="torrent") == []  # an earlier verdict does not count
    with pytest.raises(FilterError):  # checked before any SQL (and bound even if it weren't)
        domains(category="manga' OR '1'='1")
    assert domains(since=T1 + timedelta(hours=1)) == ["newsite.org"]
    assert domains(since=T1) == [d for d in everything if d != "xn--yq5b48r.xn--3e0b707e"]  # seen at T0 only
    assert domains(limit=2) == everything[:2]
    assert domains(piracy=True, limit=1) == domains(piracy=True)[:1]
    with Session() as s:
        assert [r["domain"] for r in site_records(s, limit=5, batch_size=2)] == everything[:5]
        assert [r["domain"] for r in site_records(s, batch_size=3)] == everything
        assert list(site_records(s, limit=0)) == []


def test_an_empty_store_exports_an_empty_list(store):
    with session_factory(store)() as s:
        out = io.StringIO()
        assert write_json(s, out) == 0
    document = json.loads(out.getvalue())
    assert document["sites"] == []
    assert_valid(document)


class CountingWriter(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_exports_stream_in_batches_with_a_fixed_number_of_queries(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        record_hosts(s, [f"bare{i:04d}.com" for i in range(3000)], T0)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(store, "before_cursor_execute", count)
    try:
        with Session() as s:
            records = site_records(s, batch_size=500)
            first = next(records)
            assert first["domain"] == "bare0000.com"
            queries_for_first_batch = len(statements)
            rest = list(records)
        assert len(rest) == 2999 and len({r["domain"] for r in rest}) == 2999
        pages = [q for q in statements if "FROM sites" in q and "LIMIT" in q.upper()]
        assert len(pages) == 7  # six full pages, then an empty one ends the loop
        assert queries_for_first_batch < 15  # one page's worth, not the whole store's
        assert len(statements) == 7 + 6 * (queries_for_first_batch - 1)  # the same queries per page

        statements.clear()
        out = CountingWriter()
        with Session() as s:
            assert write_json(s, out, batch_size=1000) == 3000
        assert len([q for q in statements if "FROM sites" in q and "LIMIT" in q.upper()]) == 4
        assert out.writes >= 3000  # one write per site: the document is never built whole
    finally:
        event.remove(store, "before_cursor_execute", count)
    document = json.loads(out.getvalue())
    assert len(document["sites"]) == 3000
    assert_valid(document)
