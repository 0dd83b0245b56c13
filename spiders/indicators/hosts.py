"""Video embed hosts and ad networks, matched against the lists in ``config/indicators/``.

List files are data: one rule a line, ``#`` starts a comment, words separated by spaces::

    # pattern                name          flags
    streamtape.com           streamtape
    ok.ru/videoembed         ok.ru
    youtube.com              youtube       legit
    popads.net               popads
    text:_pop.push(          popads
    re:atOptions\\s*=\\s*\\{   adsterra

A word starting with ``#`` starts a comment (a regular expression needing ``#`` writes
``[#]``; one needing a space writes ``\\s``). A pattern is a host suffix (``streamtape.com`` matches ``streamtape.com`` and
``www.streamtape.com``, never ``notstreamtape.com``), optionally with a path prefix
(``ok.ru/videoembed``); in ``ad_networks.txt`` also ``text:`` (a literal string in the
page source) or ``re:`` (a regular expression; keep it linear). The name defaults to
the host suffix. The flag ``legit`` marks a mainstream service (YouTube, AdSense):
still reported, but an analyst weighs it differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from spiders.indicators.document import Document, host_of
from spiders.indicators.model import Found, Hit, clip, context, hit

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "config" / "indicators"
VIDEO_FILE = "video_hosts.txt"
AD_FILE = "ad_networks.txt"

URL_IN_TEXT_RE = re.compile(
    r"//((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,24})(?::\d{1,5})?(/[^\s\"'<>\\`)]{0,500})?"
)
"""Absolute and protocol-relative URLs anywhere in the source (scripts build embeds too)."""


class ListError(ValueError):
    """A line of an indicator list that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class HostRule:
    """A host suffix (with an optional path prefix) and the service it stands for."""

    suffix: str
    path: str
    name: str
    legit: bool


@dataclass(frozen=True)
class MarkerRule:
    """A literal string or regular expression in the page source that betrays a service."""

    name: str
    literal: str
    regex: re.Pattern[str] | None


def _read_rules(path: Path, *, markers: bool) -> tuple[list[HostRule], list[MarkerRule]]:
    hosts: list[HostRule] = []
    marks: list[MarkerRule] = []
    if not path.exists():
        return hosts, marks
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split()
        comment = next((i for i, w in enumerate(words) if w.startswith("#")), len(words))
        words = words[:comment]
        if not words:
            continue
        pattern, name = words[0], (words[1] if len(words) > 1 else "")
        legit = "legit" in words[2:]
        if pattern.startswith(("re:", "text:")):
            if not markers or not name:
                raise ListError(f"{path.name}:{lineno}: a marker needs a name, and only {AD_FILE} has markers")
            kind, body = pattern.split(":", 1)
            try:
                regex = re.compile(body) if kind == "re" else None
            except re.error as e:
                raise ListError(f"{path.name}:{lineno}: bad regular expression: {e}") from None
            marks.append(MarkerRule(name, body if kind == "text" else "", regex))
            continue
        host, _, rest = pattern.lower().partition("/")
        if not re.fullmatch(r"(?:[a-z0-9-]+\.)+[a-z0-9-]+", host):
            raise ListError(f"{path.name}:{lineno}: {pattern!r} is not a host suffix")
        hosts.append(HostRule(host, "/" + rest if rest else "", name or host, legit))
    return hosts, marks


def _index(rules: list[HostRule]) -> Mapping[str, tuple[HostRule, ...]]:
    index: dict[str, list[HostRule]] = {}
    for rule in rules:
        index.setdefault(rule.suffix, []).append(rule)
    return MappingProxyType({k: tuple(sorted(v, key=lambda r: -len(r.path))) for k, v in index.items()})


@dataclass(frozen=True)
class IndicatorLists:
    """The video-host and ad-network lists, indexed by host suffix. Build with :meth:`load`."""

    video: Mapping[str, tuple[HostRule, ...]]
    ads: Mapping[str, tuple[HostRule, ...]]
    ad_markers: tuple[MarkerRule, ...]

    @classmethod
    def load(cls, dir: Path | str | None = None) -> IndicatorLists:
        """Read ``video_hosts.txt`` and ``ad_networks.txt`` from ``dir`` (default ``config/indicators``).

        The default directory is read once per process; a missing file is an empty list.
        """
        if dir is None:
            return _default_lists()
        folder = Path(dir)
        video, _ = _read_rules(folder / VIDEO_FILE, markers=False)
        ads, markers = _read_rules(folder / AD_FILE, markers=True)
        return cls(_index(video), _index(ads), tuple(markers))

    @staticmethod
    def _match(index: Mapping[str, tuple[HostRule, ...]], host: str, path: str) -> HostRule | None:
        labels = host.lower().rstrip(".").split(".")
        for i in range(len(labels) - 1):
            for rule in index.get(".".join(labels[i:]), ()):
                if not rule.path or path.lower().startswith(rule.path):
                    return rule
        return None

    def video_host(self, host: str, path: str = "") -> HostRule | None:
        """The video-host rule matching ``host`` (and ``path``), most specific suffix first."""
        return self._match(self.video, host, path)

    def ad_network(self, host: str, path: str = "") -> HostRule | None:
        """The ad-network rule matching ``host`` (and ``path``), most specific suffix first."""
        return self._match(self.ads, host, path)


@lru_cache(maxsize=1)
def _default_lists() -> IndicatorLists:
    return IndicatorLists.load(DEFAULT_DIR)


def _own(rule: HostRule, page_host: str) -> bool:
    return page_host == rule.suffix or page_host.endswith("." + rule.suffix)


def _urls(doc: Document) -> Iterator[tuple[int, str, str, str]]:
    """``(position, host, path, context)`` of every absolute URL: elements first, then the text."""
    text = doc.text
    for link in doc.links:
        host = host_of(link.url)
        if host:
            pos = text.find(link.url)
            try:
                path = urlsplit(link.url if not link.url.startswith("//") else "http:" + link.url).path
            except ValueError:
                path = ""
            if pos >= 0:
                yield pos, host, path, context(text, pos, pos + len(link.url))
            else:
                yield len(text), host, path, clip(f"<{link.tag} {link.attr}={link.url}>")
    for m in URL_IN_TEXT_RE.finditer(doc.lower):
        yield m.start(), m.group(1), m.group(2) or "", context(text, m.start(), m.end())


def find_hosts(doc: Document, lists: IndicatorLists) -> Iterator[Hit]:
    """``video_host`` (the matched host suffix) and ``ad_network`` (the network's name) hits.

    Links to the page's own site are not reported (a video host's own pages are not embeds).
    """
    for pos, host, path, ctx in _urls(doc):
        rule = lists.video_host(host, path)
        if rule and not _own(rule, doc.host):
            yield Hit(pos, Found("video_host", rule.suffix, ctx))
        rule = lists.ad_network(host, path)
        if rule and not _own(rule, doc.host):
            yield Hit(pos, Found("ad_network", rule.name, ctx))
    text = doc.text
    for marker in lists.ad_markers:
        if marker.regex is not None:
            m = marker.regex.search(text)
            if m:
                yield hit(text, m.start(), m.end(), "ad_network", marker.name)
        else:
            pos = text.find(marker.literal)
            if pos >= 0:
                yield hit(text, pos, pos + len(marker.literal), "ad_network", marker.name)
