"""The identifiers around a few sites, gathered with targeted queries (for ``isop network``).

:func:`storage.clusters.identifiers` reads every identifier in the store, which is right
for recomputing all clusters after a crawl but far too slow for one analyst's question on a
store of 100,000 sites. :func:`identifiers_around` returns the same ``(type, value) ->
site ids`` map restricted to the identifiers that touch ``site_ids`` (each with *all* the
sites it was seen on, so weights are exact), using indexed lookups only:

- indicators sighted on the sites;
- certificates presented by the sites' hosts or naming their domains in their SANs (a
  substring search of the SAN lists, the one table scan here, so ``isop network`` does it
  for the site asked about only), with every site presenting them or named in them;
- A/AAAA addresses of the sites' names that are neither reserved nor in a CDN network,
  with every name that resolved to them (an address with more than
  :data:`MAX_NAMES_PER_ADDRESS` names is shared hosting and skipped: it could not link);
- the latest nameserver set of the sites (DNS NS answer of the apex, latest registration),
  with every site whose DNS answer or registration holds the same set (sites known only by
  their registration's nameservers are found from their own side).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from storage.cdn import cdn_edges
from storage.chunks import chunks
from storage.models import (
    Certificate,
    DnsObservation,
    DomainRegistration,
    Host,
    HostCertificate,
    Indicator,
    IndicatorSighting,
    IpAddress,
    IpNetwork,
    Network,
    Site,
)
from storage.names import HostNameError, parse_host

MAX_NAMES_PER_ADDRESS = 200
"""An address more names resolved to than this is shared hosting (it cannot link sites)."""

MAX_NS_CANDIDATES = 200
"""Sites checked for one nameserver set; more means it is shared by too many to link."""

Identifiers = dict[tuple[str, str], set[int]]


def _sites_of_names(session: Session, names: Collection[str]) -> dict[str, int]:
    """Host or domain name -> site id, for the names the store knows (wildcards folded)."""
    clean = {n: n.strip().rstrip(".").lower().removeprefix("*.") for n in names if isinstance(n, str)}
    wanted = set(clean.values())
    domains: dict[str, str] = {}
    for name in wanted:
        try:
            domains[name] = parse_host(name).domain
        except HostNameError:
            continue
    by_host: dict[str, int] = {}
    by_domain: dict[str, int] = {}
    for chunk in chunks(wanted):
        by_host.update(session.execute(select(Host.fqdn, Host.site_id).where(Host.fqdn.in_(chunk))).all())
    for chunk in chunks(set(domains.values())):
        by_domain.update(session.execute(select(Site.domain, Site.id).where(Site.domain.in_(chunk))).all())
    out = {}
    for raw, name in clean.items():
        site = by_host.get(name) or by_domain.get(domains.get(name, ""))
        if site is not None:
            out[raw] = site
    return out


def _indicators(session: Session, ids: list[int], weights: Collection[str], max_sites: int) -> Identifiers:
    touching = select(IndicatorSighting.indicator_id).where(IndicatorSighting.site_id.in_(ids)).distinct()
    linking = (select(IndicatorSighting.indicator_id).where(IndicatorSighting.indicator_id.in_(touching))
               .group_by(IndicatorSighting.indicator_id)
               .having(func.count(func.distinct(IndicatorSighting.site_id)).between(2, max_sites)))
    out: Identifiers = defaultdict(set)
    for kind, value, site_id in session.execute(
            select(Indicator.type, Indicator.value, IndicatorSighting.site_id)
            .join(IndicatorSighting, IndicatorSighting.indicator_id == Indicator.id)
            .where(Indicator.id.in_(linking), Indicator.type.in_(list(weights)))):
        out[(kind, value)].add(site_id)
    return out


def _certificates(session: Session, ids: list[int], san_search: bool) -> Identifiers:
    presented = set(session.scalars(select(HostCertificate.certificate_id).join(Host, Host.id == HostCertificate.host_id)
                                    .where(Host.site_id.in_(ids))))
    # Certificates naming the sites (a JSON string ending in the domain: "x.com", "*.x.com").
    sans_text = cast(Certificate.sans, Text)
    naming = [] if not san_search else [cond for domain in session.scalars(select(Site.domain).where(Site.id.in_(ids)))
              for cond in (sans_text.contains(f'"{domain}"', autoescape=True),
                           sans_text.contains(f'.{domain}"', autoescape=True))]
    for start in range(0, len(naming), 200):
        presented.update(session.scalars(select(Certificate.id).where(or_(*naming[start:start + 200]))))
    presented = sorted(presented)
    out: Identifiers = defaultdict(set)
    for sha, site_id in session.execute(
            select(Certificate.sha256, Host.site_id)
            .join(HostCertificate, HostCertificate.certificate_id == Certificate.id)
            .join(Host, Host.id == HostCertificate.host_id).where(Certificate.id.in_(presented))):
        out[("cert", sha)].add(site_id)
    sans = session.execute(select(Certificate.sha256, Certificate.sans).where(Certificate.id.in_(presented))).all()
    names = {n for _sha, listed in sans for n in (listed or ()) if isinstance(n, str)}
    sites = _sites_of_names(session, names)
    for sha, listed in sans:
        for name in listed or ():
            if isinstance(name, str) and name in sites:
                out[("cert", sha)].add(sites[name])
    return out


def _site_names(session: Session, ids: list[int]) -> set[str]:
    names = set(session.scalars(select(Site.domain).where(Site.id.in_(ids))))
    names.update(session.scalars(select(Host.fqdn).where(Host.site_id.in_(ids))))
    return names


def _addresses(session: Session, ids: list[int]) -> Identifiers:
    names = _site_names(session, ids)
    d = DnsObservation
    ips: set[str] = set()
    for chunk in chunks(names):
        ips.update(session.scalars(select(d.value).where(d.name.in_(chunk), d.rtype.in_(("A", "AAAA")))))
    if not ips:
        return {}
    excluded: set[str] = set()
    for chunk in chunks(ips):
        excluded.update(session.scalars(select(IpAddress.address).where(
            IpAddress.address.in_(chunk), IpAddress.reserved.is_not(None))))
        excluded.update(session.scalars(
            select(IpAddress.address).join(IpNetwork, IpNetwork.ip_id == IpAddress.id)
            .join(Network, Network.id == IpNetwork.network_id)
            .where(IpAddress.address.in_(chunk), Network.cdn.is_not(None))))
    dedicated = sorted(ips - excluded - cdn_edges(ips))
    rows: list[tuple[str, str]] = []
    for chunk in chunks(dedicated):
        few = (select(d.value).where(d.value.in_(chunk), d.rtype.in_(("A", "AAAA"))).group_by(d.value)
               .having(func.count() <= MAX_NAMES_PER_ADDRESS))
        rows += session.execute(select(d.name, d.value).where(d.value.in_(few), d.rtype.in_(("A", "AAAA")))).all()
    sites = _sites_of_names(session, {name for name, _ip in rows})
    out: Identifiers = defaultdict(set)
    for name, ip in rows:
        if name in sites:
            out[("ip", ip.strip().lower())].add(sites[name])
    return out


def ns_value(names: Iterable[str]) -> str | None:
    """A nameserver set as one identifier value: ``ns1.x.net,ns2.x.net``."""
    clean = sorted({n.strip().rstrip(".").lower() for n in names if isinstance(n, str) and n.strip()})
    return ",".join(clean)[:1000] if clean else None


def _latest_ns_sets(session: Session, site_ids: Collection[int]) -> dict[int, set[str]]:
    """Site id -> its nameserver set values (latest DNS NS answer of the apex, latest registration)."""
    out: dict[int, set[str]] = defaultdict(set)
    domains = dict(session.execute(select(Site.domain, Site.id).where(Site.id.in_(list(site_ids)))).all())
    latest: dict[str, tuple[datetime, list[str]]] = {}
    for name, value, seen in session.execute(
            select(DnsObservation.name, DnsObservation.value, DnsObservation.last_seen)
            .where(DnsObservation.rtype == "NS", DnsObservation.name.in_(list(domains)))):
        if name not in latest or seen > latest[name][0]:
            latest[name] = (seen, [value])
        elif seen == latest[name][0]:
            latest[name][1].append(value)
    for name, (_seen, values) in latest.items():
        if (v := ns_value(values)) is not None:
            out[domains[name]].add(v)
    newest: dict[int, tuple[datetime, list]] = {}
    r = DomainRegistration
    for site_id, nameservers, seen in session.execute(
            select(r.site_id, r.nameservers, r.last_seen).where(r.site_id.in_(list(site_ids)))):
        if site_id not in newest or seen > newest[site_id][0]:
            newest[site_id] = (seen, list(nameservers or ()))
    for site_id, (_seen, nameservers) in newest.items():
        if (v := ns_value(nameservers)) is not None:
            out[site_id].add(v)
    return out


def _nameservers(session: Session, ids: list[int]) -> Identifiers:
    own = _latest_ns_sets(session, ids)
    wanted = {v for values in own.values() for v in values}
    out: Identifiers = defaultdict(set)
    for value in wanted:
        servers = value.split(",")
        d = DnsObservation
        candidates = list(session.scalars(
            select(d.name).where(d.rtype == "NS", d.value.in_(servers)).group_by(d.name)
            .having(func.count(func.distinct(d.value)) >= len(servers)).limit(MAX_NS_CANDIDATES)))
        if len(candidates) >= MAX_NS_CANDIDATES:
            continue
        candidate_ids = set(session.scalars(select(Site.id).where(Site.domain.in_(candidates))))
        candidate_ids.update(i for i, values in own.items() if value in values)
        for site_id, values in _latest_ns_sets(session, candidate_ids).items():
            if value in values:
                out[("nameservers", value)].add(site_id)
    return out


def identifiers_around(session: Session, site_ids: Collection[int], weights: Collection[str],
                       max_sites: int, san_search: bool = True) -> Identifiers:
    """Identifiers ``(type, value)`` touching ``site_ids`` -> every site id they were seen on.

    ``weights``: the indicator types that can link; ``max_sites``: indicators seen on more
    sites are left out (they could not link); ``san_search``: also scan the certificates'
    SAN lists for the sites' domains (the one query here that reads a whole table).
    """
    ids = sorted(set(site_ids))
    out: Identifiers = {}
    if not ids:
        return out
    for part in (_indicators(session, ids, weights, max_sites), _certificates(session, ids, san_search),
                 _addresses(session, ids), _nameservers(session, ids)):
        for key, sites in part.items():
            out.setdefault(key, set()).update(sites)
    return out
