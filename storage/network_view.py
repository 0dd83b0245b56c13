"""The operator network of one site in the store, as ``isop network`` shows it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.cluster_rules import ClustersConfig
from storage.clusters import network_of
from storage.filters import SiteFilter
from storage.models import Site
from storage.queries import list_sites


def known_network(session: Session, domain: str, rules: ClustersConfig) -> dict | None:
    """:func:`storage.clusters.network_of` ``domain`` under ``rules``, or None when the
    store holds no site ``domain``."""
    if session.scalar(select(Site.id).where(Site.domain == domain)) is None:
        return None
    return network_of(session, domain, rules=rules)


def network_site_facts(session: Session, net: dict) -> dict:
    """The latest category, score and status of each site of ``net`` (for the HTML picture):
    ``{"sites": {domain: {"category": ..., "score": ..., "status": ...}}}``."""
    rows = list_sites(session, SiteFilter(domains=tuple(net["sites"])))
    return {"sites": {r["domain"]: {"category": r["category"], "score": r["score"], "status": r["status"]}
                      for r in rows}}
