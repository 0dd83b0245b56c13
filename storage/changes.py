"""What changed in the store since a date (``isop changes --since DATE``).

    with session_factory(engine)() as s:
        c = changes(s, since=week_ago)        # {kind: [entry, ...]}

Each kind is a list of dicts (``domain``, the facts, and ``time``: when the change was
first observed), newest first, at most ``limit`` entries per kind, read with a fixed number
of queries (two at most per kind). ``until`` (exclusive) bounds the window. Every filter is
a bound parameter.

The store keeps history compressed (a fact seen again moves its ``last_seen``; it is not a
new row), so a status that comes back is not a new row either. A transition is therefore
dated by the first observation that proves it: the new row's ``first_seen`` when it started
after the last observation of the previous state, otherwise that last observation (the
change happened after it). ``classification_changes`` compares the latest verdict in the
window with the latest one before ``since`` (the net change over the window).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from storage.dossier import same_registrar
from storage.models import (
    Classification,
    DnsObservation,
    DomainRegistration,
    Host,
    Site,
    SiteRelation,
    SiteStatusObservation,
)

KINDS = ("new_sites", "new_hops", "ip_changes", "ns_changes", "new_hosts", "registrar_changes", "went_down",
         "came_back", "classification_changes")
UP = ("active",)
DOWN = ("down", "parked")


def changes(session: Session, since: datetime, *, until: datetime | None = None,
            limit: int = 500) -> dict[str, list[dict]]:
    """The changes first observed at or after ``since`` (and before ``until``), per kind."""
    if since.tzinfo is None or (until is not None and until.tzinfo is None):
        raise ValueError("since/until must be timezone-aware")
    w = _Window(since, until)
    registrations = _registration_changes(session, w, limit)
    return {
        "new_sites": _new_sites(session, w, limit),
        "new_hops": _new_hops(session, w, limit),
        "ip_changes": _dns_changes(session, w, ("A", "AAAA"), limit),
        "ns_changes": sorted(_dns_changes(session, w, ("NS",), limit) + registrations["ns"],
                             key=lambda e: e["time"], reverse=True)[:limit],
        "new_hosts": _new_hosts(session, w, limit),
        "registrar_changes": registrations["registrar"],
        "went_down": _went_down(session, w, limit),
        "came_back": _came_back(session, w, limit),
        "classification_changes": _classification_changes(session, w, limit),
    }


class _Window:
    def __init__(self, since: datetime, until: datetime | None) -> None:
        self.since, self.until = since, until

    def within(self, column: Any) -> Any:
        return column >= self.since if self.until is None else and_(column >= self.since, column < self.until)


def _new_sites(session: Session, w: _Window, limit: int) -> list[dict]:
    c = Classification
    latest = (select(c.site_id, func.max(c.id).label("id")).group_by(c.site_id).subquery())
    rows = session.execute(
        select(Site.domain, Site.first_seen, c.is_piracy, c.category, c.score)
        .outerjoin(latest, latest.c.site_id == Site.id).outerjoin(c, c.id == latest.c.id)
        .where(w.within(Site.first_seen))
        .order_by(Site.first_seen.desc(), Site.id.desc()).limit(limit)).all()
    return [{"domain": r.domain, "time": r.first_seen, "is_piracy": r.is_piracy, "category": r.category,
             "score": r.score} for r in rows]


def _new_hops(session: Session, w: _Window, limit: int) -> list[dict]:
    r = SiteRelation
    src, dst = aliased(Site), aliased(Site)
    rows = session.execute(
        select(src.domain.label("src"), dst.domain.label("dst"), r.kind, r.evidence_url, r.first_seen)
        .join(src, src.id == r.from_site_id).join(dst, dst.id == r.to_site_id)
        .where(w.within(r.first_seen)).order_by(r.first_seen.desc(), r.id.desc()).limit(limit)).all()
    return [{"domain": x.src, "from": x.src, "to": x.dst, "kind": str(x.kind), "evidence_url": x.evidence_url,
             "time": x.first_seen} for x in rows]


def _dns_changes(session: Session, w: _Window, rtypes: tuple[str, ...], limit: int) -> list[dict]:
    """Per (name, type): values first seen in the window where other values were seen before."""
    d, old = DnsObservation, aliased(DnsObservation)
    had_before = exists().where(old.name == d.name, old.rtype == d.rtype, old.first_seen < w.since,
                                old.value != d.value)
    by_host, by_domain = aliased(Site), aliased(Site)
    domain = func.coalesce(by_host.domain, by_domain.domain)
    rows = session.execute(
        select(domain.label("domain"), d.name, d.rtype, d.value, d.first_seen)
        .outerjoin(Host, Host.fqdn == d.name).outerjoin(by_host, by_host.id == Host.site_id)
        .outerjoin(by_domain, by_domain.domain == d.name)
        .where(d.rtype.in_(rtypes), w.within(d.first_seen), had_before, domain.is_not(None))
        .order_by(d.first_seen.desc(), d.id.desc()).limit(limit * 4)).all()
    entries: dict[tuple[str, str], dict] = {}
    for r in rows:
        key = (r.name, r.rtype)
        if key not in entries:
            if len(entries) >= limit:
                continue
            entries[key] = {"domain": r.domain, "name": r.name, "rtype": r.rtype, "time": r.first_seen,
                            "new": [], "old": [], "removed": []}
        entries[key]["new"].append(r.value)
        entries[key]["time"] = min(entries[key]["time"], r.first_seen)
    if entries:
        olds = session.execute(
            select(d.name, d.rtype, d.value, d.first_seen, d.last_seen)
            .where(tuple_(d.name, d.rtype).in_(list(entries)), d.first_seen < w.since)
            .order_by(d.last_seen.desc())).all()
        for o in olds:
            e = entries[(o.name, o.rtype)]
            e["old"].append(o.value)
            if o.last_seen < e["time"]:
                e["removed"].append(o.value)
    out = list(entries.values())
    for e in out:
        e["new"].sort()
        e["old"] = sorted(set(e["old"]))
        e["removed"] = sorted(set(e["removed"]))
    return sorted(out, key=lambda e: e["time"], reverse=True)


def _new_hosts(session: Session, w: _Window, limit: int) -> list[dict]:
    rows = session.execute(
        select(Site.domain, Host.fqdn, Host.first_seen).join(Site, Site.id == Host.site_id)
        .where(w.within(Host.first_seen), Site.first_seen < w.since)
        .order_by(Host.first_seen.desc(), Host.id.desc()).limit(limit)).all()
    return [{"domain": r.domain, "host": r.fqdn, "time": r.first_seen} for r in rows]


def _registration_changes(session: Session, w: _Window, limit: int) -> dict[str, list[dict]]:
    """Registrations first seen in the window compared with the one before (per site, by
    ``first_seen``): a different registrar, or a different set of nameservers."""
    r = DomainRegistration
    cols = (r.site_id, r.registrar, r.registrar_iana_id, r.nameservers, r.source, r.first_seen)
    new_rows = session.execute(
        select(*cols, Site.domain).join(Site, Site.id == r.site_id).where(w.within(r.first_seen))
        .order_by(r.first_seen.desc(), r.id.desc()).limit(limit * 4)).all()
    if not new_rows:
        return {"registrar": [], "ns": []}
    site_ids = sorted({x.site_id for x in new_rows})
    ranked = (select(*cols, func.row_number().over(partition_by=r.site_id,
                                                   order_by=(r.first_seen.desc(), r.id.desc())).label("rn"))
              .where(r.site_id.in_(site_ids), r.first_seen < w.since).subquery())
    before = {x.site_id: x for x in session.execute(select(ranked).where(ranked.c.rn == 1))}
    per_site: dict[int, list] = defaultdict(list)
    for x in new_rows:
        per_site[x.site_id].append(x)
    registrar: list[dict] = []
    ns: list[dict] = []
    for site_id, rows in per_site.items():
        prev = before.get(site_id)
        for x in sorted(rows, key=lambda x: x.first_seen):
            if prev is not None:
                a = {"registrar": prev.registrar, "registrar_iana_id": prev.registrar_iana_id}
                b = {"registrar": x.registrar, "registrar_iana_id": x.registrar_iana_id}
                if (x.registrar or x.registrar_iana_id is not None) and not same_registrar(a, b):
                    registrar.append({"domain": x.domain, "time": x.first_seen, "old": prev.registrar,
                                      "new": x.registrar, "old_iana_id": prev.registrar_iana_id,
                                      "new_iana_id": x.registrar_iana_id, "source": x.source})
                old_ns = sorted({str(n).lower().rstrip(".") for n in prev.nameservers or []})
                new_ns = sorted({str(n).lower().rstrip(".") for n in x.nameservers or []})
                if new_ns and old_ns != new_ns:
                    ns.append({"domain": x.domain, "name": x.domain, "rtype": "registration", "time": x.first_seen,
                               "new": new_ns, "old": old_ns, "removed": sorted(set(old_ns) - set(new_ns))})
            if x.registrar or x.registrar_iana_id is not None:
                prev = x
    registrar.sort(key=lambda e: e["time"], reverse=True)
    ns.sort(key=lambda e: e["time"], reverse=True)
    return {"registrar": registrar[:limit], "ns": ns[:limit]}


def _latest_status():
    s = SiteStatusObservation
    return (select(s.site_id, s.status, s.detail, s.first_seen, s.last_seen,
                   func.row_number().over(partition_by=s.site_id, order_by=(s.last_seen.desc(), s.id.desc()))
                   .label("rn")).subquery())


def _transitions(session: Session, w: _Window, limit: int, now_in: tuple[str, ...],
                 before_in: tuple[str, ...]) -> list[dict]:
    """Sites whose latest status is in ``now_in`` and that were seen in ``before_in`` earlier;
    dated by the first observation of the current state after the last of the earlier one."""
    s = SiteStatusObservation
    latest = _latest_status()
    prior = (select(s.site_id, func.max(s.last_seen).label("prior_seen")).where(s.status.in_(before_in))
             .group_by(s.site_id).subquery())
    changed_at = case((s.first_seen > prior.c.prior_seen, s.first_seen), else_=prior.c.prior_seen)
    since_prior = (select(s.site_id, func.min(changed_at).label("at"))
                   .join(prior, prior.c.site_id == s.site_id)
                   .where(s.status.in_(now_in), s.last_seen > prior.c.prior_seen)
                   .group_by(s.site_id).subquery())
    rows = session.execute(
        select(Site.domain, latest.c.status, latest.c.detail, latest.c.last_seen, prior.c.prior_seen, since_prior.c.at)
        .join(latest, and_(latest.c.site_id == Site.id, latest.c.rn == 1))
        .join(prior, prior.c.site_id == Site.id).join(since_prior, since_prior.c.site_id == Site.id)
        .where(latest.c.status.in_(now_in), w.within(since_prior.c.at))
        .order_by(since_prior.c.at.desc(), Site.domain).limit(limit)).all()
    return [{"domain": r.domain, "time": r.at, "status": str(r.status), "detail": r.detail or "",
             "previous_last_seen": r.prior_seen, "last_seen": r.last_seen} for r in rows]


def _went_down(session: Session, w: _Window, limit: int) -> list[dict]:
    return _transitions(session, w, limit, DOWN, UP)


def _came_back(session: Session, w: _Window, limit: int) -> list[dict]:
    return _transitions(session, w, limit, UP, DOWN)


def _classification_changes(session: Session, w: _Window, limit: int) -> list[dict]:
    c = Classification

    def ranked(where: Any, name: str):
        return (select(c.site_id, c.is_piracy, c.category, c.score, c.classified_at, c.pages_seen, c.cause,
                       func.row_number().over(partition_by=c.site_id, order_by=c.id.desc()).label("rn"))
                .where(where).subquery(name))

    new = ranked(w.within(c.classified_at), "new_verdict")
    old = ranked(c.classified_at < w.since, "old_verdict")
    rows = session.execute(
        select(Site.id, Site.domain, new.c.is_piracy, new.c.category, new.c.score, new.c.classified_at,
               old.c.is_piracy.label("old_piracy"), old.c.category.label("old_category"),
               old.c.score.label("old_score"), old.c.classified_at.label("old_at"), new.c.pages_seen, new.c.cause,
               old.c.pages_seen.label("old_pages_seen"))
        .join(new, and_(new.c.site_id == Site.id, new.c.rn == 1))
        .join(old, and_(old.c.site_id == Site.id, old.c.rn == 1))
        .where(or_(new.c.is_piracy != old.c.is_piracy, new.c.category != old.c.category))
        .order_by(new.c.classified_at.desc(), Site.domain).limit(limit)).all()
    # The verdict that flipped may be followed by the same verdict again (the crawl's last
    # word on the site): its cause is on the flip, the newest one in the window.
    causes: dict[int, str] = {}
    if rows:
        for site_id, cause in session.execute(
                select(c.site_id, c.cause).where(c.site_id.in_([r.id for r in rows]), c.cause.is_not(None),
                                                 w.within(c.classified_at)).order_by(c.id.desc())):
            causes.setdefault(site_id, cause)
    return [{"domain": r.domain, "time": r.classified_at, "is_piracy": r.is_piracy, "category": r.category,
             "score": r.score, "old_is_piracy": r.old_piracy, "old_category": r.old_category,
             "old_score": r.old_score, "old_classified_at": r.old_at, "pages_seen": r.pages_seen,
             "old_pages_seen": r.old_pages_seen, "cause": r.cause or causes.get(r.id)} for r in rows]
