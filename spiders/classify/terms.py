"""Many literal terms found in one pass over a text (Aho-Corasick, in C).

Regular-expression alternations of hundreds of terms are scanned term by term at every
position; an automaton finds every occurrence of every term in time linear in the text.
Terms in scripts written with spaces must stand as whole words; terms in scripts written
without them (CJK, kana, hangul, Thai) match anywhere. Overlapping occurrences within one
group are resolved leftmost-longest, as a regular-expression alternation would.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Iterator

import ahocorasick

UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
MAX_OCCURRENCES = 200_000
"""Occurrences examined per text at most (a page repeating one word a million times)."""


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class TermMatcher:
    """Terms, each with a payload of ``(group, data)`` pairs; matched case-sensitively (give
    it normalised terms and normalised text)."""

    def __init__(self, terms: Iterable[tuple[str, Hashable, object]]) -> None:
        """``terms``: ``(term, group, data)``; a term may belong to several groups."""
        entries: dict[str, list[tuple[Hashable, object]]] = {}
        for term, group, data in terms:
            if term:
                entries.setdefault(term, []).append((group, data))
        self._automaton = ahocorasick.Automaton()
        for term, payload in entries.items():
            self._automaton.add_word(term, (term, bool(not UNSPACED.search(term)), tuple(payload)))
        self.empty = not entries
        if entries:
            self._automaton.make_automaton()

    def occurrences(self, text: str) -> Iterator[tuple[int, int, str, tuple[tuple[Hashable, object], ...]]]:
        """``(start, end, term, payload)`` of every whole-word occurrence (overlaps included)."""
        if self.empty or not text:
            return
        n = len(text)
        for count, (last, (term, bounded, payload)) in enumerate(self._automaton.iter(text)):
            if count >= MAX_OCCURRENCES:
                return
            start, end = last - len(term) + 1, last + 1
            if bounded and ((start > 0 and _is_word(text[start - 1])) or (end < n and _is_word(text[end]))):
                continue
            yield start, end, term, payload

    def groups(self, text: str) -> dict[Hashable, list[tuple[int, int, str, object]]]:
        """Per group, its non-overlapping occurrences (leftmost-longest), in text order."""
        found: dict[Hashable, list[tuple[int, int, str, object]]] = {}
        for start, end, term, payload in self.occurrences(text):
            for group, data in payload:
                found.setdefault(group, []).append((start, end, term, data))
        for group, hits in found.items():
            hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
            kept, reach = [], -1
            for h in hits:
                if h[0] >= reach:
                    kept.append(h)
                    reach = h[1]
            found[group] = kept
        return found


class Gated:
    """A regular expression tried only on texts holding one of its required literals.

    ``str.__contains__`` scans a page in microseconds; a pattern that starts with a
    look-behind or a character class costs milliseconds per page even when it cannot match.
    """

    def __init__(self, pattern: re.Pattern[str], literals: Iterable[str]) -> None:
        self.literals = tuple(sorted({lit for lit in literals if lit}, key=len))
        # A leading negative look-behind on one character class defeats the regex engine's
        # first-character scan; it is checked here instead, on each candidate match.
        lead = _LEADING_LOOKBEHIND.match(pattern.pattern)
        self.before: re.Pattern[str] | None = None
        if lead and not pattern.groupindex:
            self.before = re.compile(lead.group(1), pattern.flags)
            pattern = re.compile(pattern.pattern[lead.end():], pattern.flags)
        self.pattern = pattern
        self._literal_rx: re.Pattern[str] | None = None

    def open_on(self, text: str) -> bool:
        return not self.literals or any(lit in text for lit in self.literals)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if not self.open_on(text):
            return iter(())
        if self.before is None:
            return self.pattern.finditer(text)
        before = self.before
        return (m for m in self.pattern.finditer(text) if not (m.start() and before.fullmatch(text[m.start() - 1])))

    def search(self, text: str) -> re.Match[str] | None:
        return next(iter(self.finditer(text)), None)

    def near_literals(self, text: str, before: int, limit: int = 50) -> Iterator[re.Match[str]]:
        """Matches ending at one of the literals, looked for only in the ``before`` characters
        ahead of each (for "12,000 channels": a number, then the word). Offsets are relative
        to the window; at most ``limit`` windows are tried."""
        if not self.literals:
            yield from self.finditer(text)
            return
        if self._literal_rx is None:
            self._literal_rx = re.compile("|".join(re.escape(lit) for lit in sorted(self.literals, key=len, reverse=True)))
        for n, lit in enumerate(self._literal_rx.finditer(text)):
            if n >= limit:
                return
            window = text[max(0, lit.start() - before):lit.end() + 40]
            yield from self.finditer(window)


_LEADING_LOOKBEHIND = re.compile(r"^\(\?<!(\\[wdWD]|\[[^\]]{1,40}\])\)")
