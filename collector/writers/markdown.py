"""Markdown out of hostile text: :func:`md` makes a scraped string inert, :func:`to_markdown`
writes a takedown packet (:func:`storage.takedown.takedown_packet`) as a request to send.

    packet = takedown_packet(session, "example.org")
    Path("takedown.md").write_text(to_markdown(packet), encoding="utf-8")

Every scraped string is escaped (:func:`md`); the dossier's Markdown
(:mod:`collector.dossier_view`) uses :func:`md` and :func:`evidence_md` too.
"""

from __future__ import annotations

import re
from typing import Any

from storage.safe_text import inert

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
