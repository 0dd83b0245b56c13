"""Analytics and ad-account ids: Google Analytics (UA and GA4), Tag Manager, AdSense, Yandex Metrica.

One operator tends to reuse one analytics property or AdSense account across its sites,
so these ids are among the strongest links between sites. Patterns run on the
lower-cased page and start with a literal, so the regex engine skips ahead cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from spiders.indicators.document import Document, scan
from spiders.indicators.model import Hit, hit

UA_RE = re.compile(r"ua-(?<![0-9a-z-]ua-)(\d{4,10})-(\d{1,4})(?![0-9a-z-])")
"""Universal Analytics properties: distinctive enough to accept anywhere in the source."""

GA4_LITERALS = ("gtag", "measurement", "send_to", "ga4", "ga_", "gaid", "tracking", "google_analytics", "googleanalytics")
GA4_RE = re.compile(
    r"""(?:
        gtag\(\s*['"]config['"]\s*,\s*['"]
      | gtag/js\?(?:[^"'\s<>]{0,200}?&)?id=
      | measurement_?id['"]?\s*[:=]\s*['"]
      | send_to['"]?\s*[:=]\s*['"]
      | (?:ga4|ga_?id|ga_?measurement_?id|tracking_?id|google_?analytics(?:_?id)?)['"]?\s*[:=]\s*['"]
    )(g-[a-z0-9]{6,12})(?![0-9a-z-])""",
    re.VERBOSE,
)
"""GA4 measurement ids only where analytics code puts them (not "G-Dragon" in prose)."""

GTM_RE = re.compile(r"GTM-(?<![0-9A-Za-z-]GTM-)([A-Z0-9]{4,9})(?![0-9A-Za-z-])")
ADSENSE_CA_RE = re.compile(r"ca-pub-(?<![0-9a-z-]ca-pub-)(\d{16})(?!\d)")
ADSENSE_PUB_RE = re.compile(r"pub-(?<![0-9a-z-]pub-)(\d{16})(?!\d)")
ADSENSE_CONTEXT = ("adsbygoogle", "data-ad-client", "google_ad_client", "googlesyndication", "adsense", "google.com,")
"""A bare ``pub-…`` counts only with one of these within :data:`ADSENSE_WINDOW` characters."""
ADSENSE_WINDOW = 200

YANDEX_RES = (
    re.compile(r"ym\((?<![\w.$]ym\()\s*(\d{5,10})\s*,\s*['\"]init['\"]"),
    re.compile(r"mc\.yandex\.(?:ru|com|by|kz|ua|uz|com\.tr|az)/watch/(\d{5,10})"),
    re.compile(r"yacounter(\d{5,10})(?!\d)"),
    re.compile(r"ya\.metrika2?\(\s*\{\s*id\s*:\s*['\"]?(\d{5,10})"),
    re.compile(r"mc\.yandex\.(?:ru|com)/metrika/[^\"'\s<>]{0,100}?[?&]id=(\d{5,10})"),
)
"""Yandex Metrica counters: the ym() init call, the noscript pixel, yaCounterN, the old constructor."""

_PLACEHOLDERS = {"XXXXXXXXXX", "XXXXXX", "XXXX", "ABC123", "ABCDEF", "ABCDEFGHIJ", "ABCDEFGH"}


def _placeholder(ident: str) -> bool:
    body = ident.split("-", 1)[1].upper()
    return len(set(body)) == 1 or body in _PLACEHOLDERS


def find_analytics(doc: Document) -> Iterator[Hit]:
    """GA (``UA-…``/``G-…``), GTM (``GTM-…``), AdSense (``pub-`` + 16 digits), Yandex (counter id)."""
    text, low = doc.text, doc.lower
    for m in UA_RE.finditer(low):
        yield hit(text, m.start(), m.end(), "ga", f"UA-{m.group(1)}-{m.group(2)}")
    for m in scan(doc, GA4_LITERALS, GA4_RE):
        value = m.group(1).upper()
        if not _placeholder(value):
            yield hit(text, m.start(1), m.end(1), "ga", value)
    for m in GTM_RE.finditer(text):
        if not _placeholder(m.group()):
            yield hit(text, m.start(), m.end(), "gtm", m.group())
    for m in ADSENSE_CA_RE.finditer(low):
        yield hit(text, m.start(), m.end(), "adsense", f"pub-{m.group(1)}")
    for m in ADSENSE_PUB_RE.finditer(low):
        window = low[max(0, m.start() - ADSENSE_WINDOW):m.end() + ADSENSE_WINDOW]
        if any(marker in window for marker in ADSENSE_CONTEXT):
            yield hit(text, m.start(), m.end(), "adsense", f"pub-{m.group(1)}")
    for regex in YANDEX_RES:
        for m in regex.finditer(low):
            yield hit(text, m.start(), m.end(), "yandex_metrica", m.group(1))
