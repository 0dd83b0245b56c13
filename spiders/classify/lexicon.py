"""Multilingual vocabulary: one TOML file per language, one compiled matcher per section.

A lexicon file ``config/classifier/lexicon/<lang>.toml`` has sections named after
categories (``[streaming] terms = [...]``) or cues (``evasion``, ``neg_editorial``...).
Terms are matched case-insensitively on NFKC-normalised text; terms in scripts written
without spaces (CJK, kana, hangul, Thai) match anywhere, others on word boundaries.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def normalise(text: str) -> str:
    """Lower-case, NFKC-normalised text with Turkish dotted capitals folded."""
    text = unicodedata.normalize("NFKC", text).replace("İ", "i")
    return text.lower().replace("i\u0307", "i")


@dataclass(frozen=True)
class Match:
    """Distinct terms of one section found in a text, each with its language."""

    terms: tuple[tuple[str, str], ...]  # (term, lang), in first-seen order
    hits: int

    @property
    def count(self) -> int:
        """Number of distinct terms."""
        return len(self.terms)

    def only(self, languages: frozenset[str]) -> Match:
        """The same match restricted to terms of ``languages``."""
        terms = tuple(t for t in self.terms if t[1] in languages)
        return self if len(terms) == len(self.terms) else Match(terms, len(terms))

    def describe(self, limit: int = 4) -> str:
        """``"'watch free', 'full movie' (en); 'ver online' (es)"``, at most ``limit`` terms."""
        by_lang: dict[str, list[str]] = {}
        for term, lang in self.terms[:limit]:
            by_lang.setdefault(lang, []).append(f"'{term}'")
        more = f" +{self.count - limit} more" if self.count > limit else ""
        return "; ".join(f"{', '.join(t)} ({lang})" for lang, t in by_lang.items()) + more


@dataclass
class _Section:
    """Compiled matchers for one section: bounded and unbounded alternations."""

    lang_of: dict[str, str] = field(default_factory=dict)
    bounded: re.Pattern[str] | None = None
    unbounded: re.Pattern[str] | None = None


def _alternation(terms: list[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))


class Lexicon:
    """All languages' vocabulary, compiled once per classifier instance."""

    def __init__(self, sections: Mapping[str, Mapping[str, str]]) -> None:
        """``sections`` maps section name → {normalised term: language}."""
        self._sections: dict[str, _Section] = {}
        for name, terms in sections.items():
            sec = _Section(lang_of=dict(terms))
            bounded = [t for t in terms if not _UNSPACED.search(t)]
            unbounded = [t for t in terms if _UNSPACED.search(t)]
            if bounded:
                sec.bounded = re.compile(rf"(?<!\w)(?:{_alternation(bounded)})(?!\w)")
            if unbounded:
                sec.unbounded = re.compile(_alternation(unbounded))
            self._sections[name] = sec
        self.languages: tuple[str, ...] = tuple(sorted({lang for t in sections.values() for lang in t.values()}))

    @property
    def sections(self) -> tuple[str, ...]:
        """Names of all sections present in any language."""
        return tuple(self._sections)

    def match(self, section: str, text: str) -> Match:
        """Distinct terms of ``section`` in already-normalised ``text``."""
        sec = self._sections.get(section)
        if sec is None or not text:
            return Match((), 0)
        seen: dict[str, str] = {}
        hits = 0
        for pattern in (sec.bounded, sec.unbounded):
            if pattern is None:
                continue
            for m in pattern.finditer(text):
                hits += 1
                term = m.group(0)
                if term not in seen:
                    seen[term] = sec.lang_of.get(term, "?")
        return Match(tuple(seen.items()), hits)


def load_lexicon(directory: Path) -> Lexicon:
    """Read every ``<lang>.toml`` in ``directory`` into one :class:`Lexicon`."""
    sections: dict[str, dict[str, str]] = {}
    # English first: a term shared by several languages is reported as English.
    for path in sorted(directory.glob("*.toml"), key=lambda p: (p.stem != "en", p.stem)):
        lang = path.stem
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for section, body in data.items():
            if not isinstance(body, dict) or not isinstance(body.get("terms"), list):
                raise ValueError(f"{path.name}: section [{section}] needs a 'terms' list")
            target = sections.setdefault(section, {})
            for term in body["terms"]:
                if not isinstance(term, str) or not term.strip():
                    raise ValueError(f"{path.name}: [{section}] has an empty or non-string term")
                target.setdefault(normalise(term.strip()), lang)
    return Lexicon(sections)
