"""Domain registration facts, as parsed from RDAP or WHOIS, and the normalisers both parsers share.

A :class:`Registration` is the protocol-neutral result of one lookup: the WHOIS parser
(:mod:`enrich.whois_parse`) and the RDAP parser (:mod:`enrich.rdap_parse`) both produce it, so
the glue that caches lookups and maps them to rows never needs to know which protocol
answered. Every value is normalised here, in one place, so that the same registration read
over RDAP and over WHOIS compares equal field by field: host names lower-case without the
trailing dot, EPP status codes in their RFC 5731 camelCase spelling, dates as UTC datetimes.

Nothing in this module does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

Source = Literal["rdap", "whois"]
Status = Literal["found", "not_found", "throttled", "error"]


@dataclass(frozen=True)
class Registration:
    """What a registry or registrar says about one domain name."""

    domain: str
    """The domain asked about: lower-case, no trailing dot."""
    source: Source
    """Which protocol answered: ``"rdap"`` or ``"whois"``."""
    status: Status
    """``found``; ``not_found`` (no such registration, or reserved and not registrable);
    ``throttled`` (the server refused to answer for now); ``error`` (see :attr:`error`)."""
    registrar: str | None = None
    """The sponsoring registrar's name (for .ru and other ccTLDs: its registry handle)."""
    registrar_iana_id: int | None = None
    """The registrar's IANA ID, when the answer publishes one."""
    created: datetime | None = None
    """Registration date, UTC."""
    updated: datetime | None = None
    """Last change of the registration (not of the server's database), UTC."""
    expires: datetime | None = None
    """Expiry date (the registry's where both are published), UTC."""
    nameservers: tuple[str, ...] = ()
    """Delegated name servers: lower-case, no trailing dot, sorted, unique."""
    statuses: tuple[str, ...] = ()
    """EPP status codes in camelCase (``clientTransferProhibited``; RDAP ``active`` is ``ok``),
    sorted, unique. Registries without EPP codes (.ru) give their own words the same way."""
    registrant_org: str | None = None
    """The registrant's organisation as published (a privacy service's name counts)."""
    registrant_country: str | None = None
    """The registrant's country as an ISO 3166 alpha-2 code, upper-case."""
    abuse_email: str | None = None
    """The registrar's abuse contact, lower-case."""
    redacted: bool = False
    """Privacy or redaction detected: placeholders such as "REDACTED FOR PRIVACY", a privacy
    or proxy service as registrant, RFC 9537 ``redacted`` members, KISA's ``Publishes: N``."""
    referral_server: str | None = None
    """The registrar's WHOIS server named by a thin registry ("Registrar WHOIS Server:")."""
    error: str | None = None
    """One line saying why, when :attr:`status` is ``"error"``."""


def failed(domain: str, source: Source, status: Status, error: str | None = None) -> Registration:
    """A Registration without data: not found, throttled or an error with its reason."""
    return Registration(domain=normalise_domain(domain), source=source, status=status,
                        error=one_line(error) if status == "error" else None)


def one_line(text: str | None, limit: int = 200) -> str:
    """``text`` squeezed to a single line of at most ``limit`` characters."""
    squeezed = " ".join(str(text or "").split())
    return squeezed if len(squeezed) <= limit else squeezed[: limit - 1] + "…"


def normalise_domain(name: object) -> str:
    """A domain name as this package stores it: lower-case, stripped, no trailing dot."""
    return str(name or "").strip().lower().rstrip(".")[:253]


# -- host names ----------------------------------------------------------------------------------

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$")


def normalise_hostname(value: object) -> str | None:
    """The host name in ``value`` (first word, lower-case, no trailing dot), or None when it
    does not look like one ("No nameserver", "-", "not defined")."""
    if not isinstance(value, str):
        return None
    words = value.strip().split()
    if not words:
        return None
    host = words[0].strip(",;").lower().rstrip(".")
    if len(host) > 253 or not _HOSTNAME.match(host):
        return None
    return host


def nameserver_tuple(values: object) -> tuple[str, ...]:
    """Sorted, unique, normalised host names out of an iterable of raw values."""
    if not isinstance(values, list | tuple):
        return ()
    hosts = {h for h in (normalise_hostname(v) for v in values) if h}
    return tuple(sorted(hosts))


# -- EPP status codes ----------------------------------------------------------------------------

EPP_CODES = (
    "ok", "inactive", "linked",
    "clientDeleteProhibited", "clientHold", "clientRenewProhibited", "clientTransferProhibited",
    "clientUpdateProhibited", "serverDeleteProhibited", "serverHold", "serverRenewProhibited",
    "serverTransferProhibited", "serverUpdateProhibited",
    "pendingCreate", "pendingDelete", "pendingRenew", "pendingTransfer", "pendingUpdate",
    "pendingRestore", "addPeriod", "autoRenewPeriod", "renewPeriod", "transferPeriod",
    "redemptionPeriod",
)
"""RFC 5731 domain statuses and the RFC 3915 grace periods."""
_EPP_BY_KEY = {code.lower(): code for code in EPP_CODES}
_EPP_ALIASES = {"active": "ok"}
"""RFC 8056 maps EPP ``ok`` to RDAP ``active``; old RRP WHOIS answers say ``ACTIVE`` too."""


def normalise_status(value: object) -> str | None:
    """An EPP status in camelCase, from RDAP's ``client transfer prohibited``, Verisign's old
    ``CLIENT-XFER-PROHIBITED`` or WHOIS's ``clientTransferProhibited``; other words (.ru
    ``REGISTERED``) become camelCase the same way. None for an empty value."""
    if not isinstance(value, str):
        return None
    words = [w for w in re.split(r"[\s_\-]+", value.strip()) if w][:8]
    if not words:
        return None
    key = "".join(words).lower().replace("xfer", "transfer")
    if key in _EPP_ALIASES:
        return _EPP_ALIASES[key]
    if key in _EPP_BY_KEY:
        return _EPP_BY_KEY[key]
    if len(words) == 1:
        word = words[0]
        return word.lower() if word.isupper() or word.islower() else word[0].lower() + word[1:]
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def status_tuple(values: object) -> tuple[str, ...]:
    """Sorted, unique, normalised status codes out of an iterable of raw values."""
    if not isinstance(values, list | tuple):
        return ()
    codes = {c for c in (normalise_status(v) for v in values[:64]) if c}
    return tuple(sorted(codes))


# -- people, organisations, countries ------------------------------------------------------------

PLACEHOLDER = re.compile(
    r"^\W*(?:redacted(?: for privacy)?|data protected(?:, not disclosed)?|not disclosed|"
    r"non-public data|withheld(?: for privacy)?|private person|private|privacy|"
    r"gdpr masked|statutory masking enabled|hidden|not available|n/?a|none|-)\W*$",
    re.IGNORECASE)
"""A value that stands in for withheld data; it is never the data itself."""

PRIVACY = re.compile(
    r"redacted|data protected|not disclosed|non-public|withheld|privacy|private person|"
    r"private by design|by proxy|proxy protection|whoisguard|whois ?protect|contacts?protection|"
    r"domain protection|identity protect|gdpr|masking|masked",
    re.IGNORECASE)
"""Words that say a contact is hidden or replaced by a privacy/proxy service."""


def is_placeholder(value: str | None) -> bool:
    """Whether ``value`` is a stand-in ("REDACTED FOR PRIVACY", "-", "N/A") rather than data."""
    return bool(value) and bool(PLACEHOLDER.match(value or ""))


def is_private(value: str | None) -> bool:
    """Whether ``value`` says the contact is redacted or a privacy service."""
    return bool(value) and bool(PRIVACY.search(value or ""))


def clean_text(value: object, limit: int = 300) -> str | None:
    """A published free-text value, single-line; None for empty values and placeholders."""
    if not isinstance(value, str):
        return None
    text = one_line(value, limit)
    return None if not text or is_placeholder(text) else text


def country_code(value: object) -> str | None:
    """An ISO 3166 alpha-2 code (upper-case) when ``value`` is one, else None."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None


def email_address(value: object) -> str | None:
    """A lower-case e-mail address out of ``value`` (``mailto:`` stripped), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip().removeprefix("mailto:").strip().lower()
    match = re.fullmatch(r"[^@\s<>\"']{1,64}@[a-z0-9.-]{1,253}\.[a-z0-9-]{2,63}", text)
    return text if match else None


# -- dates ---------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?", re.IGNORECASE)
_YMD = re.compile(r"(\d{4})\s*[./]\s*(\d{1,2})\s*[./]\s*(\d{1,2})\.?(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?")
_DMY = re.compile(r"(\d{1,2})[-\s]([a-z]{3})[a-z]*\.?[-\s,]+(\d{4})", re.IGNORECASE)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value: object) -> datetime | None:
    """A UTC datetime from the date formats registries print, None when there is none.

    Handles ISO 8601 (``Z``, ``+02:00``, ``-0700``, fractions), ``2007-03-14``, KISA's
    ``2007. 03. 14.``, ``2007/03/14``, ``2007.03.14``, ``14-Mar-2007``, RFC 2822 and
    ``20070314``. Dates without a zone are taken as UTC. Vague values ("before Aug-1996") and
    impossible ones (month 13) give None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()[:80]
    if not text or text.lower().startswith(("before", "after")):
        return None
    for parse in (_parse_iso, _parse_ymd, _parse_dmy, _parse_rfc2822, _parse_compact):
        try:
            parsed = parse(text)
        except (ValueError, OverflowError, TypeError, IndexError):
            parsed = None
        if parsed is not None:
            return parsed
    return None


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
         micro: int = 0, tz: timezone = UTC) -> datetime | None:
    if not 1900 <= year <= 2200:
        return None
    return datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=tz).astimezone(UTC)


def _zone(text: str | None) -> timezone:
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_iso(text: str) -> datetime | None:
    m = _ISO.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return _utc(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, _zone(tz))


def _parse_ymd(text: str) -> datetime | None:
    m = _YMD.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = m.groups()
    return _utc(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))


def _parse_dmy(text: str) -> datetime | None:
    m = _DMY.match(text)
    if not m or m.group(2).lower() not in _MONTHS:
        return None
    return _utc(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))


def _parse_rfc2822(text: str) -> datetime | None:
    if not re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d", text):
        return None
    parsed = parsedate_to_datetime(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _parse_compact(text: str) -> datetime | None:
    m = _COMPACT.fullmatch(text)
    return _utc(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
