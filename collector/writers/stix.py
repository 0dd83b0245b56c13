"""The STIX 2.1 export: the JSON export's site records as one bundle, written object by object.

    with session_factory(engine)() as s:
        count = write_stix(site_records(s, piracy=True), sys.stdout)

The mapping, per site record (``storage/export.py``):

- ``domain`` -> a ``domain-name`` SCO with ``resolves_to_refs`` to one ``ipv4-addr``/``ipv6-addr``
  SCO per ``dns`` A/AAAA address; each address has ``belongs_to_refs`` to its ``autonomous-system``
  SCO (``number``, ``name``) when its AS is known.
- the site -> an ``infrastructure`` SDO named after the domain: ``infrastructure_types``
  ``["piracy-<category>"]`` for a piracy verdict with a category, else ``["unknown"]`` (an open
  vocabulary); ``first_seen``/``last_seen`` of the site; a ``description`` with the verdict,
  category, delivery, score, status, cluster, registration, hosting, reasons and signals; and the
  same facts as custom properties (``x_isop_is_piracy``, ``x_isop_category``, ``x_isop_delivery``
  (a list: ``torrent``, ``ddl``, ``streaming``, ``iptv``), ``x_isop_score``, ``x_isop_reasons``,
  ``x_isop_signals``, ``x_isop_status``, ``x_isop_cluster``, ``x_isop_redirects_to``,
  ``x_isop_related_domains``, ``x_isop_whois``, ``x_isop_hosting``, ``x_isop_ad_networks``).
  It ``consists-of`` the domain-name, its addresses and its TLS certificate.
- the domain -> an ``indicator`` SDO, pattern ``[domain-name:value = '<domain>']``, ``valid_from``
  the site's first_seen, that ``indicates`` the infrastructure. ``indicator_types`` is
  ``["malicious-activity"]`` (and ``confidence`` the score as 0-100) for a piracy verdict,
  ``["benign"]`` for a non-piracy verdict, absent for a site never classified.
- ``tls`` -> an ``x509-certificate`` SCO (``hashes.SHA-256``, issuer, ``subject`` ``CN=...``,
  ``validity_not_after``).
- indicators, by type:
  ``email`` -> an ``email-addr`` SCO; ``telegram``/``discord``/``whatsapp``/``paypal`` -> a
  ``user-account`` SCO (``account_type`` the indicator type, ``user_id`` the value, e.g.
  ``t.me/name``); both ``related-to`` from the infrastructure (contacts, not components).
  ``btc``/``eth``/``trx``/``xmr`` -> an ``indicator`` with pattern
  ``[cryptocurrency-wallet:value = '...']`` and ``phone`` -> ``[phone-number:value = '...']``
  (OpenCTI's observable types of those names, so OpenCTI creates the observables);
  ``ga``/``gtm``/``adsense``/``yandex_metrica`` ->
  ``[x-isop-tracking-id:tracker = '<type>' AND x-isop-tracking-id:value = '<id>']`` and
  ``favicon_mmh3`` -> ``[x-isop-favicon:mmh3 = '<hash>']``. These indicators have
  ``indicator_types`` ``["attribution"]``, the raw type and value in ``x_isop_indicator_type``
  and ``x_isop_value``, one object per (type, value) shared by every site that shows it, and an
  ``indicates`` relationship to each such site's infrastructure: shared ids link operators.
  ``video_host`` -> a ``domain-name`` SCO ``related-to`` from the infrastructure (description
  "embeds video from"); ``ad_network`` (a network's name, not an address) -> only
  ``x_isop_ad_networks``.
- ``redirects_to``/``related_domains`` -> ``related-to`` relationships between the domain-name
  SCOs (description "redirects to" / "mirror or numbered successor"). A target that is not
  itself in the export is written as a bare ``domain-name`` at the end of the bundle.

Every SDO and SRO is ``created_by_ref`` the isop ``identity``. Ids are deterministic: SCOs get
the spec's UUIDv5 ids from their contributing properties, SDOs and SROs a UUIDv5 of a fixed
namespace and their natural key (the domain, the indicator's type and value, the relationship's
ends), so a re-export of the same site yields the same ids; ``created`` is the site's first_seen
and ``modified`` its last_seen, so a later export is a later version of the same object.
Pattern values are escaped per STIX patterning (``\\`` and ``'`` backslash-escaped).

Memory is constant in the number of sites but for one set of ids of shared objects (addresses,
ASes, certificates, contacts, shared indicators, domain names) and the names of relation targets
not yet written: each site's objects are serialised as they are made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

import stix2

from storage.types import utcnow

NAMESPACE = uuid.UUID("1755a355-7c4f-4c43-9369-37c616b8ef43")
"""The namespace of isop's UUIDv5 SDO and SRO ids; never change it (ids would change)."""

IDENTITY_CREATED = datetime(2024, 1, 1, tzinfo=UTC)
IDENTITY = stix2.Identity(
    id=f"identity--{uuid.uuid5(NAMESPACE, 'identity:isop')}", name="isop", identity_class="system",
    description="isop, an OSINT collector of piracy sites", created=IDENTITY_CREATED, modified=IDENTITY_CREATED)

WALLETS = {"btc": "BTC", "eth": "ETH", "trx": "TRX", "xmr": "XMR"}
TRACKERS = {"ga", "gtm", "adsense", "yandex_metrica"}
ACCOUNTS = {"telegram", "discord", "whatsapp", "paypal"}


def stix_quote(value: str) -> str:
    """A STIX patterning string literal: ``'...'`` with ``\\`` and ``'`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def indicator_pattern(type_: str, value: str) -> str | None:
    """The STIX pattern for an isop indicator, or None for types mapped to observables only."""
    if type_ in WALLETS:
        return f"[cryptocurrency-wallet:value = {stix_quote(value)}]"
    if type_ == "phone":
        return f"[phone-number:value = {stix_quote(value)}]"
    if type_ in TRACKERS:
        return (f"[x-isop-tracking-id:tracker = {stix_quote(type_)} AND "
                f"x-isop-tracking-id:value = {stix_quote(value)}]")
    if type_ == "favicon_mmh3":
        return f"[x-isop-favicon:mmh3 = {stix_quote(value)}]"
    return None


def _id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


def _time(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Custom properties without nulls and empty lists (stix2 drops empty lists anyway)."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


class _Writer:
    """Serialises objects into the open bundle, skipping ids already written."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.first = True
        self.seen: set[str] = set()

    def write(self, obj: Any, *, shared: bool = False) -> None:
        if shared:
            if obj.id in self.seen:
                return
            self.seen.add(obj.id)
        self.out.write(("\n" if self.first else ",\n") + obj.serialize())
        self.first = False


class _Site:
    """The objects of one site record, yielded in an order where refs precede their use."""

    def __init__(self, record: dict, generated_at: datetime) -> None:
        self.r = record
        self.domain = record["domain"]
        self.created = _time(record.get("first_seen"), generated_at)
        self.modified = max(self.created, _time(record.get("last_seen"), self.created))
        self.infra_id = _id("infrastructure", self.domain)

    def common(self) -> dict[str, Any]:
        return {"created_by_ref": IDENTITY.id, "created": self.created, "modified": self.modified}

    def relationship(self, source: str, kind: str, target: str, description: str | None = None) -> Any:
        extra = {"description": description} if description else {}
        return stix2.Relationship(id=_id("relationship", f"{source}|{kind}|{target}"), source_ref=source,
                                  relationship_type=kind, target_ref=target, **extra, **self.common())

    def description(self) -> str:
        r, whois, tls = self.r, self.r.get("whois") or {}, self.r.get("tls") or {}
        verdict = {True: "piracy", False: "not piracy", None: "not classified"}[r.get("is_piracy")]
        delivery = ", ".join(r.get("delivery") or []) or None
        lines = [f"isop site {self.domain}: {verdict}; category {r.get('category')}; delivery {delivery}; "
                 f"score {r.get('score')}; status {r.get('status')}; cluster {r.get('cluster')}."]
        if r.get("redirects_to"):
            lines.append(f"Redirects to {r['redirects_to']}.")
        if r.get("related_domains"):
            lines.append("Related domains: " + ", ".join(r["related_domains"]) + ".")
        if whois.get("registrar") or whois.get("created"):
            lines.append(f"Registrar {whois.get('registrar')}, created {whois.get('created')}, "
                         f"expires {whois.get('expires')}, abuse {whois.get('abuse_email')}.")
        for h in r.get("hosting") or []:
            lines.append(f"Hosted at {h['ip']}: AS{h.get('asn')} {h.get('as_name')}, {h.get('org')}, "
                         f"{h.get('country')}, abuse {h.get('abuse_email')}, CDN {h.get('cdn')}.")
        if tls.get("sha256"):
            lines.append(f"TLS certificate SHA-256 {tls['sha256']}, issuer {tls.get('issuer')}.")
        if r.get("reasons"):
            lines.append("Reasons:\n" + "\n".join(f"- {s}" for s in r["reasons"]))
        if r.get("signals"):
            lines.append("Signals:\n" + "\n".join(f"- {s}" for s in r["signals"]))
        return "\n".join(lines)

    def infrastructure(self) -> Any:
        r = self.r
        category = r.get("category")
        types = [f"piracy-{category}"] if r.get("is_piracy") and category else ["unknown"]
        custom = _compact({
            "x_isop_is_piracy": r.get("is_piracy"), "x_isop_category": category,
            "x_isop_delivery": list(r.get("delivery") or []), "x_isop_score": r.get("score"),
            "x_isop_reasons": list(r.get("reasons") or []), "x_isop_signals": list(r.get("signals") or []),
            "x_isop_status": r.get("status"),
            "x_isop_cluster": r.get("cluster"), "x_isop_redirects_to": r.get("redirects_to"),
            "x_isop_related_domains": list(r.get("related_domains") or []),
            "x_isop_whois": _compact(r.get("whois") or {}),
            "x_isop_hosting": [_compact(h) for h in r.get("hosting") or []],
            "x_isop_ad_networks": [i["value"] for i in r.get("indicators") or [] if i["type"] == "ad_network"],
        })
        return stix2.Infrastructure(id=self.infra_id, name=self.domain, description=self.description(),
                                    infrastructure_types=types, first_seen=self.created, last_seen=self.modified,
                                    allow_custom=True, **custom, **self.common())

    def domain_indicator(self) -> Any:
        r = self.r
        extra: dict[str, Any] = {}
        if r.get("is_piracy") is True:
            extra["indicator_types"] = ["malicious-activity"]
            if r.get("score") is not None:
                extra["confidence"] = max(0, min(100, round(float(r["score"]) * 100)))
        elif r.get("is_piracy") is False:
            extra["indicator_types"] = ["benign"]
        return stix2.Indicator(id=_id("indicator", f"domain:{self.domain}"), name=self.domain,
                               description=f"isop site {self.domain} (category {r.get('category')})",
                               pattern=f"[domain-name:value = {stix_quote(self.domain)}]", pattern_type="stix",
                               valid_from=self.created, **extra, **self.common())

    def shared_indicator(self, type_: str, value: str, pattern: str) -> Any:
        return stix2.Indicator(id=_id("indicator", f"{type_}:{value}"), name=f"{type_} {value}",
                               description=f"isop {type_} indicator seen on piracy-candidate sites",
                               pattern=pattern, pattern_type="stix", valid_from=self.created,
                               indicator_types=["attribution"], x_isop_indicator_type=type_, x_isop_value=value,
                               allow_custom=True, **self.common())


def write_stix(records: Iterable[dict], out: TextIO, *, generated_at: datetime | None = None) -> int:
    """Write a STIX 2.1 bundle of ``records`` to ``out``, site by site; returns the number of sites."""
    generated_at = generated_at or utcnow()
    out.write('{"type": "bundle", "id": "bundle--' + str(uuid.uuid4()) + '", "objects": [')
    writer = _Writer(out)
    writer.write(IDENTITY, shared=True)
    pending: set[str] = set()  # relation targets and video hosts not (yet) written as sites
    count = 0
    for record in records:
        for obj, shared in _site_objects(_Site(record, generated_at), pending):
            writer.write(obj, shared=shared)
        pending.discard(record["domain"])
        count += 1
    for domain in sorted(pending):
        writer.write(stix2.DomainName(value=domain), shared=True)
    out.write("\n]}\n")
    return count


def _site_objects(site: _Site, pending: set[str]) -> Iterator[tuple[Any, bool]]:
    """(object, shared) pairs of one site; shared objects may already be in the bundle."""
    r = site.r
    ip_ids = []
    for h in r.get("hosting") or []:
        belongs = []
        if h.get("asn") is not None:
            as_ = stix2.AutonomousSystem(number=h["asn"], **_compact({"name": h.get("as_name")}))
            belongs.append(as_.id)
            yield as_, True
        ip_type = stix2.IPv6Address if ":" in h["ip"] else stix2.IPv4Address
        ip = ip_type(value=h["ip"], **({"belongs_to_refs": belongs} if belongs else {}))
        ip_ids.append(ip.id)
        yield ip, True
    domain = stix2.DomainName(value=site.domain, **({"resolves_to_refs": ip_ids} if ip_ids else {}))
    yield domain, True
    infra = site.infrastructure()
    yield infra, False
    indicator = site.domain_indicator()
    yield indicator, False
    yield site.relationship(indicator.id, "indicates", infra.id), False
    yield site.relationship(infra.id, "consists-of", domain.id), False
    for ip_id in ip_ids:
        yield site.relationship(infra.id, "consists-of", ip_id), False

    tls = r.get("tls") or {}
    if tls.get("sha256"):
        cert = stix2.X509Certificate(hashes={"SHA-256": tls["sha256"]}, **_compact({
            "issuer": tls.get("issuer"), "subject": f"CN={tls['subject_cn']}" if tls.get("subject_cn") else None,
            "validity_not_after": _time(tls["not_after"], site.created) if tls.get("not_after") else None}))
        yield cert, True
        yield site.relationship(infra.id, "consists-of", cert.id), False

    targets = [(r.get("redirects_to"), "redirects to")] if r.get("redirects_to") else []
    targets += [(d, "mirror or numbered successor") for d in r.get("related_domains") or []]
    for target, why in targets:
        pending.add(target)
        yield site.relationship(domain.id, "related-to", stix2.DomainName(value=target).id, why), False

    for item in r.get("indicators") or []:
        type_, value = item["type"], item["value"]
        pattern = indicator_pattern(type_, value)
        if pattern is not None:
            shared = site.shared_indicator(type_, value, pattern)
            yield shared, True
            yield site.relationship(shared.id, "indicates", infra.id), False
        elif type_ == "email":
            email = stix2.EmailAddress(value=value)
            yield email, True
            yield site.relationship(infra.id, "related-to", email.id, "contact address"), False
        elif type_ in ACCOUNTS:
            account = stix2.UserAccount(account_type=type_, user_id=value)
            yield account, True
            yield site.relationship(infra.id, "related-to", account.id, f"{type_} contact"), False
        elif type_ == "video_host":
            pending.add(value)
            yield site.relationship(infra.id, "related-to", stix2.DomainName(value=value).id,
                                    "embeds video from"), False
