"""Reading a fetched page: its text (whatever charset it claims), title and language."""

from __future__ import annotations

import re

from scrapy.http import Response, TextResponse

MAX_TEXT = 2_000_000
"""Characters of a page that analysis looks at (the evidence keeps the whole body)."""

_SCRIPTS = (
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
)
_LANG_ATTR = re.compile(r"^[a-zA-Z]{2,3}")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(response: Response) -> bool:
    ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    if any(t in ctype for t in HTML_TYPES):
        return True
    return not ctype and isinstance(response, TextResponse) and b"<html" in response.body[:2048].lower()


def decode(response: Response) -> str:
    """The page as text; when the declared charset is a lie, detect the real one."""
    body = response.body[:MAX_TEXT * 2]
    text = response.text[:MAX_TEXT] if isinstance(response, TextResponse) else body.decode("utf-8", "replace")
    if text.count("\ufffd") > max(5, len(text) // 500):
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(body[:1_000_000]).best()
            if best is not None:
                return str(best)[:MAX_TEXT]
        except Exception:  # noqa: BLE001 - detection is a best effort; keep the declared decoding
            pass
    return text


def guess_language(declared: str | None, text: str) -> str | None:
    """The ``<html lang>`` or Content-Language value, else a guess from the script used."""
    if declared:
        m = _LANG_ATTR.match(declared.strip())
        if m:
            return m.group(0).lower()
    sample = text[:20_000]
    counts = [(len(rx.findall(sample)), lang) for lang, rx in _SCRIPTS]
    n, lang = max(counts)
    if n >= 20:
        if lang == "zh" and counts[1][0] >= 10:  # kana beside kanji: Japanese
            return "ja"
        return lang
    return None
