"""Scraped strings made inert for a terminal: control characters shown, never obeyed.

Page titles, registrar names, certificate fields, DNS answers and every other string that
came from outside are attacker-chosen. Printed raw, ``ESC[2J`` clears the analyst's screen,
cursor moves overwrite what was shown, an OSC sequence sets the window title (or, in some
terminals, writes to the clipboard), and a bidi override (U+202E) shows ``gro.elpmaxe`` as
``example.org``. Every terminal and Markdown rendering goes through :func:`inert`; the
store keeps the raw text.

- C0 controls (U+0000-U+001F, ESC among them), DEL and C1 controls (U+0080-U+009F, 8-bit CSI
  and OSC among them) are shown as ``\\x1b``, newline, tab and carriage return as ``\\n``,
  ``\\t``, ``\\r``; ``newlines=True`` keeps newline and tab (multi-line text, such as a log
  record with its traceback).
- Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the implicit
  marks (U+200E, U+200F, U+061C), line and paragraph separators (U+2028, U+2029) and lone
  surrogates (which no terminal encoding can print) are shown as ``\\u202e``.

:func:`json_text` is ``json.dumps`` with the same characters escaped (``json.dumps`` escapes C0
controls but, with ``ensure_ascii=False``, prints C1 controls and bidi overrides raw); the
result decodes to exactly the same data.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ANY_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_UNSAFE_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI_AND_SEPARATORS}]")


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(value: Any, newlines: bool = False) -> str:
    """``value`` as text safe to print: every control, bidi and separator character escaped
    (``\\x1b``, ``\\u202e``); with ``newlines``, newline and tab are kept. ``None`` is ``""``."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return (_UNSAFE_KEEP_LINES if newlines else _ANY_UNSAFE).sub(_shown, text)


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character :func:`inert` would escape (newlines count)."""
    return bool(_ANY_UNSAFE.search(text))


def inert_tree(value: Any) -> Any:
    """``value`` with every string in it (dict keys, lists, tuples) made :func:`inert`;
    other values (numbers, datetimes, None) as they are."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {inert_tree(k): inert_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [inert_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(inert_tree(v) for v in value)
    return value


def json_text(value: Any, **dumps: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **dumps)`` with DEL, C1 controls, bidi
    controls, line separators and lone surrogates written as ``\\uXXXX`` escapes: the same JSON data, inert
    on a terminal. (Those characters can only occur inside JSON strings, where the escape
    means the same character.)"""
    text = json.dumps(value, ensure_ascii=False, **dumps)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
