"""The CSV export: the JSON export's site records as one flat row per site, for spreadsheets.

    with session_factory(engine)() as s, open("sites.csv", "w", newline="", encoding="utf-8") as f:
        count = write_csv(site_records(s, piracy=True), f)

Columns (``COLUMNS``), from a site record (``storage/export.py``):

- ``domain``, ``category``, ``score``, ``status``, ``first_seen``, ``last_seen``,
  ``redirects_to``, ``cluster`` as they are; ``is_piracy`` as ``true``/``false``/empty.
- ``delivery`` (the delivery mechanisms seen, strongest first: ``torrent;ddl``), ``related_domains``, ``ips``, ``asns`` (``AS13335``), ``hosting_countries``, ``hosting_orgs``,
  ``hosting_abuse``, ``cdn``, ``nameservers``: the distinct values, in order, joined by ``;``.
- ``registrar``, ``created``, ``expires``, ``registrar_abuse`` from ``whois``;
  ``tls_sha256``, ``tls_issuer`` from ``tls``.
- ``indicators``: ``type:value`` joined by ``;``; ``signals`` joined by `` | ``.

Unknown values are empty cells. Every cell is quoted (so a ``;`` in a value does not split it
in spreadsheets that take ``;`` as the separator), and, as OWASP advises against CSV (formula)
injection, any cell or joined element starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'``: scraped strings are hostile (:func:`safe_cell`, which
every CSV writer in isop uses, ``isop sites --format csv`` too). The export keeps the text
as stored otherwise; the listings printed on a terminal (``isop sites --format csv``) also
show control and bidi characters escaped (``cell(value, terminal=True)``). Open the file as
UTF-8.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from storage.safe_text import inert

COLUMNS = ("domain", "is_piracy", "category", "delivery", "score", "status", "first_seen", "last_seen", "redirects_to",
           "related_domains", "cluster", "ips", "asns", "hosting_countries", "hosting_orgs", "hosting_abuse",
           "cdn", "registrar", "created", "expires", "nameservers", "registrar_abuse", "tls_sha256",
           "tls_issuer", "indicators", "signals")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet would take it for a formula (OWASP)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell(value: Any, terminal: bool = False) -> str:
    """Any value as a defused CSV cell: empty for None, ``true``/``false``, a formula-leading
    value quoted with ``'``; with ``terminal``, control and bidi characters shown escaped
    (:func:`storage.safe_text.inert`) first."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(inert(value) if terminal else str(value))


def joined_cell(values: Iterable[Any], separator: str = "; ", terminal: bool = False) -> str:
    """Several values in one cell, each element and the whole defused."""
    return safe_cell(separator.join(cell(v, terminal) for v in values))


def _joined(values: Iterable[Any], separator: str = ";") -> str:
    distinct = dict.fromkeys(cell(v) for v in values if v is not None and v != "")
    return safe_cell(separator.join(distinct))


def row(record: dict) -> list[str]:
    """The CSV cells of one site record, in ``COLUMNS`` order."""
    hosting = record.get("hosting") or []
    whois = record.get("whois") or {}
    tls = record.get("tls") or {}
    values = {
        "domain": cell(record.get("domain")),
        "is_piracy": cell(record.get("is_piracy")),
        "category": cell(record.get("category")),
        "delivery": _joined(record.get("delivery") or []),
        "score": cell(record.get("score")),
        "status": cell(record.get("status")),
        "first_seen": cell(record.get("first_seen")),
        "last_seen": cell(record.get("last_seen")),
        "redirects_to": cell(record.get("redirects_to")),
        "related_domains": _joined(record.get("related_domains") or []),
        "cluster": cell(record.get("cluster")),
        "ips": _joined(h.get("ip") for h in hosting),
        "asns": _joined(f"AS{h['asn']}" for h in hosting if h.get("asn") is not None),
        "hosting_countries": _joined(h.get("country") for h in hosting),
        "hosting_orgs": _joined(h.get("org") for h in hosting),
        "hosting_abuse": _joined(h.get("abuse_email") for h in hosting),
        "cdn": _joined(h.get("cdn") for h in hosting),
        "registrar": cell(whois.get("registrar")),
        "created": cell(whois.get("created")),
        "expires": cell(whois.get("expires")),
        "nameservers": _joined(whois.get("nameservers") or []),
        "registrar_abuse": cell(whois.get("abuse_email")),
        "tls_sha256": cell(tls.get("sha256")),
        "tls_issuer": cell(tls.get("issuer")),
        "indicators": _joined(f"{i['type']}:{i['value']}" for i in record.get("indicators") or []),
        "signals": _joined(record.get("signals") or [], " | "),
    }
    return [values[c] for c in COLUMNS]


def write_csv(records: Iterable[dict], out: TextIO) -> int:
    """Write a header and one row per record to ``out`` (open it with ``newline=""``); returns the count."""
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        writer.writerow(row(record))
        count += 1
    return count
