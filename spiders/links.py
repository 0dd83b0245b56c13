"""Links out of a page: anchors, frames, scripts, forms, meta refresh, URLs inside scripts.

Bounded: at most ``max_links`` links, URLs longer than ``MAX_URL`` are dropped, and only
the first ``MAX_SCRIPT`` characters of inline scripts are scanned.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from w3lib.url import safe_url_string

from spiders.items import LinkOut

MAX_URL = 2048
MAX_SCRIPT = 200_000
FOLLOWABLE_SCHEMES = ("http", "https")
KEPT_SCHEMES = ("http", "https", "magnet")
"""magnet: links are kept as links (the classifier and analysts want them), never followed."""

_JS_URL = re.compile(r"""["'`](https?:)?//([a-z0-9](?:[a-z0-9.-]{0,250})\.[a-z]{2,24}(?::\d{2,5})?(?:/[^"'`\s<>\\]{0,400})?)["'`]""", re.I)
_JS_LOCATION = re.compile(r"""(?:location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\()\s*["'`]([^"'`\s<>]{1,400})["'`]""", re.I)
_REFRESH = re.compile(r"""^\s*\d*\s*[;,]?\s*url\s*=\s*['"]?([^'";]+)""", re.I)


def _clean(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#") or len(href) > MAX_URL:
        return None
    scheme = href.split(":", 1)[0].lower() if ":" in href[:12] else ""
    if scheme == "magnet":
        return href
    if scheme and scheme not in FOLLOWABLE_SCHEMES:
        return None
    try:
        url = safe_url_string(urljoin(base, href))
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in FOLLOWABLE_SCHEMES or not parts.hostname:
        return None
    return url.split("#", 1)[0]


def _text(node, limit: int = 200) -> str:
    return " ".join(" ".join(node.xpath(".//text()").getall()).split())[:limit]


def extract_links(selector: Selector, base_url: str, max_links: int = 2000) -> list[LinkOut]:
    """Every link of the page, de-duplicated by (url, kind), in document order."""
    out: dict[tuple[str, str], LinkOut] = {}

    def add(href: str | None, kind: str, text: str = "") -> None:
        if len(out) >= max_links:
            return
        url = _clean(base_url, href)
        if url and (url, kind) not in out:
            out[(url, kind)] = LinkOut(url, kind, text)

    base_href = selector.xpath("//base/@href").get()
    if base_href:
        base_url = urljoin(base_url, base_href.strip())
    for a in selector.xpath("//a[@href] | //area[@href]"):
        add(a.attrib.get("href"), "anchor", _text(a))
    for f in selector.xpath("//iframe[@src] | //frame[@src] | //embed[@src]"):
        add(f.attrib.get("src"), "iframe")
    for s in selector.xpath("//script[@src]"):
        add(s.attrib.get("src"), "script")
    for f in selector.xpath("//form"):
        add(f.attrib.get("action") or base_url, "form")
    for content in selector.xpath("//meta[translate(@http-equiv,'REFSH','refsh')='refresh']/@content").getall():
        m = _REFRESH.match(content)
        if m:
            add(m.group(1), "redirect")
    for script in selector.xpath("//script[not(@src)]/text()").getall():
        script = script[:MAX_SCRIPT]
        for m in _JS_LOCATION.finditer(script):
            add(m.group(1), "js", "location")
        for m in _JS_URL.finditer(script):
            add((m.group(1) or "https:") + "//" + m.group(2), "js")
    return list(out.values())
