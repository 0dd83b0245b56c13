"""``isop recheck``: is every known piracy site still up, down, redirecting or parked?

The sites: every site whose latest classification flags it as piracy, plus the sites
they hop to (redirect, announced move, numbered successor), followed transitively. For
each, its front page (the scheme and host it was last fetched at; ``https://domain/``
for a site never fetched) is fetched once by a crawl that goes no further: the global
page budget is the number of front pages and the seeds are fetched first, so no link is
followed. The crawl pipeline records each front page's status (active, redirecting to
another site, down with the error) as an observation, and new hops as relations; then a
DNS-only enrichment of the same sites (``stale_after`` 0) records changed IPs and name
servers. ``isop changes`` then shows takedowns taking effect and sites coming back
elsewhere.

The crawl is recorded by :func:`collector.crawl.run_crawl` (which cannot be told a run
kind) and re-labelled ``recheck`` here when it ends; the DNS pass is an ``enrich`` run.
A front page that answers but is a domain-parking page (by its title) is also recorded
``parked``, a moment after the crawl's ``active`` so it is the latest status.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from collector.config import Config

log = logging.getLogger("isop.recheck")

HOP_KINDS = ("redirect", "announced", "numbered")
MAX_HOPS = 10
"""How far hop chains are followed from a flagged site."""

_PARKING_TITLE = re.compile(
    r"domain (?:name )?(?:is |may be )?for sale|buy this domain|this domain (?:is|has been) parked|"
    r"parked (?:free|domain)|domain parking|parkingcrew|sedoparking|is available for purchase|"
    r"hugedomains|dan\.com|afternic|this domain has expired|domain has expired",
    re.IGNORECASE)


def parking_reason(title: str | None) -> str | None:
    """Why a front page looks like a domain-parking page (its title), or None."""
    if title and _PARKING_TITLE.search(title):
        return f"parking page: {title.strip()[:150]}"
    return None


@dataclass
class RecheckResult:
    sites: int = 0
    crawl_run_id: int | None = None
    crawl_outcome: str = "skipped"
    enrich_run_id: int | None = None
    enrich_outcome: str = "skipped"
    parked: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def outcome(self) -> str:
        if self.error or self.crawl_outcome not in ("ok", "skipped") or self.enrich_outcome not in ("ok", "skipped"):
            return "failed"
        return "ok"

    @property
    def run_ids(self) -> list[int]:
        return [i for i in (self.crawl_run_id, self.enrich_run_id) if i is not None]


def recheck_targets(session: Any, hops: bool = True) -> dict[str, str]:
    """{registered domain: front page URL} of every flagged site and (``hops``) the sites
    they hop to, transitively."""
    from sqlalchemy import func, select

    from storage.crawl import front_page_filter
    from storage.models import Classification, Page, Site, SiteRelation

    latest = select(func.max(Classification.id)).group_by(Classification.site_id)
    flagged = set(session.scalars(select(Classification.site_id).where(
        Classification.id.in_(latest), Classification.is_piracy.is_(True))))
    ids = set(flagged)
    frontier = set(flagged)
    for _ in range(MAX_HOPS if hops else 0):
        if not frontier:
            break
        found = set(session.scalars(select(SiteRelation.to_site_id).where(
            SiteRelation.from_site_id.in_(frontier), SiteRelation.kind.in_(HOP_KINDS))))
        frontier = found - ids
        ids |= frontier
    if not ids:
        return {}
    domains = dict(session.execute(select(Site.id, Site.domain).where(Site.id.in_(ids))).all())
    # The latest front-page fetch of each site ("scheme://host/" and nothing after the slash).
    front = (select(Page.site_id, func.max(Page.id).label("page_id"))
             .where(Page.site_id.in_(ids), front_page_filter())
             .group_by(Page.site_id).subquery())
    urls = dict(session.execute(select(front.c.site_id, Page.url).join(Page, Page.id == front.c.page_id)).all())
    return {domain: urls.get(site_id) or f"https://{domain}/" for site_id, domain in sorted(domains.items(),
                                                                                         key=lambda x: x[1])}


def run_recheck(config: Config, job: str | None = None) -> RecheckResult:
    """Re-check every known piracy site's front page, then its DNS; raises LockHeld or
    StoreError. ``job`` names the runs (default ``recheck``)."""
    from collector.crawl import CrawlRequest, run_crawl
    from collector.enrichment import EnrichRequest, run_enrich
    from collector.locks import LockHeld
    from storage.db import session_factory
    from storage.migrate import ensure_store

    name = job or "recheck"
    engine = ensure_store(config.storage.url)
    try:
        with session_factory(engine)() as session:
            targets = recheck_targets(session)
        result = RecheckResult(sites=len(targets))
        if not targets:
            log.info("recheck: no flagged site in the store, nothing to do")
            return result
        with tempfile.TemporaryDirectory(prefix="isop-recheck-") as tmp:
            seeds = Path(tmp) / "front-pages.txt"
            seeds.write_text("# isop recheck: front pages of flagged sites and their successors\n"
                             + "".join(f"{u}\n" for u in targets.values()))
            crawled = run_crawl(config, CrawlRequest(seeds_file=str(seeds), max_pages=len(targets),
                                                     depth=0, job=name, fresh=True, kind="recheck"))
        result.crawl_outcome = crawled.outcome
        result.crawl_run_id = crawled.run_id
        if crawled.outcome == "failed":  # the way out is down: a DNS pass would fail the same way
            result.error = f"front pages not re-checked (run {crawled.run_id}): {crawled.error}"
            return result
        result.statuses, result.parked = _statuses(engine, crawled.run_id)
        try:
            enriched = run_enrich(config, EnrichRequest(domains=list(targets), stale_after=0, only=("dns",)))
            result.enrich_run_id, result.enrich_outcome = enriched.run_id, enriched.outcome
            if enriched.error:
                result.error = f"DNS pass: {enriched.error}"
        except LockHeld as e:
            result.enrich_outcome = "failed"
            result.error = f"front pages re-checked (run {crawled.run_id}) but not DNS: {e}"
        return result
    finally:
        engine.dispose()


def _statuses(engine: Any, run_id: int) -> tuple[dict[str, int], int]:
    """Count the statuses the run's front pages showed; record parking pages as parked."""
    from collections import Counter

    from sqlalchemy import select

    from storage.crawl import _status_of
    from storage.db import session_factory
    from storage.models import Page, SiteStatusObservation
    from storage.names import HostNameError, parse_host
    from storage.observe import upsert

    counts: Counter[str] = Counter()
    parked = []
    with session_factory(engine)() as s, s.begin():
        for page in s.scalars(select(Page).where(Page.run_id == run_id, Page.rendered.is_(False))):
            if urlsplit(page.url).path not in ("", "/"):
                continue
            try:
                requested = parse_host(urlsplit(page.url).hostname or "").domain
            except HostNameError:
                continue
            status = _status_of(page, requested)
            if status is None:
                continue
            if status[0] == "down" and not s.scalar(select(SiteStatusObservation.id).where(
                    SiteStatusObservation.site_id == page.site_id, SiteStatusObservation.status == "down",
                    SiteStatusObservation.last_seen >= page.fetched_at).limit(1)):
                counts["unreachable (once; down when it fails again)"] += 1
                continue
            reason = parking_reason(page.title) if status[0] == "active" else None
            if reason:  # an "active" front page: the page is the requested site's
                at = page.fetched_at + timedelta(milliseconds=1)
                parked.append({"site_id": page.site_id, "status": "parked", "detail": reason[:500],
                               "first_seen": at, "last_seen": at})
            counts["parked" if reason else status[0]] += 1
        upsert(s, SiteStatusObservation, parked, key=["site_id", "status", "detail"])
    return dict(counts), len(parked)
