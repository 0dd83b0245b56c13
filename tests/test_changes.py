"""``isop changes --since DATE``: what changed in a window, per kind, with a fixed cost.

Every test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace as NS

import pytest
from helpers.export_store import T0, T1, build_store, verdict
from rich.console import Console
from sqlalchemy import event

from collector.dossier_view import print_changes
from storage.changes import KINDS, changes
from storage.crawl import CrawlBatch, write_batch, write_verdicts
from storage.db import session_factory
from storage.enrichment import record_dns, record_registration
from storage.models import RelationKind, SiteStatusObservation
from storage.observe import upsert
from storage.sites import record_hosts

MID = T0 + timedelta(days=5)  # between T0 and T1
DAY = timedelta(days=1)


def statuses(s, site_id: int, *observations: tuple[str, str, object, object]) -> None:
    upsert(s, SiteStatusObservation, [{"site_id": site_id, "status": st, "detail": detail, "first_seen": first,
                                       "last_seen": last} for st, detail, first, last in observations],
           key=["site_id", "status", "detail"])


def domains(entries: list[dict]) -> list[str]:
    return [e["domain"] for e in entries]


def test_every_kind_is_present_and_serialisable(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
    with Session() as s:
        c = changes(s, T0 - DAY)
    assert list(c) == list(KINDS)
    json.loads(json.dumps(c, default=str))
    with pytest.raises(ValueError):
        changes(session_factory(store)(), T0.replace(tzinfo=None))


def test_new_sites_respect_since_and_until(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        old = record_hosts(s, ["old-site.com"], T0)
        new = record_hosts(s, ["new-site.com"], T1)
        later = record_hosts(s, ["later-site.com"], T1 + 3 * DAY)
        write_verdicts(s, None, {"new-site.com": verdict(False, "none", 0.1)}, {"new-site.com": new["new-site.com"][0]},
                       {}, T1)
        write_verdicts(s, None, {"new-site.com": verdict(True, "anime", 0.8)}, {"new-site.com": new["new-site.com"][0]},
                       {}, T1 + DAY)
        assert old and later
    with Session() as s:
        got = changes(s, MID)["new_sites"]
        assert domains(got) == ["later-site.com", "new-site.com"]  # newest first
        assert got[1] == {"domain": "new-site.com", "time": T1, "is_piracy": True, "category": "anime", "score": 0.8}
        assert got[0]["is_piracy"] is None
        assert domains(changes(s, MID, until=T1 + DAY)["new_sites"]) == ["new-site.com"]
        assert domains(changes(s, T1)["new_sites"]) == ["later-site.com", "new-site.com"]  # since is inclusive
        assert domains(changes(s, MID, limit=1)["new_sites"]) == ["later-site.com"]
        assert changes(s, T1 + 4 * DAY)["new_sites"] == []


def test_ip_and_ns_changes(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        record_hosts(s, ["moved.com", "www.moved.com", "fresh.com"], T0)
        record_dns(s, [("moved.com", "A", "1.2.3.4", 300), ("moved.com", "NS", "ns1.old.net", 300),
                       ("www.moved.com", "AAAA", "2001:db8::1", 300)], T0)
        record_dns(s, [("moved.com", "A", "5.6.7.8", 300), ("moved.com", "NS", "ns1.old.net", 300),
                       ("moved.com", "NS", "ns1.new.net", 300), ("www.moved.com", "AAAA", "2001:db8::1", 300),
                       ("fresh.com", "A", "9.9.9.9", 300)], T1)
    with Session() as s:
        c = changes(s, MID)
        assert c["ip_changes"] == [{"domain": "moved.com", "name": "moved.com", "rtype": "A", "time": T1,
                                    "new": ["5.6.7.8"], "old": ["1.2.3.4"], "removed": ["1.2.3.4"]}]
        assert c["ns_changes"] == [{"domain": "moved.com", "name": "moved.com", "rtype": "NS", "time": T1,
                                    "new": ["ns1.new.net"], "old": ["ns1.old.net"], "removed": []}]
        # a first answer is no change; nor is anything before the window
        assert changes(s, T0 - DAY)["ip_changes"] == [] and changes(s, T1 + DAY)["ip_changes"] == []


def test_registrar_and_registration_nameserver_changes(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        ids = build_store(s)
        same = record_hosts(s, ["stable.com"], T0)["stable.com"][0]
        record_registration(s, same, "rdap", None, {"registrar": "NameSilo, LLC", "registrar_iana_id": 1479,
                                                    "nameservers": ["a.ns.net"]}, "{}", T0)
        record_registration(s, same, "whois", None, {"registrar": "NAMESILO LLC",  # same registrar, other spelling
                                                     "nameservers": ["a.ns.net"], "expires": T1}, "raw", T1)
        assert ids["toonmoa101.com"]
    with Session() as s:
        c = changes(s, MID)
        assert c["registrar_changes"] == [{"domain": "toonmoa101.com", "time": T1, "old": "Old Registrar",
                                           "new": "NameSilo, LLC", "old_iana_id": None, "new_iana_id": None,
                                           "source": "rdap"}]
        ns = [e for e in c["ns_changes"] if e["rtype"] == "registration"]
        assert ns == [{"domain": "toonmoa101.com", "name": "toonmoa101.com", "rtype": "registration", "time": T1,
                       "new": ["ns1.dnsowl.com", "ns2.dnsowl.com"], "old": ["ns1.old.example"],
                       "removed": ["ns1.old.example"]}]
        assert changes(s, T1 + DAY)["registrar_changes"] == []
        # both records inside the window: still compared with each other; the first has nothing before it
        assert domains(changes(s, T0 - DAY)["registrar_changes"]) == ["toonmoa101.com"]


def test_went_down_and_came_back(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        ids = {d: v[0] for d, v in record_hosts(s, ["fell.com", "revived.com", "always-down.com", "flappy.com",
                                                      "parked.com", "steady.com"], T0 - 10 * DAY).items()}
        statuses(s, ids["fell.com"], ("active", "", T0, T0 + DAY), ("down", "HTTP 503", T1, T1 + DAY))
        statuses(s, ids["parked.com"], ("active", "", T0, T0), ("parked", "sedo", T1, T1))
        statuses(s, ids["revived.com"], ("down", "timeout", T0, T0 + DAY), ("active", "", T1, T1 + DAY))
        statuses(s, ids["always-down.com"], ("down", "HTTP 502", T0, T1 + DAY))
        statuses(s, ids["steady.com"], ("active", "", T0, T1 + DAY))
        # up, then down, then up again: the "active" row only moved its last_seen
        statuses(s, ids["flappy.com"], ("active", "", T0 - 5 * DAY, T1 + DAY), ("down", "HTTP 500", T0, T0))
    with Session() as s:
        c = changes(s, MID)
        assert domains(c["went_down"]) == ["fell.com", "parked.com"]
        fell = c["went_down"][0]
        assert fell["time"] == T1 and fell["status"] == "down" and fell["detail"] == "HTTP 503"
        assert fell["previous_last_seen"] == T0 + DAY
        assert domains(c["came_back"]) == ["revived.com"]
        assert c["came_back"][0]["time"] == T1 and c["came_back"][0]["previous_last_seen"] == T0 + DAY
        # flappy.com: down at T0, up again after it (first proof: the down observation's end)
        assert domains(changes(s, T0)["came_back"]) == ["revived.com", "flappy.com"]
        # a site long down is not "went down" again in a later window
        later = changes(s, T1 + 2 * DAY)
        assert later["went_down"] == [] and later["came_back"] == []


def test_classification_hops_and_hosts(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        ids = {d: v[0] for d, v in record_hosts(s, ["flip.com", "same.com", "cat.com"], T0).items()}

        def v(domain: str, at, *args) -> None:
            write_verdicts(s, None, {domain: verdict(*args)}, {domain: ids[domain]}, {}, at)

        v("flip.com", T0, False, "none", 0.2)
        v("flip.com", T1, True, "manga", 0.9)
        v("same.com", T0, True, "manga", 0.9)
        v("same.com", T1, True, "manga", 0.95)
        v("cat.com", T0, True, "manga", 0.9)
        v("cat.com", T1 - DAY, False, "none", 0.1)  # flipped twice inside the window: no net change
        v("cat.com", T1, True, "manga", 0.9)
        write_batch(s, None, CrawlBatch(relations=[
            NS(from_host="flip.com", to_host="flip2.com", kind=RelationKind.ANNOUNCED, evidence_url="https://flip.com/",
               seen_at=T1),
            NS(from_host="same.com", to_host="same-old.com", kind=RelationKind.REDIRECT, evidence_url=None,
               seen_at=T0)]), T1)
        record_hosts(s, ["cdn.same.com"], T1)
    with Session() as s:
        c = changes(s, MID)
    assert c["classification_changes"] == [{
        "domain": "flip.com", "time": T1, "is_piracy": True, "category": "manga", "score": 0.9,
        "old_is_piracy": False, "old_category": "none", "old_score": 0.2, "old_classified_at": T0,
        "pages_seen": 0, "old_pages_seen": 0, "cause": "new pages: verdict on 0 pages (was on 0)"}]
    assert c["new_hops"] == [{"domain": "flip.com", "from": "flip.com", "to": "flip2.com", "kind": "announced",
                              "evidence_url": "https://flip.com/", "time": T1}]
    assert c["new_hosts"] == [{"domain": "same.com", "host": "cdn.same.com", "time": T1}]
    assert sorted(domains(c["new_sites"])) == ["flip2.com", "same-old.com"]  # hop targets recorded at T1
    out = io.StringIO()
    console = Console(record=True, width=120, file=out, color_system=None)
    print_changes(c, console)
    text = console.export_text()
    assert "verdict flips (1)" in text and "flip2.com" in text and "cdn.same.com" in text


def test_a_fixed_number_of_queries(store):
    Session = session_factory(store)
    counts = []

    def count(*_args) -> None:
        counts[-1] += 1

    for n in (3, 40):
        with Session() as s, s.begin():
            ids = record_hosts(s, [f"bulk{n}-{i}.com" for i in range(n)], T0)
            for domain, (site_id, _host) in ids.items():
                record_dns(s, [(domain, "A", "10.0.0.1", 60)], T0)
                record_dns(s, [(domain, "A", "10.0.0.2", 60)], T1)
                statuses(s, site_id, ("active", "", T0, T0), ("down", "x", T1, T1))
                record_hosts(s, [f"www.{domain}"], T1)
        counts.append(0)
        event.listen(store, "before_cursor_execute", count)
        try:
            with Session() as s:
                c = changes(s, MID, limit=25)
        finally:
            event.remove(store, "before_cursor_execute", count)
        assert len(c["ip_changes"]) == min(25, n)
        assert len(c["went_down"]) == min(25, n) and len(c["new_hosts"]) == min(25, n)
    assert counts[0] == counts[1] and counts[0] <= 2 * len(KINDS)


def test_hostile_strings_in_the_changes_view(store):
    Session = session_factory(store)
    hostile = "[bold red]x[/bold red] <script>"
    with Session() as s, s.begin():
        ids = record_hosts(s, ["evil.com"], T0)
        record_registration(s, ids["evil.com"][0], "whois", None, {"registrar": "Good Registrar"}, "raw", T0)
        record_registration(s, ids["evil.com"][0], "rdap", None, {"registrar": hostile}, "{}", T1)
    with Session() as s:
        c = changes(s, MID)
    console = Console(record=True, width=120, file=io.StringIO(), color_system=None)
    print_changes(c, console)
    assert hostile in console.export_text()
