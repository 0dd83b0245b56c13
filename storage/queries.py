"""Read-side queries shared by the CLI's commands. Every filter is a bound parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.chunks import chunks
from storage.filters import SiteFilter, latest_classification_id
from storage.models import Classification, Page, Site, SiteStatusObservation


@dataclass(frozen=True)
class SiteVerdict:
    domain: str
    is_piracy: bool
    category: str
    score: float
    signals: list[str]
    classified_at: object


def latest_verdicts(session: Session, run_id: int | None = None, piracy_only: bool = False,
                    limit: int | None = None) -> list[SiteVerdict]:
    """Each site's latest classification (sites of one run, or all), highest score first."""
    latest = select(func.max(Classification.id)).group_by(Classification.site_id)
    if run_id is not None:
        in_run = select(Page.site_id).where(Page.run_id == run_id).distinct()
        latest = latest.where(Classification.site_id.in_(in_run))
    query = (select(Site.domain, Classification.is_piracy, Classification.category, Classification.score,
                    Classification.signals, Classification.classified_at)
             .join(Site, Site.id == Classification.site_id)
             .where(Classification.id.in_(latest))
             .order_by(Classification.score.desc(), Site.domain))
    if piracy_only:
        query = query.where(Classification.is_piracy.is_(True))
    if limit:
        query = query.limit(limit)
    return [SiteVerdict(*row) for row in session.execute(query)]


def list_sites(session: Session, filters: SiteFilter) -> list[dict]:
    """Sites matching ``filters`` with their latest classification and status, highest
    score first (sites never classified last). Two queries whatever the store's size."""
    query = filters.apply(
        select(Site.id, Site.domain, Site.first_seen, Site.last_seen, Classification.is_piracy,
               Classification.category, Classification.score, Classification.signals, Classification.classified_at)
        .outerjoin(Classification, Classification.id == latest_classification_id()))
    query = query.order_by(Classification.score.is_(None), Classification.score.desc(), Site.domain)
    if filters.limit:
        query = query.limit(filters.limit)
    rows = session.execute(query).all()
    statuses: dict[int, str] = {}
    s = SiteStatusObservation
    ids = [r.id for r in rows]
    for chunk in chunks(ids):
        for site_id, status in session.execute(
                select(s.site_id, s.status).where(s.site_id.in_(chunk))
                .order_by(s.site_id, s.last_seen.desc(), s.id.desc())):
            statuses.setdefault(site_id, str(status))
    return [{"domain": r.domain, "is_piracy": r.is_piracy, "category": r.category, "score": r.score,
             "signals": list(r.signals or []), "status": statuses.get(r.id), "first_seen": r.first_seen,
             "last_seen": r.last_seen, "classified_at": r.classified_at} for r in rows]


def site_profiles(session: Session, domains: Sequence[str]) -> list[dict]:
    """Per site: its networks (latest facts) and latest registration, for takedown contacts."""
    from storage.models import (
        DnsObservation,
        DomainRegistration,
        Host,
        IpAddress,
        IpNetwork,
        Network,
    )

    out = []
    for domain in domains:
        site = session.scalar(select(Site).where(Site.domain == domain))
        if site is None:
            continue
        names = [domain, *session.scalars(select(Host.fqdn).where(Host.site_id == site.id))]
        ips = set(session.scalars(select(DnsObservation.value).where(
            DnsObservation.name.in_(names), DnsObservation.rtype.in_(["A", "AAAA"]))))
        nets = session.execute(
            select(Network.asn, Network.name, Network.org, Network.country, Network.abuse_email, Network.cdn,
                   Network.cidr)
            .join(IpNetwork, IpNetwork.network_id == Network.id).join(IpAddress, IpAddress.id == IpNetwork.ip_id)
            .where(IpAddress.address.in_(list(ips))).order_by(Network.last_seen.desc())).all() if ips else []
        seen, networks = set(), []
        for n in nets:
            if n.cidr not in seen:
                seen.add(n.cidr)
                networks.append(dict(n._mapping))
        reg = session.scalars(select(DomainRegistration).where(DomainRegistration.site_id == site.id)
                              .order_by(DomainRegistration.last_seen.desc()).limit(1)).first()
        out.append({"domain": domain, "ips": sorted(ips), "networks": networks,
                    "registrar": reg.registrar if reg else None, "registrar_abuse": reg.abuse_email if reg else None,
                    "created": reg.created if reg else None, "source": reg.source if reg else None})
    return out
