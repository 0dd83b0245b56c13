"""Parse a port-43 WHOIS answer about one domain into a :class:`~enrich.registration.Registration`.

WHOIS has no schema: every registry and registrar prints its own ``key: value`` dialect.
Rather than one parser per server, the answer is read as a list of ``(key, value)`` pairs and
each field is looked up under every key a known server uses for it (see ``FIELD_KEYS``).
The dialects covered, after the captured answers in ``../shared/data/whois/``:

* ICANN's 2013 RAA / RDDS layout (Verisign .com/.net/.cc/.tv, PIR .org, CentralNic .xyz,
  Identity Digital .io/.me and registrar servers such as MarkMonitor, Namecheap, Com Laude);
* Verisign's pre-2014 thin layout (``Whois Server:``, ``Status: CLIENT-XFER-PROHIBITED``,
  ``Expiration Date: 26-mar-2011``), which may list several records;
* KISA .kr (Korean then English blocks; the English keys are read, dates ``2007. 03. 02.``);
* TCI .ru (``registrar:``, ``created:``, ``paid-till:``, ``state:``, ``org:``/``person:``);
* IIS .se (``holder:`` handle, ``modified:``, ``expires:``, ``nserver:`` with addresses);
* Tonic .to, whose whole answer is ``<label> <name server>`` lines.

An answer without registration data is classified by its wording: not found (including
.io's "Domain reserved", which cannot be registered either), throttled, or an error. The
parser never raises; it reads at most the first ``MAX_CHARS`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from enrich.registration import (
    Registration,
    clean_text,
    country_code,
    email_address,
    failed,
    is_private,
    nameserver_tuple,
    normalise_domain,
    normalise_hostname,
    one_line,
    parse_date,
    status_tuple,
)

MAX_CHARS = 200_000
"""Longest answer read; real answers are under 10 kB, anything longer is cut here."""
MAX_LINE = 1_000

FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "registrar": ("registrar", "sponsoring registrar", "registrar name", "authorized agency"),
    "iana_id": ("registrar iana id", "sponsoring registrar iana id"),
    "created": ("creation date", "created", "created on", "created date", "registered date",
                "registration date", "registered on", "registered", "domain registration date"),
    "updated": ("updated date", "last updated date", "last updated", "updated on", "modified",
                "last modified", "changed", "last-modified"),
    "expires": ("registry expiry date", "registrar registration expiration date",
                "expiration date", "expiry date", "expires", "expires on", "expire date",
                "paid-till", "valid until", "registry expiration date"),
    "nameservers": ("name server", "nameserver", "nameservers", "nserver", "name servers",
                    "host name"),
    "statuses": ("domain status", "status"),
    "state": ("state",),
    "registrant_org": ("registrant organization", "registrant organisation", "registrant org",
                       "org", "registrant"),
    "registrant_country": ("registrant country", "registrant country code", "registrant country/economy"),
    "abuse_email": ("registrar abuse contact email", "abuse contact email"),
    "referral": ("registrar whois server", "whois server"),
}
"""Keys (lower-case, spaces squeezed) under which each field appears, most specific first."""

CONTACT_KEY = re.compile(
    r"^(?:registry )?(?:registrant|admin|administrative|tech|technical|billing|owner|holder|"
    r"person|org|ac)\b")
"""Keys of contact fields, the only ones checked for privacy wording (legal notices elsewhere
talk about privacy without anything being redacted)."""

NOT_FOUND = re.compile(
    r"\bno match(?:es)? for\b|\bnot found\b|\bno data found\b|\bno entries found\b|"
    r"\bno object found\b|\bobject does not exist\b|\bno such domain\b|\bdomain (?:name )?reserved\b|"
    r"\bis (?:available|free) for registration\b|^\s*status:\s*(?:available|free)\s*$|"
    r"returned 0 objects|등록되어 있지 않습니다",
    re.IGNORECASE | re.MULTILINE)
THROTTLED = re.compile(
    r"\bexceeded\b|\brate limit|\btry again later\b|\bquery rate\b|\btoo many (?:requests|queries)\b|"
    r"\bqueried interval is too short\b|\bplease wait\b|\bquota\b|\btemporarily (?:blocked|denied)\b",
    re.IGNORECASE)
_PAIR = re.compile(r"^([^:]{1,60}?)\s*:\s?(.*)$")
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
_TONIC_HEADER = "tonic whoisd"


def parse_whois(text: str, domain: str, server: str = "") -> Registration:
    """The registration that a WHOIS answer ``text`` from ``server`` describes for ``domain``.

    ``server`` is only reported in error messages; the dialect is recognised from the text
    itself, so a registrar answering in another registrar's layout still parses.
    """
    name = normalise_domain(domain)
    body = _as_text(text)
    if body is None:
        return failed(name, "whois", "error", f"answer is {type(text).__name__}, not text")
    problem = _unreadable(body)
    if problem:
        return failed(name, "whois", "error", f"{problem}{_from(server)}")
    if _TONIC_HEADER in body[:200].lower():
        return _parse_tonic(body, name, server)
    pairs = _select_record(_pairs(body), name)
    fields = _fields(pairs)
    if _has_data(fields):
        return _registration(name, fields, pairs, body)
    return _no_data(body, name, server)


# -- reading the text ----------------------------------------------------------------------------


def _as_text(text: object) -> str | None:
    """The answer as a bounded string (bytes decoded as UTF-8, bad bytes replaced)."""
    if isinstance(text, bytes | bytearray):
        return bytes(text[: MAX_CHARS * 4]).decode("utf-8", "replace")[:MAX_CHARS]
    if isinstance(text, str):
        return text[:MAX_CHARS]
    return None


def _unreadable(body: str) -> str:
    """Why ``body`` cannot be a WHOIS answer ("empty answer", "binary answer"), or ""."""
    if not body.strip():
        return "empty answer"
    sample = body[:4096]
    if len(_BINARY.findall(sample)) > max(4, len(sample) // 50):
        return "binary answer"
    return ""


def _from(server: str) -> str:
    return f" from {server}" if server else ""


def _pairs(body: str) -> list[tuple[str, str]]:
    """``(key, value)`` for every ``key: value`` line; comments and banners skipped."""
    pairs = []
    for raw in body.splitlines():
        line = raw.strip().lstrip("\ufeff")[:MAX_LINE]
        if not line or line[0] in "%#" or line.startswith((">>>", "--")):
            continue
        m = _PAIR.match(line)
        if m:
            key = " ".join(m.group(1).lower().split())
            pairs.append((key, m.group(2).strip()))
    return pairs


def _select_record(pairs: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    """The pairs of the record about ``name`` when an answer lists several records (Verisign's
    old thin server printed every name containing the query); all pairs otherwise."""
    starts = [i for i, (k, _) in enumerate(pairs) if k == "domain name"]
    if len(starts) < 2:
        return pairs
    for n, i in enumerate(starts):
        if normalise_domain(pairs[i][1]) == name:
            end = starts[n + 1] if n + 1 < len(starts) else len(pairs)
            return pairs[:starts[0]] + pairs[i:end]
    return pairs


def _values(pairs: list[tuple[str, str]], keys: Iterable[str]) -> list[str]:
    """Every non-empty value under the first of ``keys`` that has any."""
    for key in keys:
        found = [v for k, v in pairs if k == key and v]
        if found:
            return found
    return []


DATE_FIELDS = ("created", "updated", "expires")


def _fields(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Each field's raw values. For dates, the parseable values under all of the field's keys
    in key order, so a stray ``Registered: yes`` cannot hide ``Registered Date:``."""
    fields = {field: _values(pairs, keys) for field, keys in FIELD_KEYS.items()}
    for field in DATE_FIELDS:
        by_key = [v for key in FIELD_KEYS[field] for k, v in pairs if k == key and v]
        fields[field] = [v for v in by_key[:32] if parse_date(v)]
    return fields


def _has_data(fields: dict[str, list[str]]) -> bool:
    """Whether the answer carries registration data (not only banners and notices)."""
    return bool(fields["created"] or fields["expires"] or fields["registrar"]
                or nameserver_tuple(fields["nameservers"]))


# -- building the result -------------------------------------------------------------------------


def _registration(name: str, fields: dict[str, list[str]], pairs: list[tuple[str, str]],
                  body: str) -> Registration:
    def first(field: str) -> str | None:
        return fields[field][0] if fields[field] else None

    org = clean_text(first("registrant_org"))
    return Registration(
        domain=name, source="whois", status="found",
        registrar=_registrar(first("registrar")),
        registrar_iana_id=_iana_id(first("iana_id")),
        created=parse_date(first("created")),
        updated=parse_date(first("updated")),
        expires=parse_date(first("expires")),
        nameservers=nameserver_tuple(fields["nameservers"]),
        statuses=_statuses(fields),
        registrant_org=org,
        registrant_country=country_code(first("registrant_country")),
        abuse_email=email_address(first("abuse_email")),
        redacted=_redacted(pairs) or is_private(org),
        referral_server=_referral(first("referral")),
    )


def _registrar(value: str | None) -> str | None:
    """The registrar's name; KISA appends its web address: ``Whois Corp.(http://whois.co.kr)``."""
    if value is None:
        return None
    return clean_text(re.sub(r"\s*\((?:https?://|www\.)[^)]*\)\s*$", "", value))


def _iana_id(value: str | None) -> int | None:
    """A registrar IANA ID; 0 and other non-positive values are placeholders."""
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip()[:9])
    return number if number > 0 else None


def _statuses(fields: dict[str, list[str]]) -> tuple[str, ...]:
    """Status codes without the ICANN link after them; .ru's ``state:`` words when the
    answer has no ``status:`` lines (.se prints both; there ``status:`` is the EPP one)."""
    raw = fields["statuses"] or fields["state"]
    words: list[str] = []
    for value in raw[:64]:
        value = re.split(r"\s*(?:\(|https?://)", value, maxsplit=1)[0]
        words += [w for w in value.split(",") if w.strip()]
    return status_tuple(words)


def _redacted(pairs: list[tuple[str, str]]) -> bool:
    """Privacy wording in a contact field, or KISA's ``Publishes : N``."""
    for key, value in pairs:
        if key == "publishes" and value.strip().upper() == "N":
            return True
        if value and CONTACT_KEY.match(key) and is_private(value):
            return True
    return False


def _referral(value: str | None) -> str | None:
    """The WHOIS host a thin registry refers to; None for web forms and "not defined"."""
    if not value:
        return None
    rest = re.sub(r"^[a-z]+://", "", value.strip(), flags=re.IGNORECASE)
    host, _, path = rest.partition("/")
    if path.strip() or "?" in host:
        return None
    return normalise_hostname(host.split(":")[0])


# -- answers without a record --------------------------------------------------------------------


def _no_data(body: str, name: str, server: str) -> Registration:
    """Not found, throttled or unrecognised, by the answer's wording (not-found first:
    Identity Digital's and CentralNic's notices mention their own rate limits)."""
    if NOT_FOUND.search(body):
        return failed(name, "whois", "not_found")
    if THROTTLED.search(body):
        return failed(name, "whois", "throttled")
    first = next((ln.strip() for ln in body.splitlines() if ln.strip()), "")
    return failed(name, "whois", "error",
                  f"no registration data{_from(server)}: {one_line(first, 80)!r}")


def _parse_tonic(body: str, name: str, server: str) -> Registration:
    """Tonic's answer: ``Tonic whoisd V1.1`` then ``<label> <name server>`` per line (the
    lines of another label are taken only when none is about ``name``'s)."""
    label = name.removesuffix(".to")
    rows = [line.split() for line in body.splitlines()[1:200]]
    rows = [r for r in rows if len(r) == 2 and normalise_hostname(r[1])]
    mine = [r for r in rows if r[0].lower() == label]
    hosts = [r[1] for r in (mine or rows)]
    if not hosts:
        return _no_data(body, name, server)
    return Registration(domain=name, source="whois", status="found",
                        nameservers=nameserver_tuple(hosts))
