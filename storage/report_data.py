"""The figures of the analysts' HTML report (:mod:`collector.writers.html_report`), in one call.

    with session_factory(engine)() as s:
        data = report_data(s, since=week_ago, top=20)

Aggregate queries only, a fixed number of them however many sites the store holds (plus one
per 5,000 AS numbers); every filter is a bound parameter; SQLite and PostgreSQL alike.

Definitions:

- a site is *flagged* when its latest classification (highest id) says piracy;
- ``since`` narrows the report to sites last seen at or after it (and pages fetched, runs
  started, indicators and hosts last seen since then); the operator networks are the
  stored clusters as they are now, whatever ``since``;
- hosting: a flagged site's addresses are the latest A/AAAA answers (per name and type, the
  values with the latest ``last_seen``) for its domain and its hosts; each address is in the
  network it was last seen in (as in the JSON export). A site counts once per country and
  once per provider (AS number and organisation), however many addresses it has there; a
  flagged site with no known network counts under ``None`` (unknown);
- registrar: the latest registration record (by ``last_seen``) of each flagged site;
  ``None`` for a site with none (or none naming a registrar);
- operator networks: stored clusters with two or more current members (members whose
  ``last_seen`` is at or after the cluster's ``updated_at``, as :mod:`storage.clusters`
  keeps them), with the identifier types their members share, strongest first;
- newest finds: each flagged site's ``delivery`` and its top ``reasons`` (the verdict's plain
  sentences, strongest first; its ``signals`` for a verdict stored before reasons existed).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, union_all
from sqlalchemy.orm import Session

from storage.chunks import chunks
from storage.models import (
    Asn,
    Classification,
    Cluster,
    ClusterMember,
    CrawlRun,
    DnsObservation,
    DomainRegistration,
    Host,
    Indicator,
    IpAddress,
    IpNetwork,
    Network,
    Page,
    RunKind,
    Site,
)

CRAWL_KINDS = (RunKind.DISCOVERY, RunKind.TARGETED, RunKind.RECHECK)
TOP_SIGNALS = 3
TOP_IDENTIFIER_TYPES = 5
def _ranked(counts: Counter, top: int) -> tuple[list[tuple[Any, int]], int]:
    """The ``top`` largest counts (ties by key; unknown last), and how many were left off."""
    ordered = sorted(counts.items(), key=lambda kv: (kv[0] is None, -kv[1], str(kv[0])))
    return ordered[:top], max(0, len(ordered) - top)


def report_data(session: Session, *, since: datetime | None = None, top: int = 20) -> dict[str, Any]:
    """Everything the report shows; see the module's docstring for the definitions.

    Returns ``{"since", "period": {"from", "to"}, "summary": {...}, "categories": [...],
    "countries": [...], "providers": [...], "registrars": [...], "more": {...},
    "networks": [...], "newest": [...]}``: each breakdown a list of dicts with ``"sites"``
    (a count), largest first, at most ``top`` long (``more`` counts the groups left off).
    """
    top = max(1, int(top))
    in_scope = Site.last_seen >= since if since is not None else None

    def scoped(query, *conditions):
        conditions = [c for c in conditions if c is not None]
        return query.where(*conditions) if conditions else query

    latest = (select(Classification.site_id, func.max(Classification.id).label("id"))
              .group_by(Classification.site_id).subquery("latest_class"))
    flagged_ids = scoped(select(Site.id).join(latest, latest.c.site_id == Site.id)
                         .join(Classification, Classification.id == latest.c.id)
                         .where(Classification.is_piracy.is_(True)), in_scope)

    # 1. The summary figures, one query.
    def count(model, *conditions):
        return scoped(select(func.count()).select_from(model), *conditions).scalar_subquery()

    row = session.execute(select(
        count(Site, in_scope).label("sites"),
        count(Site, Site.first_seen >= since if since is not None else None).label("new_sites"),
        scoped(select(func.count()).select_from(Site).join(latest, latest.c.site_id == Site.id),
               in_scope).scalar_subquery().label("classified"),
        select(func.count()).select_from(flagged_ids.subquery()).scalar_subquery().label("flagged"),
        count(Page, Page.fetched_at >= since if since is not None else None).label("pages"),
        count(CrawlRun, CrawlRun.kind.in_(CRAWL_KINDS),
              CrawlRun.started_at >= since if since is not None else None).label("crawl_runs"),
        count(CrawlRun, CrawlRun.kind == RunKind.ENRICH,
              CrawlRun.started_at >= since if since is not None else None).label("enrich_runs"),
        count(Indicator, Indicator.last_seen >= since if since is not None else None).label("indicators"),
        count(Host, Host.last_seen >= since if since is not None else None).label("hosts"),
        scoped(select(func.min(Site.first_seen)), in_scope).scalar_subquery().label("first_seen"),
        scoped(select(func.max(Site.last_seen)), in_scope).scalar_subquery().label("last_seen"),
    )).one()
    summary = {k: row._mapping[k] for k in ("sites", "new_sites", "classified", "flagged", "pages", "crawl_runs",
                                            "enrich_runs", "indicators", "hosts")}

    # 2. Flagged sites per category.
    categories = session.execute(
        scoped(select(Classification.category, func.count()).select_from(Site)
               .join(latest, latest.c.site_id == Site.id).join(Classification, Classification.id == latest.c.id)
               .where(Classification.is_piracy.is_(True)), in_scope)
        .group_by(Classification.category)).all()
    category_rows = sorted(({"category": c, "sites": n} for c, n in categories),
                           key=lambda r: (-r["sites"], str(r["category"])))

    # 3. Hosting of flagged sites (countries, providers), two queries and the AS names.
    countries, providers, provider_facts = _hosting(session, flagged_ids, summary["flagged"])

    # 4. Registrars of flagged sites.
    registrars = _registrars(session, flagged_ids, summary["flagged"])

    # 5. Operator networks.
    networks = _networks(session, latest, top)
    cluster_of = {m["domain"]: n["key"] for n in networks for m in n["members"]}
    summary["networks"] = len(networks)

    # 6. The newest finds.
    newest = [{"domain": r.domain, "category": r.category, "delivery": [str(d) for d in (r.delivery or [])],
               "score": r.score,
               "reasons": [str(s) for s in (r.reasons or r.signals or [])[:TOP_SIGNALS]],
               "signals": [str(s) for s in (r.signals or [])[:TOP_SIGNALS]], "first_seen": r.first_seen,
               "last_seen": r.last_seen, "cluster": cluster_of.get(r.domain)}
              for r in session.execute(
                  scoped(select(Site.domain, Site.first_seen, Site.last_seen, Classification.category,
                                Classification.delivery, Classification.score, Classification.reasons,
                                Classification.signals)
                         .join(latest, latest.c.site_id == Site.id)
                         .join(Classification, Classification.id == latest.c.id)
                         .where(Classification.is_piracy.is_(True)), in_scope)
                  .order_by(Site.first_seen.desc(), Site.domain).limit(top))]

    country_rows, more_countries = _ranked(countries, top)
    provider_rows, more_providers = _ranked(providers, top)
    registrar_rows, more_registrars = _ranked(registrars, top)
    return {
        "since": since,
        "period": {"from": row.first_seen, "to": row.last_seen},
        "summary": summary,
        "categories": category_rows,
        "countries": [{"country": c, "sites": n} for c, n in country_rows],
        "providers": [{**(provider_facts.get(p) or {"asn": None, "org": None, "as_name": None, "cdn": None}),
                       "sites": n} for p, n in provider_rows],
        "registrars": [{"registrar": r, "sites": n} for r, n in registrar_rows],
        "more": {"countries": more_countries, "providers": more_providers, "registrars": more_registrars},
        "networks": networks[:top],
        "newest": newest,
    }


def _hosting(session: Session, flagged_ids, flagged: int) -> tuple[Counter, Counter, dict]:
    """Per country and per provider, the number of flagged sites hosted there."""
    names = union_all(
        select(Host.site_id.label("site_id"), Host.fqdn.label("name")).where(Host.site_id.in_(flagged_ids)),
        select(Site.id.label("site_id"), Site.domain.label("name")).where(Site.id.in_(flagged_ids)),
    ).subquery("names")
    answered = (select(DnsObservation.name, DnsObservation.rtype, func.max(DnsObservation.last_seen).label("seen"))
                .where(DnsObservation.rtype.in_(["A", "AAAA"]), DnsObservation.name.in_(select(names.c.name)))
                .group_by(DnsObservation.name, DnsObservation.rtype).subquery("answered"))
    query = (select(names.c.site_id, DnsObservation.value, Network.id.label("network_id"), Network.asn,
                    Network.org, Network.name.label("net_name"), Network.country, Network.cdn,
                    Network.last_seen.label("net_seen"), IpNetwork.last_seen.label("link_seen"))
             .select_from(names)
             .join(DnsObservation, DnsObservation.name == names.c.name)
             .join(answered, and_(answered.c.name == DnsObservation.name, answered.c.rtype == DnsObservation.rtype,
                                  answered.c.seen == DnsObservation.last_seen))
             .outerjoin(IpAddress, IpAddress.address == DnsObservation.value)
             .outerjoin(IpNetwork, IpNetwork.ip_id == IpAddress.id)
             .outerjoin(Network, Network.id == IpNetwork.network_id))
    site_ips: dict[int, set[str]] = defaultdict(set)
    best: dict[str, tuple[tuple, Any]] = {}
    for r in session.execute(query):
        site_ips[r.site_id].add(r.value)
        if r.network_id is None:
            continue
        rank = (r.net_seen, r.link_seen, r.network_id)
        if r.value not in best or rank > best[r.value][0]:
            best[r.value] = (rank, r)
    as_names = _as_names(session, sorted({r.asn for _rank, r in best.values() if r.asn is not None}))

    countries: Counter = Counter()
    providers: Counter = Counter()
    facts: dict[tuple, dict] = {}
    hosted = 0
    for _site, ips in site_ips.items():
        nets = [best[ip][1] for ip in ips if ip in best]
        if not nets:
            continue
        hosted += 1
        site_countries = {n.country for n in nets}
        site_providers = set()
        for n in nets:
            key = (n.asn, n.org or n.net_name or as_names.get(n.asn))
            site_providers.add(key)
            facts.setdefault(key, {"asn": n.asn, "org": key[1], "as_name": as_names.get(n.asn), "cdn": n.cdn})
        countries.update(site_countries)
        providers.update(site_providers)
    unknown = flagged - hosted
    if unknown > 0:
        countries[None] += unknown
        providers[None] += unknown
    return countries, providers, facts


def _as_names(session: Session, numbers: Sequence[int]) -> dict[int, str | None]:
    names: dict[int, str | None] = {}
    for chunk in chunks(numbers):
        for number, name in session.execute(select(Asn.number, Asn.name).where(Asn.number.in_(chunk))
                                            .order_by(Asn.number, Asn.last_seen.desc(), Asn.id.desc())):
            names.setdefault(number, name)
    return names


def _registrars(session: Session, flagged_ids, flagged: int) -> Counter:
    r = DomainRegistration
    latest: dict[int, str | None] = {}
    for site_id, registrar in session.execute(
            select(r.site_id, r.registrar).where(r.site_id.in_(flagged_ids))
            .order_by(r.site_id, r.last_seen.desc(), r.id.desc())):
        latest.setdefault(site_id, registrar.strip() if registrar and registrar.strip() else None)
    counts = Counter(latest.values())
    if flagged - len(latest) > 0:
        counts[None] += flagged - len(latest)
    return counts


def _networks(session: Session, latest, top: int) -> list[dict[str, Any]]:
    """Stored clusters with two or more current members, largest first (the shared
    identifiers are gathered for the first ``top``)."""
    rows = session.execute(
        select(Cluster.key, Cluster.label, Cluster.updated_at, Site.id, Site.domain, ClusterMember.strength,
               Classification.is_piracy, Classification.category, Classification.score)
        .join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
        .join(Site, Site.id == ClusterMember.site_id)
        .outerjoin(latest, latest.c.site_id == Site.id)
        .outerjoin(Classification, Classification.id == latest.c.id)
        .where(ClusterMember.last_seen >= Cluster.updated_at, Cluster.dissolved_at.is_(None))
        .order_by(Cluster.key, Site.domain)).all()
    clusters: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = clusters.setdefault(r.key, {"key": r.key, "label": r.label, "updated_at": r.updated_at, "members": [],
                                        "identifiers": []})
        c["members"].append({"id": r.id, "domain": r.domain, "strength": r.strength, "is_piracy": r.is_piracy,
                             "category": r.category, "score": r.score})
    networks = [c for c in clusters.values() if len(c["members"]) >= 2]
    networks.sort(key=lambda c: (-len(c["members"]), c["key"]))
    _shared_identifiers(session, networks[:top])
    for n in networks:
        for m in n["members"]:
            m.pop("id")
    return networks


def _shared_identifiers(session: Session, networks: Iterable[dict[str, Any]]) -> None:
    """Fill each network's ``identifiers``: per type shared inside it, the strongest weight
    and the number of distinct values, strongest first. The identifiers are gathered
    around each network's members (not over the whole store)."""
    from storage.clusters import INDICATOR_WEIGHTS, MAX_SITES_PER_IDENTIFIER, links_from
    from storage.neighbourhood import identifiers_around

    networks = list(networks)
    per: dict[str, dict[str, tuple[float, set[str]]]] = defaultdict(dict)
    for n in networks:
        domains = {m["id"]: m["domain"] for m in n["members"]}
        found = identifiers_around(session, domains, INDICATOR_WEIGHTS, MAX_SITES_PER_IDENTIFIER, san_search=False)
        key = n["key"]
        for link in links_from(found, domains):
            for ident in link.identifiers:
                weight, values = per[key].get(ident.type, (0.0, set()))
                values.add(ident.value)
                per[key][ident.type] = (max(weight, ident.weight), values)
    for n in networks:
        types = sorted(per[n["key"]].items(), key=lambda kv: (-kv[1][0], kv[0]))
        n["identifiers"] = [{"type": t, "weight": round(w, 4), "values": len(v)}
                            for t, (w, v) in types[:TOP_IDENTIFIER_TYPES]]
