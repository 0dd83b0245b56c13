"""A takedown packet: whom to write to about a site, and the evidence to attach.

The hosting provider with its abuse contact, the registrar with its abuse contact, the CDN
in front if any, the classification's reasons (the plain sentences, strongest first; the
weighted signals for a verdict stored before reasons existed) and delivery, and the evidence: the pages as captured
(URL, time, content SHA-256, WARC file and record with the file's SHA-256) and the
screenshot. :func:`collector.writers.markdown.to_markdown` writes it as a Markdown request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Classification, EvidenceFile, Page, Site
from storage.queries import site_profiles

MAX_PAGES = 10


class UnknownSite(LookupError):
    """The site is not in the store."""


def takedown_packet(session: Session, domain: str, max_pages: int = MAX_PAGES) -> dict[str, Any]:
    site = session.scalar(select(Site).where(Site.domain == domain))
    if site is None:
        raise UnknownSite(f"{domain} is not in the store (crawl or enrich it first)")
    verdict = session.scalars(select(Classification).where(Classification.site_id == site.id)
                              .order_by(Classification.id.desc()).limit(1)).first()
    profile = (site_profiles(session, [domain]) or [{}])[0]
    # the screenshotted front page first, then the latest capture of each other URL
    pages, seen = [], set()
    for p in session.scalars(select(Page).where(Page.site_id == site.id, Page.status == 200)
                             .order_by(Page.screenshot.is_(None), Page.fetched_at.desc()).limit(20 * max_pages)):
        if p.url not in seen and len(pages) < max_pages:
            seen.add(p.url)
            pages.append(p)
    files = {f.path: f for f in session.scalars(select(EvidenceFile).where(
        EvidenceFile.path.in_({p.warc_file for p in pages if p.warc_file} | {p.screenshot for p in pages if p.screenshot})))}
    hosting = []
    for n in profile.get("networks", []):
        entry = {k: n.get(k) for k in ("asn", "org", "name", "country", "cidr", "abuse_email", "cdn")}
        if entry not in hosting:
            hosting.append(entry)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "domain": domain,
        "classification": None if verdict is None else {
            "is_piracy": verdict.is_piracy, "category": verdict.category, "score": verdict.score,
            "delivery": list(verdict.delivery or []),
            "reasons": list(verdict.reasons or verdict.signals or [])[:12],
            "signals": list(verdict.signals or [])[:12], "classified_at": verdict.classified_at.isoformat()},
        "ips": profile.get("ips", []),
        "hosting": hosting,
        "cdn": sorted({h["cdn"] for h in hosting if h.get("cdn")}),
        "registrar": {"name": profile.get("registrar"), "abuse_email": profile.get("registrar_abuse"),
                      "source": profile.get("source"),
                      "created": profile["created"].date().isoformat() if profile.get("created") else None},
        "evidence": [{
            "url": p.url, "final_url": p.final_url, "captured_at": p.fetched_at.isoformat(), "title": p.title,
            "content_sha256": p.content_sha256, "warc_file": p.warc_file, "warc_record_id": p.warc_record_id,
            "warc_file_sha256": files[p.warc_file].sha256 if p.warc_file in files else None,
            "screenshot": p.screenshot,
            "screenshot_sha256": files[p.screenshot].sha256 if p.screenshot in files else None,
        } for p in pages],
    }
