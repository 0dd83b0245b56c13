"""The shape of an indicator, and the prepared page every extractor reads."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

INDICATOR_TYPES: tuple[str, ...] = (
    "ga", "gtm", "adsense", "yandex_metrica",
    "btc", "eth", "trx", "xmr",
    "email", "telegram", "discord", "whatsapp", "phone", "paypal",
    "favicon_mmh3", "video_host", "ad_network", "advertiser",
)

ADVERTISER_CONTACT_TYPES = frozenset({"telegram", "whatsapp", "discord", "phone", "email", "paypal"})
"""Contact types that, found inside an advertising slot, become an ``advertiser`` indicator
(``"telegram:t.me/x"``): the advertiser's contact, never the site operator's."""

MAX_INPUT_CHARS = 4 * 1024 * 1024
"""Only the first 4 Mi characters of a page are read: bounds time and memory on hostile input."""

CONTEXT_CHARS = 120

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Found:
    """One indicator found on a page.

    ``type`` is one of :data:`INDICATOR_TYPES`; ``value`` is the canonical form that joins
    pages of the same operator (see each extractor for its normalisation); ``context`` is
    up to ~120 characters of the page around the match, whitespace collapsed, for the analyst.
    """

    type: str
    value: str
    context: str


@dataclass(frozen=True)
class Hit:
    """A :class:`Found` with the offset in the prepared text where it was first seen."""

    pos: int
    found: Found


_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")
"""Numeric and ``;``-terminated named entities only: a query string's ``&currency_code=`` is
not the legacy ``&curren`` entity (browsers leave it alone in attributes too)."""


def prepare_text(source: str) -> str:
    """The page source as the regex extractors read it.

    Bounded to :data:`MAX_INPUT_CHARS`, HTML entities decoded (``&#64;`` is ``@``), JSON
    escaped slashes undone (``https:\\/\\/t.me`` is ``https://t.me``) and the full-width
    at sign folded to ``@``.
    """
    text = source[:MAX_INPUT_CHARS]
    if "&" in text:
        text = _ENTITY.sub(lambda m: html_lib.unescape(m.group()), text)
    return text.replace("\\/", "/").replace("\uff20", "@")


def context(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """About ``width`` characters of ``text`` centred on ``text[start:end]``, whitespace collapsed."""
    span = end - start
    if span >= width:
        return _WS.sub(" ", text[start:end]).strip()[:width]
    side = (width - span) // 2
    left = max(0, start - side)
    right = min(len(text), end + side)
    return _WS.sub(" ", text[left:right]).strip()


def clip(snippet: str, width: int = CONTEXT_CHARS) -> str:
    """``snippet`` whitespace-collapsed and cut to ``width`` characters."""
    return _WS.sub(" ", snippet).strip()[:width]


def hit(text: str, start: int, end: int, type_: str, value: str) -> Hit:
    """A :class:`Hit` for ``text[start:end]`` with its context."""
    return Hit(start, Found(type_, value, context(text, start, end)))
