"""Which sites' identifiers changed since the last computation of the operator networks.

:func:`storage.clusters.recompute` runs after every crawl and enrichment run; recomputing
the whole store each time costs what the store costs. Each computation is recorded
(:class:`~storage.models.ClusterComputation`) with, per table that feeds identifiers, its
highest row id and its row count, and a fingerprint of the rules and of the CDN and
nameserver lists. The next computation's *dirty* sites are those with rows added since
(new sightings, hosts, sites, DNS answers, registrations, certificates and who presented
them, hops, address-to-network links) plus those whose latest nameserver answer or
registration, seen again since, differs from the one before (a set that changed back: see
:func:`_reseen_changed`; a routine re-enrichment that finds the same answers marks
nothing), and the earlier
sites of an indicator that new sightings pushed past ``max_sites_per_identifier``. Rows are never
updated in ways that change identifiers except these; rows *deleted* (retention), a rules
or list change, or no earlier computation make :func:`changed_sites` return None: the
whole store is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.cdn import CDN_FILE
from storage.chunks import chunks
from storage.models import (
    Certificate,
    ClusterComputation,
    DnsObservation,
    DomainRegistration,
    Host,
    HostCertificate,
    IndicatorSighting,
    IpAddress,
    IpNetwork,
    Site,
    SiteRelation,
)
from storage.nameservers import NAMESERVERS_FILE
from storage.neighbourhood import _sites_of_names, ns_value

TABLES = {"indicator_sightings": IndicatorSighting, "sites": Site, "hosts": Host, "dns_observations": DnsObservation,
          "domain_registrations": DomainRegistration, "certificates": Certificate,
          "host_certificates": HostCertificate, "site_relations": SiteRelation, "ip_networks": IpNetwork}
"""The tables identifiers are gathered from (their rows' ids are the watermarks)."""


def fingerprint(rules: Any, weights: Any = ()) -> str:
    """The rules, the weights (JSON-able, from :mod:`storage.clusters`) and the lists they
    read, as one hash: a change means a full recomputation."""
    h = hashlib.sha256(json.dumps(asdict(rules), sort_keys=True).encode())
    for path in (CDN_FILE, NAMESERVERS_FILE):
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"-")
    h.update(json.dumps(weights, sort_keys=True).encode())
    return h.hexdigest()


def table_state(session: Session) -> dict[str, list[int]]:
    """Per table: [highest id, row count]."""
    out = {}
    for name, model in TABLES.items():
        top, count = session.execute(select(func.max(model.id), func.count(model.id))).one()
        out[name] = [int(top or 0), int(count or 0)]
    return out


def changed_sites(session: Session, rules: Any, weights: Any = ()) -> set[int] | None:
    """Site ids whose identifiers may have changed since the last computation, or None when
    the whole store must be recomputed (first computation, rules changed, rows deleted)."""
    last = session.scalars(select(ClusterComputation).order_by(ClusterComputation.id.desc()).limit(1)).first()
    if last is None or (last.state or {}).get("rules") != fingerprint(rules, weights):
        return None
    before: dict[str, list[int]] = (last.state or {}).get("tables") or {}
    if set(before) != set(TABLES):
        return None
    for name, model in TABLES.items():
        top, count = before[name]
        added = session.scalar(select(func.count(model.id)).where(model.id > top)) or 0
        if (session.scalar(select(func.count(model.id))) or 0) - added < count:
            return None  # rows were deleted: identifiers may have vanished anywhere
    wm = {name: before[name][0] for name in TABLES}
    since: datetime = last.at
    dirty: set[int] = set()
    s = IndicatorSighting
    dirty.update(session.scalars(select(s.site_id).where(s.id > wm["indicator_sightings"])))
    # an indicator the new sightings pushed past the limit unlinks the sites it had before
    limit = rules.max_sites_per_identifier
    touched = select(s.indicator_id).where(s.id > wm["indicator_sightings"]).distinct()
    crossed = (select(s.indicator_id).where(s.indicator_id.in_(touched)).group_by(s.indicator_id)
               .having(func.count(func.distinct(s.site_id)) > limit))
    was_linking = (select(s.indicator_id).where(s.indicator_id.in_(crossed), s.id <= wm["indicator_sightings"])
                   .group_by(s.indicator_id).having(func.count(func.distinct(s.site_id)).between(2, limit)))
    dirty.update(session.scalars(select(s.site_id).where(s.indicator_id.in_(was_linking),
                                                         s.id <= wm["indicator_sightings"]).distinct()))
    dirty.update(session.scalars(select(Site.id).where(Site.id > wm["sites"])))
    dirty.update(session.scalars(select(Host.site_id).where(Host.id > wm["hosts"])))
    r = DomainRegistration
    dirty.update(session.scalars(select(r.site_id).where(r.id > wm["domain_registrations"])))
    dirty.update(_reseen_changed(session, r, r.site_id, r.nameservers, since, wm["domain_registrations"]))
    rel = SiteRelation
    for f, t in session.execute(select(rel.from_site_id, rel.to_site_id).where(rel.id > wm["site_relations"])):
        dirty.update((f, t))
    hc = HostCertificate
    new_certs = set(session.scalars(select(hc.certificate_id).where(hc.id > wm["host_certificates"])))
    new_certs.update(session.scalars(select(Certificate.id).where(Certificate.id > wm["certificates"])))
    names: set[str] = set()
    for chunk in chunks(new_certs):
        dirty.update(session.scalars(select(Host.site_id).join(hc, hc.host_id == Host.id)
                                     .where(hc.certificate_id.in_(chunk))))
        for sans in session.scalars(select(Certificate.sans).where(Certificate.id.in_(chunk))):
            names.update(n for n in sans or () if isinstance(n, str))
    d = DnsObservation
    names.update(session.scalars(select(d.name).where(d.id > wm["dns_observations"])))
    names.update(_reseen_changed(session, d, d.name, d.value, since, wm["dns_observations"], d.rtype == "NS"))
    new_ips = set(session.scalars(select(IpAddress.address).join(IpNetwork, IpNetwork.ip_id == IpAddress.id)
                                  .where(IpNetwork.id > wm["ip_networks"])))
    for chunk in chunks(new_ips):
        names.update(session.scalars(select(d.name).where(d.value.in_(chunk), d.rtype.in_(("A", "AAAA")))))
    dirty.update(_sites_of_names(session, names).values())
    return dirty


def _reseen_changed(session: Session, model: Any, owner: Any, value: Any, since: datetime, top: int,
                    *where: Any) -> set[Any]:
    """Owners (a name, a site id) whose rows (of ``model``, no new one) were seen again since
    ``since`` and whose latest answer — the rows sharing the highest ``last_seen`` — may differ
    from the latest one before: another row, with a different value, was seen after the
    latest answer's rows first appeared (an answer that changed back to rows seen before).

    A routine re-enrichment that finds the same answer marks nothing. Not seen: a server
    dropped from a set and later added back while the others stayed (the rows keep no gap)."""
    m = model
    owners = select(owner).where(m.last_seen >= since, m.id <= top, *where).distinct()
    rows: dict[Any, list[tuple[Any, datetime, datetime]]] = {}
    for chunk in chunks(sorted(session.scalars(owners))):
        for who, val, first, last in session.execute(select(owner, value, m.first_seen, m.last_seen)
                                                     .where(owner.in_(chunk), *where)):
            rows.setdefault(who, []).append((ns_value(val) if isinstance(val, list) else val, first, last))
    out = set()
    for who, answers in rows.items():
        latest = max(last for _v, _f, last in answers)
        current = {v for v, _f, last in answers if last == latest}
        since_first = max(first for v, first, last in answers if last == latest)
        if any(last >= since_first and v not in current for v, _f, last in answers if last != latest):
            out.add(who)
    return out


def record_computation(session: Session, now: datetime, rules: Any, full: bool, dirty: int,
                       counts: dict[str, int], weights: Any = (), state: dict[str, list[int]] | None = None) -> None:
    """Record a computation with the store's watermarks: ``state``, taken (:func:`table_state`)
    before the changes were read, so rows other workers commit meanwhile are read next time
    (default: as they are now)."""
    tables = table_state(session) if state is None else state
    session.add(ClusterComputation(at=now, full=full, dirty=dirty, sites=int(counts.get("sites", 0)),
                                   clusters=int(counts.get("clusters", 0)), dissolved=int(counts.get("dissolved", 0)),
                                   state={"rules": fingerprint(rules, weights), "tables": tables}))
    session.flush()
