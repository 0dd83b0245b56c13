"""Phone numbers, only where the page says they are phone numbers, normalised to E.164."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import phonenumbers

from spiders.indicators.document import Document, boundary_before, scan
from spiders.indicators.model import Hit, hit

TEL_LINK_RE = re.compile(r"tel:(?<![a-z]tel:)\s{0,3}([^\"'<>\s]{5,40})")
PHONE_WORDS = (
    "phone", "telephone", "tel", "mobile", "mob", "hotline", "call us", "whatsapp", "whats app",
    "viber", "zalo", "signal",
    "電話", "电话", "手机", "手機", "聯絡電話", "联系电话", "전화", "전화번호", "연락처", "휴대폰", "핸드폰",
    "телефон", "тел", "моб", "teléfono", "telefono", "telefone", "téléphone", "telefon", "celular",
    "móvil", "movil", "điện thoại", "sđt", "telepon", "telp", "no hp", "no. hp", "no.hp", "nomor hp",
    "nomor wa", "nomor telepon", "gsm", "هاتف", "الهاتف", "جوال", "واتساب", "واتس", "موبايل", "رقم",
)
"""Words for "phone" in the sites' languages (lower-case), matched as whole words."""
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщъыьэюя0123456789_"
PHONE_CONTEXT_RE = re.compile(
    "(?:" + "|".join(re.escape(w) for w in sorted(PHONE_WORDS, key=len, reverse=True)) + r")(?!\w)"
    r"[^\d+<]{0,30}(?:<[^<>]{0,200}>[^\d+<]{0,30}){0,4}"
    r"(\+?\(?\d[\d \u00a0\-.()/]{5,22}\d)"
)
"""A number within a few words and tags after a word for "phone" (tried where a word occurs)."""

LANGUAGE_REGIONS = {
    "ko": "KR", "ja": "JP", "vi": "VN", "id": "ID", "tr": "TR", "ru": "RU", "th": "TH", "uk": "UA",
    "pl": "PL", "it": "IT", "de": "DE", "fr": "FR", "nl": "NL", "he": "IL", "fa": "IR", "ms": "MY",
    "el": "GR", "cs": "CZ", "hu": "HU", "ro": "RO", "bg": "BG", "sv": "SE", "fi": "FI", "da": "DK",
}
"""Languages spoken mainly in one country; en, es, pt, ar, zh need a region subtag."""
VANITY_TLDS = frozenset(
    "to tv io me cc ws co la sx ag gg fm ai ly so sh nu tk ml ga cf gq pw vc cx ps re su ac "
    "am is lc li mn mu nf pm sc st tf vg vu wf yt bz cd gs im".split()
)
"""Country-code TLDs commonly bought for the name, not the country: no region hint."""


def default_region(doc: Document) -> str | None:
    """The region to read national-format numbers in: ``<html lang>`` subtag, ccTLD, then language."""
    lang = doc.lang.replace("_", "-").split("-")
    if len(lang) > 1 and len(lang[1]) == 2 and lang[1].upper() in phonenumbers.SUPPORTED_REGIONS:
        return lang[1].upper()
    tld = doc.host.rsplit(".", 1)[-1] if "." in doc.host else ""
    if len(tld) == 2 and tld not in VANITY_TLDS:
        region = "GB" if tld == "uk" else tld.upper()
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    return LANGUAGE_REGIONS.get(lang[0].lower())


def to_e164(raw: str, region: str | None, *, strict: bool = True) -> str | None:
    """E.164 form of ``raw`` read in ``region``; ``None`` if not a (valid, when ``strict``) number."""
    raw = raw.strip()
    if raw.startswith("00") and region is None:
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if ok else None


def phone_hit(text: str, start: int, end: int, raw: str, doc: Document) -> Hit | None:
    """A ``phone`` hit for a number known to be a phone number (a WhatsApp or Telegram link)."""
    value = to_e164(raw, default_region(doc))
    return hit(text, start, end, "phone", value) if value else None


def find_phones(doc: Document) -> Iterator[Hit]:
    """``tel:`` links (E.164 when parseable, else their digits) and numbers next to a phone word."""
    text, low = doc.text, doc.lower
    region = default_region(doc)
    for m in TEL_LINK_RE.finditer(low):
        raw = unquote(text[m.start(1):m.end(1)]).split(";", 1)[0].split("?", 1)[0]
        digits = re.sub(r"\D", "", raw)
        if not 6 <= len(digits) <= 15:
            continue
        value = to_e164(raw, region)  # a number that is not valid there keeps its digits as written
        if value is None:
            value = ("+" if raw.lstrip().startswith("+") else "") + digits
        yield hit(text, m.start(), m.end(), "phone", value)
    for m in scan(doc, PHONE_WORDS, PHONE_CONTEXT_RE):
        if not boundary_before(low, m.start(), _WORD_CHARS):
            continue
        value = to_e164(m.group(1), region)
        if value:
            yield hit(text, m.start(1), m.end(1), "phone", value)
