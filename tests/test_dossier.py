"""The site dossier (``isop site DOMAIN``): the facts, history, hop chain, rendering, cost.

Every test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace as NS

from helpers.export_store import REASONS, T0, T1, build_store, verdict
from rich.console import Console
from sqlalchemy import event

from collector.dossier_view import dossier_markdown, print_dossier
from storage.crawl import CrawlBatch, record_evidence_files, write_batch, write_verdicts
from storage.db import session_factory
from storage.dossier import dossier
from storage.enrichment import record_dns, record_ips, record_lookups, record_registration
from storage.models import CrawlRun, RelationKind, RunKind
from storage.sites import record_hosts

TOP_KEYS = {"domain", "first_seen", "last_seen", "status", "statuses", "classification", "hosts", "host_count",
            "dns", "hosting", "hosting_before", "registration", "registrations", "certificates", "indicators",
            "indicator_count", "hops", "network", "evidence", "evidence_count", "downloads", "download_count",
            "pages", "lookups", "timeline"}
HOSTILE = "[x](javascript:alert(1)) <script>alert(1)</script> [bold red]pwned[/bold red] *x* _y_ | `z`"


def dns_entry(d: dict, name: str, rtype: str) -> dict:
    return next(e for e in d["dns"] if e["name"] == name and e["rtype"] == rtype)


def roundtrip(d: dict) -> dict:
    text = json.dumps(d, default=str)

    def keys_are_strings(value) -> None:
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for v in value.values():
                keys_are_strings(v)
        elif isinstance(value, list):
            for v in value:
                keys_are_strings(v)

    keys_are_strings(d)
    return json.loads(text)


def page(url: str, at, *, status: int = 200, title: str = "a page", warc: bool = True, n: int = 0) -> NS:
    return NS(url=url, final_url=url, status=status, error=None, fetched_at=at, depth=0, content_type="text/html",
              content_length=100, content_sha256=f"{n:064x}", title=title, language="en", rendered=False,
              redirects=[], links=[], indicators=[],
              warc=NS(file="runs/000001/a.warc.gz", record_id=f"<urn:uuid:{n:032x}>", offset=n, length=10)
              if warc else None)


def new_run(s) -> int:
    run = CrawlRun(kind=RunKind.DISCOVERY, started_at=T0)
    s.add(run)
    s.flush()
    return run.id


def test_an_unknown_site_has_no_dossier(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
    with Session() as s:
        assert dossier(s, "never-seen.example") is None
        assert dossier(s, "toonmoa101.com' OR '1'='1") is None


def test_a_fully_known_site(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
        record_lookups(s, [{"service": "whois", "target": "toonmoa101.com", "outcome": "timeout", "at": T0},
                           {"service": "whois", "target": "toonmoa101.com", "outcome": "ok", "at": T1},
                           {"service": "rdap_domain", "target": "toonmoa101.com", "outcome": "throttled",
                            "detail": "429", "at": T1},
                           {"service": "dns", "target": "cdn.toonmoa101.com A", "outcome": "servfail", "at": T1},
                           {"service": "dns", "target": "other.example A", "outcome": "ok", "at": T1}], None)
    with Session() as s:
        d = dossier(s, "TOONMOA101.com")
        assert dossier(s, "www.toonmoa101.com.")["domain"] == "toonmoa101.com"
        assert dossier(s, "웹툰.한국")["domain"] == "xn--yq5b48r.xn--3e0b707e"
    assert set(d) == TOP_KEYS
    assert d["domain"] == "toonmoa101.com" and d["first_seen"] == T0 and d["last_seen"] == T1
    assert d["status"]["status"] == "active"
    assert [x["status"] for x in d["statuses"]] == ["active", "down"]

    c = d["classification"]
    assert (c["is_piracy"], c["category"], c["score"], c["signals"]) == (True, "manga", 0.93,
                                                                         ["manga reader", "ads: popcash"])
    assert c["classifier_version"] == "test-1" and c["count"] == 2
    assert c["reasons"] == list(REASONS) and c["delivery"] == ["ddl"]
    assert (c["history"][0]["reasons"], c["history"][0]["delivery"]) == ([], [])  # stored without them
    assert [(h["is_piracy"], h["category"]) for h in c["history"]] == [(False, "none")]

    assert [h["fqdn"] for h in d["hosts"]] == ["cdn.toonmoa101.com", "toonmoa101.com", "www.toonmoa101.com"]
    a = dns_entry(d, "toonmoa101.com", "A")
    assert a["current"] == ["185.212.40.10", "185.212.40.12"]
    assert [b["value"] for b in a["before"]] == ["185.212.40.11"]
    assert a["before"][0]["first_seen"] == T0 and a["before"][0]["last_seen"] == T0
    assert dns_entry(d, "toonmoa101.com", "NS")["current"] == ["ns1.dnsowl.com", "ns2.dnsowl.com"]
    assert dns_entry(d, "cdn.toonmoa101.com", "A")["current"] == ["104.21.5.7"]
    assert all(e["name"] != "unrelated.example" for e in d["dns"])

    hosting = {h["ip"]: h for h in d["hosting"]}
    assert set(hosting) == {"104.21.5.7", "185.212.40.10", "185.212.40.12", "2a0b:4342:1a31::10"}
    assert hosting["185.212.40.10"]["org"] == "Flyservers S.A."  # the network it was last seen in
    assert hosting["185.212.40.10"]["as_name"] == "FLYSERVERS-AS"
    assert hosting["104.21.5.7"]["cdn"] == "cloudflare"
    assert [h["ip"] for h in d["hosting_before"]] == ["185.212.40.11"]

    reg = d["registration"]
    assert reg["registrar"] == "NameSilo, LLC" and reg["source"] == "rdap"
    assert reg["nameservers"] == ["ns1.dnsowl.com", "ns2.dnsowl.com"] and reg["registrant_country"] == "KR"
    assert [r["registrar"] for r in reg["earlier_registrars"]] == ["Old Registrar"]
    assert "raw" not in reg

    certs = {(x["host"], x["sha256"]) for x in d["certificates"]}
    assert certs == {("toonmoa101.com", "cd" * 32), ("www.toonmoa101.com", "ab" * 32), ("cdn.toonmoa101.com", "ef" * 32)}

    assert [(i["type"], i["value"]) for i in d["indicators"]] == [("btc", "bc1qtoonmoa"), ("ga", "G-TOON101")]
    assert d["indicators"][1]["context"] == "gtag"

    hops = d["hops"]
    assert {(h["kind"], h["to_domain"]) for h in hops["successors"]} == {
        ("redirect", "toonmoa102.com"), ("announced", "toonmoa104.com"), ("mirror", "toonmoa-mirror.net"),
        ("numbered", "toonmoa103.com")}
    assert hops["predecessors"] == []
    assert hops["chain"][0] == "toonmoa101.com"
    assert set(hops["chain"]) == {"toonmoa101.com", "toonmoa102.com", "toonmoa103.com", "toonmoa104.com"}

    assert d["network"]["memberships"][0]["cluster"] == "op-7f3a"
    assert d["pages"]["total"] == 0 and d["evidence"] == [] and d["evidence_count"] == 0

    lookups = {(x["service"], x["target"]): x["outcome"] for x in d["lookups"]}
    assert lookups == {("whois", "toonmoa101.com"): "ok", ("rdap_domain", "toonmoa101.com"): "throttled",
                       ("dns", "cdn.toonmoa101.com A"): "servfail"}

    texts = [e["text"] for e in d["timeline"]]
    assert "registrar changed from Old Registrar to NameSilo, LLC" in texts
    assert "classification changed from none (not piracy) to manga (piracy, score 0.93)" in texts
    assert "new A for toonmoa101.com: 185.212.40.12" in texts
    assert "status active" in texts and "status down (HTTP 503)" in texts
    assert "joined cluster op-7f3a" in texts
    times = [e["time"] for e in d["timeline"]]
    assert times == sorted(times)

    back = roundtrip(d)
    assert back["first_seen"] == str(T0)


def test_dns_current_and_before_after_an_ip_change(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        record_hosts(s, ["moved.example"], T0)
        record_dns(s, [("moved.example", "A", "1.2.3.4", 300)], T0)
        record_dns(s, [("moved.example", "A", "5.6.7.8", 300)], T1)
        record_ips(s, {"1.2.3.4": None, "5.6.7.8": "documentation"}, T1)
    with Session() as s:
        d = dossier(s, "moved.example")
    a = dns_entry(d, "moved.example", "A")
    assert a["current"] == ["5.6.7.8"]
    assert a["before"] == [{"value": "1.2.3.4", "first_seen": T0, "last_seen": T0}]
    assert [h["ip"] for h in d["hosting"]] == ["5.6.7.8"] and d["hosting"][0]["reserved"] == "documentation"
    assert [h["ip"] for h in d["hosting_before"]] == ["1.2.3.4"]
    events = [(e["time"], e["text"]) for e in d["timeline"] if e["kind"] == "dns"]
    assert events == [(T1, "new A for moved.example: 5.6.7.8")]  # the first answer is no change


def test_the_hop_chain_follows_hops_both_ways_and_survives_a_cycle(store):
    Session = session_factory(store)

    def hop(a: str, b: str, kind: RelationKind, days: int) -> NS:
        return NS(from_host=a, to_host=b, kind=kind, evidence_url=f"https://{a}/", seen_at=T0 + timedelta(days=days))

    with Session() as s, s.begin():
        write_batch(s, None, CrawlBatch(relations=[
            hop("site-a.com", "site-b.com", RelationKind.REDIRECT, 0),
            hop("site-b.com", "site-c.com", RelationKind.ANNOUNCED, 1),
            hop("site-c.com", "site-a.com", RelationKind.NUMBERED, 2),  # closes a cycle
            hop("site-b.com", "mirror-b.com", RelationKind.MIRROR, 1),  # a sibling, not a hop
            hop("unrelated-x.com", "unrelated-y.com", RelationKind.REDIRECT, 0),
        ]), T0)
    with Session() as s:
        for domain in ("site-a.com", "site-b.com", "site-c.com"):
            d = dossier(s, domain)
            assert d["hops"]["chain"] == ["site-a.com", "site-b.com", "site-c.com"], domain
            assert d["hops"]["chain_truncated"] is False
            edges = [(e["from"], e["to"]) for e in d["hops"]["chain_edges"]]
            assert edges == [("site-a.com", "site-b.com"), ("site-b.com", "site-c.com")]  # the newest edge closed the loop
        b = dossier(s, "site-b.com")
        assert [(h["kind"], h["from_domain"]) for h in b["hops"]["predecessors"]] == [("redirect", "site-a.com")]
        assert [(h["kind"], h["to_domain"]) for h in b["hops"]["successors"]] == [
            ("announced", "site-c.com"), ("mirror", "mirror-b.com")]
        assert "redirect from site-a.com" in [e["text"] for e in b["timeline"]]
        assert dossier(s, "mirror-b.com")["hops"]["chain"] == []


def test_a_long_chain_is_capped(store):
    from storage import dossier as module

    Session = session_factory(store)
    domains = [f"hop{i:03d}.com" for i in range(module.CHAIN_CAP + 20)]
    with Session() as s, s.begin():
        write_batch(s, None, CrawlBatch(relations=[
            NS(from_host=a, to_host=b, kind=RelationKind.REDIRECT, evidence_url=None, seen_at=T0 + timedelta(hours=i))
            for i, (a, b) in enumerate(zip(domains, domains[1:], strict=False))]), T0)
    with Session() as s:
        d = dossier(s, domains[0])
    assert d["hops"]["chain_truncated"] is True
    assert d["hops"]["chain"] == domains[:len(d["hops"]["chain"])]
    assert module.CHAIN_CAP <= len(d["hops"]["chain"]) <= module.CHAIN_CAP + 1


def test_indicators_show_the_other_sites_sharing_them(store):
    Session = session_factory(store)
    wallet = NS(type="btc", value="bc1qshared", context="donate")
    own = NS(type="ga", value="G-ONLYME", context=None)
    with Session() as s, s.begin():
        write_batch(s, None, CrawlBatch(indicators=[
            NS(url="https://main.com/", found=[wallet, own], seen_at=T0),
            *(NS(url=f"https://other{i:02d}.com/", found=[wallet], seen_at=T0 + timedelta(hours=i)) for i in range(12)),
        ]), T1)
    with Session() as s:
        d = dossier(s, "main.com")
    by_value = {i["value"]: i for i in d["indicators"]}
    assert by_value["bc1qshared"]["other_sites"] == 12
    assert by_value["bc1qshared"]["shared_with"] == [f"other{i:02d}.com" for i in range(11, 1, -1)]  # latest 10
    assert by_value["G-ONLYME"]["other_sites"] == 0 and by_value["G-ONLYME"]["shared_with"] == []


def test_evidence_pages_and_a_fixed_number_of_queries(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        run_id = new_run(s)
        small = [page(f"https://small.com/p{i}", T0 + timedelta(minutes=i), n=i) for i in range(3)]
        big = [page(f"https://big.com/p{i}", T0 + timedelta(minutes=i), n=1000 + i,
                    status=500 if i % 10 == 0 else 200, warc=i % 2 == 0) for i in range(300)]
        write_batch(s, run_id, CrawlBatch(pages=small + big), T0)
        write_batch(s, run_id, CrawlBatch(verdicts={"small.com": verdict(True, "video", 0.9, "x"),
                                                    "big.com": verdict(True, "video", 0.9, "x")}), T1)
        record_evidence_files(s, run_id, [("warc", "runs/000001/a.warc.gz", "f" * 64, 1000)], T0)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(store, "before_cursor_execute", count)
    try:
        with Session() as s:
            small_d = dossier(s, "small.com")
            small_count = len(statements)
            statements.clear()
            big_d = dossier(s, "big.com")
            big_count = len(statements)
    finally:
        event.remove(store, "before_cursor_execute", count)
    assert small_count == big_count
    assert small_d["pages"]["total"] == 3 and small_d["evidence_count"] == 3
    assert big_d["pages"] == {"total": 300, "errors": 30, "rendered": 0, "urls": 300,
                              "first_fetch": T0, "last_fetch": T0 + timedelta(minutes=299)}
    assert big_d["evidence_count"] == 150 and len(big_d["evidence"]) == 20
    latest = big_d["evidence"][0]
    assert latest["url"] == "https://big.com/p298" and latest["fetched_at"] == T0 + timedelta(minutes=298)
    assert latest["warc_file_sha256"] == "f" * 64 and latest["content_sha256"] == f"{1298:064x}"
    assert latest["warc_record_id"] == f"<urn:uuid:{1298:032x}>"


def test_hostile_strings_are_escaped_in_rich_and_markdown(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        run_id = new_run(s)
        write_batch(s, run_id, CrawlBatch(
            pages=[page("https://evil.com/", T0, title=HOSTILE)],
            indicators=[NS(url="https://evil.com/", found=[NS(type="email", value=f"{HOSTILE}@x", context=HOSTILE)],
                           seen_at=T0)],
            verdicts={"evil.com": verdict(True, "video", 0.9, HOSTILE)}), T0)
        ids = record_hosts(s, ["evil.com"], T0)
        record_registration(s, ids["evil.com"][0], "whois", None, {"registrar": HOSTILE, "nameservers": [HOSTILE]},
                            "raw", T0)
        write_verdicts(s, None, {"evil.com": verdict(True, "video", 0.9, HOSTILE, reasons=(f"Says {HOSTILE}",),
                                                     delivery=("torrent",))},
                       {"evil.com": ids["evil.com"][0]}, {}, T1)
    with Session() as s:
        d = dossier(s, "evil.com")
    roundtrip(d)

    out = io.StringIO()
    console = Console(record=True, width=120, file=out, color_system=None)
    print_dossier(d, console)
    text = console.export_text()
    assert f"  - {HOSTILE}" in text  # a signal line, verbatim: no markup applied, nothing lost
    assert f"  - Says {HOSTILE}" in text and "delivery: torrent" in text
    assert text.index(f"  - Says {HOSTILE}") < text.index(f"  - {HOSTILE}")  # the reasons before the detail
    assert "[x](javascript:alert(1))" in text and "<script>alert(1)</script>" in text
    assert text.count("[bold red]pwned[/bold red]") >= 2

    markdown = dossier_markdown(d)
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "- Delivery: torrent" in markdown
    why = markdown.index("## Why")
    assert why < markdown.index("- Says \\[x\\](javascript:alert(1))") < markdown.index("## Classification")
    assert "[x](javascript" not in markdown and r"\[x\](javascript:alert(1))" in markdown
    assert r"\[bold red\]pwned\[/bold red\]" in markdown
    assert r"\*x\*" in markdown and r"\_y\_" in markdown
    # a scraped "|" never adds a table cell
    table = []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line.replace(r"\|", ""))
        elif table:
            assert len({row.count("|") for row in table}) == 1, table
            table = []
