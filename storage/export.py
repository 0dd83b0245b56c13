"""The export's site records: one record per site, a public contract (``docs/export.schema.json``).

    with session_factory(engine)() as s:
        records = list(site_records(s, piracy=True, since=week_ago))

The writers of :mod:`collector.writers` turn these records into JSON, CSV, STIX and MISP.

Sites are read in pages of ``batch_size`` by site id (keyset pagination), and each page's
facts are fetched with a fixed number of queries, so memory and the number of queries per
site stay constant however large the store. Every filter is a bound parameter.

What each key holds, when several observations exist:

- ``is_piracy``/``category``/``delivery``/``score``/``reasons``/``signals``: the latest
  classification (highest id); null (``delivery``, ``reasons``, ``signals`` empty) for a site
  never classified. ``delivery`` lists the delivery mechanisms seen (torrent, ddl, streaming,
  iptv), strongest first; ``reasons`` the plain-language sentences for an analyst, strongest
  first (empty for verdicts stored before they existed); ``signals`` the weighted internal detail.
- ``dns``: for the site's domain and each of its hosts, per ``(name, type)`` the values with
  the latest ``last_seen`` (the most recent answer); united over the names, sorted.
- ``hosting``: one entry per A/AAAA address in ``dns``, with the network it was last seen
  in (by the network's ``last_seen``) and the AS name of the latest ``Asn`` row of that
  number; unknown facts null.
- ``whois``: the latest registration (by ``last_seen``), RDAP or WHOIS.
- ``tls``: the certificate the apex or ``www`` host last presented (the apex on a tie).
- ``redirects_to``: the latest ``redirect``/``announced`` relation from the site;
  ``related_domains``: the targets of its ``mirror``/``numbered`` relations (relations
  from the site only: a hop's target does not list the site it replaced).
- ``status``: the latest status observation; ``cluster``: the key of the site's cluster.
- ``since`` keeps the sites last seen at or after it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session, aliased

from storage.chunks import chunks
from storage.filters import SiteFilter, latest_classification_id
from storage.models import (
    Asn,
    Certificate,
    Classification,
    Cluster,
    ClusterMember,
    DnsObservation,
    DomainRegistration,
    Host,
    HostCertificate,
    Indicator,
    IndicatorSighting,
    IpAddress,
    IpNetwork,
    Network,
    RelationKind,
    Site,
    SiteRelation,
    SiteStatusObservation,
)

BATCH_SIZE = 500
"""Sites per page; each page costs a fixed number of queries."""

DNS_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT")
REDIRECT_KINDS = (RelationKind.REDIRECT, RelationKind.ANNOUNCED)
RELATED_KINDS = (RelationKind.MIRROR, RelationKind.NUMBERED)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value is not None else None


def site_records(session: Session, filters: SiteFilter | None = None, *, piracy: bool | None = None,
                 category: str | None = None, since: datetime | None = None, limit: int | None = None,
                 batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Export records of the sites matching the filters, in site id order, page by page.

    ``filters`` is a :class:`storage.filters.SiteFilter` (the keyword filters are its
    shorthand: ``piracy``/``category`` on the latest classification, ``since`` on last
    seen, ``limit`` caps the count).
    """
    if filters is None:
        filters = SiteFilter(piracy=piracy, category=category, since=since, limit=limit)
    query = filters.apply(
        select(Site.id, Site.domain, Site.first_seen, Site.last_seen, Classification.is_piracy,
               Classification.category, Classification.delivery, Classification.score, Classification.reasons,
               Classification.signals)
        .outerjoin(Classification, Classification.id == latest_classification_id()))
    remaining = filters.limit
    after = 0
    while remaining is None or remaining > 0:
        size = batch_size if remaining is None else min(batch_size, remaining)
        rows = session.execute(query.where(Site.id > after).order_by(Site.id).limit(size)).all()
        if not rows:
            return
        yield from _records(session, rows)
        after = rows[-1].id
        if remaining is not None:
            remaining -= len(rows)
        if len(rows) < size:
            return


# --- one page of sites --------------------------------------------------------------------


def _records(session: Session, rows: Sequence[Any]) -> Iterator[dict]:
    ids = [r.id for r in rows]
    dns = _dns(session, ids)
    ips = sorted({ip for per_site in dns.values() for t in ("A", "AAAA") for ip in per_site.get(t, ())})
    hosting = _hosting(session, ips)
    whois = _whois(session, ids)
    tls = _tls(session, ids)
    indicators = _indicators(session, ids)
    redirects, related = _relations(session, ids)
    status = _status(session, ids)
    cluster = _cluster(session, ids)
    for r in rows:
        site_dns = dns.get(r.id, {})
        records = {t: sorted(site_dns.get(t, ())) for t in DNS_TYPES}
        yield {
            "domain": r.domain,
            "is_piracy": r.is_piracy,
            "category": r.category,
            "delivery": [str(d) for d in (r.delivery or [])],
            "score": r.score,
            "reasons": [str(s) for s in (r.reasons or [])],
            "signals": [str(s) for s in (r.signals or [])],
            "status": status.get(r.id),
            "first_seen": _iso(r.first_seen),
            "last_seen": _iso(r.last_seen),
            "redirects_to": redirects.get(r.id),
            "related_domains": related.get(r.id, []),
            "cluster": cluster.get(r.id),
            "dns": records,
            "hosting": [hosting.get(ip) or _no_hosting(ip) for ip in [*records["A"], *records["AAAA"]]],
            "whois": whois.get(r.id) or _no_whois(),
            "tls": tls.get(r.id) or _no_tls(),
            "indicators": indicators.get(r.id, []),
        }


def _dns(session: Session, ids: list[int]) -> dict[int, dict[str, set[str]]]:
    """Per site and type, the latest answer's values for its domain and its hosts."""
    cols = (DnsObservation.name, DnsObservation.rtype, DnsObservation.value, DnsObservation.last_seen)
    rtype_ok = DnsObservation.rtype.in_(DNS_TYPES)
    by_host = (select(Host.site_id, *cols).join(Host, Host.fqdn == DnsObservation.name)
               .where(Host.site_id.in_(ids), rtype_ok))
    by_domain = (select(Site.id, *cols).join(Site, Site.domain == DnsObservation.name)
                 .where(Site.id.in_(ids), rtype_ok))
    answers: dict[tuple[int, str, str], tuple[datetime, set[str]]] = {}
    for query in (by_host, by_domain):
        for site_id, name, rtype, value, seen in session.execute(query):
            key = (site_id, name, rtype)
            best = answers.get(key)
            if best is None or seen > best[0]:
                answers[key] = (seen, {value})
            elif seen == best[0]:
                best[1].add(value)
    out: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for (site_id, _name, rtype), (_seen, values) in answers.items():
        out[site_id][rtype] |= values
    return out


def _no_hosting(ip: str) -> dict:
    return {"ip": ip, "asn": None, "as_name": None, "cidr": None, "country": None, "org": None,
            "abuse_email": None, "cdn": None}


def _hosting(session: Session, ips: list[str]) -> dict[str, dict]:
    """Per address, the network it was last seen in, with the latest name of its AS."""
    out: dict[str, dict] = {}
    for chunk in chunks(ips):
        query = (select(IpAddress.address, Network.asn, Network.cidr, Network.country, Network.org,
                        Network.abuse_email, Network.cdn)
                 .join(IpNetwork, IpNetwork.ip_id == IpAddress.id).join(Network, Network.id == IpNetwork.network_id)
                 .where(IpAddress.address.in_(chunk))
                 .order_by(IpAddress.address, Network.last_seen.desc(), IpNetwork.last_seen.desc(),
                           Network.id.desc()))
        for row in session.execute(query):
            if row.address not in out:
                out[row.address] = {"ip": row.address, "asn": row.asn, "as_name": None, "cidr": row.cidr,
                                    "country": row.country, "org": row.org, "abuse_email": row.abuse_email,
                                    "cdn": row.cdn}
    numbers = sorted({h["asn"] for h in out.values() if h["asn"] is not None})
    names: dict[int, str | None] = {}
    for chunk in chunks(numbers):
        for number, name in session.execute(select(Asn.number, Asn.name).where(Asn.number.in_(chunk))
                                            .order_by(Asn.number, Asn.last_seen.desc(), Asn.id.desc())):
            names.setdefault(number, name)
    for h in out.values():
        h["as_name"] = names.get(h["asn"])
    return out


def _no_whois() -> dict:
    return {"registrar": None, "created": None, "expires": None, "nameservers": [], "registrant_country": None,
            "abuse_email": None, "source": None}


def _whois(session: Session, ids: list[int]) -> dict[int, dict]:
    r = DomainRegistration
    query = (select(r.site_id, r.registrar, r.created, r.expires, r.nameservers, r.registrant_country,
                    r.abuse_email, r.source)
             .where(r.site_id.in_(ids)).order_by(r.site_id, r.last_seen.desc(), r.id.desc()))
    out: dict[int, dict] = {}
    for row in session.execute(query):
        if row.site_id not in out:
            out[row.site_id] = {"registrar": row.registrar, "created": _day(row.created),
                                "expires": _day(row.expires), "nameservers": list(row.nameservers or []),
                                "registrant_country": row.registrant_country, "abuse_email": row.abuse_email,
                                "source": row.source}
    return out


def _no_tls() -> dict:
    return {"sha256": None, "issuer": None, "subject_cn": None, "sans": [], "not_after": None}


def _tls(session: Session, ids: list[int]) -> dict[int, dict]:
    apex = Host.fqdn == Site.domain
    query = (select(Host.site_id, apex.label("apex"), HostCertificate.last_seen, Certificate.sha256,
                    Certificate.issuer, Certificate.subject_cn, Certificate.sans, Certificate.not_after)
             .join(Host, Host.id == HostCertificate.host_id).join(Site, Site.id == Host.site_id)
             .join(Certificate, Certificate.id == HostCertificate.certificate_id)
             .where(Host.site_id.in_(ids), or_(apex, Host.fqdn == literal("www.") + Site.domain)))
    best: dict[int, tuple] = {}
    for row in session.execute(query):
        rank = (row.last_seen, bool(row.apex))
        if row.site_id not in best or rank > best[row.site_id][0]:
            best[row.site_id] = (rank, {"sha256": row.sha256, "issuer": row.issuer, "subject_cn": row.subject_cn,
                                        "sans": list(row.sans or []), "not_after": _iso(row.not_after)})
    return {site_id: record for site_id, (_rank, record) in best.items()}


def _indicators(session: Session, ids: list[int]) -> dict[int, list[dict]]:
    query = (select(IndicatorSighting.site_id, Indicator.type, Indicator.value).distinct()
             .join(Indicator, Indicator.id == IndicatorSighting.indicator_id)
             .where(IndicatorSighting.site_id.in_(ids))
             .order_by(IndicatorSighting.site_id, Indicator.type, Indicator.value))
    out: dict[int, list[dict]] = defaultdict(list)
    for site_id, type_, value in session.execute(query):
        out[site_id].append({"type": type_, "value": value})
    return out


def _relations(session: Session, ids: list[int]) -> tuple[dict[int, str], dict[int, list[str]]]:
    target = aliased(Site)
    query = (select(SiteRelation.from_site_id, SiteRelation.kind, target.domain)
             .join(target, target.id == SiteRelation.to_site_id)
             .where(SiteRelation.from_site_id.in_(ids))
             .order_by(SiteRelation.from_site_id, SiteRelation.last_seen.desc(), SiteRelation.id.desc()))
    redirects: dict[int, str] = {}
    related: dict[int, set[str]] = defaultdict(set)
    for site_id, kind, domain in session.execute(query):
        if kind in REDIRECT_KINDS:
            redirects.setdefault(site_id, domain)
        elif kind in RELATED_KINDS:
            related[site_id].add(domain)
    return redirects, {site_id: sorted(domains) for site_id, domains in related.items()}


def _status(session: Session, ids: list[int]) -> dict[int, str]:
    s = SiteStatusObservation
    out: dict[int, str] = {}
    for site_id, status in session.execute(select(s.site_id, s.status).where(s.site_id.in_(ids))
                                           .order_by(s.site_id, s.last_seen.desc(), s.id.desc())):
        out.setdefault(site_id, str(status))
    return out


def _cluster(session: Session, ids: list[int]) -> dict[int, str]:
    m = ClusterMember
    out: dict[int, str] = {}
    for site_id, key in session.execute(
            select(m.site_id, Cluster.key).join(Cluster, Cluster.id == m.cluster_id)
            .where(m.site_id.in_(ids), m.last_seen >= Cluster.updated_at, Cluster.dissolved_at.is_(None))
            .order_by(m.site_id, m.last_seen.desc(), m.strength.desc(), m.id.desc())):
        out.setdefault(site_id, key)
    return out
