"""A takedown packet: whom to write to about a site, and the evidence to attach.

The hosting provider with its abuse contact, the registrar with its abuse contact, the CDN
in front if any, the classification's reasons (the plain sentences, strongest first; the
weighted signals for a verdict stored before reasons existed) and delivery, and the evidence: the pages as captured
(URL, time, content SHA-256, WARC file and record with the file's SHA-256) and the
screenshot. :func:`to_markdown` escapes every scraped string (:func:`md`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Classification, EvidenceFile, Page, Site
from storage.queries import site_profiles
from storage.safe_text import inert

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


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
"""Markdown that can act inside a line: emphasis, code, links, tables (<, > and & are entities)."""
_MD_LEADING = re.compile(r"^(?:[#+=-]|\d+[.)])")
"""What would start a heading, a list or a setext underline where a value begins a line or a
list item (``- {value}``)."""


def md(text: Any) -> str:
    """A scraped string made inert in Markdown (and HTML rendered from it), on one line:
    control and bidi characters shown as ``\\x1b`` (:func:`storage.safe_text.inert`),
    HTML's ``& < >`` as entities, Markdown's inline and line-start syntax escaped."""
    if text is None:
        return "-"
    value = inert(" ".join(str(text).split()))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return _MD_LEADING.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], value)


def evidence_md(e: dict, captured: Any, status: Any = None) -> str:
    """One captured page as a Markdown list item: URL, time, content and WARC hashes, screenshot."""
    return (f"- {md(e['url'])} captured {md(captured)}" + (f" (HTTP {md(status)})" if status is not None else "")
            + f", content SHA-256 `{md(e['content_sha256'])}`; WARC {md(e['warc_file'])} record "
            f"{md(e['warc_record_id'])} (file SHA-256 `{md(e['warc_file_sha256'])}`)"
            + (f"; screenshot {md(e['screenshot'])} (SHA-256 `{md(e['screenshot_sha256'])}`)"
               if e["screenshot"] else ""))


def to_markdown(packet: dict[str, Any]) -> str:
    c = packet["classification"] or {}
    lines = [f"# Takedown request: {md(packet['domain'])}", "",
             f"Prepared {md(packet['generated_at'])} by isop.", "", "## The site", ""]
    if c:
        delivery = f", delivered by {md(', '.join(c['delivery']))}" if c.get("delivery") else ""
        lines += [f"- Classified as **{md(c['category'])}** piracy site{delivery} (score {c['score']:.2f}) "
                  f"on {md(c['classified_at'])}" if c["is_piracy"] else "- Not classified as a piracy site",
                  "- Reasons:"] + [f"  - {md(s)}" for s in c.get("reasons") or c["signals"]]
    lines += ["", "## Hosting", ""]
    for h in packet["hosting"] or [{}]:
        if h:
            lines.append(f"- AS{h['asn']} {md(h['org'] or h['name'])} ({md(h['country'])}), network {md(h['cidr'])}; "
                         f"abuse contact: {md(h['abuse_email'])}" + (f"; **behind {md(h['cdn'])}**" if h["cdn"] else ""))
        else:
            lines.append("- unknown (run `isop enrich`)")
    if packet["ips"]:
        lines.append(f"- Addresses: {md(', '.join(packet['ips']))}")
    if packet["cdn"]:
        lines.append(f"- The site is fronted by {md(', '.join(packet['cdn']))}: its origin is hidden; ask the CDN "
                     "to disclose it and to stop serving the site.")
    r = packet["registrar"]
    lines += ["", "## Registrar", "", f"- {md(r['name'])} (from {md(r['source'])}); abuse contact: "
              f"{md(r['abuse_email'])}; domain created {md(r['created'])}", "", "## Evidence", ""]
    for e in packet["evidence"]:
        lines.append(evidence_md(e, e["captured_at"]))
    if not packet["evidence"]:
        lines.append("- no page captured yet")
    return "\n".join(lines) + "\n"
