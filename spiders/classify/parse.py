"""Bounded HTML digestion: visible text, links, images, scripts and page markup facts.

Input is truncated to the configured limits before parsing; libxml2 (through lxml) caps
nesting depth; at most ``max_elements`` elements are visited. Anything unparsable falls
back to a linear tag-stripping pass, so no page can stall or crash the classifier.
"""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass
from itertools import islice
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from spiders.classify.lexicon import normalise
from spiders.classify.model import LINK_KINDS, PageInput
from spiders.classify.rules import Limits

_TAG = re.compile(r"<[^<>]{0,2000}>")
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^<>]{0,300}\?>")
"""An XHTML page's ``<?xml ... encoding=...?>``: lxml refuses a decoded string that carries one
(the crawl hands over text already decoded), so it is dropped before parsing."""
_SPACE = re.compile(r"\s+")
_SKIP_TEXT = frozenset({"script", "style", "noscript", "template", "head"})
_IMG_ATTRS = ("src", "data-src", "data-lazy-src", "data-original", "data-url")
_SERVER_ATTRS = ("data-link", "data-embed", "data-video", "data-iframe", "data-player")
"""Attributes of streaming sites' server lists (``<li data-link="https://host/e/id">``):
the player a click loads into the page, read as an embed."""


@dataclass(frozen=True)
class Link:
    """An absolute URL with its host, kind and normalised anchor text."""

    url: str
    host: str
    kind: str
    text: str


@dataclass(frozen=True)
class ParsedPage:
    """What the feature extractors look at; all strings already bounded."""

    url: str
    host: str
    title: str  # normalised
    text: str  # normalised visible text (title included)
    raw_head: str  # lower-cased start of the HTML (markup facts, inline scripts)
    scripts: str  # lower-cased inline script text, bounded
    links: tuple[Link, ...]
    images: tuple[str, ...]
    markup: frozenset[str]  # facts such as "tag:article", "og:article", "schema:newsarticle"
    headers: str  # normalised text of table headers and list headings
    lang: str = ""  # primary language subtag declared by the page (``<html lang>``), lower-case
    options: tuple[str, ...] = ()  # normalised texts of ``<option>`` and ``<button>`` elements (menus, server pickers)


def host_of(url: str) -> str:
    """Lower-case host of ``url`` without port or ``www.``; "" when unparsable."""
    try:
        host = (urlsplit(url).hostname or "").lower().strip(".")
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def _absolute(base: str, href: str) -> str:
    href = href.strip()
    if href.startswith(("magnet:", "javascript:", "mailto:", "data:")):
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def _fallback_text(markup: str) -> str:
    return htmlmod.unescape(_TAG.sub(" ", markup))


def parse_page(page: PageInput, limits: Limits) -> ParsedPage:
    """Digest ``page`` within ``limits``."""
    markup = (page.html or "")[: limits.max_html_chars].replace("\x00", "")
    base = page.url or ""
    links: list[Link] = []
    images: list[str] = []
    facts: set[str] = set()
    text_parts: list[str] = []
    header_parts: list[str] = []
    option_parts: list[str] = []
    script_parts: list[str] = []
    script_budget = limits.max_script_chars
    text_budget = limits.max_text_chars
    derive_text = not page.text

    def add_link(url: str, kind: str, text: str) -> None:
        if len(links) < limits.max_links and url:
            absolute = _absolute(base, url)
            links.append(Link(absolute, host_of(absolute), kind, normalise(text[:200])))

    for url, kind, text in page.links[: limits.max_links]:
        add_link(url, kind if kind in LINK_KINDS else "anchor", text or "")

    root = None
    if markup.strip():
        try:
            root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", markup, count=1), parser=lxml.html.HTMLParser(recover=True, no_network=True, remove_comments=True))
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            root = None

    title = page.title or ""
    lang = page.lang or ""
    if root is not None:
        if not lang:
            lang = root.get("lang") or root.get("xml:lang") or ""
        for count, el in enumerate(root.iter()):
            if count >= limits.max_elements:
                break
            tag = el.tag if isinstance(el.tag, str) else ""
            get = el.get
            if tag == "a":
                href = get("href")
                if href:
                    add_link(href, "anchor", "".join(el.itertext())[:200] if len(el) < 50 else (el.text or ""))
            elif tag in ("iframe", "frame", "embed"):
                src = get("src") or get("data-src") or get("data-lazy-src")
                if src:
                    add_link(src, "iframe", "")
            elif tag == "script":
                src = get("src")
                if src:
                    add_link(src, "script", "")
                else:
                    stype = (get("type") or "").lower()
                    if el.text and script_budget > 0:
                        chunk = el.text[:script_budget]
                        script_budget -= len(chunk)
                        script_parts.append(chunk)
                        if "ld+json" in stype:
                            for kind in re.findall(r'"@type"\s*:\s*"(\w+)"', chunk[:20000]):
                                facts.add("schema:" + kind.lower())
            elif tag == "form":
                action = get("action")
                if action:
                    add_link(action, "form", "")
            elif tag in ("img", "source") or tag == "video":
                if tag == "video":
                    facts.add("tag:video")
                for attr in _IMG_ATTRS:
                    src = get(attr)
                    if src and not src.startswith("data:"):
                        if tag == "img":
                            images.append(_absolute(base, src))
                        elif tag == "source":
                            add_link(src, "iframe", "")
                        break
            elif tag == "meta":
                prop = (get("property") or get("name") or "").lower()
                content = (get("content") or "").lower()
                if prop == "og:type" and content:
                    facts.add("og:" + content.split(".")[0])
                elif prop in ("author", "article:author", "article:published_time"):
                    facts.add("meta:" + prop.split(":")[-1])
                elif prop == "generator" and content:
                    facts.add("generator:" + content.split()[0])
                elif prop == "refresh" or (get("http-equiv") or "").lower() == "refresh":
                    target = content.partition("url=")[2].strip("'\" ")
                    if target:
                        add_link(target, "redirect", "")
            elif tag in ("article", "time", "address"):
                facts.add("tag:" + tag)
                if tag == "time" and get("datetime"):
                    facts.add("tag:time-datetime")
            elif tag == "title" and not title:
                title = el.text_content()[:300]
            elif tag in ("option", "button") and len(option_parts) < 500:
                option_parts.append(normalise("".join(islice(el.itertext(), 20))[:80]).strip())  # lazy: bounded
            if tag in ("th", "thead", "h1", "h2", "h3", "dt") and len(header_parts) < 200:
                header_parts.append(el.text_content()[:200])
            if tag and tag not in ("iframe", "frame", "embed", "img", "source"):
                for attr in _SERVER_ATTRS:
                    src = get(attr)
                    if src and src.lstrip().startswith(("http://", "https://", "//")):
                        add_link(src, "iframe", "")
            itemtype = get("itemtype") if tag else None
            if itemtype:
                facts.add("schema:" + itemtype.rstrip("/").rsplit("/", 1)[-1].lower())
            classes = get("class") if tag else None
            if classes and ("byline" in classes or "author" in classes):
                facts.add("class:byline")
            if derive_text and text_budget > 0:
                if tag and tag not in _SKIP_TEXT and el.text:
                    text_parts.append(el.text)
                    text_budget -= len(el.text)
                if el.tail and tag != "html":
                    text_parts.append(el.tail)
                    text_budget -= len(el.tail)
    elif derive_text and markup:
        text_parts.append(_fallback_text(markup[: limits.max_text_chars * 2]))

    text = " ".join(text_parts) if derive_text else page.text
    text = _SPACE.sub(" ", text[: limits.max_text_chars])
    title_n = normalise(_SPACE.sub(" ", title[:300]))
    return ParsedPage(
        url=base,
        host=host_of(base),
        title=title_n,
        text=title_n + " | " + normalise(text),
        raw_head=markup[:20000].lower(),
        scripts="\n".join(script_parts).lower(),
        links=tuple(links),
        images=tuple(images[: limits.max_links]),
        markup=frozenset(facts),
        headers=normalise(" | ".join(header_parts)),
        lang=lang.strip().lower().replace("_", "-").split("-")[0][:8],
        options=tuple(o for o in option_parts if o),
    )
