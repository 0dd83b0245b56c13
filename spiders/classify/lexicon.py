"""Multilingual vocabulary: one TOML file per language, one automaton for all of it.

A lexicon file ``config/classifier/lexicon/<lang>.toml`` has sections named after
categories (``[streaming] terms = [...]``) or cues (``evasion``, ``neg_editorial``...).
Terms are matched case-insensitively on NFKC-normalised text; terms in scripts written
without spaces (CJK, kana, hangul, Thai) match anywhere, others on word boundaries.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from spiders.classify.terms import TermMatcher


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


class Lexicon:
    """All languages' vocabulary, in one automaton built once per classifier instance."""

    def __init__(self, sections: Mapping[str, Mapping[str, str]]) -> None:
        """``sections`` maps section name → {normalised term: language}."""
        self._sections = tuple(sections)
        self._matcher = TermMatcher((term, name, lang) for name, terms in sections.items()
                                    for term, lang in terms.items())
        self.languages: tuple[str, ...] = tuple(sorted({lang for t in sections.values() for lang in t.values()}))

    @property
    def sections(self) -> tuple[str, ...]:
        """Names of all sections present in any language."""
        return self._sections

    def match_all(self, text: str) -> dict[str, Match]:
        """Per section, the distinct terms found in already-normalised ``text`` (one pass)."""
        out: dict[str, Match] = {}
        for section, hits in self._matcher.groups(text).items():
            seen: dict[str, str] = {}
            for _, _, term, lang in hits:
                seen.setdefault(term, str(lang))
            out[str(section)] = Match(tuple(seen.items()), len(hits))
        return out

    def match(self, section: str, text: str) -> Match:
        """Distinct terms of ``section`` in already-normalised ``text``."""
        return self.match_all(text).get(section, Match((), 0))


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
