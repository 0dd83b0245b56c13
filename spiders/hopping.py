"""Domain hopping: numbered successors, "we moved" notices and mirror lists.

Korean webtoon and torrent sites move to the next number every few days (site101 ->
site102, sometimes zero-padded), and announce the current domain on the old site, on
link portals and in pop-ups; torrent and streaming brands hop across TLDs and proxies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from storage.names import HostNameError, parse_host

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config" / "hopping"
_TRAILING_NUMBER = re.compile(r"^(.*?[a-z-])(\d{1,6})$")
_DOMAIN_IN_TEXT = re.compile(
    r"(?<![\w.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]{2,59}))(?![\w-])", re.I)
WINDOW = 160
"""Characters after a phrase in which a domain name counts as announced."""


def numbered_successors(domain: str, count: int) -> list[str]:
    """The next ``count`` names of a numbered domain: toon101.com -> toon102.com, ...

    Zero padding is kept (site09 -> site10, site010 -> site011). Names that do not end
    in a number have none.
    """
    if count <= 0 or "." not in domain:
        return []
    label, _, suffix = domain.partition(".")
    m = _TRAILING_NUMBER.match(label)
    if not m:
        return []
    stem, digits = m.groups()
    width = len(digits) if digits.startswith("0") else 0
    n = int(digits)
    return [f"{stem}{str(n + i).zfill(width)}.{suffix}" for i in range(1, count + 1)]


def number_of(domain: str) -> tuple[str, int] | None:
    """(stem.suffix, number) of a numbered domain, to order a chain; None otherwise."""
    label, _, suffix = domain.partition(".")
    m = _TRAILING_NUMBER.match(label)
    return (f"{m.group(1)}.{suffix}", int(m.group(2))) if m else None


def _load_phrases(name: str) -> tuple[str, ...]:
    path = CONFIG_DIR / name
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return tuple(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class HopPhrases:
    notices: tuple[str, ...]
    mirrors: tuple[str, ...]
    platforms: frozenset[str] = frozenset()
    """Registered domains never taken as a new home or mirror (t.me, x.com ...)."""

    @classmethod
    def load(cls) -> HopPhrases:
        return cls(_load_phrases("notices.txt"), _load_phrases("mirrors.txt"), frozenset(_load_phrases("platforms.txt")))


MAX_PER_PHRASE = 20
MAX_WINDOWS = 200


def _domains_after(text: str, lowered: str, phrases: tuple[str, ...], own: str, first_only: bool,
                   skip: frozenset[str] = frozenset()) -> list[str]:
    found: dict[str, None] = {}
    windows = 0
    for phrase in phrases:
        start, seen = 0, 0
        # a notice or mirror list says its phrase a few times; a page saying it hundreds of
        # times is prose (or hostile), and its later occurrences are not read
        while seen < MAX_PER_PHRASE and windows < MAX_WINDOWS and (i := lowered.find(phrase, start)) != -1 \
                and len(found) < 50:
            seen += 1
            windows += 1
            window = text[i + len(phrase): i + len(phrase) + WINDOW]
            for m in _DOMAIN_IN_TEXT.finditer(window):
                try:
                    host = parse_host(m.group(1))
                except HostNameError:
                    continue
                if host.known_suffix and host.domain != own and host.domain not in skip \
                        and not host.fqdn.endswith((".html", ".php", ".png", ".jpg")):
                    found[host.domain] = None
                    if first_only:
                        break
            start = i + len(phrase)
    return list(found)


def announced_domains(text: str, own_domain: str, phrases: HopPhrases) -> tuple[list[str], list[str]]:
    """(domains announced as the new home, domains listed as mirrors) in visible text."""
    text = text[:500_000]
    lowered = text.lower()
    moved = _domains_after(text, lowered, phrases.notices, own_domain, True, phrases.platforms)
    mirrors = [d for d in _domains_after(text, lowered, phrases.mirrors, own_domain, False, phrases.platforms)
               if d not in moved]
    return moved, mirrors
