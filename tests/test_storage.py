"""The store: migrations, history semantics and idempotent batched writes.

Every test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select

from storage.db import session_factory
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Base, DnsObservation, Host, Network, Site
from storage.observe import fingerprint, upsert
from storage.sites import record_hosts

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_migrations_create_every_table_and_match_the_models(store, store_url):
    from alembic import command

    assert current_revision(store) == head_revision()
    tables = set(inspect(store).get_table_names())
    assert set(Base.metadata.tables) <= tables
    command.check(alembic_config(store_url))  # raises if models and migrations disagree
    assert upgrade(store_url) == head_revision()  # upgrading again is a no-op


def test_hosts_and_sites_are_history(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        ids = record_hosts(s, ["WWW.Toonmoa101.com", "toonmoa101.com.", "cdn.toonmoa101.com"], T0)
    assert set(ids) == {"www.toonmoa101.com", "toonmoa101.com", "cdn.toonmoa101.com"}
    assert len({site for site, _ in ids.values()}) == 1
    later = T0 + timedelta(days=3)
    with Session() as s, s.begin():
        again = record_hosts(s, ["www.toonmoa101.com"], later)
        earlier = record_hosts(s, ["www.toonmoa101.com"], T0 - timedelta(days=1))
    assert again == earlier == {"www.toonmoa101.com": ids["www.toonmoa101.com"]}
    with Session() as s:
        site = s.scalars(select(Site)).one()
        host = s.scalars(select(Host).where(Host.fqdn == "www.toonmoa101.com")).one()
        assert site.domain == "toonmoa101.com" and site.suffix == "com"
        assert host.first_seen == T0 - timedelta(days=1)
        assert host.last_seen == later
        assert s.scalar(select(func.count()).select_from(Host)) == 3


def test_idn_hosts_are_stored_as_punycode(store):
    with session_factory(store)() as s, s.begin():
        ids = record_hosts(s, ["웹툰.한국"], T0)
    assert list(ids) == ["xn--yq5b48r.xn--3e0b707e"]  # "웹툰.한국".encode("idna")


def test_reobserving_moves_last_seen_and_a_changed_fact_is_a_new_row(store):
    Session = session_factory(store)
    facts = {"cidr": "185.212.40.0/22", "asn": 209588, "org": "Flyservers S.A.", "country": "PA"}
    row = {**facts, "fingerprint": fingerprint(facts), "first_seen": T0, "last_seen": T0}
    with Session() as s, s.begin():
        upsert(s, Network, [row], key=["cidr", "fingerprint"])
        upsert(s, Network, [{**row, "first_seen": T0 + timedelta(hours=5), "last_seen": T0 + timedelta(hours=5)}],
               key=["cidr", "fingerprint"])
    moved = {**facts, "org": "Other Hosting Ltd"}
    with Session() as s, s.begin():
        upsert(s, Network, [{**moved, "fingerprint": fingerprint(moved), "first_seen": T0 + timedelta(days=9),
                             "last_seen": T0 + timedelta(days=9)}], key=["cidr", "fingerprint"])
    with Session() as s:
        rows = s.scalars(select(Network).order_by(Network.first_seen)).all()
    assert [(r.org, r.first_seen, r.last_seen) for r in rows] == [
        ("Flyservers S.A.", T0, T0 + timedelta(hours=5)),
        ("Other Hosting Ltd", T0 + timedelta(days=9), T0 + timedelta(days=9)),
    ]


def test_batches_are_idempotent_and_deduplicated(store):
    Session = session_factory(store)
    rows = [{"name": "site.example", "rtype": "A", "value": f"185.212.41.{i % 50}", "ttl": 300,
             "first_seen": T0 + timedelta(minutes=i), "last_seen": T0 + timedelta(minutes=i)} for i in range(200)]
    for _ in range(2):
        with Session() as s, s.begin():
            assert upsert(s, DnsObservation, rows, key=["name", "rtype", "value"]) == 50
    with Session() as s:
        assert s.scalar(select(func.count()).select_from(DnsObservation)) == 50
        first = s.scalars(select(DnsObservation).where(DnsObservation.value == "185.212.41.0")).one()
    assert first.first_seen == T0 and first.last_seen == T0 + timedelta(minutes=150)


def test_large_batches_are_split_under_parameter_limits(store):
    rows = [{"name": f"h{i}.example", "rtype": "TXT", "value": "v=spf1 -all", "ttl": None,
             "first_seen": T0, "last_seen": T0} for i in range(12_000)]
    with session_factory(store)() as s, s.begin():
        upsert(s, DnsObservation, rows, key=["name", "rtype", "value"])
    with session_factory(store)() as s:
        assert s.scalar(select(func.count()).select_from(DnsObservation)) == 12_000


def test_naive_datetimes_are_refused(store):
    with pytest.raises(Exception, match="naive datetime"), session_factory(store)() as s, s.begin():
        record_hosts(s, ["x.example"], datetime(2026, 1, 1))
