"""A verdict's plain ``reasons`` and ``delivery`` (issue 13): stored, migrated, inherited, shown.

Every store test here runs twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

from datetime import datetime

from helpers.export_store import REASONS, T0, T1, build_store, verdict
from sqlalchemy import select, text

from collector.writers.markdown import to_markdown
from spiders.classify import DELIVERY, Verdict
from spiders.pipelines import ClassifyPipeline
from storage.crawl import CrawlBatch, write_batch, write_verdicts
from storage.db import open_engine, session_factory
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Classification, Site
from storage.sites import record_hosts
from storage.takedown import takedown_packet

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) *bold*"


def stored(s, domain: str) -> list[tuple[list, list, list]]:
    """``(reasons, delivery, signals)`` of each classification of the site, oldest first."""
    return [tuple(r) for r in s.execute(
        select(Classification.reasons, Classification.delivery, Classification.signals)
        .join(Site, Site.id == Classification.site_id).where(Site.domain == domain).order_by(Classification.id))]


def test_the_contract_fields_have_defaults():
    v = Verdict(True, "music", 0.9, ("music: 40 mp3 links (+1.20)",), "v1")
    assert (v.reasons, v.delivery) == ((), ())
    assert DELIVERY == ("torrent", "ddl", "streaming", "iptv")


def test_write_batch_and_write_verdicts_store_reasons_and_delivery(store):
    Session = session_factory(store)
    real = Verdict(True, "music", 0.91, ("torrent: 16 magnet links (+1.60)",), "v2",
                   reasons=("Offers 16 magnet links (BitTorrent downloads).", "Lists albums by artist."),
                   delivery=("torrent", "ddl"))
    with Session() as s, s.begin():
        ids = record_hosts(s, ["tunes.example", "old.example"], T0)
        write_batch(s, None, CrawlBatch(verdicts={"tunes.example": real}), T0)
        # a verdict object from before issue 13 (no reasons, no delivery): stored as []
        write_verdicts(s, None, {"old.example": verdict(True, "torrent", 0.8, "magnets")},
                       {"old.example": ids["old.example"][0]}, {}, T1)
        legacy = type("Legacy", (), {"is_piracy": False, "category": "none", "score": 0.1, "signals": (),
                                     "version": "v0"})()
        write_verdicts(s, None, {"old.example": legacy}, {"old.example": ids["old.example"][0]}, {}, T1)
    with Session() as s:
        assert stored(s, "tunes.example") == [(list(real.reasons), ["torrent", "ddl"],
                                               ["torrent: 16 magnet links (+1.60)"])]
        assert [r[:2] for r in stored(s, "old.example")] == [([], []), ([], [])]


def test_an_old_classification_row_reads_as_empty_lists_after_the_migration(store_url):
    assert upgrade(store_url, "0007") == "0007"
    engine = open_engine(store_url)
    try:
        with engine.begin() as c:
            c.execute(text("INSERT INTO sites (id, domain, suffix, first_seen, last_seen) "
                           "VALUES (1, 'old.example', 'example', :t, :t)"), {"t": datetime(2026, 1, 1)})
            c.execute(text("INSERT INTO classifications (site_id, classified_at, is_piracy, category, score, "
                           "signals, pages_seen, classifier_version) "
                           "VALUES (1, :t, TRUE, 'torrent', 0.9, :sig, 3, 'v0')"),
                      {"t": datetime(2026, 1, 1), "sig": '["torrent: 3 magnet links (+0.90)"]'})
        assert upgrade(store_url) == head_revision()
        assert current_revision(engine) == head_revision()
        with session_factory(engine)() as s:
            row = s.scalars(select(Classification)).one()
            assert (row.reasons, row.delivery) == ([], [])
            assert row.signals == ["torrent: 3 magnet links (+0.90)"]
        with engine.connect() as c:
            view = c.execute(text("SELECT category, delivery, reasons FROM v_site_latest")).one()
        assert (view.category, view.delivery.replace(" ", ""), view.reasons.replace(" ", "")) == (
            "torrent", "[]", "[]")
    finally:
        engine.dispose()


class _State:
    def __init__(self, v: Verdict) -> None:
        self.v = v

    def verdict(self, classifier, neighbourhood) -> Verdict:
        return self.v


def test_a_site_announcing_its_move_inherits_reasons_and_delivery():
    """``final_verdicts``: the moved-from domain keeps the target's reasons and delivery,
    with the hop first in both the signals and the reasons."""
    target = Verdict(True, "music", 0.9, ("torrent: 16 magnet links (+1.60)",), "v2",
                     reasons=("Offers 16 magnet links (BitTorrent downloads).",), delivery=("torrent",))
    legal = Verdict(False, "none", 0.1, (), "v2")
    pipeline = ClassifyPipeline.__new__(ClassifyPipeline)  # no classifier needed: the states answer
    pipeline.classifier = None
    pipeline.states = {"tunes.example": _State(target), "old-tunes.example": _State(legal)}
    pipeline.pages = {"tunes.example": 5, "old-tunes.example": 1}
    pipeline.links_out, pipeline.embeds_out, pipeline.verdicts = {}, {}, {}
    pipeline.hops = {"old-tunes.example": ("tunes.example", "announced")}
    out = pipeline.final_verdicts()
    moved, pages = out["old-tunes.example"]
    assert pages == 1 and isinstance(moved, Verdict)
    assert (moved.is_piracy, moved.category, moved.score, moved.version) == (True, "music", 0.855, "v2")
    assert moved.signals[0].startswith("hopping: announces its move to tunes.example")
    assert moved.reasons == ("Announces its move to tunes.example, a site flagged as music piracy.",
                             "Offers 16 magnet links (BitTorrent downloads).")
    assert moved.delivery == ("torrent",)
    assert out["tunes.example"][0] is target


def test_takedown_packet_shows_reasons_and_falls_back_to_signals(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        build_store(s)
        ids = record_hosts(s, ["old.example", "evil.example"], T0)
        write_verdicts(s, None, {"old.example": verdict(True, "torrent", 0.8, "torrent: 3 magnet links (+0.90)"),
                                 "evil.example": verdict(True, "warez", 0.7, "warez: cracks (+1.00)",
                                                         reasons=(HOSTILE,), delivery=("ddl",))},
                       {d: v[0] for d, v in ids.items()}, {}, T1)
    with Session() as s:
        packet = takedown_packet(s, "toonmoa101.com")
        old = takedown_packet(s, "old.example")
        evil = takedown_packet(s, "evil.example")
    c = packet["classification"]
    assert c["reasons"] == list(REASONS) and c["delivery"] == ["ddl"]
    assert c["signals"] == ["manga reader", "ads: popcash"]  # kept, as detail
    markdown = to_markdown(packet)
    reasons = markdown.split("- Reasons:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert reasons == [f"  - {r}" for r in REASONS]
    assert "manga reader" not in markdown
    assert "piracy site, delivered by ddl (score 0.93)" in markdown

    assert old["classification"]["reasons"] == ["torrent: 3 magnet links (+0.90)"]  # no reasons: the signals
    assert old["classification"]["delivery"] == []
    assert "  - torrent: 3 magnet links (+0.90)" in to_markdown(old) and "delivered by" not in to_markdown(old)
    # a packet recorded before reasons existed still renders, from its signals
    legacy = dict(old, classification={k: v for k, v in old["classification"].items()
                                       if k not in ("reasons", "delivery")})
    assert "  - torrent: 3 magnet links (+0.90)" in to_markdown(legacy)

    text_md = to_markdown(evil)
    assert "<script>" not in text_md and "&lt;script&gt;" in text_md
    assert r"\[x\](javascript:alert(1)) \*bold\*" in text_md
    assert "warez: cracks" not in text_md
