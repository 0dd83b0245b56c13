"""Indicator extraction: the ids, addresses and contacts that link piracy sites to operators.

``extract(html, url)`` reads one page's source (scripts, attributes, comments and text)
and returns every indicator once, in page order::

    from spiders.indicators import extract
    for found in extract(response.text, response.url):
        print(found.type, found.value, found.context)

Pure parsing: nothing here opens a connection. Each kind lives in its own module:
``analytics`` (GA, GTM, AdSense, Yandex Metrica), ``crypto`` (BTC, ETH, TRX, XMR),
``contacts`` (e-mail, Telegram, Discord, WhatsApp, PayPal), ``phones``, ``hosts``
(video hosts and ad networks from ``config/indicators/``) and ``favicon``. A contact inside an
advertising slot (``adslots``) is the advertiser's: it is reported as ``advertiser`` with the
value ``"<type>:<value>"`` (``telegram:t.me/x``), which follows advertisers across sites and
links no sites. Analytics and ad accounts stay the site's even inside a slot (an AdSense
slot carries the site owner's publisher id).
"""

from __future__ import annotations

from itertools import chain

from spiders.indicators.adslots import AdSlots, find_ad_slots
from spiders.indicators.analytics import find_analytics
from spiders.indicators.contacts import (
    find_discord,
    find_emails,
    find_paypal,
    find_telegram,
    find_whatsapp,
)
from spiders.indicators.crypto import find_crypto
from spiders.indicators.document import Document, load_document
from spiders.indicators.favicon import favicon_mmh3
from spiders.indicators.hosts import HostRule, IndicatorLists, ListError, MarkerRule, find_hosts
from spiders.indicators.model import (
    ADVERTISER_CONTACT_TYPES,
    INDICATOR_TYPES,
    MAX_INPUT_CHARS,
    Found,
    Hit,
    clip,
)
from spiders.indicators.phones import find_phones

__all__ = [
    "INDICATOR_TYPES", "MAX_INPUT_CHARS", "Document", "Found", "HostRule", "IndicatorLists",
    "ListError", "MarkerRule", "extract", "favicon_found", "favicon_mmh3", "load_document",
]


def extract(html: str, url: str = "", *, lists: IndicatorLists | None = None) -> list[Found]:
    """Every indicator in the page ``html`` fetched from ``url``, once per ``(type, value)``.

    Only the first :data:`MAX_INPUT_CHARS` characters are read. The context kept for a
    repeated indicator is that of its first occurrence; the list is in page order.
    ``lists`` defaults to the lists shipped in ``config/indicators/``.
    """
    lists = lists if lists is not None else IndicatorLists.load()
    doc = load_document(html, url)
    first: dict[tuple[str, str], Hit] = {}
    hits = chain(
        find_analytics(doc), find_crypto(doc), find_emails(doc), find_telegram(doc),
        find_discord(doc), find_whatsapp(doc), find_phones(doc), find_paypal(doc),
        find_hosts(doc, lists),
    )
    slots: AdSlots | None = None
    for h in hits:
        if h.found.type in ADVERTISER_CONTACT_TYPES:
            if slots is None:
                slots = find_ad_slots(doc.text, url)
            if slots.contains(h.pos):
                h = Hit(h.pos, Found("advertiser", f"{h.found.type}:{h.found.value}", h.found.context))
        key = (h.found.type, h.found.value)
        if key not in first or h.pos < first[key].pos:
            first[key] = h
    return [h.found for h in sorted(first.values(), key=lambda h: h.pos)]


def favicon_found(data: bytes, url: str = "") -> Found:
    """A ``favicon_mmh3`` indicator for favicon bytes fetched from ``url``."""
    return Found("favicon_mmh3", favicon_mmh3(data), clip(url))
