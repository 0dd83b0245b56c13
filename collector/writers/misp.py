"""The MISP export: the JSON export's site records as one MISP event, written object by object.

    with session_factory(engine)() as s:
        count = write_misp(site_records(s, piracy=True), sys.stdout, info="isop: piracy sites")

The file is a MISP event JSON document (``{"Event": {..., "Object": [...], "Attribute": [...]}}``)
that loads with PyMISP's ``MISPEvent().load_file(path)`` and imports into a MISP instance. The
event has the tag ``tlp:amber``, distribution 0 (your organisation only: widen it on import),
threat level 3 (low), analysis 2 (completed), unpublished. The mapping, per site record
(``storage/export.py``), uses the MISP object templates shipped with PyMISP:

- the site -> a ``domain-ip`` object: ``domain`` (tagged ``isop:category="<category>"``,
  ``isop:delivery="<mechanism>"`` for each delivery mechanism seen (torrent, ddl, streaming,
  iptv) and ``isop:piracy="true|false"``; ``to_ids`` only for a piracy verdict), one ``ip`` per
  A/AAAA address (never ``to_ids``: addresses are often a CDN's or shared hosting),
  ``first-seen``/``last-seen`` and a ``text`` with the verdict, delivery, score, status, cluster,
  the reasons and then the signals. It is the hub:
  every other object of the site is linked by a reference from it.
- ``whois`` -> a ``whois`` object (``domain``, ``registrar``, ``creation-date``,
  ``expiration-date``, ``nameserver``; registrant country, abuse contact and source in its
  comment), ``characterized-by``.
- ``tls`` -> an ``x509`` object (``x509-fingerprint-sha256``, ``issuer``, ``subject-common-name``,
  ``dns_names``, ``validity-not-after``), ``uses``.
- ``hosting`` -> an ``asn`` object per network (``asn``, ``name``, ``organization``, ``country``,
  ``subnet-announced``; abuse contact and CDN in ``description``), ``hosted-by``.
- indicators (with MISP's default ``to_ids`` of each attribute type), referenced with ``uses``
  (``related-to`` for e-mail):
  ``btc`` -> ``coin-address`` (``address``, a ``btc`` attribute, ``symbol`` BTC); ``xmr`` ->
  ``coin-address`` (``address-xmr``, ``xmr``); ``eth``/``trx`` -> ``coin-address``
  (``address-crypto``, text: MISP has no ETH/TRX type); ``ga``/``gtm``/``adsense``/
  ``yandex_metrica`` -> ``tracking-id`` (``id``, ``tracker`` Google Analytics/Google Tag Manager/
  Google AdSense/Yandex Metrica); ``favicon_mmh3`` -> ``favicon`` (``favicon-mmh3``); ``phone`` ->
  ``phone-number``; ``telegram``/``discord``/``whatsapp``/``paypal`` -> ``user-account``
  (``account-type`` the indicator type, ``username`` the value, e.g. ``t.me/name``, and ``link``);
  ``email`` -> an event attribute of type ``email`` (category Attribution); ``video_host`` -> an
  event attribute ``hostname`` (not ``to_ids``: a shared video host); ``ad_network`` -> an event
  attribute ``text`` (category Other). An indicator shared by several sites is one object or
  attribute referenced by each site's ``domain-ip``, so MISP's graph shows the operator links.
- ``redirects_to`` -> a ``redirects-to`` reference, ``related_domains`` -> ``related-to``
  references, between ``domain-ip`` objects; a target not itself in the export gets a bare
  ``domain-ip`` object at the end.

UUIDs are deterministic (UUIDv5 of a fixed namespace and the natural key: the domain, the
indicator, the certificate, the network), so a re-export updates rather than duplicates on a
MISP instance; only the event's own UUID is new each time.

Memory is constant in the number of sites but for a set of the UUIDs written (to write shared
objects once) and the names of relation targets: objects are written as each site is read; event
attributes, which come after the objects in the document, are spooled to a temporary file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from pymisp import MISPAttribute, MISPEvent, MISPObject

from storage.types import utcnow

NAMESPACE = uuid.UUID("5f0c3a8e-2d7b-4c61-9a4e-8b3f1d6e2a70")
"""The namespace of isop's UUIDv5 MISP uuids; never change it (uuids would change)."""

TRACKERS = {"ga": "Google Analytics", "gtm": "Google Tag Manager", "adsense": "Google AdSense",
            "yandex_metrica": "Yandex Metrica"}
COINS = {"btc": ("address", "BTC"), "xmr": ("address-xmr", "XMR"), "eth": ("address-crypto", "ETH"),
         "trx": ("address-crypto", "TRX")}
ACCOUNTS = {"telegram", "discord", "whatsapp", "paypal"}
ACCOUNT_HOSTS = ("t.me/", "discord.gg/", "wa.me/", "chat.whatsapp.com/", "paypal.me/")
EVENT_ATTRIBUTES = {  # indicator type -> (MISP type, category, to_ids, comment)
    "email": ("email", "Attribution", True, "contact address published on the site"),
    "video_host": ("hostname", "Network activity", False, "video host embedded by the site"),
    "ad_network": ("text", "Other", False, "ad network on the site"),
    "advertiser": ("text", "Other", False, "advertiser contact in an ad slot on the site (not the operator's)"),
}


def _uuid(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _object(name: str, key: str, comment: str | None = None) -> MISPObject:
    obj = MISPObject(name, standalone=False)
    obj.uuid = _uuid(f"{name}:{key}")
    if comment:
        obj.comment = comment
    return obj


def _add(obj: MISPObject, relation: str, value: Any, **kwargs: Any) -> None:
    """Add an attribute with a deterministic uuid; null and empty values are skipped.

    The uuid of a single-valued relation does not depend on its value, so a changed value
    (a later last-seen, a new registrar) updates the attribute on re-import.
    """
    if value is None or value == "":
        return
    multiple = ((obj._definition or {}).get("attributes", {}).get(relation, {})).get("multiple", False)
    key = f"{obj.uuid}|{relation}|{value}" if multiple else f"{obj.uuid}|{relation}"
    obj.add_attribute(relation, value=value, uuid=_uuid(key), **kwargs)


def _ref(obj: MISPObject, target_uuid: str, kind: str) -> None:
    if not any(ref.referenced_uuid == target_uuid for ref in obj.references):
        obj.add_reference(target_uuid, kind, uuid=_uuid(f"{obj.uuid}|{kind}|{target_uuid}"))


def _event_header(info: str, generated_at: datetime) -> dict[str, Any]:
    event = MISPEvent()
    event.info = info
    event.uuid = str(uuid.uuid4())
    event.date = generated_at.date()
    event.distribution = 0
    event.threat_level_id = 3
    event.analysis = 2
    event.published = False
    event.add_tag("tlp:amber")
    header = json.loads(event.to_json())
    header["timestamp"] = str(int(generated_at.timestamp()))
    header.pop("Object", None)
    header.pop("Attribute", None)
    return header


def write_misp(records: Iterable[dict], out: TextIO, *, generated_at: datetime | None = None,
               info: str = "isop export") -> int:
    """Write a MISP event of ``records`` to ``out``, site by site; returns the number of sites."""
    generated_at = generated_at or utcnow()
    header = json.dumps({"Event": _event_header(info, generated_at)})
    out.write(header[:-2] + ', "Object": [')  # the header without its two closing braces
    seen: set[str] = set()
    pending: set[str] = set()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        streams = {MISPObject: (out, [True]), MISPAttribute: (spool, [True])}  # stream, nothing written yet

        def emit(item: MISPObject | MISPAttribute) -> None:
            if item.uuid in seen:
                return
            seen.add(item.uuid)
            stream, first = streams[type(item)]
            stream.write(("\n" if first[0] else ",\n") + item.to_json())
            first[0] = False

        count = 0
        for record in records:
            for item in _site(record, pending):
                emit(item)
            pending.discard(record["domain"])
            count += 1
        for domain in sorted(pending):
            emit(_domain_ip(domain))
        out.write('\n], "Attribute": [')
        spool.seek(0)
        shutil.copyfileobj(spool, out)
    out.write("\n]}}\n")
    return count


def _domain_ip(domain: str) -> MISPObject:
    obj = _object("domain-ip", domain)
    _add(obj, "domain", domain, to_ids=False)
    return obj


def _site(r: dict, pending: set[str]) -> Iterator[MISPObject | MISPAttribute]:
    """The objects and event attributes of one site; the hub ``domain-ip`` comes last."""
    domain = r["domain"]
    hub = _object("domain-ip", domain, comment="isop site")
    tags = [f'isop:piracy="{str(r["is_piracy"]).lower()}"'] if r.get("is_piracy") is not None else []
    if r.get("category"):
        tags.append(f'isop:category="{r["category"]}"')
    tags += [f'isop:delivery="{d}"' for d in r.get("delivery") or []]
    _add(hub, "domain", domain, to_ids=r.get("is_piracy") is True, Tag=[{"name": t} for t in tags])
    for h in r.get("hosting") or []:
        _add(hub, "ip", h["ip"], to_ids=False)
    _add(hub, "first-seen", _time(r.get("first_seen")))
    _add(hub, "last-seen", _time(r.get("last_seen")))
    _add(hub, "text", _summary(r))

    whois = r.get("whois") or {}
    if any(whois.get(k) for k in ("registrar", "created", "expires", "nameservers")):
        obj = _object("whois", domain, comment=", ".join(f"{k}: {whois[k]}" for k in (
            "registrant_country", "abuse_email", "source") if whois.get(k)) or None)
        _add(obj, "domain", domain, to_ids=False)
        _add(obj, "registrar", whois.get("registrar"))
        _add(obj, "creation-date", _time(whois.get("created")))
        _add(obj, "expiration-date", _time(whois.get("expires")))
        for ns in whois.get("nameservers") or []:
            _add(obj, "nameserver", ns, to_ids=False)
        _ref(hub, obj.uuid, "characterized-by")
        yield obj

    tls = r.get("tls") or {}
    if tls.get("sha256"):
        obj = _object("x509", tls["sha256"])
        _add(obj, "x509-fingerprint-sha256", tls["sha256"], to_ids=False)
        _add(obj, "issuer", tls.get("issuer"))
        _add(obj, "subject-common-name", tls.get("subject_cn"))
        for san in tls.get("sans") or []:
            _add(obj, "dns_names", san, to_ids=False)
        _add(obj, "validity-not-after", _time(tls.get("not_after")))
        _ref(hub, obj.uuid, "uses")
        yield obj

    for h in r.get("hosting") or []:
        if h.get("asn") is None:
            continue
        obj = _object("asn", f"{h['asn']}|{h.get('cidr')}|{h.get('org')}", comment="hosting network")
        _add(obj, "asn", str(h["asn"]))
        _add(obj, "name", h.get("as_name"))
        _add(obj, "organization", h.get("org"))
        _add(obj, "country", h.get("country"))
        _add(obj, "subnet-announced", h.get("cidr"), to_ids=False)
        _add(obj, "description", "; ".join(f"{k}: {h[k]}" for k in ("abuse_email", "cdn") if h.get(k)))
        _ref(hub, obj.uuid, "hosted-by")
        yield obj

    for item in r.get("indicators") or []:
        indicator = _indicator(item["type"], item["value"])
        if indicator is not None:
            _ref(hub, indicator.uuid, "related-to" if item["type"] == "email" else "uses")
            yield indicator

    targets = [(r["redirects_to"], "redirects-to")] if r.get("redirects_to") else []
    for target, kind in targets + [(d, "related-to") for d in r.get("related_domains") or []]:
        pending.add(target)
        _ref(hub, _uuid(f"domain-ip:{target}"), kind)
    yield hub


def _summary(r: dict) -> str:
    verdict = {True: "piracy", False: "not piracy", None: "not classified"}[r.get("is_piracy")]
    delivery = ", ".join(r.get("delivery") or []) or None
    lines = [f"isop: {verdict}; category {r.get('category')}; delivery {delivery}; score {r.get('score')}; "
             f"status {r.get('status')}; cluster {r.get('cluster')}"]
    if r.get("reasons"):
        lines += ["Reasons:", *(f"- {s}" for s in r["reasons"]), "Signals:"]
    lines += [f"- {s}" for s in r.get("signals") or []]
    return "\n".join(lines)


def _indicator(type_: str, value: str) -> MISPObject | MISPAttribute | None:
    """The shared object or event attribute of one indicator (one per type and value)."""
    key = f"{type_}:{value}"
    if type_ in COINS:
        relation, symbol = COINS[type_]
        obj = _object("coin-address", key)
        _add(obj, relation, value)
        _add(obj, "symbol", symbol)
        return obj
    if type_ in TRACKERS:
        obj = _object("tracking-id", key)
        _add(obj, "id", value)
        _add(obj, "tracker", TRACKERS[type_])
        return obj
    if type_ == "favicon_mmh3":
        obj = _object("favicon", key)
        _add(obj, "favicon-mmh3", value)
        return obj
    if type_ == "phone":
        obj = _object("phone-number", key)
        _add(obj, "phone-number", value)
        return obj
    if type_ in ACCOUNTS:
        obj = _object("user-account", key)
        _add(obj, "account-type", type_)
        _add(obj, "username", value)
        if value.startswith(ACCOUNT_HOSTS):
            _add(obj, "link", f"https://{value}")
        return obj
    if type_ in EVENT_ATTRIBUTES:
        misp_type, category, to_ids, comment = EVENT_ATTRIBUTES[type_]
        attribute = MISPAttribute()
        attribute.from_dict(type=misp_type, value=value, category=category, to_ids=to_ids, comment=comment,
                            uuid=_uuid(f"attribute:{key}"))
        return attribute
    return None
