"""A page prepared once for every extractor: the text for regexes, and the parsed links."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from spiders.indicators.model import MAX_INPUT_CHARS, prepare_text

URL_ATTRIBUTES = (
    "src", "href", "data-src", "data-lazy-src", "data-original", "data", "action", "poster",
    "data-url", "data-embed", "data-video", "data-iframe", "data-link", "content",
)
"""Attributes whose absolute or protocol-relative URLs are read as links."""

MAX_LINKS = 20_000
MAX_CANDIDATES = 100_000
"""At most this many occurrences of one literal are tried by :func:`scan` (hostile pages)."""


@dataclass(frozen=True)
class Link:
    """An absolute (or protocol-relative) URL in an element's attribute."""

    tag: str
    attr: str
    url: str


@dataclass(frozen=True)
class Document:
    """The page as extractors see it.

    ``text`` is the bounded, entity-decoded source (see :func:`prepare_text`); ``lower`` the
    same lower-cased with every offset kept (patterns match there, values are cut from
    ``text`` when case matters); ``host`` is
    the lower-case host of the page's own URL; ``lang`` the ``<html lang>`` value;
    ``links`` the URLs of elements in document order; ``paypal_fields`` the
    ``(name, value)`` inputs of forms posting to PayPal.
    """

    text: str
    lower: str
    url: str
    host: str
    lang: str
    links: tuple[Link, ...]
    paypal_fields: tuple[tuple[str, str], ...]


def host_of(url: str) -> str:
    """Lower-case host of ``url`` (scheme-less ``//host/...`` too); empty if there is none."""
    url = url.strip()
    if url.startswith("//"):
        url = "http:" + url
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _parse(source: str) -> etree._Element | None:
    parser = etree.HTMLParser(recover=True, encoding="utf-8", no_network=True, huge_tree=False)
    data = source[:MAX_INPUT_CHARS].encode("utf-8", "replace")
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _is_url(value: str) -> bool:
    v = value[:8].lower()
    return v.startswith(("http://", "https://", "//"))


def load_document(source: str, url: str = "") -> Document:
    """Parse ``source`` (HTML) fetched from ``url`` into a :class:`Document`."""
    root = _parse(source)
    links: list[Link] = []
    paypal: list[tuple[str, str]] = []
    lang = ""
    if root is not None:
        html_el = root if root.tag == "html" else next(root.iter("html"), None)
        if html_el is not None:
            lang = (html_el.get("lang") or html_el.get("xml:lang") or "").strip()
        for el in root.iter():
            tag = el.tag
            if not isinstance(tag, str):
                continue
            for attr in URL_ATTRIBUTES:
                value = el.get(attr)
                if value and _is_url(value.strip()) and len(links) < MAX_LINKS:
                    links.append(Link(tag.lower(), attr, value.strip()))
            if tag == "form" and "paypal." in (el.get("action") or "").lower():
                for field in el.iter("input"):
                    name, value = field.get("name"), field.get("value")
                    if name and value:
                        paypal.append((name.strip().lower(), value.strip()))
    text = prepare_text(source)
    return Document(
        text=text,
        lower=lower_same_length(text),
        url=url,
        host=host_of(url),
        lang=lang,
        links=tuple(links),
        paypal_fields=tuple(paypal),
    )


def lower_same_length(text: str) -> str:
    """``text.lower()`` with offsets kept (U+0130, Turkish dotted capital I, alone lowers to two)."""
    return text.replace("\u0130", "I").lower()


def scan(doc: Document, literals: Iterable[str], pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Non-overlapping matches of ``pattern`` on ``doc.lower``, tried only where a literal occurs.

    For patterns that start with one of several lower-case ``literals`` (keywords in many
    languages): ``str.find`` finds the few places worth trying, so the cost is linear in
    the page and the occurrences, and bounded by :data:`MAX_CANDIDATES` per literal.
    """
    low = doc.lower
    positions: set[int] = set()
    for literal in literals:
        i, n = low.find(literal), 0
        while i >= 0 and n < MAX_CANDIDATES:
            positions.add(i)
            n += 1
            i = low.find(literal, i + 1)
    end = -1
    for pos in sorted(positions):
        if pos >= end:
            m = pattern.match(low, pos)
            if m:
                end = m.end()
                yield m


def boundary_before(low: str, pos: int, word_chars: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> bool:
    """True if ``low[pos]`` starts a token: the character before is not one of ``word_chars``."""
    return pos == 0 or low[pos - 1] not in word_chars
