"""Contacts an operator publishes: e-mail, Telegram, Discord, WhatsApp and PayPal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from urllib.parse import parse_qs, unquote, urlsplit

from spiders.indicators.document import Document, boundary_before, host_of, scan
from spiders.indicators.model import Hit, hit
from spiders.indicators.phones import phone_hit

# --- e-mail -----------------------------------------------------------------------------

_LOCAL = r"[A-Za-z0-9._%+-]{1,64}"
_DOMAIN = r"(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}"
EMAIL_RE = re.compile(rf"(?<![A-Za-z0-9._%+-])({_LOCAL})@({_DOMAIN})(?![A-Za-z0-9-])")

_AT = r"\s{0,3}[\[\(\{<]\s{0,2}(?:at|@)\s{0,2}[\]\)\}>]\s{0,3}"
_DOT = r"(?:\s{0,3}[\[\(\{<]\s{0,2}(?:dot|\.)\s{0,2}[\]\)\}>]\s{0,3}|\s{1,3}dot\s{1,3}|\.)"
OBFUSCATED_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+-])({_LOCAL}){_AT}((?:[A-Za-z0-9-]{{1,63}}{_DOT}){{1,8}}[A-Za-z]{{2,24}})(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
"""``name [at] domain [dot] com``, ``name(at)domain.com``, ``name [at] domain dot com``."""
_DOT_SEP_RE = re.compile(_DOT, re.IGNORECASE)
_AT_GATE_RE = re.compile(r"[\[\(\{<]\s{0,2}(?:at|@)\s{0,2}[\]\)\}>]")
"""Cheap test for a bracketed "at" before the costlier obfuscated-address pattern runs."""

FILE_EXTENSIONS = frozenset(
    "png jpg jpeg gif webp svg ico bmp avif tif tiff heic css js mjs map json xml txt mp4 webm m3u8 "
    "mp3 woff woff2 ttf otf eot pdf zip php html htm".split()
)
"""A "TLD" that is a file extension marks an asset name such as ``logo@2x.png``."""
PLACEHOLDER_DOMAINS = frozenset(
    "example.com example.org example.net domain.com yourdomain.com yoursite.com mysite.com "
    "email.com mail.com test.com website.com company.com sentry.io wixpress.com "
    "sentry-next.wixpress.com".split()
)
PLACEHOLDER_PARENTS = (".example.com", ".example.net", ".example.org")
PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", ".local", ".localhost", ".sentry.io")
PLACEHOLDER_LOCALS = frozenset(
    "you your yourname youremail your.name your.email your-email your_email name username user "
    "email someone somebody john.doe jane.doe johndoe".split()
)


def normalise_email(local: str, domain: str) -> str | None:
    """``local@domain`` lower-cased, or ``None`` for an asset name, placeholder or malformed address."""
    local, domain = local.strip(".").lower(), domain.lower()
    if not local or ".." in local or domain.rsplit(".", 1)[-1] in FILE_EXTENSIONS:
        return None
    if domain in PLACEHOLDER_DOMAINS or domain.endswith(PLACEHOLDER_SUFFIXES):
        return None
    if domain.startswith("example.") or domain.endswith(PLACEHOLDER_PARENTS) or local in PLACEHOLDER_LOCALS:
        return None
    if any(label.startswith("-") or label.endswith("-") for label in domain.split(".")):
        return None
    return f"{local}@{domain}"


def find_emails(doc: Document) -> Iterator[Hit]:
    """Plain and simply obfuscated e-mail addresses, lower-cased."""
    text = doc.text
    for m in (EMAIL_RE.finditer(text) if "@" in text else ()):
        value = normalise_email(m.group(1), m.group(2))
        if value:
            yield hit(text, m.start(), m.end(), "email", value)
    if not _AT_GATE_RE.search(doc.lower):
        return
    for m in OBFUSCATED_EMAIL_RE.finditer(text):
        value = normalise_email(m.group(1), _DOT_SEP_RE.sub(".", m.group(2)))
        if value:
            yield hit(text, m.start(), m.end(), "email", value)


# --- Telegram ---------------------------------------------------------------------------

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.-"
TELEGRAM_URL_RE = re.compile(
    r"(?:t\.me|telegram\.me|telegram\.dog)/"
    r"(?:(?:joinchat/|\+)([a-z0-9_-]{6,64})|(?:s/)?@?([a-z][a-z0-9_]{3,31}))(?![a-z0-9_-])"
)
TG_SCHEME_RE = re.compile(
    r"tg://(?:resolve\?domain=([a-z][a-z0-9_]{3,31})|join\?invite=([a-z0-9_-]{6,64}))(?![a-z0-9_-])"
)
TELEGRAM_WORDS = (
    "telegram", "텔레그램", "텔레", "텔그", "телеграмм", "телеграм", "телега", "電報", "电报", "纸飞机",
    "飞机", "テレグラム", "تيليجرام", "تيليغرام", "تلغرام", "تليجرام", "تلگرام", "تیلیگرام", "tg", "тг",
)
"""Words for Telegram in the sites' languages (lower-case); "tg"/"тг" only as whole words."""
_TG_WORDS_RE = "|".join(
    rf"(?<!\w){w}(?!\w)" if len(w) <= 2 else re.escape(w) for w in sorted(TELEGRAM_WORDS, key=len, reverse=True)
)
TG_HANDLE_RE = re.compile(
    rf"(?:{_TG_WORDS_RE})[^@]{{0,80}}?(?<![a-z0-9_.])@([a-z][a-z0-9_]{{4,31}})(?![a-z0-9_@-]|\.[a-z0-9])"
)
"""An ``@handle`` after a word for Telegram (tried only where such a word occurs)."""
TG_HANDLE_BEFORE_RE = re.compile(
    rf"@(?<![a-z0-9_.]@)([a-z][a-z0-9_]{{4,31}})\s{{0,3}}[(\[（]?\s{{0,3}}(?:{_TG_WORDS_RE})"
)
"""``@handle (Telegram)``."""
TELEGRAM_RESERVED = frozenset(
    "share addstickers addemoji addtheme addlist setlanguage proxy socks login confirmphone "
    "invoice boost contact joinchat telegram".split()
)
HANDLE_NOT_TELEGRAM = frozenset(
    "media import keyframes supports charset namespace layer container property context graph "
    "gmail yahoo hotmail".split()
)
"""CSS at-rules, JSON-LD keys and mail providers that an ``@word`` near "telegram" can be."""


def find_telegram(doc: Document) -> Iterator[Hit]:
    """``t.me/<name>`` (lower-case) for usernames, ``t.me/+<hash>`` (case kept) for invites."""
    text, low = doc.text, doc.lower
    for m in TELEGRAM_URL_RE.finditer(low):
        if not boundary_before(low, m.start(), _NAME_CHARS):
            continue
        if m.group(1):
            invite = text[m.start(1):m.end(1)]
            yield hit(text, m.start(), m.end(), "telegram", f"t.me/+{invite}")
            if invite.isdigit():
                found = phone_hit(text, m.start(), m.end(), "+" + invite, doc)
                if found:
                    yield found
        elif m.group(2) not in TELEGRAM_RESERVED:
            yield hit(text, m.start(), m.end(), "telegram", f"t.me/{m.group(2)}")
    for m in TG_SCHEME_RE.finditer(low):
        value = f"t.me/{m.group(1)}" if m.group(1) else f"t.me/+{text[m.start(2):m.end(2)]}"
        yield hit(text, m.start(), m.end(), "telegram", value)
    handles = chain(scan(doc, TELEGRAM_WORDS, TG_HANDLE_RE), TG_HANDLE_BEFORE_RE.finditer(low))
    for m in handles:
        name = m.group(1)
        if name not in HANDLE_NOT_TELEGRAM and name not in TELEGRAM_RESERVED:
            yield hit(text, m.start(1) - 1, m.end(1), "telegram", f"t.me/{name}")


# --- Discord ----------------------------------------------------------------------------

DISCORD_RE = re.compile(r"discord(?:\.gg|(?:app)?\.com/invite)/(?:invite/)?([a-z0-9-]{2,32})(?![a-z0-9_-])")


def find_discord(doc: Document) -> Iterator[Hit]:
    """Discord invites as ``discord.gg/<code>`` (codes are case-sensitive: kept as written)."""
    text, low = doc.text, doc.lower
    for m in DISCORD_RE.finditer(low):
        if boundary_before(low, m.start(), _NAME_CHARS):
            yield hit(text, m.start(), m.end(), "discord", f"discord.gg/{text[m.start(1):m.end(1)]}")


# --- WhatsApp ---------------------------------------------------------------------------

WHATSAPP_LITERALS = ("wa.me/", "whatsapp.com/send", "whatsapp://send")
WHATSAPP_NUMBER_RE = re.compile(
    r"(?:wa\.me/|whatsapp\.com/send/?\?(?:[^\"'\s<>#]{0,100}?&)?phone=|whatsapp://send/?\?(?:[^\"'\s<>#]{0,100}?&)?phone=)"
    r"(?:%2b|\+)?(\d{6,15})(?!\d)"
)
WHATSAPP_GROUP_RE = re.compile(r"chat\.whatsapp\.com/(?:invite/)?([a-z0-9]{10,40})(?![a-z0-9])")


def find_whatsapp(doc: Document) -> Iterator[Hit]:
    """``wa.me/<digits>`` for numbers (each also a ``phone``), ``chat.whatsapp.com/<code>`` for groups."""
    text, low = doc.text, doc.lower
    for m in scan(doc, WHATSAPP_LITERALS, WHATSAPP_NUMBER_RE):
        if m.group().startswith("wa.me") and not boundary_before(low, m.start(), _NAME_CHARS):
            continue
        digits = m.group(1)
        yield hit(text, m.start(), m.end(), "whatsapp", f"wa.me/{digits}")
        found = phone_hit(text, m.start(1), m.end(1), "+" + digits, doc)
        if found:
            yield found
    for m in WHATSAPP_GROUP_RE.finditer(low):
        yield hit(text, m.start(), m.end(), "whatsapp", f"chat.whatsapp.com/{text[m.start(1):m.end(1)]}")


# --- PayPal -----------------------------------------------------------------------------

PAYPAL_ME_RE = re.compile(r"(?:www\.)?paypal(?:\.me|\.com/paypalme)/([a-z0-9_.-]{1,40})(?![a-z0-9_-])")
PAYPAL_URL_RE = re.compile(r"//(?:www\.)?paypal\.com/[^\s\"'<>?]{0,80}\?[^\s\"'<>]{1,1000}")
"""A PayPal URL with a query string (donate buttons, ``cgi-bin/webscr?business=…``)."""


def _paypal_account(name: str, value: str) -> str | None:
    value = unquote(value).strip()
    if name == "business":
        email = EMAIL_RE.fullmatch(value)
        if email:
            return normalise_email(email.group(1), email.group(2))
        return f"merchant:{value.upper()}" if re.fullmatch(r"[A-Za-z0-9]{8,20}", value) else None
    if name == "hosted_button_id" and re.fullmatch(r"[A-Za-z0-9]{6,20}", value):
        return f"hosted_button_id:{value.upper()}"
    return None


def find_paypal(doc: Document) -> Iterator[Hit]:
    """``paypal.me/<name>`` (lower-case), a form's or link's ``business`` e-mail or merchant id,
    and ``hosted_button_id:<ID>`` of a donate button."""
    text, low = doc.text, doc.lower
    if "paypal" not in low and not doc.paypal_fields:
        return
    for m in PAYPAL_ME_RE.finditer(low):
        name = m.group(1).rstrip(".")
        if name and boundary_before(low, m.start(), _NAME_CHARS):
            yield hit(text, m.start(), m.end(), "paypal", f"paypal.me/{name}")
    for m in PAYPAL_URL_RE.finditer(low):
        url = text[m.start():m.end()]
        if host_of(url).endswith("paypal.com"):
            for name, values in parse_qs(urlsplit(url).query).items():
                account = _paypal_account(name.lower(), values[0]) if values else None
                if account:
                    yield hit(text, m.start(), m.end(), "paypal", account)
    for name, value in doc.paypal_fields:
        account = _paypal_account(name, value)
        if account:
            pos = text.find(value)
            start = pos if pos >= 0 else len(text)
            yield hit(text, start, start + len(value), "paypal", account)
