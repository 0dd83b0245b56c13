"""Writing what a crawl saw: pages, links, indicators, downloads, hops, verdicts.

One call writes one batch in the caller's transaction. Every write is an idempotent
upsert, so a batch written twice (a retry after a crash) changes nothing but times.
The inputs are duck-typed (the spiders' item dataclasses fit), so the store does not
depend on Scrapy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Classification,
    Download,
    Indicator,
    IndicatorSighting,
    Link,
    Page,
    Site,
    SiteRelation,
    SiteStatusObservation,
)
from storage.names import HostNameError, parse_host
from storage.observe import fingerprint, ids_by_key, upsert
from storage.sites import record_hosts

MAX_LINKS_PER_PAGE = 2000
DOWN_AFTER = timedelta(minutes=5)
"""A site is recorded down only when its front page failed on two attempts at least this far
apart (or in two runs in a row) with nothing working in between: one flaky answer is not a
takedown."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
        return parse_host(host).fqdn if host else None
    except (HostNameError, ValueError):
        return None


@dataclass
class CrawlBatch:
    pages: list[Any] = field(default_factory=list)
    downloads: list[Any] = field(default_factory=list)
    relations: list[Any] = field(default_factory=list)
    screenshots: list[Any] = field(default_factory=list)
    indicators: list[Any] = field(default_factory=list)
    """Indicators seen on a site outside its pages' HTML (url, found, seen_at)."""
    verdicts: dict[str, Any] = field(default_factory=dict)
    """Registered domain -> the site's current verdict (is_piracy, category, score, signals, version,
    reasons, delivery)."""
    pages_seen: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return (len(self.pages) + len(self.downloads) + len(self.relations) + len(self.screenshots)
                + len(self.indicators) + len(self.verdicts))


MALFORMED = "malformed response"
"""How a page with a status outside 100-599 begins its error (spiders.site_spider): the site answered."""


def _status_of(page: Any, site_domain: str) -> tuple[str, str] | None:
    """The site status a front-page fetch shows, or None for inner pages."""
    path = urlsplit(page.url).path
    if path not in ("", "/"):
        return None
    if page.status is None and (page.error or "").startswith("RefusedDestination"):
        return None  # never fetched (spiders/destinations.py): says nothing about the site
    if page.status is None and (page.error or "").startswith(MALFORMED):
        return "active", page.error[:200]  # the site answered, if oddly: a fact, not an outage
    if page.status is None or page.status >= 500:
        return "down", (page.error or f"HTTP {page.status}")[:200]
    if 300 <= page.status < 400:  # a 3xx recorded at the response: where it sends visitors
        target = host_of(page.redirects[-1][0]) if page.redirects else None
        if target and parse_host(target).domain != site_domain:
            return "redirecting", parse_host(target).domain
        return None  # within the site (http to https, www): the page it leads to tells
    final_host = host_of(page.final_url)
    if final_host and parse_host(final_host).domain != site_domain:
        return "redirecting", parse_host(final_host).domain
    if page.status >= 400:
        return "down", f"HTTP {page.status}"
    return "active", ""


def front_page_filter():
    """Pages whose URL is a front page ("scheme://host/", nothing after the slash)."""
    return (Page.url.like("%/") & Page.url.not_like("%://%/%_"))


def confirmed_down(session: Session, site_id: int | None, run_id: int | None, at: datetime) -> bool:
    """Whether a front-page failure at ``at`` confirms the site down: an earlier failed
    front-page fetch (another run, or at least :data:`DOWN_AFTER` before) or an earlier
    "down" status, and no page of the site answering since then."""
    if site_id is None:
        return False
    failed = ((Page.status.is_(None) & ~func.coalesce(Page.error, "").like(f"{MALFORMED}%"))
              | (Page.status >= 400))
    earlier = session.scalar(select(func.max(Page.fetched_at)).where(
        Page.site_id == site_id, front_page_filter(), failed, Page.fetched_at < at,
        or_(Page.run_id != run_id, Page.fetched_at <= at - DOWN_AFTER)))
    was_down = session.scalar(select(func.max(SiteStatusObservation.last_seen)).where(
        SiteStatusObservation.site_id == site_id, SiteStatusObservation.status == "down",
        SiteStatusObservation.last_seen < at))
    earlier = max((t for t in (earlier, was_down) if t is not None), default=None)
    if earlier is None:
        return False
    answered = session.scalar(select(func.max(Page.fetched_at)).where(
        Page.site_id == site_id, (Page.status < 400) | func.coalesce(Page.error, "").like(f"{MALFORMED}%"),
        Page.fetched_at < at))
    return answered is None or answered < earlier


def write_batch(session: Session, run_id: int | None, batch: CrawlBatch, seen_at: datetime) -> dict[str, int]:
    """Write ``batch``; returns counts of what it held."""
    hosts: set[str] = set()
    for page in batch.pages:
        hosts.update(h for h in (host_of(page.url), host_of(page.final_url)) if h)
    for d in batch.downloads:
        hosts.update(h for h in (host_of(d.url), host_of(d.found_on)) if h)
    for r in batch.relations:
        hosts.update((r.from_host, r.to_host))
    hosts.update(h for h in (host_of(i.url) for i in batch.indicators) if h)
    hosts.update(batch.verdicts)
    ids = record_hosts(session, hosts, seen_at, run_id)

    def site_id(host: str | None) -> int | None:
        return ids[host][0] if host in ids else None

    def host_id(host: str | None) -> int | None:
        return ids[host][1] if host in ids else None

    # Pages: the content belongs to the site that served it (the final URL's).
    rows = []
    statuses = []
    for page in batch.pages:
        served_by = host_of(page.final_url) or host_of(page.url)
        if served_by is None or run_id is None:
            continue
        warc = page.warc
        rows.append({
            "run_id": run_id, "site_id": site_id(served_by), "host_id": host_id(served_by),
            "url": page.url, "url_sha256": sha256_text(page.url), "final_url": page.final_url,
            "status": page.status, "error": page.error, "fetched_at": page.fetched_at, "depth": page.depth,
            "content_type": page.content_type, "content_length": page.content_length,
            "content_sha256": page.content_sha256, "title": page.title, "language": page.language,
            "rendered": page.rendered, "redirects": [list(r) for r in page.redirects],
            "truncated": bool(getattr(page, "truncated", False)),
            "warc_file": getattr(warc, "file", None), "warc_record_id": getattr(warc, "record_id", None),
            "warc_offset": getattr(warc, "offset", None), "warc_length": getattr(warc, "length", None),
            "signals": [[g.name, g.category, g.weight, g.detail] for g in page.signals]
            if getattr(page, "analysed", False) else None,
        })
        requested = host_of(page.url)
        if requested:
            status = _status_of(page, parse_host(requested).domain)
            if status:
                statuses.append({"site_id": site_id(requested), "status": status[0], "detail": status[1],
                                 "first_seen": page.fetched_at, "last_seen": page.fetched_at})
    upsert(session, Page, rows, key=["run_id", "url_sha256", "rendered"])
    page_ids = ids_by_key(session, Page, ["run_id", "url_sha256", "rendered"],
                          [(run_id, r["url_sha256"], r["rendered"]) for r in rows])
    statuses = [s for s in statuses if s["status"] != "down" or confirmed_down(session, s["site_id"], run_id,
                                                                                s["last_seen"])]
    upsert(session, SiteStatusObservation, statuses, key=["site_id", "status", "detail"])

    # Links and indicator sightings hang from the page rows.
    link_rows = []
    sightings: list[tuple[Any, int | None, int | None, datetime]] = [
        (found, site_id(host_of(i.url)), None, i.seen_at) for i in batch.indicators for found in i.found]
    for page in batch.pages:
        pid = page_ids.get((run_id, sha256_text(page.url), page.rendered))
        if pid is None:
            continue
        for link in page.links[:MAX_LINKS_PER_PAGE]:
            link_rows.append({"page_id": pid, "url": link.url, "url_sha256": sha256_text(link.url),
                              "target_host": host_of(link.url), "kind": link.kind,
                              "text": (link.text or "")[:500] or None})
        sid = site_id(host_of(page.final_url) or host_of(page.url))
        for found in page.indicators:
            sightings.append((found, sid, pid, page.fetched_at))
    upsert(session, Link, link_rows, key=["page_id", "url_sha256", "kind"])
    _write_indicators(session, sightings)

    # Downloads: metadata only.
    upsert(session, Download, [{
        "site_id": site_id(host_of(d.found_on) or host_of(d.url)), "url": d.url, "url_sha256": sha256_text(d.url),
        "content_type": d.content_type, "size": d.size, "sha256": d.sha256, "found_on": d.found_on,
        "truncated": bool(getattr(d, "truncated", False)),
        "fingerprint": fingerprint({"t": d.content_type, "s": d.size, "h": d.sha256}),
        "first_seen": d.seen_at, "last_seen": d.seen_at,
    } for d in batch.downloads if site_id(host_of(d.found_on) or host_of(d.url)) is not None],
        key=["url_sha256", "fingerprint"])

    upsert(session, SiteRelation, [{
        "from_site_id": site_id(r.from_host), "to_site_id": site_id(r.to_host), "kind": r.kind,
        "evidence_url": r.evidence_url, "first_seen": r.seen_at, "last_seen": r.seen_at,
    } for r in batch.relations if site_id(r.from_host) and site_id(r.to_host) and r.from_host != r.to_host],
        key=["from_site_id", "to_site_id", "kind"])

    for shot in batch.screenshots:
        if run_id is not None:
            session.execute(update(Page).where(Page.run_id == run_id, Page.final_url == shot.url,
                                               Page.rendered.is_(False)).values(screenshot=shot.path))

    write_verdicts(session, run_id, {d: v for d, v in batch.verdicts.items() if site_id(d)},
                   {d: site_id(d) for d in batch.verdicts}, batch.pages_seen, seen_at)
    return {"pages": len(rows), "links": len(link_rows), "indicators": len(sightings),
            "downloads": len(batch.downloads), "relations": len(batch.relations), "verdicts": len(batch.verdicts)}


def _write_indicators(session: Session, sightings: Sequence[tuple[Any, int | None, int | None, datetime]]) -> None:
    if not sightings:
        return
    upsert(session, Indicator, [{"type": f.type, "value": f.value[:500], "first_seen": t, "last_seen": t}
                                for f, _sid, _pid, t in sightings], key=["type", "value"])
    ind_ids = ids_by_key(session, Indicator, ["type", "value"], [(f.type, f.value[:500]) for f, *_ in sightings])
    upsert(session, IndicatorSighting, [{
        "indicator_id": ind_ids[(f.type, f.value[:500])], "site_id": sid, "first_page_id": pid,
        "last_page_id": pid, "context": (getattr(f, "context", "") or "")[:500] or None,
        "first_seen": t, "last_seen": t,
    } for f, sid, pid, t in sightings if sid is not None], key=["indicator_id", "site_id"],
        update=["last_page_id"])


def write_verdicts(session: Session, run_id: int | None, verdicts: Mapping[str, Any],
                   site_ids: Mapping[str, int | None], pages_seen: Mapping[str, int], at: datetime) -> None:
    """Add a classification row (history) for each site's verdict; a verdict that differs
    from the site's previous one records why (``cause``)."""
    rows = [{
        "site_id": site_ids[domain], "run_id": run_id, "classified_at": at, "is_piracy": bool(v.is_piracy),
        "category": v.category, "score": float(v.score), "signals": list(v.signals),
        "reasons": list(getattr(v, "reasons", ())), "delivery": list(getattr(v, "delivery", ())),
        "pages_seen": pages_seen.get(domain, 0), "classifier_version": v.version, "cause": None,
    } for domain, v in verdicts.items() if site_ids.get(domain)]
    if not rows:
        return
    c = Classification
    latest = select(func.max(c.id)).where(c.site_id.in_([r["site_id"] for r in rows])).group_by(c.site_id)
    before = {p.site_id: p for p in session.execute(
        select(c.site_id, c.is_piracy, c.category, c.pages_seen, c.classifier_version).where(c.id.in_(latest)))}
    for row in rows:
        prev = before.get(row["site_id"])
        if prev is not None and (prev.is_piracy, prev.category) != (row["is_piracy"], row["category"]):
            row["cause"] = verdict_cause(prev, row)
    session.execute(Classification.__table__.insert(), rows)


def verdict_cause(prev: Any, new: Mapping[str, Any]) -> str:
    """Why a site's verdict changed: a hop, a rules change, or the pages behind it."""
    first = str((new.get("signals") or [""])[0])
    if first.startswith("hopping:"):
        return first[:200]
    if prev.classifier_version != new["classifier_version"]:
        return f"rules changed ({prev.classifier_version} -> {new['classifier_version']})"[:200]
    return f"new pages: verdict on {new['pages_seen']} pages (was on {prev.pages_seen})"


def stored_page_signals(session: Session, domain: str, limit: int) -> list[tuple[str, list]]:
    """The classifier signals of the site's newest ``limit`` analysed pages in the store,
    newest first, each final URL once (its newest version, raw or rendered): ``[(url, signals), ...]``."""
    site_id = session.scalar(select(Site.id).where(Site.domain == domain))
    if site_id is None:
        return []
    rows = session.execute(select(Page.url, Page.final_url, Page.rendered, Page.signals)
                           .where(Page.site_id == site_id, Page.status < 300)
                           .order_by(Page.fetched_at.desc(), Page.id.desc()).limit(limit * 4))
    out: dict[str, list] = {}
    for r in rows:
        key = r.final_url or r.url
        if r.signals is None or key in out:  # not analysed (stored before 0005), or an older version
            continue
        out[key] = r.signals
        if len(out) >= limit:
            break
    return list(out.items())


def resume_state(session: Session, run_id: int, follow_kinds: Iterable[str]
                 ) -> tuple[set[str], list[tuple[str, int]], set[str]]:
    """For an interrupted run: the URLs it stored, the followable links of its pages that it
    has not fetched yet (with their depth), and the sites it saw."""
    from sqlalchemy import select

    from storage.models import Site

    done: set[str] = set()
    depth_of: dict[int, int] = {}
    for page_id, url, final_url, depth in session.execute(
            select(Page.id, Page.url, Page.final_url, Page.depth).where(Page.run_id == run_id)):
        done.update(u for u in (url, final_url) if u)
        depth_of[page_id] = depth
    frontier: dict[str, int] = {}
    kinds = list(follow_kinds)
    for page_id, url in session.execute(
            select(Link.page_id, Link.url).join(Page, Page.id == Link.page_id)
            .where(Page.run_id == run_id, Link.kind.in_(kinds))):
        if url not in done and not url.startswith("magnet:") and url not in frontier:
            frontier[url] = depth_of.get(page_id, 0) + 1
    sites = set(session.scalars(select(Site.domain).join(Page, Page.site_id == Site.id)
                                .where(Page.run_id == run_id).distinct()))
    return done, sorted(frontier.items(), key=lambda kv: kv[1]), sites


def record_evidence_files(session: Session, run_id: int, files: Iterable[tuple[str, str, str, int]],
                          at: datetime) -> None:
    """Register a run's evidence files: (kind, path relative to the evidence dir, sha256, size)."""
    from storage.models import EvidenceFile

    upsert(session, EvidenceFile, [{"run_id": run_id, "kind": kind, "path": path, "sha256": sha, "size": size,
                                    "created_at": at} for kind, path, sha, size in files], key=["path"])
