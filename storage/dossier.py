"""The site dossier (``isop site DOMAIN``): everything the store knows about one site.

    with session_factory(engine)() as s:
        d = dossier(s, "baytorrents.cc")      # None when the site is unknown

The dossier is a plain dict of strings, numbers, booleans, lists, dicts and ``datetime``
values (``json.dumps(d, default=str)`` serialises it). Each section is read with a fixed
number of queries whatever the amount of history: long lists are capped (``*_CAP``) and
come with their total count, page figures are aggregates, and the hop chain is walked
with recursive CTEs capped at :data:`CHAIN_CAP` domains. Every filter is a bound parameter.

Which facts are *current* follows :mod:`storage.export`: per ``(name, type)`` the DNS
values with the latest ``last_seen``; per address the network it was last seen in and the
latest name of its AS; the registration last seen; the latest classification (highest
id: its plain ``reasons`` and ``delivery``, empty for a verdict stored before they existed,
and its weighted ``signals``); the status last seen.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, or_, select, union
from sqlalchemy.orm import Session, aliased

from storage.models import (
    Asn,
    Certificate,
    Classification,
    Cluster,
    ClusterMember,
    DnsObservation,
    DomainRegistration,
    Download,
    EvidenceFile,
    Host,
    HostCertificate,
    Indicator,
    IndicatorSighting,
    IpAddress,
    IpNetwork,
    Lookup,
    Network,
    Page,
    RelationKind,
    Site,
    SiteRelation,
    SiteStatusObservation,
)
from storage.names import HostNameError, parse_host

DNS_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT")
"""Record types shown (SOA is left out: its serial changes with every zone edit)."""
LOOKUP_RTYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT", "SOA", "CAA")
CHAIN_KINDS = (RelationKind.REDIRECT, RelationKind.ANNOUNCED, RelationKind.NUMBERED)
"""Relations that make a hopping chain (a mirror is a sibling, not a successor)."""

CHAIN_CAP = 50
HOSTS_CAP = 200
DNS_ROWS_CAP = 2000
BEFORE_CAP = 20
CLASSIFICATION_CAP = 20
CLASS_CHANGES_CAP = 50
STATUS_CAP = 50
REGISTRATION_CAP = 50
CERTIFICATE_CAP = 100
INDICATOR_CAP = 200
SHARED_DOMAINS_CAP = 10
RELATION_CAP = 100
EVIDENCE_CAP = 20
DOWNLOAD_CAP = 20
LOOKUP_CAP = 200
TIMELINE_CAP = 300

UP = ("active",)
DOWN = ("down", "parked")


def dossier(session: Session, domain: str) -> dict[str, Any] | None:
    """Everything known about the site ``domain`` (a registered domain), or None if unknown."""
    cols = (Site.id, Site.domain, Site.first_seen, Site.last_seen)
    raw = domain.strip().rstrip(".").lower()
    try:
        candidates = list(dict.fromkeys([parse_host(raw).domain, raw]))  # a host name or IDN input too
    except HostNameError:
        candidates = [raw]
    rows = {r.domain: r for r in session.execute(select(*cols).where(Site.domain.in_(candidates)))}
    site = next((rows[c] for c in candidates if c in rows), None)
    if site is None:
        return None
    sid = site.id

    hosts, host_count = _hosts(session, sid)
    status, statuses = _statuses(session, sid)
    classification, class_changes = _classification(session, sid)
    dns, dns_first = _dns(session, sid, site.domain)
    current_ips = sorted({v for (_n, t), e in dns.items() if t in ("A", "AAAA") for v in e["current"]})
    before_ips = sorted({b["value"] for (_n, t), e in dns.items() if t in ("A", "AAAA") for b in e["before"]}
                        - set(current_ips))
    hosting = _hosting(session, [*current_ips, *before_ips])
    registration, registrations = _registration(session, sid)
    certificates = _certificates(session, sid)
    indicators, indicator_count = _indicators(session, sid)
    hops = _hops(session, sid)
    from storage.clusters import network_of

    network = network_of(session, site.domain)
    memberships = _memberships(session, sid)
    evidence, evidence_count = _evidence(session, sid)
    downloads, download_count = _downloads(session, sid)
    pages = _pages(session, sid)
    lookups = _lookups(session, site.domain, [h["fqdn"] for h in hosts], [*current_ips, *before_ips])

    dns_out = [{"name": name, "rtype": rtype, **entry} for (name, rtype), entry in
               sorted(dns.items(), key=lambda kv: (kv[0][0] != site.domain, kv[0][0],
                                                  DNS_TYPES.index(kv[0][1]) if kv[0][1] in DNS_TYPES else 99))]
    out = {
        "domain": site.domain,
        "first_seen": site.first_seen,
        "last_seen": site.last_seen,
        "status": status,
        "statuses": statuses,
        "classification": classification,
        "hosts": hosts,
        "host_count": host_count,
        "dns": dns_out,
        "hosting": [hosting[ip] for ip in current_ips],
        "hosting_before": [hosting[ip] for ip in before_ips],
        "registration": registration,
        "registrations": registrations,
        "certificates": certificates,
        "indicators": indicators,
        "indicator_count": indicator_count,
        "hops": hops,
        "network": {**network, "memberships": memberships},
        "evidence": evidence,
        "evidence_count": evidence_count,
        "downloads": downloads,
        "download_count": download_count,
        "pages": pages,
        "lookups": lookups,
    }
    out["timeline"] = _timeline(out, class_changes, dns_out, dns_first)
    return out


# --- sections -----------------------------------------------------------------------------


def _hosts(session: Session, sid: int) -> tuple[list[dict], int]:
    rows = session.execute(select(Host.fqdn, Host.first_seen, Host.last_seen, func.count().over().label("total"))
                           .where(Host.site_id == sid)
                           .order_by(Host.last_seen.desc(), Host.fqdn).limit(HOSTS_CAP)).all()
    hosts = sorted(({"fqdn": r.fqdn, "first_seen": r.first_seen, "last_seen": r.last_seen} for r in rows),
                   key=lambda h: h["fqdn"])
    return hosts, rows[0].total if rows else 0


def _statuses(session: Session, sid: int) -> tuple[dict | None, list[dict]]:
    s = SiteStatusObservation
    rows = session.execute(select(s.status, s.detail, s.first_seen, s.last_seen).where(s.site_id == sid)
                           .order_by(s.last_seen.desc(), s.id.desc()).limit(STATUS_CAP)).all()
    history = [{"status": str(r.status), "detail": r.detail or "", "first_seen": r.first_seen,
                "last_seen": r.last_seen} for r in rows]
    return (history[0] if history else None), history


def _verdict(row: Any) -> dict:
    return {"is_piracy": row.is_piracy, "category": row.category, "score": row.score,
            "delivery": [str(x) for x in (row.delivery or [])], "reasons": [str(x) for x in (row.reasons or [])],
            "signals": [str(x) for x in (row.signals or [])], "classified_at": row.classified_at,
            "classifier_version": row.classifier_version, "pages_seen": row.pages_seen}


def _classification(session: Session, sid: int) -> tuple[dict | None, list[dict]]:
    c = Classification
    cols = (c.is_piracy, c.category, c.score, c.delivery, c.reasons, c.signals, c.classified_at,
            c.classifier_version, c.pages_seen)
    rows = session.execute(select(*cols, func.count().over().label("total")).where(c.site_id == sid)
                           .order_by(c.id.desc()).limit(CLASSIFICATION_CAP + 1)).all()
    # the verdicts where the category or the piracy flag changed (the first one included)
    ordered = (select(c.id, c.is_piracy, c.category, c.score, c.classified_at,
                      func.lag(c.is_piracy).over(order_by=c.id).label("prev_piracy"),
                      func.lag(c.category).over(order_by=c.id).label("prev_category"))
               .where(c.site_id == sid).subquery())
    changes = session.execute(
        select(ordered).where(or_(ordered.c.prev_category.is_(None), ordered.c.prev_category != ordered.c.category,
                                  ordered.c.prev_piracy != ordered.c.is_piracy))
        .order_by(ordered.c.id.desc()).limit(CLASS_CHANGES_CAP)).all()
    change_list = [{"is_piracy": r.is_piracy, "category": r.category, "score": r.score,
                    "classified_at": r.classified_at, "prev_is_piracy": r.prev_piracy,
                    "prev_category": r.prev_category} for r in reversed(changes)]
    if not rows:
        return None, change_list
    latest = _verdict(rows[0])
    latest["history"] = [_verdict(r) for r in rows[1:]]
    latest["count"] = rows[0].total
    return latest, change_list


def _names_query(sid: int, domain: str):
    """The site's names: its domain and its hosts' names."""
    return union(select(Host.fqdn.label("name")).where(Host.site_id == sid),
                 select(literal(domain).label("name")))


def _dns(session: Session, sid: int, domain: str) -> tuple[dict[tuple[str, str], dict], datetime | None]:
    d = DnsObservation
    names = _names_query(sid, domain).subquery()
    rows = session.execute(select(d.name, d.rtype, d.value, d.first_seen, d.last_seen)
                           .where(d.name.in_(select(names.c.name)), d.rtype.in_(DNS_TYPES))
                           .order_by(d.last_seen.desc(), d.id.desc()).limit(DNS_ROWS_CAP)).all()
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for r in rows:
        grouped[(r.name, r.rtype)].append(r)
    out: dict[tuple[str, str], dict] = {}
    for key, obs in grouped.items():
        latest = max(o.last_seen for o in obs)
        current = sorted({o.value for o in obs if o.last_seen == latest})
        earlier = [o for o in obs if o.value not in current]
        earlier.sort(key=lambda o: o.last_seen, reverse=True)
        out[key] = {
            "current": current,
            "seen_at": latest,
            "current_since": {o.value: o.first_seen for o in obs if o.value in current},
            "before": [{"value": o.value, "first_seen": o.first_seen, "last_seen": o.last_seen}
                       for o in earlier[:BEFORE_CAP]],
            "before_count": len(earlier),
        }
    first = min((r.first_seen for r in rows), default=None)
    return out, first


def _hosting(session: Session, ips: list[str]) -> dict[str, dict]:
    out = {ip: {"ip": ip, "asn": None, "as_name": None, "cidr": None, "org": None, "country": None,
                "abuse_email": None, "cdn": None, "reserved": None} for ip in ips}
    if not ips:
        return out
    query = (select(IpAddress.address, IpAddress.reserved, Network.asn, Network.cidr, Network.org, Network.name,
                    Network.country, Network.abuse_email, Network.cdn)
             .outerjoin(IpNetwork, IpNetwork.ip_id == IpAddress.id)
             .outerjoin(Network, Network.id == IpNetwork.network_id)
             .where(IpAddress.address.in_(ips))
             .order_by(IpAddress.address, Network.last_seen.desc(), IpNetwork.last_seen.desc(), Network.id.desc()))
    seen: set[str] = set()
    for r in session.execute(query):
        if r.address in seen:
            continue
        seen.add(r.address)
        out[r.address].update(asn=r.asn, cidr=r.cidr, org=r.org or r.name, country=r.country,
                              abuse_email=r.abuse_email, cdn=r.cdn, reserved=r.reserved)
    numbers = sorted({h["asn"] for h in out.values() if h["asn"] is not None})
    if numbers:
        names: dict[int, str | None] = {}
        for number, name in session.execute(select(Asn.number, Asn.name).where(Asn.number.in_(numbers))
                                            .order_by(Asn.number, Asn.last_seen.desc(), Asn.id.desc())):
            names.setdefault(number, name)
        for h in out.values():
            h["as_name"] = names.get(h["asn"])
    return out


def _registrar_name(name: str | None) -> str:
    return re.sub(r"[^0-9a-z]+", "", (name or "").casefold())


def same_registrar(a: dict, b: dict) -> bool:
    """Whether two registration records name the same registrar: by IANA id when both
    have one, else by the name's letters and digits ("NameSilo, LLC" == "NAMESILO LLC")."""
    if a.get("registrar_iana_id") is not None and b.get("registrar_iana_id") is not None:
        return a["registrar_iana_id"] == b["registrar_iana_id"]
    return _registrar_name(a.get("registrar")) == _registrar_name(b.get("registrar"))


def _registration(session: Session, sid: int) -> tuple[dict | None, list[dict]]:
    r = DomainRegistration
    rows = session.execute(
        select(r.source, r.server, r.registrar, r.registrar_iana_id, r.created, r.updated, r.expires,
               r.nameservers, r.statuses, r.registrant_org, r.registrant_country, r.abuse_email, r.abuse_phone,
               r.redacted, r.first_seen, r.last_seen)
        .where(r.site_id == sid).order_by(r.last_seen.desc(), r.id.desc()).limit(REGISTRATION_CAP)).all()
    records = [{
        "registrar": x.registrar, "registrar_iana_id": x.registrar_iana_id, "created": x.created,
        "updated": x.updated, "expires": x.expires, "nameservers": [str(n) for n in (x.nameservers or [])],
        "statuses": [str(n) for n in (x.statuses or [])], "registrant_org": x.registrant_org,
        "registrant_country": x.registrant_country, "abuse_email": x.abuse_email, "abuse_phone": x.abuse_phone,
        "redacted": x.redacted, "source": x.source, "server": x.server, "first_seen": x.first_seen,
        "last_seen": x.last_seen} for x in rows]
    if not records:
        return None, []
    latest = dict(records[0])
    # registrar changes, oldest first: each record whose registrar differs from the one before
    changes: list[dict] = []
    for rec in sorted(records, key=lambda x: (x["first_seen"], x["last_seen"])):
        if not rec["registrar"] and rec["registrar_iana_id"] is None:
            continue
        if not changes or not same_registrar(changes[-1], rec):
            changes.append({"registrar": rec["registrar"], "registrar_iana_id": rec["registrar_iana_id"],
                            "source": rec["source"], "first_seen": rec["first_seen"], "last_seen": rec["last_seen"],
                            "previous": changes[-1]["registrar"] if changes else None})
        else:
            changes[-1]["last_seen"] = max(changes[-1]["last_seen"], rec["last_seen"])
    latest["registrars"] = changes
    latest["earlier_registrars"] = [c for c in changes if not same_registrar(c, latest)]
    return latest, records


def _certificates(session: Session, sid: int) -> list[dict]:
    rows = session.execute(
        select(Host.fqdn, Certificate.sha256, Certificate.issuer, Certificate.subject_cn, Certificate.sans,
               Certificate.not_before, Certificate.not_after, HostCertificate.first_seen, HostCertificate.last_seen)
        .join(Host, Host.id == HostCertificate.host_id)
        .join(Certificate, Certificate.id == HostCertificate.certificate_id)
        .where(Host.site_id == sid)
        .order_by(HostCertificate.last_seen.desc(), HostCertificate.id.desc()).limit(CERTIFICATE_CAP)).all()
    return sorted(({"host": r.fqdn, "sha256": r.sha256, "issuer": r.issuer, "subject_cn": r.subject_cn,
                    "sans": [str(x) for x in (r.sans or [])], "not_before": r.not_before, "not_after": r.not_after,
                    "first_seen": r.first_seen, "last_seen": r.last_seen} for r in rows),
                  key=lambda c: (c["host"], -c["last_seen"].timestamp()))


def _indicators(session: Session, sid: int) -> tuple[list[dict], int]:
    s = IndicatorSighting
    rows = session.execute(
        select(Indicator.id, Indicator.type, Indicator.value, s.first_seen, s.last_seen, s.context,
               func.count().over().label("total"))
        .join(Indicator, Indicator.id == s.indicator_id).where(s.site_id == sid)
        .order_by(Indicator.type, Indicator.value).limit(INDICATOR_CAP)).all()
    if not rows:
        return [], 0
    ids = [r.id for r in rows]
    other = aliased(IndicatorSighting)
    ranked = (select(other.indicator_id, Site.domain,
                     func.count().over(partition_by=other.indicator_id).label("n"),
                     func.row_number().over(partition_by=other.indicator_id,
                                            order_by=(other.last_seen.desc(), Site.domain)).label("rn"))
              .join(Site, Site.id == other.site_id)
              .where(other.indicator_id.in_(ids), other.site_id != sid).subquery())
    shared: dict[int, tuple[int, list[str]]] = {}
    for ind_id, dom, n, _rn in session.execute(select(ranked).where(ranked.c.rn <= SHARED_DOMAINS_CAP)
                                               .order_by(ranked.c.indicator_id, ranked.c.rn)):
        shared.setdefault(ind_id, (n, []))[1].append(dom)
    out = []
    for r in rows:
        n, domains = shared.get(r.id, (0, []))
        out.append({"type": r.type, "value": r.value, "first_seen": r.first_seen, "last_seen": r.last_seen,
                    "context": r.context, "other_sites": n, "shared_with": domains})
    return out, rows[0].total


def _walk(session: Session, sid: int, forward: bool) -> list[int]:
    """Site ids reachable from ``sid`` along chain relations (forward: successors), ``sid`` first."""
    r = SiteRelation
    start = select(Site.id.label("id")).where(Site.id == sid).cte("walk", recursive=True)
    step_from, step_to = (r.from_site_id, r.to_site_id) if forward else (r.to_site_id, r.from_site_id)
    walk = start.union(select(step_to).join(start, step_from == start.c.id).where(r.kind.in_(CHAIN_KINDS)))
    ids = list(session.scalars(select(walk.c.id).limit(CHAIN_CAP + 1)))
    return ids


def _hops(session: Session, sid: int) -> dict:
    r = SiteRelation
    src, dst = aliased(Site), aliased(Site)
    rel_cols = (r.kind, r.evidence_url, r.first_seen, r.last_seen, src.domain.label("from_domain"),
                dst.domain.label("to_domain"), r.from_site_id, r.to_site_id)
    rows = session.execute(select(*rel_cols).join(src, src.id == r.from_site_id).join(dst, dst.id == r.to_site_id)
                           .where(or_(r.from_site_id == sid, r.to_site_id == sid))
                           .order_by(r.first_seen, r.id).limit(2 * RELATION_CAP)).all()

    def rel(x: Any, other: str) -> dict:
        return {"kind": str(x.kind), other: x.to_domain if other == "to_domain" else x.from_domain,
                "evidence_url": x.evidence_url, "first_seen": x.first_seen, "last_seen": x.last_seen}

    successors = [rel(x, "to_domain") for x in rows if x.from_site_id == sid][:RELATION_CAP]
    predecessors = [rel(x, "from_domain") for x in rows if x.to_site_id == sid][:RELATION_CAP]

    back = _walk(session, sid, forward=False)
    ahead = _walk(session, sid, forward=True)
    truncated = len(back) > CHAIN_CAP or len(ahead) > CHAIN_CAP
    nodes = list(dict.fromkeys([sid, *back[:CHAIN_CAP], *ahead[:CHAIN_CAP]]))[:2 * CHAIN_CAP]
    chain: list[str] = []
    edges: list[dict] = []
    if len(nodes) > 1:
        info = {i: (d, f) for i, d, f in session.execute(select(Site.id, Site.domain, Site.first_seen)
                                                          .where(Site.id.in_(nodes)))}
        erows = session.execute(select(r.from_site_id, r.to_site_id, r.kind, r.first_seen)
                                .where(r.from_site_id.in_(nodes), r.to_site_id.in_(nodes), r.kind.in_(CHAIN_KINDS))
                                .order_by(r.first_seen, r.id)).all()
        chain, edges = _order_chain(info, [(e.from_site_id, e.to_site_id, str(e.kind), e.first_seen) for e in erows])
    return {"successors": successors, "predecessors": predecessors, "chain": chain, "chain_edges": edges,
            "chain_truncated": truncated}


def _order_chain(info: dict[int, tuple[str, datetime]],
                 edges: list[tuple[int, int, str, datetime]]) -> tuple[list[str], list[dict]]:
    """Domains from the oldest predecessor to the newest successor.

    Edges are taken oldest first; one that would close a cycle is left out (the older hops
    define the order). The rest is sorted topologically, ties by the sites' first_seen."""
    succ: dict[int, set[int]] = defaultdict(set)

    def reaches(a: int, b: int) -> bool:
        stack, seen = [a], {a}
        while stack:
            x = stack.pop()
            if x == b:
                return True
            for y in succ[x] - seen:
                seen.add(y)
                stack.append(y)
        return False

    kept: list[dict] = []
    for a, b, kind, first in edges:
        if a == b or a not in info or b not in info or b in succ[a]:
            continue
        if reaches(b, a):
            continue  # a cycle: the older edges win
        succ[a].add(b)
        kept.append({"from": info[a][0], "to": info[b][0], "kind": kind, "first_seen": first})
    indegree = {n: 0 for n in info}
    for bs in succ.values():
        for b in bs:
            indegree[b] += 1
    order: list[str] = []
    ready = sorted((n for n, k in indegree.items() if k == 0), key=lambda n: (info[n][1], info[n][0]))
    while ready:
        n = ready.pop(0)
        order.append(info[n][0])
        for b in succ[n]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
        ready.sort(key=lambda x: (info[x][1], info[x][0]))
    return order, kept


def _memberships(session: Session, sid: int) -> list[dict]:
    m = ClusterMember
    rows = session.execute(select(Cluster.key, Cluster.label, Cluster.updated_at, Cluster.dissolved_at, m.strength,
                                  m.first_seen, m.last_seen).join(Cluster, Cluster.id == m.cluster_id)
                           .where(m.site_id == sid).order_by(m.last_seen.desc(), m.id.desc()).limit(20)).all()
    # a dissolved cluster has no current members (storage.clusters)
    return [{"cluster": r.key, "label": r.label, "strength": r.strength, "first_seen": r.first_seen,
             "last_seen": r.last_seen, "current": r.last_seen >= r.updated_at and r.dissolved_at is None,
             "dissolved_at": r.dissolved_at} for r in rows]


def _evidence(session: Session, sid: int) -> tuple[list[dict], int]:
    """The latest capture of each URL with a WARC record or a screenshot (screenshots first)."""
    has = or_(Page.warc_record_id.is_not(None), Page.screenshot.is_not(None))
    latest = (select(func.max(Page.id).label("id")).where(Page.site_id == sid, has)
              .group_by(Page.url_sha256).subquery())
    rows = session.execute(
        select(Page.url, Page.final_url, Page.fetched_at, Page.status, Page.title, Page.content_sha256,
               Page.warc_file, Page.warc_record_id, Page.screenshot, func.count().over().label("total"))
        .join(latest, latest.c.id == Page.id)
        .order_by(Page.screenshot.is_(None), Page.fetched_at.desc(), Page.id.desc()).limit(EVIDENCE_CAP)).all()
    paths = {p for r in rows for p in (r.warc_file, r.screenshot) if p}
    files = {path: sha for path, sha in session.execute(
        select(EvidenceFile.path, EvidenceFile.sha256).where(EvidenceFile.path.in_(sorted(paths))))} if paths else {}
    out = [{"url": r.url, "final_url": r.final_url, "fetched_at": r.fetched_at, "status": r.status,
            "title": r.title, "content_sha256": r.content_sha256, "warc_file": r.warc_file,
            "warc_record_id": r.warc_record_id, "warc_file_sha256": files.get(r.warc_file),
            "screenshot": r.screenshot, "screenshot_sha256": files.get(r.screenshot)} for r in rows]
    return out, rows[0].total if rows else 0


def _downloads(session: Session, sid: int) -> tuple[list[dict], int]:
    d = Download
    rows = session.execute(select(d.url, d.size, d.sha256, d.content_type, d.found_on, d.first_seen, d.last_seen,
                                  func.count().over().label("total"))
                           .where(d.site_id == sid).order_by(d.last_seen.desc(), d.id.desc())
                           .limit(DOWNLOAD_CAP)).all()
    return ([{"url": r.url, "size": r.size, "sha256": r.sha256, "content_type": r.content_type,
              "found_on": r.found_on, "first_seen": r.first_seen, "last_seen": r.last_seen} for r in rows],
            rows[0].total if rows else 0)


def _pages(session: Session, sid: int) -> dict:
    p = Page
    failed = or_(p.error.is_not(None), p.status.is_(None), p.status >= 400)
    row = session.execute(select(func.count(p.id), func.sum(case((failed, 1), else_=0)),
                                 func.sum(case((p.rendered.is_(True), 1), else_=0)),
                                 func.count(func.distinct(p.url_sha256)),
                                 func.min(p.fetched_at), func.max(p.fetched_at))
                          .where(p.site_id == sid)).one()
    return {"total": int(row[0] or 0), "errors": int(row[1] or 0), "rendered": int(row[2] or 0),
            "urls": int(row[3] or 0), "first_fetch": row[4], "last_fetch": row[5]}


def _lookups(session: Session, domain: str, hosts: list[str], ips: list[str]) -> list[dict]:
    """The latest outcome per (service, target) for the site's names and addresses."""
    names = list(dict.fromkeys([domain, *hosts]))
    targets = [*names, *(f"{n} {t}" for n in names for t in LOOKUP_RTYPES), *ips]
    lk = Lookup
    ranked = (select(lk.service, lk.target, lk.server, lk.outcome, lk.detail, lk.at,
                     func.row_number().over(partition_by=(lk.service, lk.target),
                                            order_by=(lk.at.desc(), lk.id.desc())).label("rn"))
              .where(lk.target.in_(targets)).subquery())
    rows = session.execute(select(ranked).where(ranked.c.rn == 1)
                           .order_by(ranked.c.service, ranked.c.target).limit(LOOKUP_CAP)).all()
    return [{"service": r.service, "target": r.target, "outcome": r.outcome, "detail": r.detail,
             "server": r.server, "at": r.at} for r in rows]


# --- timeline -----------------------------------------------------------------------------


def _timeline(d: dict, class_changes: list[dict], dns: list[dict], dns_first: datetime | None) -> list[dict]:
    events: list[dict] = []

    def add(time: datetime | None, kind: str, text: str) -> None:
        if time is not None:
            events.append({"time": time, "kind": kind, "text": text})

    add(d["first_seen"], "first_seen", f"{d['domain']} first seen")
    for c in class_changes:
        verdict = f"{c['category']} ({'piracy' if c['is_piracy'] else 'not piracy'}, score {c['score']:.2f})"
        if c["prev_category"] is None:
            add(c["classified_at"], "classification", f"first classified: {verdict}")
        else:
            prev = f"{c['prev_category']} ({'piracy' if c['prev_is_piracy'] else 'not piracy'})"
            add(c["classified_at"], "classification", f"classification changed from {prev} to {verdict}")
    previous = None
    for s in sorted(d["statuses"], key=lambda s: s["first_seen"]):
        if s["status"] != previous:
            add(s["first_seen"], "status", f"status {s['status']}" + (f" ({s['detail']})" if s["detail"] else ""))
        previous = s["status"]
    for entry in dns:
        if entry["rtype"] not in ("A", "AAAA", "NS"):
            continue
        values = [(v, t) for v, t in entry["current_since"].items()]
        values += [(b["value"], b["first_seen"]) for b in entry["before"]]
        for value, first in values:
            if dns_first is not None and first > dns_first:
                add(first, "dns", f"new {entry['rtype']} for {entry['name']}: {value}")
    reg = d["registration"]
    for c in (reg or {}).get("registrars", []):
        if c["previous"] is None:
            add(c["first_seen"], "registrar", f"registrar {c['registrar']}")
        else:
            add(c["first_seen"], "registrar", f"registrar changed from {c['previous']} to {c['registrar']}")
    for c in d["certificates"]:
        add(c["first_seen"], "certificate", f"certificate {c['sha256'][:16]}… on {c['host']} "
                                            f"(issuer {c['issuer'] or '?'})")
    for h in d["hops"]["successors"]:
        add(h["first_seen"], "hop", f"{h['kind']} to {h['to_domain']}")
    for h in d["hops"]["predecessors"]:
        add(h["first_seen"], "hop", f"{h['kind']} from {h['from_domain']}")
    for i in d["indicators"]:
        add(i["first_seen"], "indicator", f"indicator {i['type']} {i['value']}")
    for m in d["network"]["memberships"]:
        add(m["first_seen"], "cluster", f"joined cluster {m['cluster']}")
    events.sort(key=lambda e: (e["time"], e["kind"] != "first_seen", e["kind"], e["text"]))
    return events[-TIMELINE_CAP:]

