"""What a site says it is: the media sections of its navigation and the brand in its name.

A torrent index searched for a Linux ISO still files its listings under Movies, TV, Games,
Apps, Music, Anime and XXX; a distribution tracker has none of those sections. A clone of a
notorious brand carries the brand in its host or title ("<brand>proxy", "<brand> mirror").
Both are context, never a category: they tell a piracy site from a lookalike only beside
evidence of what the site offers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from spiders.classify.lexicon import normalise
from spiders.classify.parse import ParsedPage
from spiders.classify.terms import TermMatcher

SECTIONS = ("movies", "tv", "music", "games", "software", "anime", "books", "adult")
"""The media sections of a piracy index's navigation, in report order."""

_MAX_LABELS = 2000
_LABEL_NOISE = re.compile(r"[\d()\[\]{}|•·/:,.+-]+")


def _short_labels(page: ParsedPage, max_label: int) -> list[str]:
    """Anchor, ``<option>`` and button texts short enough to be menu entries."""
    labels = [lk.text for lk in page.links if lk.kind == "anchor" and lk.text]
    labels += list(page.options)
    out = []
    for label in labels[:_MAX_LABELS]:
        label = label.strip()
        if label and len(label) <= max_label:
            out.append(label)
    return out


class NavigationFeatures:
    """``media_sections`` and ``piracy_brand``, compiled once from features.toml."""

    def __init__(self, feats: Mapping[str, Any]) -> None:
        """Read ``[media_sections]`` and ``[brands] piracy`` / ``piracy_clone_words``."""
        sections = feats["media_sections"]
        self._max_label = int(sections.get("max_label", 40))
        self._sections = TermMatcher((normalise(term), name, None) for name in SECTIONS
                                     for term in sections.get(name, ()))
        brands = feats["brands"]
        names = [normalise(b) for b in brands.get("piracy", ())]
        clones = [normalise(w) for w in brands.get("piracy_clone_words", ())]
        self._title_brands = TermMatcher((b, "brand", b) for b in names)
        self._clone = re.compile(r"\s*[-:|]?\s*(" + "|".join(re.escape(w) for w in sorted(clones, key=len, reverse=True)) + r")(?!\w)") \
            if clones else None
        # a brand in a host label: hyphens, dots, spaces and apostrophes dropped ("the-brand-proxy2")
        self._label_brands = {re.sub(r"[\s.'’-]", "", b): b for b in names}
        clone_alt = "|".join(re.escape(re.sub(r"\s", "", w)) for w in clones)
        self._label_rest = re.compile(rf"(?:\d{{1,4}}|{clone_alt}|hd|tv|new|online|official|site|app)*")

    # -- media sections -------------------------------------------------------------------

    def media_sections(self, page: ParsedPage) -> tuple[int, str]:
        """Distinct media sections named by the page's menu entries, and a detail."""
        labels = _short_labels(page, self._max_label)
        if not labels:
            return 0, ""
        found: dict[str, str] = {}
        for group, hits in self._sections.groups(" | ".join(labels)).items():
            found.setdefault(str(group), hits[0][2])
        if not found:
            return 0, ""
        named = [f"{s} ('{found[s]}')" for s in SECTIONS if s in found]
        return len(found), f"{len(found)} media sections: " + ", ".join(named)

    # -- brands ---------------------------------------------------------------------------

    def piracy_brand(self, page: ParsedPage) -> tuple[int, str]:
        """1 when the title or a host label names a listed piracy brand or its clone."""
        for _, end, brand, _ in self._title_brands.groups(page.title).get("brand", ()):
            clone = self._clone.match(page.title, end) if self._clone else None
            suffix = f" {clone.group(1)}" if clone else ""
            return 1, f"title names the piracy brand '{brand}{suffix}'"
        labels = page.host.split(".")[:-1] if page.host else []
        for label in labels:
            hit = self._label_brand(label)
            if hit:
                return 1, f"host name '{page.host}' carries the piracy brand '{hit}'"
        return 0, ""

    def _label_brand(self, label: str) -> str | None:
        flat = label.replace("-", "")
        if flat.startswith("the"):
            candidates: Sequence[str] = (flat, flat[3:])
        else:
            candidates = (flat,)
        for text in candidates:
            for key, brand in self._label_brands.items():
                if not key or not text.startswith(key):
                    continue
                if self._label_rest.fullmatch(text[len(key):]):
                    return brand
            for key, brand in self._label_brands.items():
                # long names are distinctive anywhere in a label ("hdtorrentgalaxy")
                if len(key) >= 7 and key in text:
                    return brand
        return None
