"""Operator networks ("follow the money"): sites tied together by shared identifiers.

Two sites are *linked* when they share an identifier that few unrelated sites would share:

* indicators found on their pages (:data:`INDICATOR_WEIGHTS`: analytics and ad-publisher
  ids, wallets, contacts, favicon hashes; never ``video_host`` or ``ad_network``, which
  unrelated sites share by the thousand);
* a certificate (by SHA-256) presented by hosts of both sites or naming both in its SANs;
* their nameserver set (the latest NS answer for the apex, the latest registration's
  nameservers), as one identifier: ``ns1.x.net,ns2.x.net``;
* a dedicated IP address (A/AAAA records of their hosts), never one announced from a
  network marked as a CDN (``Network.cdn``), nor one inside a CDN's published range
  (``storage.cdn``, whether or not its network was looked up), nor a reserved one.

Shared infrastructure must not merge networks: an identifier seen on more than
:data:`MAX_SITES_PER_IDENTIFIER` distinct sites is dropped as too common, and the weight of
the others decreases with the number ``n`` of sites sharing them::

    weight = base(type, n) / (1 + DECAY * log2(n - 1))      # n = 2: the full base weight

so a wallet shared by 2 sites weighs 1.0, by 10 sites 0.68, by 25 sites 0.59. The base
weights (:data:`INDICATOR_WEIGHTS`, :data:`CERT_WEIGHT`, :data:`IP_WEIGHT`,
:data:`NAMESERVER_WEIGHT`) are chosen so that one specific identifier (a wallet, an
analytics id, an e-mail, a Telegram handle, a certificate) links two sites on its own at
the default threshold (0.6), while weak ones (a dedicated IP, a nameserver set) only add to
other evidence.

A :class:`Link`'s ``strength`` is the sum of its identifiers' weights **capped at 1.0**;
the uncapped sum is kept as ``raw``. Clusters are the connected components of the links
with ``strength >= threshold`` (union-find); only components of two or more sites count.

Stored clusters (:class:`~storage.models.Cluster`, :class:`~storage.models.ClusterMember`)
keep stable keys: a recomputed cluster takes the key of the stored cluster whose current
members it overlaps most (Jaccard), a new one gets ``op-`` + a short hash of its earliest
member. Membership is history: a member's ``last_seen`` moves to the time of each
computation that finds it in the cluster; a cluster's current members are those with
``last_seen >= Cluster.updated_at``; a cluster no computation matches any more keeps its
old ``updated_at`` (dissolved as of then) and may be revived by a later overlap.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.cdn import cdn_of
from storage.models import (
    Certificate,
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
    Site,
)
from storage.names import HostNameError, parse_host
from storage.neighbourhood import identifiers_around, ns_value
from storage.observe import upsert

MAX_SITES_PER_IDENTIFIER = 25
"""An identifier seen on more sites than this is shared infrastructure, not an operator's."""

DEFAULT_THRESHOLD = 0.6
"""Link strength at or above which two sites are put in one cluster."""

DECAY = 0.15
"""How fast an identifier's weight falls with the number of sites sharing it."""

INDICATOR_WEIGHTS: Mapping[str, float] = {
    "ga": 1.0, "gtm": 1.0, "adsense": 1.0, "yandex_metrica": 1.0,
    "btc": 1.0, "eth": 1.0, "trx": 1.0, "xmr": 1.0, "paypal": 1.0,
    "email": 1.0, "telegram": 1.0,
    "discord": 0.9, "whatsapp": 0.8,
    "phone": 0.7, "favicon_mmh3": 0.7,
}
"""Base weight per indicator type; types not listed (video_host, ad_network) never link."""

CERT_WEIGHT = 0.9
"""A certificate presented by, or naming, hosts of several sites."""

IP_WEIGHT = 0.5
"""A dedicated (non-CDN, non-reserved) IP address the sites' hosts resolved to."""

NAMESERVER_WEIGHT = 0.3
NAMESERVER_FEW_WEIGHT = 0.5
NAMESERVER_FEW_SITES = 3
"""A nameserver set shared by at most this many sites weighs NAMESERVER_FEW_WEIGHT."""


@dataclass(frozen=True)
class Identifier:
    """One identifier two sites share, with its weight and the number of sites sharing it."""

    type: str
    value: str
    weight: float
    sites: int

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value, "weight": round(self.weight, 4), "sites": self.sites}


@dataclass
class Link:
    """Two sites (``a < b``) and the identifiers they share."""

    a: str
    b: str
    identifiers: list[Identifier] = field(default_factory=list)

    @property
    def raw(self) -> float:
        """The uncapped sum of the identifiers' weights."""
        return sum(i.weight for i in self.identifiers)

    @property
    def strength(self) -> float:
        """The sum of the identifiers' weights, capped at 1.0."""
        return min(1.0, self.raw)

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "strength": round(self.strength, 4), "raw": round(self.raw, 4),
                "identifiers": [i.as_dict() for i in self.identifiers]}


def identifier_weight(kind: str, n: int) -> float:
    """The weight of an identifier of ``kind`` shared by ``n`` sites (0 when it must not link)."""
    if n < 2 or n > MAX_SITES_PER_IDENTIFIER:
        return 0.0
    if kind == "nameservers":
        base = NAMESERVER_FEW_WEIGHT if n <= NAMESERVER_FEW_SITES else NAMESERVER_WEIGHT
    elif kind == "cert":
        base = CERT_WEIGHT
    elif kind == "ip":
        base = IP_WEIGHT
    else:
        base = INDICATOR_WEIGHTS.get(kind, 0.0)
    return base / (1 + DECAY * math.log2(n - 1))


# --- gathering identifiers ----------------------------------------------------------------


def _site_of_name(name: str, host_sites: Mapping[str, int], domain_sites: Mapping[str, int]) -> int | None:
    name = name.strip().rstrip(".").lower()
    if name.startswith("*."):
        name = name[2:]
    if name in host_sites:
        return host_sites[name]
    try:
        return domain_sites.get(parse_host(name).domain)
    except HostNameError:
        return None


def _indicator_identifiers(session: Session) -> dict[tuple[str, str], set[int]]:
    counts = (select(IndicatorSighting.indicator_id)
              .group_by(IndicatorSighting.indicator_id)
              .having(func.count(func.distinct(IndicatorSighting.site_id)).between(2, MAX_SITES_PER_IDENTIFIER))
              .subquery())
    rows = session.execute(
        select(Indicator.type, Indicator.value, IndicatorSighting.site_id)
        .join(IndicatorSighting, IndicatorSighting.indicator_id == Indicator.id)
        .join(counts, counts.c.indicator_id == Indicator.id)
        .where(Indicator.type.in_(list(INDICATOR_WEIGHTS))))
    out: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind, value, site_id in rows:
        out[(kind, value)].add(site_id)
    return out


def _certificate_identifiers(session: Session, host_sites: Mapping[str, int],
                             domain_sites: Mapping[str, int]) -> dict[tuple[str, str], set[int]]:
    out: dict[tuple[str, str], set[int]] = defaultdict(set)
    for sha, site_id in session.execute(
            select(Certificate.sha256, Host.site_id)
            .join(HostCertificate, HostCertificate.certificate_id == Certificate.id)
            .join(Host, Host.id == HostCertificate.host_id)):
        out[("cert", sha)].add(site_id)
    for sha, sans in session.execute(select(Certificate.sha256, Certificate.sans)):
        for name in sans or ():
            if isinstance(name, str):
                sid = _site_of_name(name, host_sites, domain_sites)
                if sid is not None:
                    out[("cert", sha)].add(sid)
    return out


def _ip_identifiers(session: Session, host_sites: Mapping[str, int],
                    domain_sites: Mapping[str, int]) -> dict[tuple[str, str], set[int]]:
    excluded = set(session.scalars(select(IpAddress.address).where(IpAddress.reserved.is_not(None))))
    excluded.update(session.scalars(
        select(IpAddress.address).join(IpNetwork, IpNetwork.ip_id == IpAddress.id)
        .join(Network, Network.id == IpNetwork.network_id).where(Network.cdn.is_not(None))))
    out: dict[tuple[str, str], set[int]] = defaultdict(set)
    for name, value in session.execute(select(DnsObservation.name, DnsObservation.value)
                                       .where(DnsObservation.rtype.in_(["A", "AAAA"]))):
        ip = value.strip().lower()
        if ip in excluded or cdn_of(ip):  # a CDN edge, by its network or by the published ranges
            continue
        sid = _site_of_name(name, host_sites, domain_sites)
        if sid is not None:
            out[("ip", ip)].add(sid)
    return out


def _nameserver_identifiers(session: Session, domain_sites: Mapping[str, int]) -> dict[tuple[str, str], set[int]]:
    out: dict[tuple[str, str], set[int]] = defaultdict(set)
    # DNS: the latest NS answer for each site's apex (all its records share that last_seen).
    latest: dict[str, tuple[datetime, list[str]]] = {}
    for name, value, seen in session.execute(select(DnsObservation.name, DnsObservation.value,
                                                    DnsObservation.last_seen).where(DnsObservation.rtype == "NS")):
        apex = name.strip().rstrip(".").lower()
        if apex not in domain_sites:
            continue
        if apex not in latest or seen > latest[apex][0]:
            latest[apex] = (seen, [value])
        elif seen == latest[apex][0]:
            latest[apex][1].append(value)
    for apex, (_seen, values) in latest.items():
        if (v := ns_value(values)) is not None:
            out[("nameservers", v)].add(domain_sites[apex])
    # Registrations: the latest record of each site.
    newest: dict[int, tuple[datetime, list]] = {}
    for site_id, nameservers, seen in session.execute(
            select(DomainRegistration.site_id, DomainRegistration.nameservers, DomainRegistration.last_seen)):
        if site_id not in newest or seen > newest[site_id][0]:
            newest[site_id] = (seen, list(nameservers or ()))
    for site_id, (_seen, nameservers) in newest.items():
        if (v := ns_value(nameservers)) is not None:
            out[("nameservers", v)].add(site_id)
    return out


def identifiers(session: Session) -> dict[tuple[str, str], set[int]]:
    """Every candidate identifier ``(type, value)`` -> the ids of the sites it was seen on."""
    domain_sites = {d: i for i, d in session.execute(select(Site.id, Site.domain))}
    host_sites = {f: s for f, s in session.execute(select(Host.fqdn, Host.site_id))}
    out: dict[tuple[str, str], set[int]] = {}
    for part in (_indicator_identifiers(session), _certificate_identifiers(session, host_sites, domain_sites),
                 _ip_identifiers(session, host_sites, domain_sites), _nameserver_identifiers(session, domain_sites)):
        for key, sites in part.items():
            out.setdefault(key, set()).update(sites)
    return out


# --- links and clusters -------------------------------------------------------------------


def site_links(session: Session) -> list[Link]:
    """Pairs of sites sharing at least one linking identifier, strongest first."""
    domains = {i: d for i, d in session.execute(select(Site.id, Site.domain))}
    return links_from(identifiers(session), domains)


def links_from(found: Mapping[tuple[str, str], set[int]], domains: Mapping[int, str]) -> list[Link]:
    """The links that identifiers ``(type, value) -> site ids`` make, strongest first."""
    pairs: dict[tuple[str, str], Link] = {}
    for (kind, value), site_ids in sorted(found.items()):
        n = len(site_ids)
        weight = identifier_weight(kind, n)
        if weight <= 0:
            continue
        ident = Identifier(kind, value, weight, n)
        names = sorted(domains[s] for s in site_ids if s in domains)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                pairs.setdefault((a, b), Link(a, b)).identifiers.append(ident)
    links = list(pairs.values())
    for link in links:
        link.identifiers.sort(key=lambda x: (-x.weight, x.type, x.value))
    links.sort(key=lambda lk: (-lk.raw, lk.a, lk.b))
    return links


def _components(links: Iterable[Link], threshold: float) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        if link.strength >= threshold:
            ra, rb = find(link.a), find(link.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        groups[find(x)].append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


def compute_clusters(session: Session, threshold: float = DEFAULT_THRESHOLD,
                     links: Sequence[Link] | None = None) -> list[list[str]]:
    """Operator networks: sorted lists of two or more domains joined by links of
    ``strength >= threshold`` (transitively). ``links``: reuse already computed links."""
    return _components(site_links(session) if links is None else links, threshold)


# --- stored clusters ----------------------------------------------------------------------


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _current_members(session: Session) -> dict[int, tuple[str, datetime, set[int]]]:
    """Stored cluster id -> (key, updated_at, site ids of its current members)."""
    clusters = {cid: (key, updated, set()) for cid, key, updated in
                session.execute(select(Cluster.id, Cluster.key, Cluster.updated_at))}
    for cid, site_id, last_seen in session.execute(
            select(ClusterMember.cluster_id, ClusterMember.site_id, ClusterMember.last_seen)):
        if cid in clusters and last_seen >= clusters[cid][1]:
            clusters[cid][2].add(site_id)
    return clusters


def _new_key(earliest_domain: str, taken: set[str]) -> str:
    for attempt in range(1000):
        seed = earliest_domain if attempt == 0 else f"{earliest_domain}#{attempt}"
        key = "op-" + hashlib.sha256(seed.encode()).hexdigest()[:10]
        if key not in taken:
            return key
    raise RuntimeError("no free cluster key")  # pragma: no cover


def store_clusters(session: Session, clusters: Sequence[Sequence[str]], now: datetime,
                   links: Sequence[Link] | None = None) -> dict[str, str]:
    """Write ``clusters`` (lists of domains) with stable keys; returns domain -> cluster key.

    Each cluster takes the key of the stored cluster its members overlap most (Jaccard
    over current members; greedy, best overlaps first, each stored cluster used once);
    otherwise a new key ``op-<hash of the earliest-seen member>``. Members' ``strength`` is
    their strongest link inside the cluster (from ``links``, computed when not given).
    """
    site_rows = {d: (i, seen) for i, d, seen in session.execute(select(Site.id, Site.domain, Site.first_seen))}
    wanted = [sorted({d for d in c if d in site_rows}) for c in clusters]
    wanted = [c for c in wanted if len(c) >= 2]
    if not wanted:
        return {}
    if links is None:
        links = site_links(session)
    best: dict[str, float] = defaultdict(float)
    index = {d: n for n, c in enumerate(wanted) for d in c}
    for link in links:
        if index.get(link.a) is not None and index.get(link.a) == index.get(link.b):
            best[link.a] = max(best[link.a], link.strength)
            best[link.b] = max(best[link.b], link.strength)

    stored = _current_members(session)
    candidates = []
    for n, c in enumerate(wanted):
        ids = {site_rows[d][0] for d in c}
        for cid, (_key, updated, members) in stored.items():
            if ids & members:
                candidates.append((-_jaccard(ids, members), -updated.timestamp(), cid, n))
    candidates.sort()
    assigned: dict[int, int] = {}
    used: set[int] = set()
    for _j, _u, cid, n in candidates:
        if n not in assigned and cid not in used:
            assigned[n] = cid
            used.add(cid)

    taken = {key for key, _u, _m in stored.values()}
    result: dict[str, str] = {}
    member_rows = []
    for n, c in enumerate(wanted):
        if n in assigned:
            cid = assigned[n]
            key = stored[cid][0]
            session.execute(Cluster.__table__.update().where(Cluster.id == cid).values(updated_at=now))
        else:
            earliest = min(c, key=lambda d: (site_rows[d][1], d))
            key = _new_key(earliest, taken)
            taken.add(key)
            row = Cluster(key=key, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            cid = row.id
        for d in c:
            result[d] = key
            member_rows.append({"cluster_id": cid, "site_id": site_rows[d][0], "strength": float(best[d]),
                                "first_seen": now, "last_seen": now})
    upsert(session, ClusterMember, member_rows, key=["cluster_id", "site_id"], update=["strength"])
    return result


def recompute(session: Session, now: datetime, threshold: float = DEFAULT_THRESHOLD) -> dict[str, str]:
    """Compute the links and clusters afresh and store them; returns domain -> cluster key."""
    links = site_links(session)
    return store_clusters(session, compute_clusters(session, threshold, links), now, links)


MAX_NETWORK_SITES = 500
"""``network_of`` stops growing a network past this many sites (and says so)."""


def network_of(session: Session, domain: str, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """The operator network around ``domain``, computed from the store as it is now.

    Returns ``{"domain", "cluster" (stored key or None), "sites" (sorted), "links",
    "truncated"}``; the links are those among the network's sites (weak ones, below
    ``threshold``, included and flagged ``"joins": False``) plus ``domain``'s own weak links
    to sites outside it, each with its identifiers. A site in no cluster gets ``sites ==
    [domain]``. The network grows outwards from ``domain`` with targeted queries
    (:func:`storage.neighbourhood.identifiers_around`), so the cost follows the network's
    size, not the store's; it is the connected component :func:`compute_clusters` finds,
    except that certificates naming (not presented by) a site are searched for ``domain``
    only, not for the sites the network grows to.
    """
    try:
        domain = parse_host(domain).domain
    except HostNameError:
        domain = domain.strip().lower()
    site_id = session.scalar(select(Site.id).where(Site.domain == domain))
    if site_id is None:
        return {"domain": domain, "cluster": None, "sites": [domain], "links": [], "truncated": False}
    members, frontier = {site_id}, {site_id}
    found: dict[tuple[str, str], set[int]] = {}
    domains: dict[int, str] = {site_id: domain}
    links: list[Link] = []
    truncated = False
    while frontier:
        around = identifiers_around(session, frontier, INDICATOR_WEIGHTS, MAX_SITES_PER_IDENTIFIER,
                                    san_search=frontier == {site_id})
        for key, ids in around.items():
            found.setdefault(key, set()).update(ids)
        unknown = {i for ids in found.values() for i in ids} - set(domains)
        if unknown:
            domains.update(session.execute(select(Site.id, Site.domain).where(Site.id.in_(sorted(unknown)))).all())
        links = links_from(found, domains)
        by_name = {d: i for i, d in domains.items()}
        component = next((c for c in _components(links, threshold) if domain in c), [domain])
        grown = {by_name[d] for d in component} - members
        if len(members) + len(grown) > MAX_NETWORK_SITES:
            truncated = True
            break
        members |= grown
        frontier = grown
    sites = sorted(domains[i] for i in members)
    inside = set(sites)
    shown = [lk for lk in links if (lk.a in inside and lk.b in inside) or domain in (lk.a, lk.b)]
    key = session.scalar(
        select(Cluster.key).join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
        .where(ClusterMember.site_id == site_id, ClusterMember.last_seen >= Cluster.updated_at)
        .order_by(Cluster.updated_at.desc(), Cluster.id.desc()).limit(1))
    return {"domain": domain, "cluster": key, "sites": sites if len(sites) > 1 else [domain], "truncated": truncated,
            "links": [{**lk.as_dict(), "joins": lk.strength >= threshold} for lk in shown]}
