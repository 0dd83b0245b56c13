"""docs/QUERIES.md: every query in it runs, unchanged, and gives the right answer; the views.

Every test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest
from helpers.export_store import REASONS, T0, T1, build_store, verdict
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from storage.crawl import CrawlBatch, record_evidence_files, write_batch, write_verdicts
from storage.db import session_factory
from storage.enrichment import (
    link_ip_network,
    record_dns,
    record_ips,
    record_network,
    record_registration,
)
from storage.migrate import alembic_config, current_revision, head_revision
from storage.models import Cluster, ClusterMember, CrawlRun, RelationKind, RunKind
from storage.sites import record_hosts

DOC = Path(__file__).resolve().parents[1] / "docs" / "QUERIES.md"
VIEWS = {"v_site_latest", "v_site_hosting", "v_site_registration", "v_indicator_sites", "v_hops",
         "v_cluster_members", "v_evidence"}
T2 = T1 + timedelta(days=3)
PARAMS = {"domain": "toonmoa101.com", "country": "PA", "since": "2026-01-12 00:00:00+00"}
"""The value each documented parameter is bound to, as an analyst would type it."""
BOOLEANS = {"is_piracy", "is_current", "rendered"}
FLYSERVERS = {"cidr": "185.212.40.0/22", "asn": 209588, "org": "Flyservers S.A.", "country": "PA",
              "abuse_email": "abuse@flyservers.example"}
CLOUDFLARE = {"cidr": "104.21.0.0/17", "asn": 13335, "org": "Cloudflare, Inc.", "country": "US",
              "abuse_email": "abuse@cloudflare.com", "cdn": "cloudflare"}
MEDIALAND = {"cidr": "45.9.20.0/24", "asn": 206728, "org": "Media Land LLC", "country": "RU",
             "abuse_email": "abuse@medialand.example"}
WARC = "runs/1/isop-00000.warc.gz"
SHOT = "runs/1/screenshots/toonmoa101.com.png"
XMR = "48toonmoaXMRwallet"


# --- the document -------------------------------------------------------------------------


def questions() -> dict[int, tuple[str, str]]:
    """``{N: (question, sql)}`` for every ``### N. question`` heading and its sql block."""
    found: dict[int, tuple[str, str]] = {}
    for section in re.split(r"^(?=#{1,3} )", DOC.read_text(encoding="utf-8"), flags=re.M):
        blocks = re.findall(r"^```sql\n(.*?)^```", section, flags=re.M | re.S)
        heading = re.match(r"### (\d+)\. (.+)", section)
        if blocks:
            assert heading, f"an sql block outside a numbered question: {section[:60]!r}"
            assert len(blocks) == 1, f"question {heading.group(1)} has {len(blocks)} sql blocks"
        if heading:
            assert blocks, f"question {heading.group(1)} has no sql block"
            assert int(heading.group(1)) not in found
            found[int(heading.group(1))] = (heading.group(2).strip(), blocks[0])
    return found


def parameters(sql: str) -> set[str]:
    return set(re.findall(r"(?<![:\w]):([a-z_]\w*)", sql))


def run(engine, sql: str, **overrides: str) -> list[dict[str, Any]]:
    params = {name: overrides.get(name, PARAMS[name]) for name in parameters(sql)}
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return [{k: _normal(k, v) for k, v in row._mapping.items()} for row in result]


def _normal(column: str, value: Any) -> Any:
    """The same answer from both engines: booleans, and times as aware UTC datetimes."""
    if column in BOOLEANS and value is not None:
        return bool(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", value):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)  # SQLite's stored UTC text
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def pick(rows: list[dict], *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in rows]


# --- the store ----------------------------------------------------------------------------


def page(url: str, at: datetime, sha: str, offset: int) -> NS:
    return NS(url=url, final_url=url, status=200, error=None, fetched_at=at, depth=0, content_type="text/html",
              content_length=1000, content_sha256=sha, title="t", language="ko", rendered=False, redirects=[],
              warc=NS(file=WARC, record_id=f"<urn:uuid:{offset}>", offset=offset, length=1000),
              links=[], indicators=[])


def populate(s) -> None:
    """build_store's toonmoa101.com and relatives, plus a few more sites to tell apart."""
    build_store(s)
    hosts = ["toonmoa102.com", "toonmoa103.com", "toonmoa105.com", "animeflix.io", "www.animeflix.io"]
    ids = {d: sid for d, (sid, _h) in record_hosts(s, hosts, T1).items()}
    ids.update({d: sid for d, (sid, _h) in record_hosts(s, ["newsite.org"], T2).items()})
    ids.update({d: sid for d, (sid, _h) in record_hosts(s, ["streamhub.tv"], T2 + timedelta(hours=1)).items()})

    write_verdicts(s, None, {"toonmoa102.com": verdict(True, "manga", 0.85),
                             "toonmoa103.com": verdict(True, "torrent", 0.7),
                             "animeflix.io": verdict(True, "video", 0.9)}, ids, {}, T1)
    write_verdicts(s, None, {"toonmoa103.com": verdict(False, "none", 0.2)}, ids, {}, T1)  # the latest counts
    write_verdicts(s, None, {"streamhub.tv": verdict(True, "video", 0.8)}, ids, {}, T2)

    run = CrawlRun(kind=RunKind.TARGETED, started_at=T1)
    s.add(run)
    s.flush()
    ga, btc = NS(type="ga", value="G-TOON101", context=None), NS(type="btc", value="bc1qtoonmoa", context=None)
    xmr = NS(type="xmr", value=XMR, context=None)
    write_batch(s, run.id, CrawlBatch(
        pages=[page("https://toonmoa101.com/", T1, "aa" * 32, 0),
               page("https://toonmoa101.com/manga/1", T1 + timedelta(minutes=1), "bb" * 32, 1000),
               page("https://animeflix.io/", T1, "cc" * 32, 2000)],
        screenshots=[NS(url="https://toonmoa101.com/", path=SHOT)],
        indicators=[NS(url="https://toonmoa102.com/", found=[ga, btc], seen_at=T1),
                    NS(url="https://toonmoa103.com/", found=[xmr], seen_at=T1),
                    NS(url="https://animeflix.io/", seen_at=T1,
                       found=[xmr, NS(type="eth", value="0xF1ix", context=None),
                              NS(type="ga", value="G-FLIX", context=None)])],
        relations=[NS(from_host="toonmoa102.com", to_host="toonmoa105.com", kind=RelationKind.REDIRECT,
                      evidence_url="https://toonmoa102.com/", seen_at=T1)],
    ), T1)
    record_evidence_files(s, run.id, [("warc", WARC, "11" * 32, 3000), ("screenshot", SHOT, "22" * 32, 500)], T1)

    record_dns(s, [("toonmoa102.com", "A", "185.212.40.20", 300), ("animeflix.io", "A", "45.9.20.5", 300),
                   ("www.animeflix.io", "A", "45.9.20.5", 300), ("streamhub.tv", "A", "104.21.9.9", 300)], T1)
    ips = record_ips(s, {"185.212.40.20": None, "45.9.20.5": None, "104.21.9.9": None}, T1)
    link_ip_network(s, ips["185.212.40.20"], record_network(s, FLYSERVERS, None, T1), T1)
    link_ip_network(s, ips["45.9.20.5"], record_network(s, MEDIALAND, None, T1), T1)
    link_ip_network(s, ips["104.21.9.9"], record_network(s, CLOUDFLARE, None, T1), T1)

    namesilo = {"registrar": "NameSilo, LLC", "abuse_email": "abuse@namesilo.com", "nameservers": ["ns1.dnsowl.com"]}
    record_registration(s, ids["toonmoa102.com"], "rdap", "rdap.verisign.com", namesilo, "{}", T1)
    record_registration(s, ids["streamhub.tv"], "rdap", "rdap.nic.tv", namesilo, "{}", T2)
    record_registration(s, ids["animeflix.io"], "whois", "whois.nic.io",
                        {"registrar": "1337 Services LLC", "abuse_email": "abuse@njal.la"}, "raw", T1)
    record_registration(s, ids["toonmoa103.com"], "rdap", "rdap.verisign.com",
                        {"registrar": "Tucows Domains Inc."}, "{}", T1)

    toon = s.query(Cluster).filter_by(key="op-7f3a").one()
    flix = Cluster(key="op-9b1c", label="flix network", created_at=T1, updated_at=T1)
    s.add(flix)
    s.flush()
    s.add_all([ClusterMember(cluster_id=toon.id, site_id=ids["toonmoa102.com"], strength=0.6, first_seen=T1,
                             last_seen=T1),
               ClusterMember(cluster_id=flix.id, site_id=ids["animeflix.io"], strength=0.9, first_seen=T1,
                             last_seen=T1),
               ClusterMember(cluster_id=flix.id, site_id=ids["streamhub.tv"], strength=0.7, first_seen=T2,
                             last_seen=T2)])
    s.flush()


@pytest.fixture
def populated(store):
    with session_factory(store)() as s, s.begin():
        populate(s)
    return store


# --- the tests ----------------------------------------------------------------------------


def test_the_document_has_ten_questions_each_with_one_query():
    found = questions()
    assert sorted(found) == list(range(1, 11))
    for number, (question, sql) in found.items():
        assert question.endswith("?"), f"question {number} is not a question"
        assert parameters(sql) <= set(PARAMS), f"question {number}: undocumented {parameters(sql) - set(PARAMS)}"
        for name in parameters(sql):
            assert f":{name}" in DOC.read_text(encoding="utf-8").split("## The views")[0], \
                f"how to set :{name} is not explained"
        assert re.search(r"\bFROM v_", sql), f"question {number} does not use the views"


def test_every_query_runs(populated):
    for number, (_question, sql) in questions().items():
        rows = run(populated, sql)
        assert rows, f"question {number} gave no rows on the test store"


def test_the_answers(populated):
    q = {n: sql for n, (_question, sql) in questions().items()}

    # 1. Hosted in PA now: the latest network of each current address counts.
    assert pick(run(populated, q[1]), "domain", "host", "ip", "org", "asn", "abuse_email") == [
        ("toonmoa101.com", "toonmoa101.com", "185.212.40.10", "Flyservers S.A.", 209588, "abuse@flyservers.example"),
        ("toonmoa102.com", "toonmoa102.com", "185.212.40.20", "Flyservers S.A.", 209588, "abuse@flyservers.example"),
    ]
    assert run(populated, q[1], country="NL") == []  # .10's older network, no longer its latest
    assert pick(run(populated, q[1], country="RU"), "domain", "host") == [
        ("animeflix.io", "animeflix.io"), ("animeflix.io", "www.animeflix.io")]

    # 2. Sharing toonmoa101.com's Google Analytics ID.
    assert pick(run(populated, q[2]), "analytics_id", "domain", "is_piracy", "category") == [
        ("G-TOON101", "toonmoa102.com", True, "manga")]
    assert run(populated, q[2], domain="animeflix.io") == []

    # 3. Providers by flagged sites (the unflagged toonmoa103.com is not counted anywhere).
    assert pick(run(populated, q[3]), "org", "asn", "abuse_email", "cdn", "flagged_sites") == [
        ("Cloudflare, Inc.", 13335, "abuse@cloudflare.com", "cloudflare", 2),
        ("Flyservers S.A.", 209588, "abuse@flyservers.example", None, 2),
        ("Media Land LLC", 206728, "abuse@medialand.example", None, 1),
    ]

    # 4. Hops, followed on from the domains hopped to.
    hops = run(populated, q[4])
    assert sorted(pick(hops, "from_domain", "to_domain", "kind", "first_seen")) == [
        ("toonmoa101.com", "toonmoa-mirror.net", "mirror", T0),
        ("toonmoa101.com", "toonmoa102.com", "redirect", T0),
        ("toonmoa101.com", "toonmoa103.com", "numbered", T1),
        ("toonmoa101.com", "toonmoa104.com", "announced", T1),
        ("toonmoa102.com", "toonmoa105.com", "redirect", T1),
    ]
    assert [h["first_seen"] for h in hops] == sorted(h["first_seen"] for h in hops)
    assert run(populated, q[4], domain="toonmoa105.com") == []

    # 5. First seen since the 12th.
    assert pick(run(populated, q[5]), "domain", "first_seen", "is_piracy", "category") == [
        ("streamhub.tv", T2 + timedelta(hours=1), True, "video"), ("newsite.org", T2, None, None)]
    assert pick(run(populated, q[5], since="2026-01-14 12:00:00+00"), "domain") == [
        ("streamhub.tv",), ("newsite.org",)]  # at the very instant counts
    assert pick(run(populated, q[5], since="2026-01-14"), "domain") == [("streamhub.tv",), ("newsite.org",)]
    assert pick(run(populated, q[5], since="2026-01-14 12:00:01+00"), "domain") == [("streamhub.tv",)]

    # 6. Wallets on more than one site (the eth one is on one site only).
    assert pick(run(populated, q[6]), "type", "value", "site_count", "domain") == [
        ("btc", "bc1qtoonmoa", 2, "toonmoa101.com"), ("btc", "bc1qtoonmoa", 2, "toonmoa102.com"),
        ("xmr", XMR, 2, "animeflix.io"), ("xmr", XMR, 2, "toonmoa103.com")]

    # 7. Registrars by flagged sites: toonmoa101.com's latest record is RDAP's NameSilo.
    assert pick(run(populated, q[7]), "registrar", "abuse_email", "flagged_sites") == [
        ("NameSilo, LLC", "abuse@namesilo.com", 3), ("1337 Services LLC", "abuse@njal.la", 1)]

    # 8. Behind a CDN.
    assert pick(run(populated, q[8]), "domain", "cdn", "host", "ip") == [
        ("streamhub.tv", "cloudflare", "streamhub.tv", "104.21.9.9"),
        ("toonmoa101.com", "cloudflare", "cdn.toonmoa101.com", "104.21.5.7"),
    ]

    # 9. The evidence, with the WARC and screenshot files' digests.
    assert pick(run(populated, q[9]), "url", "fetched_at", "status", "content_sha256", "warc_file",
                "warc_record_id", "warc_sha256", "screenshot", "screenshot_sha256") == [
        ("https://toonmoa101.com/", T1, 200, "aa" * 32, WARC, "<urn:uuid:0>", "11" * 32, SHOT, "22" * 32),
        ("https://toonmoa101.com/manga/1", T1 + timedelta(minutes=1), 200, "bb" * 32, WARC, "<urn:uuid:1000>",
         "11" * 32, None, None),
    ]

    # 10. Operator networks.
    assert pick(run(populated, q[10]), "cluster_key", "label", "domain", "strength", "is_piracy", "status") == [
        ("op-7f3a", "toonmoa network", "toonmoa101.com", 0.8, True, "active"),
        ("op-7f3a", "toonmoa network", "toonmoa102.com", 0.6, True, None),
        ("op-9b1c", "flix network", "animeflix.io", 0.9, True, "active"),
        ("op-9b1c", "flix network", "streamhub.tv", 0.7, True, None),
    ]


def test_site_latest_and_registration_hold_the_latest_facts(populated):
    sites = {r["domain"]: r for r in run(populated, "SELECT * FROM v_site_latest")}
    assert len(sites) == 10
    toon = sites["toonmoa101.com"]
    assert (toon["is_piracy"], toon["category"], toon["score"], toon["status"], toon["cluster_key"]) == (
        True, "manga", 0.93, "active", "op-7f3a")
    assert json.loads(toon["signals"]) == ["manga reader", "ads: popcash"]  # JSON text on both engines
    assert json.loads(toon["delivery"]) == ["ddl"] and json.loads(toon["reasons"]) == list(REASONS)
    assert (toon["first_seen"], toon["classified_at"]) == (T0, T1)
    assert (sites["toonmoa103.com"]["is_piracy"], sites["toonmoa103.com"]["category"]) == (False, "none")
    bare = sites["xn--yq5b48r.xn--3e0b707e"]
    assert (bare["is_piracy"], bare["signals"], bare["status"], bare["cluster_key"]) == (None, None, None, None)
    assert (bare["delivery"], bare["reasons"]) == (None, None)

    reg = {r["domain"]: r for r in run(populated, "SELECT * FROM v_site_registration")}
    assert set(reg) == {"toonmoa101.com", "toonmoa102.com", "toonmoa103.com", "animeflix.io", "streamhub.tv"}
    assert (reg["toonmoa101.com"]["registrar"], reg["toonmoa101.com"]["source"]) == ("NameSilo, LLC", "rdap")
    assert json.loads(reg["toonmoa101.com"]["nameservers"]) == ["ns1.dnsowl.com", "ns2.dnsowl.com"]
    assert reg["toonmoa101.com"]["created"] == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)


def test_site_hosting_keeps_history_and_marks_the_current_answer(populated):
    rows = run(populated, "SELECT * FROM v_site_hosting WHERE domain = :domain")
    apex = {r["ip"]: r for r in rows if r["host"] == "toonmoa101.com"}
    assert {ip: r["is_current"] for ip, r in apex.items()} == {
        "185.212.40.10": True, "185.212.40.11": False, "185.212.40.12": True, "2a0b:4342:1a31::10": True}
    assert (apex["185.212.40.10"]["country"], apex["185.212.40.10"]["as_name"]) == ("PA", "FLYSERVERS-AS")
    assert (apex["185.212.40.10"]["first_seen"], apex["185.212.40.10"]["last_seen"]) == (T0, T1)
    assert apex["185.212.40.12"]["cidr"] is None and apex["185.212.40.12"]["org"] is None
    assert apex["2a0b:4342:1a31::10"]["rtype"] == "AAAA"
    assert {r["host"] for r in rows} == {"toonmoa101.com", "cdn.toonmoa101.com"}


def test_the_views_come_and_go_with_the_migration(store, store_url):
    from alembic import command

    assert VIEWS <= set(inspect(store).get_view_names())
    assert not VIEWS & set(inspect(store).get_table_names())

    cfg = alembic_config(store_url)
    with store.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(store) == "0001"
    assert not VIEWS & set(inspect(store).get_view_names())
    assert "sites" in inspect(store).get_table_names()

    with store.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert current_revision(store) == head_revision()
    assert VIEWS <= set(inspect(store).get_view_names())


def test_the_documented_shell_commands_set_parameters(populated, store_url):
    """Question 5 in sqlite3 / psql, its parameter set the way the document says."""
    sql = questions()[5][1]
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite":
        if shutil.which("sqlite3") is None:
            pytest.skip("no sqlite3 shell")
        script = f""".parameter set :since "'{PARAMS['since']}'"\n{sql}"""
        argv = ["sqlite3", "-readonly", "-list", url.database]
    else:
        if shutil.which("psql") is None:
            pytest.skip("no psql")
        script = f"""\\set since '''{PARAMS['since']}'''\n{sql}"""
        argv = ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                url.set(drivername="postgresql").render_as_string(hide_password=False)]
    out = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=60, check=True).stdout
    assert [line.split("|")[0] for line in out.splitlines() if line.strip()] == ["streamhub.tv", "newsite.org"]
