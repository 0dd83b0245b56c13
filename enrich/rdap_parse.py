"""Parse RDAP (RFC 9083) JSON: domain objects into a :class:`~enrich.registration.Registration`,
IP network objects into a :class:`NetworkInfo`.

The input is whatever the HTTP layer got: a decoded JSON value, or the raw body as ``str`` or
``bytes``. RDAP servers differ in what they nest where (ARIN nests the abuse contact inside
the organisation, RIPE and APNIC list it beside it; registries nest the registrar's abuse
contact inside the registrar), so entities are searched breadth-first, top level first, to a
bounded depth. Nothing is trusted to have the type RFC 9083 says: a wrong type anywhere
makes that value missing, and an answer that is not an RDAP object at all gives an ``error``
result, never an exception.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from enrich.registration import (
    Registration,
    clean_text,
    country_code,
    email_address,
    failed,
    is_private,
    nameserver_tuple,
    normalise_domain,
    one_line,
    parse_date,
    status_tuple,
)

MAX_BODY = 4_000_000
"""Largest raw body decoded, in characters (real domain and network answers are < 100 kB)."""
MAX_DEPTH = 6
"""How deep nested ``entities`` are searched."""
MAX_ENTITIES = 300
"""How many entities are looked at in all."""
MAX_CIDRS = 64

RIR_BY_HOST = {
    "arin.net": "arin", "ripe.net": "ripencc", "apnic.net": "apnic",
    "lacnic.net": "lacnic", "afrinic.net": "afrinic",
}
"""Registry names as Team Cymru and the sandbox spell them, by the RIR's domain."""

_MALFORMED = (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError)
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class NetworkInfo:
    """Who holds an IP network, after its RIR's RDAP answer."""

    handle: str | None = None
    """The RIR's handle (``NET-13-64-0-0-1``, ``1.1.1.0 - 1.1.1.255``)."""
    cidrs: tuple[str, ...] = ()
    """The network as CIDR blocks (``13.64.0.0/11``), from ``cidr0_cidrs`` or the address range."""
    name: str | None = None
    """The network's name (``MSFT``, ``APNIC-LABS``)."""
    country: str | None = None
    """ISO 3166 alpha-2, upper-case: the network's, else its registrant's address."""
    owner_org: str | None = None
    """The registrant organisation's name (else the first non-abuse contact's)."""
    abuse_email: str | None = None
    """The abuse contact's e-mail address, lower-case."""
    parent_handle: str | None = None
    """Handle of the enclosing network."""
    source_rir: str | None = None
    """``arin``, ``ripencc``, ``apnic``, ``lacnic`` or ``afrinic``, from ``port43`` or links."""
    error: str | None = None
    """One line saying why the answer could not be used; all other fields are then empty."""


# -- domains -------------------------------------------------------------------------------------


def parse_rdap_domain(data: object, domain: str) -> Registration:
    """The registration an RDAP domain answer describes (``errorCode`` 404 is ``not_found``,
    429 ``throttled``, anything unusable ``error``)."""
    name = normalise_domain(domain)
    obj, problem = _load(data)
    if obj is None:
        return failed(name, "rdap", "error", problem)
    code = _error_code(obj)
    if code == 404:
        return failed(name, "rdap", "not_found")
    if code == 429:
        return failed(name, "rdap", "throttled")
    if code is not None:
        return failed(name, "rdap", "error", _error_message(obj, code))
    kind = obj.get("objectClassName")
    if kind is not None and kind != "domain":
        return failed(name, "rdap", "error", f"RDAP object is {_short(kind)}, not a domain")
    if not isinstance(obj.get("ldhName") or obj.get("unicodeName"), str):
        return failed(name, "rdap", "error", "RDAP answer has no ldhName: not a domain object")
    problem = _shape_problem(obj)
    if problem:
        return failed(name, "rdap", "error", f"malformed RDAP domain: {problem}")
    try:
        return _domain(obj, name)
    except _MALFORMED as e:
        return failed(name, "rdap", "error", f"malformed RDAP domain: {type(e).__name__}: {e}")


def _domain(obj: JsonObject, name: str) -> Registration:
    entities = list(_entities(obj))
    registrar = _with_role(entities, "registrar")
    registrant = _with_role(entities, "registrant")
    org = _organisation(registrant, fallback_fn=False) if registrant else None
    events = _events(obj)
    return Registration(
        domain=name, source="rdap", status="found",
        registrar=(_organisation(registrar, fallback_fn=True) if registrar else None),
        registrar_iana_id=_iana_id(registrar) if registrar else None,
        created=events.get("registration"),
        updated=events.get("last changed"),
        expires=events.get("expiration"),
        nameservers=_nameservers(obj),
        statuses=status_tuple(_list(obj.get("status"))),
        registrant_org=org,
        registrant_country=_country(registrant) if registrant else None,
        abuse_email=_registrar_abuse(registrar, entities),
        redacted=_redacted(obj, entities) or is_private(org),
    )


def _events(obj: JsonObject) -> dict[str, Any]:
    """``eventAction`` (lower-case) -> first parseable date. "last update of RDAP database"
    is the server's clock, not the registration's, and is kept apart by its own name."""
    dates: dict[str, Any] = {}
    for event in _list(obj.get("events"))[:100]:
        if not isinstance(event, dict):
            continue
        action = _text(event.get("eventAction"))
        when = parse_date(event.get("eventDate"))
        if action and when and action.lower() not in dates:
            dates[action.lower()] = when
    return dates


def _nameservers(obj: JsonObject) -> tuple[str, ...]:
    hosts = []
    for ns in _list(obj.get("nameservers"))[:100]:
        if isinstance(ns, dict):
            hosts.append(ns.get("ldhName") or _idna(ns.get("unicodeName")))
    return nameserver_tuple(hosts)


def _iana_id(entity: JsonObject) -> int | None:
    for public in _list(entity.get("publicIds")):
        if not isinstance(public, dict):
            continue
        kind = _text(public.get("type")) or ""
        ident = public.get("identifier")
        ident = str(ident) if isinstance(ident, int | str) and not isinstance(ident, bool) else ""
        if "iana" in kind.lower() and ident.strip().isdigit() and 0 < int(ident.strip()[:9]):
            return int(ident.strip()[:9])
    return None


def _registrar_abuse(registrar: JsonObject | None, entities: list[tuple[int, JsonObject]]) -> str | None:
    """The abuse contact nested in the registrar entity (ICANN's RDAP profile), else any
    abuse entity of the answer."""
    if registrar is not None:
        email = _abuse_email(list(_entities(registrar)))
        if email:
            return email
    return _abuse_email(entities)


def _redacted(obj: JsonObject, entities: list[tuple[int, JsonObject]]) -> bool:
    """RFC 9537 ``redacted`` members, "REDACTED FOR PRIVACY" remarks (ICANN's RDAP profile)
    or privacy wording in a contact's vCard (registrar and abuse contacts aside)."""
    if _list(obj.get("redacted")):
        return True
    if _remarks_redacted(obj):
        return True
    for _, entity in entities:
        roles = _roles(entity)
        if "registrar" in roles or roles == {"abuse"}:
            continue
        if _remarks_redacted(entity) or any(is_private(v) for v in _vcard_strings(entity)):
            return True
    return False


def _remarks_redacted(obj: JsonObject) -> bool:
    for remark in _list(obj.get("remarks"))[:50]:
        if not isinstance(remark, dict):
            continue
        words = [_text(remark.get("title")) or ""]
        words += [d for d in _list(remark.get("description"))[:20] if isinstance(d, str)]
        if any(re.search(r"redact", w, re.IGNORECASE) for w in words):
            return True
    return False


# -- IP networks ---------------------------------------------------------------------------------


def parse_rdap_network(data: object) -> NetworkInfo:
    """The holder of the IP network an RDAP ``ip network`` answer describes."""
    obj, problem = _load(data)
    if obj is None:
        return NetworkInfo(error=problem)
    code = _error_code(obj)
    if code is not None:
        return NetworkInfo(error=_error_message(obj, code))
    kind = obj.get("objectClassName")
    if kind is not None and kind != "ip network":
        return NetworkInfo(error=f"RDAP object is {_short(kind)}, not an ip network")
    problem = _shape_problem(obj)
    if problem:
        return NetworkInfo(error=one_line(f"malformed RDAP network: {problem}"))
    try:
        info = _network(obj)
    except _MALFORMED as e:
        return NetworkInfo(error=one_line(f"malformed RDAP network: {type(e).__name__}: {e}"))
    if not info.cidrs:
        return NetworkInfo(error="RDAP answer has no usable address range")
    return info


def _network(obj: JsonObject) -> NetworkInfo:
    entities = list(_entities(obj))
    registrant = _with_role(entities, "registrant", needs_vcard=True)
    owner = registrant or next((e for _, e in entities if _roles(e) - {"abuse"} and _vcard(e)), None)
    return NetworkInfo(
        handle=clean_text(obj.get("handle"), 100),
        cidrs=_cidrs(obj),
        name=clean_text(obj.get("name"), 200),
        country=country_code(obj.get("country")) or (_country(registrant) if registrant else None),
        owner_org=_organisation(owner, fallback_fn=True) if owner else None,
        abuse_email=_abuse_email(entities),
        parent_handle=clean_text(obj.get("parentHandle"), 100),
        source_rir=_rir(obj),
    )


def _cidrs(obj: JsonObject) -> tuple[str, ...]:
    """``cidr0_cidrs`` (the cidr0 extension), else the summarised start/end address range."""
    blocks: list[str] = []
    for item in _list(obj.get("cidr0_cidrs"))[:MAX_CIDRS]:
        if not isinstance(item, dict):
            continue
        prefix = item.get("v4prefix") or item.get("v6prefix")
        length = item.get("length")
        if isinstance(prefix, str) and isinstance(length, int | str) and not isinstance(length, bool):
            try:
                blocks.append(ipaddress.ip_network(f"{prefix}/{length}", strict=False).with_prefixlen)
            except ValueError:
                continue
    if blocks:
        return tuple(dict.fromkeys(blocks))
    return _range_cidrs(obj.get("startAddress"), obj.get("endAddress"))


def _range_cidrs(start: object, end: object) -> tuple[str, ...]:
    if not isinstance(start, str) or not isinstance(end, str):
        return ()
    try:
        first, last = ipaddress.ip_address(start.strip()), ipaddress.ip_address(end.strip())
        if first.version != last.version or first > last:  # type: ignore[operator]
            return ()
        nets = ipaddress.summarize_address_range(first, last)  # type: ignore[arg-type]
        return tuple(n.with_prefixlen for _, n in zip(range(MAX_CIDRS), nets, strict=False))
    except ValueError:
        return ()


def _rir(obj: JsonObject) -> str | None:
    """The RIR, from ``port43`` (``whois.arin.net``) or the host of a link."""
    hosts = [_text(obj.get("port43")) or ""]
    for link in _list(obj.get("links"))[:20]:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            try:
                hosts.append(urlsplit(link["href"]).hostname or "")
            except ValueError:
                continue
    for host in hosts:
        host = host.lower().rstrip(".")
        for suffix, rir in RIR_BY_HOST.items():
            if host == suffix or host.endswith("." + suffix):
                return rir
    return None


# -- entities and vCards -------------------------------------------------------------------------


def _entities(obj: JsonObject) -> Iterator[tuple[int, JsonObject]]:
    """``(depth, entity)`` for the entities nested under ``obj``, breadth-first, bounded."""
    queue: deque[tuple[int, object]] = deque((0, e) for e in _list(obj.get("entities"))[:MAX_ENTITIES])
    seen = 0
    while queue and seen < MAX_ENTITIES:
        depth, entity = queue.popleft()
        if not isinstance(entity, dict):
            continue
        seen += 1
        yield depth, entity
        if depth + 1 < MAX_DEPTH:
            queue.extend((depth + 1, e) for e in _list(entity.get("entities"))[:MAX_ENTITIES])


def _roles(entity: JsonObject) -> set[str]:
    return {r.strip().lower() for r in _list(entity.get("roles"))[:20] if isinstance(r, str)}


def _with_role(entities: list[tuple[int, JsonObject]], role: str,
               needs_vcard: bool = False) -> JsonObject | None:
    """The shallowest entity with ``role`` (and a vCard, if asked)."""
    for _, entity in entities:
        if role in _roles(entity) and (not needs_vcard or _vcard(entity)):
            return entity
    return None


def _abuse_email(entities: list[tuple[int, JsonObject]]) -> str | None:
    """The first e-mail of the shallowest entity with the ``abuse`` role that has one."""
    for _, entity in entities:
        if "abuse" in _roles(entity):
            for prop in _vcard(entity):
                if prop[0] == "email":
                    email = email_address(prop[3])
                    if email:
                        return email
    return None


def _vcard(entity: JsonObject) -> list[list[Any]]:
    """The jCard properties ``[name (lower-case), params, type, value]`` that are well formed."""
    card = entity.get("vcardArray")
    if not isinstance(card, list) or len(card) < 2 or not isinstance(card[1], list):
        return []
    props = []
    for prop in card[1][:200]:
        if isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[0], str):
            params = prop[1] if isinstance(prop[1], dict) else {}
            props.append([prop[0].lower(), params, prop[2], prop[3]])
    return props


def _vcard_value(entity: JsonObject, name: str) -> str | None:
    """The first text value of property ``name`` (for structured values such as ``org``'s
    ``[name, unit]``, the first part)."""
    for prop in _vcard(entity):
        if prop[0] == name:
            value = prop[3]
            if isinstance(value, list):
                value = next((v for v in value if isinstance(v, str) and v.strip()), None)
            if isinstance(value, str) and value.strip():
                return value
    return None


def _vcard_strings(entity: JsonObject) -> Iterator[str]:
    """Every text value of the vCard, structured values flattened one level."""
    for prop in _vcard(entity):
        value = prop[3]
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield item
            elif isinstance(item, list):
                yield from (v for v in item[:20] if isinstance(v, str))


def _organisation(entity: JsonObject, fallback_fn: bool) -> str | None:
    """The vCard ``org``; else ``fn`` when the caller says a name will do (registrars, network
    holders) or the card is of ``kind`` org (a person's name is not an organisation)."""
    org = clean_text(_vcard_value(entity, "org"))
    if org:
        return org
    kind = (_vcard_value(entity, "kind") or "").lower()
    if fallback_fn or kind == "org":
        return clean_text(_vcard_value(entity, "fn"))
    return None


def _country(entity: JsonObject) -> str | None:
    """The ``adr`` country: its ``cc`` parameter (RFC 8605), else the country-name part when
    that is a two-letter code. Full names ("NORWAY") are not mapped."""
    for prop in _vcard(entity):
        if prop[0] != "adr":
            continue
        code = country_code(prop[1].get("cc"))
        if code:
            return code
        value = prop[3]
        if isinstance(value, list) and len(value) >= 7:
            code = country_code(value[6])
            if code:
                return code
    return None


# -- shape checks --------------------------------------------------------------------------------

LIST_MEMBERS = ("entities", "events", "nameservers", "status", "links", "remarks", "notices",
                "publicIds", "cidr0_cidrs", "rdapConformance", "redacted", "roles", "vcardArray")
"""Members RFC 9083 (and the cidr0 and RFC 9537 extensions) define as arrays."""
OBJECT_ITEMS = ("entities", "events", "nameservers", "links", "remarks", "notices", "publicIds",
                "cidr0_cidrs", "redacted")
"""Arrays whose items must be objects."""
STRING_ITEMS = ("status", "roles", "rdapConformance")
STRING_MEMBERS = ("objectClassName", "ldhName", "unicodeName", "handle", "port43", "name",
                  "country", "startAddress", "endAddress", "parentHandle", "ipVersion", "type")


def _shape_problem(obj: JsonObject) -> str:
    """What in ``obj`` or its (bounded) entities has a type RFC 9083 does not allow, or ""."""
    problem = _member_problem(obj, "")
    if problem:
        return problem
    for depth, entity in _entities(obj):
        problem = _member_problem(entity, f"entity at depth {depth}: ")
        if problem:
            return problem
    return ""


def _member_problem(obj: JsonObject, where: str) -> str:
    for key in STRING_MEMBERS:
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            return f"{where}{key!r} is {type(obj[key]).__name__}, not a string"
    for key in LIST_MEMBERS:
        if key in obj and not isinstance(obj[key], list):
            return f"{where}{key!r} is {type(obj[key]).__name__}, not an array"
    for key in OBJECT_ITEMS:
        bad = next((x for x in obj.get(key, ())[:MAX_ENTITIES] if not isinstance(x, dict)), None)
        if bad is not None:
            return f"{where}{key!r} holds a {type(bad).__name__}, not an object"
    for key in STRING_ITEMS:
        bad = next((x for x in obj.get(key, ())[:MAX_ENTITIES] if not isinstance(x, str)), None)
        if bad is not None:
            return f"{where}{key!r} holds a {type(bad).__name__}, not a string"
    return ""


# -- small helpers -------------------------------------------------------------------------------


def _load(data: object) -> tuple[JsonObject | None, str]:
    """The answer as a JSON object, or None and why not."""
    if isinstance(data, bytes | bytearray):
        if len(data) > MAX_BODY:
            return None, f"RDAP answer too large ({len(data)} bytes)"
        data = bytes(data).decode("utf-8", "replace")
    if isinstance(data, str):
        if len(data) > MAX_BODY:
            return None, f"RDAP answer too large ({len(data)} characters)"
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as e:
            return None, one_line(f"RDAP answer is not JSON: {type(e).__name__}: {e}", 160)
    if not isinstance(data, dict):
        return None, f"RDAP answer is {type(data).__name__}, not a JSON object"
    return data, ""


def _error_code(obj: JsonObject) -> int | None:
    """The RFC 9083 ``errorCode``; a member of another type counts as an error too (-1)."""
    if "errorCode" not in obj:
        return None
    code = obj["errorCode"]
    if isinstance(code, str) and code.strip().isdigit():
        return int(code.strip()[:6])
    return code if isinstance(code, int) and not isinstance(code, bool) else -1


def _error_message(obj: JsonObject, code: int) -> str:
    if code < 0:
        return f"malformed RDAP: 'errorCode' is {type(obj.get('errorCode')).__name__}, not a number"
    return one_line(f"RDAP error {code}: {_error_title(obj)}")


def _error_title(obj: JsonObject) -> str:
    title = _text(obj.get("title")) or ""
    desc = next((d for d in _list(obj.get("description")) if isinstance(d, str)), "")
    return one_line(" - ".join(p for p in (title, desc) if p) or "no title", 120)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _short(value: object) -> str:
    return one_line(repr(value), 40)


def _idna(value: object) -> str | None:
    """An IDN name in its ASCII (``xn--``) form, None when it cannot be encoded."""
    if not isinstance(value, str):
        return None
    try:
        return value.strip().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
