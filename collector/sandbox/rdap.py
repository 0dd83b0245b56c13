"""The sandbox's RDAP services (RFC 9083 JSON) at the real registries' host names.

:class:`RdapService` answers, behind the proxy, for:

* ``data.iana.org/rdap/{dns,ipv4,ipv6,asn}.json``: IANA bootstrap files generated from the
  world (RFC 9224);
* the five RIRs (``rdap.arin.net/registry/``, ``rdap.db.ripe.net/``, ``rdap.apnic.net/``,
  ``rdap.lacnic.net/rdap/``, ``rdap.afrinic.net/rdap/``): ``ip/<addr or cidr>``,
  ``autnum/<n>``, ``entity/<handle>``, ``help``. Each answers for its own networks; like the
  real one, ``rdap.arin.net`` redirects (302) any other network or ASN of the world to the
  right RIR, and ``rdap-bootstrap.arin.net/bootstrap/...`` redirects everything (ip, autnum,
  domain, entity) to its authoritative server;
* every registry's ``rdap_base``: ``domain/<name>`` (thin registries: registrar entity with
  its IANA ID and abuse contact, a ``related`` link to the registrar's RDAP; thick ones add
  the registrant), ``entity/<IANA id>``, ``help``;
* every registrar's ``rdap_base``: ``domain/<name>`` for the domains it sponsors, with the
  registrant (personal data redacted per RFC 9537 when ``redacted = true``: organisation and
  country stay published, as under ICANN's temporary specification), ``entity/<handle>``.

Unknown objects get 404 with an RDAP error object. Both ``http`` and ``https`` are served;
links use https.

Faults (``Domain.faults.rdap``, on domain lookups at registry and registrar): ``429``: the
first request for that domain to this service instance answers 429 with ``Retry-After:
<faults.retry_after>``, every later one succeeds (deterministic, per instance); ``timeout``:
the answer is held ``stall_seconds`` (an hour) then 504; ``malformed``: 200 with the JSON cut
in half; ``500`` and ``404``: that status with an RDAP error object.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collector.sandbox.http import Request, Response
from collector.sandbox.whois import iso, registry_domain_id
from collector.sandbox.world import Domain, Network, Registrar, Registry, World

CONTENT_TYPE = "application/rdap+json"
STALL_SECONDS = 3600.0
REDACTED = "REDACTED FOR PRIVACY"
IANA_HOST = "data.iana.org"
BOOTSTRAP_HOST = "rdap-bootstrap.arin.net"

RIR_BASES = {
    "arin": "https://rdap.arin.net/registry/",
    "ripencc": "https://rdap.db.ripe.net/",
    "apnic": "https://rdap.apnic.net/",
    "lacnic": "https://rdap.lacnic.net/rdap/",
    "afrinic": "https://rdap.afrinic.net/rdap/",
}
RIR_PORT43 = {"arin": "whois.arin.net", "ripencc": "whois.ripe.net", "apnic": "whois.apnic.net",
              "lacnic": "whois.lacnic.net", "afrinic": "whois.afrinic.net"}
RIR_SUFFIX = {"arin": "ARIN", "ripencc": "RIPE", "apnic": "AP", "lacnic": "LACNIC", "afrinic": "AFRINIC"}
RIR_NET_TYPE = {"arin": "DIRECT ALLOCATION", "ripencc": "ASSIGNED PA", "apnic": "ASSIGNED PORTABLE",
                "lacnic": "ALLOCATED PA", "afrinic": "ASSIGNED PA"}
RIR_TERMS = {
    "arin": "https://www.arin.net/resources/registry/whois/tou/",
    "ripencc": "https://apps.db.ripe.net/docs/HTML-Terms-And-Conditions",
    "apnic": "http://www.apnic.net/db/dbcopyright.html",
    "lacnic": "https://www.lacnic.net/4204/2/lacnic/terms-of-use",
    "afrinic": "https://afrinic.net/whois/terms",
}
EPP_TO_RDAP = {"ok": "active", "inactive": "inactive"}


# -- small JSON builders -------------------------------------------------------------------------


def rdap_status(epp: str) -> str:
    """EPP status to RDAP status (RFC 8056): ``clientTransferProhibited`` →
    ``client transfer prohibited``."""
    return EPP_TO_RDAP.get(epp, re.sub(r"(?<!^)([A-Z])", r" \1", epp).lower())


def link(href: str, rel: str = "self", value: str | None = None) -> dict[str, str]:
    return {"value": value or href, "rel": rel, "href": href, "type": CONTENT_TYPE}


def vcard(*props: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def adr(country: str) -> list[Any]:
    return ["adr", {"cc": country} if country else {}, "text", ["", "", "", "", "", "", country]]


def event(action: str, when: datetime | str) -> dict[str, str]:
    date = iso(when) if isinstance(when, datetime) else f"{when}T00:00:00Z" if when else ""
    return {"eventAction": action, "eventDate": date}


def error_object(status: int, title: str, description: str) -> dict[str, Any]:
    return {"rdapConformance": ["rdap_level_0"], "errorCode": status, "title": title,
            "description": [description]}


def json_response(status: int, obj: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> Response:
    body = json.dumps(obj, indent=1, ensure_ascii=False).encode()
    return Response(status, [("Content-Type", CONTENT_TYPE), ("Access-Control-Allow-Origin", "*"),
                             *(headers or [])], body)


def not_found(what: str) -> Response:
    return json_response(404, error_object(404, "Not Found", f"{what} was not found"))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


# -- number resources ----------------------------------------------------------------------------


def org_handle(net: Network) -> str:
    return net.org_handle or f"{_slug(net.org)[:8] or 'ORG'}-{RIR_SUFFIX[net.rir]}"


def abuse_handle(net: Network) -> str:
    return f"ABUSE{net.asn}-{RIR_SUFFIX[net.rir]}"


def network_handle(net: Network) -> str:
    n = net.network
    if net.rir == "arin":
        kind = "NET" if n.version == 4 else "NET6"
        sep = "." if n.version == 4 else ":"
        return f"{kind}-{str(n.network_address).replace(sep, '-').upper()}-1"
    if net.rir == "lacnic":
        return n.with_prefixlen
    return f"{n.network_address} - {n.broadcast_address}"


def parent_handle(net: Network) -> str:
    n = net.network
    parent = n.supernet(new_prefix=8 if n.version == 4 else 16) if n.prefixlen > (8 if n.version == 4 else 16) else n
    return network_handle(Network(parent.with_prefixlen, 0, "", "", "", net.rir))


def abuse_entity(net: Network, base: str) -> dict[str, Any]:
    handle = abuse_handle(net)
    return {"objectClassName": "entity", "handle": handle, "roles": ["abuse"],
            "vcardArray": vcard(["fn", {}, "text", "Abuse"], ["kind", {}, "text", "group"],
                                ["email", {}, "text", net.abuse_email]),
            "links": [link(f"{base}entity/{handle}")], "port43": RIR_PORT43[net.rir]}


def org_entity(net: Network, base: str, nested_abuse: bool) -> dict[str, Any]:
    handle = org_handle(net)
    entity = {"objectClassName": "entity", "handle": handle, "roles": ["registrant"],
              "vcardArray": vcard(["fn", {}, "text", net.org], adr(net.country),
                                  ["kind", {}, "text", "org"]),
              "links": [link(f"{base}entity/{handle}")],
              "events": [event("registration", net.allocated), event("last changed", net.allocated)],
              "port43": RIR_PORT43[net.rir]}
    if nested_abuse and net.abuse_email:
        entity["entities"] = [abuse_entity(net, base)]
    return entity


def rir_notices(rir: str, self_url: str) -> list[dict[str, Any]]:
    return [{"title": "Terms of Service",
             "description": [f"By using the {RIR_SUFFIX[rir]} RDAP/Whois service, you are agreeing to "
                             "the RDAP/Whois Terms of Use"],
             "links": [{"value": self_url, "rel": "terms-of-service", "href": RIR_TERMS[rir],
                        "type": "text/html"}]}]


def network_entities(net: Network, base: str) -> list[dict[str, Any]]:
    """ARIN nests the abuse POC in the organisation; RIPE, APNIC & co. list it beside it."""
    if net.rir == "arin":
        return [org_entity(net, base, nested_abuse=True)]
    entities = [org_entity(net, base, nested_abuse=False)]
    if net.abuse_email:
        entities.append(abuse_entity(net, base))
    return entities


def ip_network_object(net: Network) -> dict[str, Any]:
    base = RIR_BASES[net.rir]
    n = net.network
    self_url = f"{base}ip/{n.with_prefixlen}"
    prefix_key = "v4prefix" if n.version == 4 else "v6prefix"
    return {
        "rdapConformance": ["rdap_level_0", "cidr0"],
        "notices": rir_notices(net.rir, self_url),
        "objectClassName": "ip network",
        "handle": network_handle(net),
        "startAddress": str(n.network_address),
        "endAddress": str(n.broadcast_address),
        "ipVersion": f"v{n.version}",
        "name": net.as_name,
        "type": RIR_NET_TYPE[net.rir],
        "country": net.country,
        "parentHandle": parent_handle(net),
        "cidr0_cidrs": [{prefix_key: str(n.network_address), "length": n.prefixlen}],
        "status": ["active"],
        "events": [event("registration", net.allocated), event("last changed", net.allocated)],
        "links": [link(self_url)],
        "entities": network_entities(net, base),
        "port43": RIR_PORT43[net.rir],
    }


def autnum_object(net: Network) -> dict[str, Any]:
    base = RIR_BASES[net.rir]
    self_url = f"{base}autnum/{net.asn}"
    return {
        "rdapConformance": ["rdap_level_0"],
        "notices": rir_notices(net.rir, self_url),
        "objectClassName": "autnum",
        "handle": f"AS{net.asn}",
        "startAutnum": net.asn,
        "endAutnum": net.asn,
        "name": net.as_name,
        "country": net.country,
        "status": ["active"],
        "events": [event("registration", net.allocated), event("last changed", net.allocated)],
        "links": [link(self_url)],
        "entities": network_entities(net, base),
        "port43": RIR_PORT43[net.rir],
    }


# -- domains -------------------------------------------------------------------------------------


def registrar_entity(registrar: Registrar, base: str) -> dict[str, Any]:
    """The registrar as registries publish it: IANA ID, name, abuse contact."""
    handle = str(registrar.iana_id)
    abuse = vcard(["fn", {}, "text", "Abuse Contact"],
                  ["tel", {"type": "voice"}, "uri", f"tel:{registrar.abuse_phone}"],
                  ["email", {}, "text", registrar.abuse_email])
    entity: dict[str, Any] = {
        "objectClassName": "entity", "handle": handle, "roles": ["registrar"],
        "publicIds": [{"type": "IANA Registrar ID", "identifier": handle}],
        "vcardArray": vcard(["fn", {}, "text", registrar.name], adr(registrar.country),
                            *([["url", {}, "uri", registrar.url]] if registrar.url else [])),
        "links": [link(f"{base}entity/{handle}")],
        "entities": [{"objectClassName": "entity", "roles": ["abuse"], "vcardArray": abuse}],
    }
    if registrar.whois_server:
        entity["port43"] = registrar.whois_server
    return entity


def registrant_handle(domain: Domain) -> str:
    """A stable contact handle for a published (non-redacted) registrant."""
    return f"C{zlib.crc32(domain.name.encode()) % 10**8:08d}-{domain.tld.upper()}"


def registrant_entity(domain: Domain, base: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The registrant entity and the RFC 9537 ``redacted`` members describing what it hides."""
    reg = domain.registration
    assert reg is not None
    path = "$.entities[?(@.roles[0]=='registrant')]"
    if not reg.redacted:
        handle = registrant_handle(domain)
        return ({"objectClassName": "entity", "handle": handle, "roles": ["registrant"],
                 "vcardArray": vcard(["fn", {}, "text", reg.registrant_org],
                                     ["org", {}, "text", reg.registrant_org], adr(reg.registrant_country),
                                     ["kind", {}, "text", "org"]),
                 "links": [link(f"{base}entity/{handle}")]}, [])
    entity = {"objectClassName": "entity", "roles": ["registrant"],
              "vcardArray": vcard(["fn", {}, "text", REDACTED],
                                  ["org", {}, "text", reg.registrant_org],
                                  ["adr", {"cc": reg.registrant_country}, "text",
                                   ["", "", REDACTED, REDACTED, "", REDACTED, reg.registrant_country]],
                                  ["kind", {}, "text", "individual"])}
    redacted = [
        {"name": {"type": "Registry Registrant ID"}, "prePath": f"{path}.handle",
         "pathLang": "jsonpath", "method": "removal", "reason": {"type": "Server policy"}},
        {"name": {"type": "Registrant Name"},
         "replacementPath": f"{path}.vcardArray[1][?(@[0]=='fn')][3]",
         "pathLang": "jsonpath", "method": "replacementValue", "reason": {"type": "Server policy"}},
        {"name": {"type": "Registrant Street"},
         "replacementPath": f"{path}.vcardArray[1][?(@[0]=='adr')][3][2]",
         "pathLang": "jsonpath", "method": "replacementValue", "reason": {"type": "Server policy"}},
        {"name": {"type": "Registrant City"},
         "replacementPath": f"{path}.vcardArray[1][?(@[0]=='adr')][3][3]",
         "pathLang": "jsonpath", "method": "replacementValue", "reason": {"type": "Server policy"}},
        {"name": {"type": "Registrant Postal Code"},
         "replacementPath": f"{path}.vcardArray[1][?(@[0]=='adr')][3][5]",
         "pathLang": "jsonpath", "method": "replacementValue", "reason": {"type": "Server policy"}},
        {"name": {"type": "Registrant Phone"}, "prePath": f"{path}.vcardArray[1][?(@[0]=='tel')]",
         "pathLang": "jsonpath", "method": "removal", "reason": {"type": "Server policy"}},
        {"name": {"type": "Registrant Email"}, "prePath": f"{path}.vcardArray[1][?(@[0]=='email')]",
         "pathLang": "jsonpath", "method": "removal", "reason": {"type": "Server policy"}},
    ]
    return entity, redacted


DOMAIN_NOTICES = [
    {"title": "Terms of Use", "description": ["Service subject to Terms of Use."],
     "links": [{"href": "https://www.icann.org/registration-data", "type": "text/html"}]},
    {"title": "Status Codes",
     "description": ["For more information on domain status codes, please visit https://icann.org/epp"],
     "links": [{"href": "https://icann.org/epp", "type": "text/html"}]},
    {"title": "RDDS Inaccuracy Complaint Form",
     "description": ["URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf"],
     "links": [{"href": "https://icann.org/wicf", "type": "text/html"}]},
]


def domain_object(domain: Domain, registry: Registry, registrar: Registrar, base: str,
                  *, full: bool, now: datetime) -> dict[str, Any]:
    """A domain object as the registry (``full`` False, unless the registry is thick) or the
    sponsoring registrar (``full`` True) publishes it."""
    reg = domain.registration
    assert reg is not None
    upper = registry.whois_format == "verisign"
    ldh = domain.name.upper() if upper and not full else domain.name
    self_url = f"{base}domain/{ldh}"
    links = [link(self_url)]
    if not full and registrar.rdap_base:
        links.append(link(f"{registrar.rdap_base}domain/{ldh}", rel="related", value=self_url))
    entities = [registrar_entity(registrar, base)]
    conformance = ["rdap_level_0", "icann_rdap_technical_implementation_guide_0",
                   "icann_rdap_response_profile_0"]
    obj: dict[str, Any] = {
        "rdapConformance": conformance,
        "objectClassName": "domain",
        "handle": registry_domain_id(domain.name, registry),
        "ldhName": ldh,
        "links": links,
        "status": [rdap_status(s) for s in reg.status] or ["active"],
        "entities": entities,
        "events": [event("registration", reg.created),
                   event("expiration", reg.expires),
                   event("last changed", reg.updated),
                   event("last update of RDAP database", now)],
        "secureDNS": {"delegationSigned": reg.dnssec},
        "nameservers": [{"objectClassName": "nameserver", "ldhName": ns.upper() if upper and not full else ns}
                        for ns in reg.nameservers],
        "notices": DOMAIN_NOTICES,
    }
    if full or not registry.thin:
        registrant, redacted = registrant_entity(domain, base)
        entities.insert(0, registrant)
        if redacted:
            obj["redacted"] = redacted
            conformance.append("redacted")
    return obj


# -- bootstrap -----------------------------------------------------------------------------------


def _bootstrap(description: str, services: list[list[list[str]]], now: datetime) -> dict[str, Any]:
    return {"version": "1.0", "publication": iso(now), "description": description, "services": services}


def _grouped(pairs: Iterable[tuple[str, str]]) -> list[list[list[str]]]:
    """[(key, url)] → RFC 9224 services, one entry per URL, keys in first-seen order."""
    by_url: dict[str, list[str]] = {}
    for key, url in pairs:
        keys = by_url.setdefault(url, [])
        if key not in keys:
            keys.append(key)
    return [[keys, [url]] for url, keys in by_url.items()]


def ip_bootstrap_pairs(networks: Iterable[Network], version: int) -> list[tuple[str, str]]:
    """Each network's covering /8 (v4) or /16 (v6) → its RIR; a block shared by networks of
    several RIRs is published network by network instead."""
    cover = 8 if version == 4 else 16
    nets = [n for n in networks if n.network.version == version]
    blocks: dict[str, set[str]] = {}
    for n in nets:
        block = n.network.supernet(new_prefix=cover) if n.network.prefixlen > cover else n.network
        blocks.setdefault(block.with_prefixlen, set()).add(n.rir)
    pairs = []
    for n in nets:
        block = n.network.supernet(new_prefix=cover) if n.network.prefixlen > cover else n.network
        key = block.with_prefixlen if len(blocks[block.with_prefixlen]) == 1 else n.network.with_prefixlen
        pairs.append((key, RIR_BASES[n.rir]))
    return pairs


# -- the service ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """One RDAP service root: where it is and who runs it."""

    host: str
    path: str
    kind: str
    """"iana", "bootstrap", "rir", "registry" or "registrar"."""
    url: str
    rir: str = ""
    registry: Registry | None = None
    registrar: Registrar | None = None


def _split(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    path = "/" + path
    return host.lower(), path if path.endswith("/") else path + "/"


class RdapService:
    """RDAP for a :class:`World` (see the module docstring)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.latency = world.latency_ms.get("rdap", 0) / 1000.0
        self.stall_seconds = STALL_SECONDS
        """How long a "timeout" fault holds the answer."""
        self.rate_limited: set[str] = set()
        """Domains that already got their one 429 from this instance."""
        self.bases: list[Base] = [Base(IANA_HOST, "/rdap/", "iana", f"https://{IANA_HOST}/rdap/"),
                                  Base(BOOTSTRAP_HOST, "/bootstrap/", "bootstrap",
                                       f"https://{BOOTSTRAP_HOST}/bootstrap/")]
        for rir, url in RIR_BASES.items():
            self.bases.append(Base(*_split(url), "rir", url, rir=rir))
        for registry in world.registries:
            if registry.rdap_base:
                self.bases.append(Base(*_split(registry.rdap_base), "registry", registry.rdap_base,
                                       registry=registry))
        for registrar in world.registrars.values():
            if registrar.rdap_base:
                self.bases.append(Base(*_split(registrar.rdap_base), "registrar", registrar.rdap_base,
                                       registrar=registrar))

    def hosts(self) -> set[str]:
        """Every host name this service answers for."""
        return {b.host for b in self.bases}

    async def handle(self, request: Request) -> Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.method not in ("GET", "HEAD"):
            return json_response(405, error_object(405, "Method Not Allowed", "RDAP is read-only"))
        base, tail = self._route(request.host.lower(), request.path)
        if base is None:
            return not_found(request.path)
        if tail in ("help", ""):
            return json_response(200, self._help(base))
        kind, _, arg = tail.partition("/")
        if base.kind == "iana":
            return self._iana(tail)
        if base.kind == "bootstrap":
            return self._bootstrap_redirect(kind, arg)
        if base.kind == "rir":
            return self._rir(base, kind, arg)
        if kind == "domain":
            return await self._domain(base, arg.lower().rstrip("."))
        if kind == "entity":
            return self._domain_entity(base, arg)
        return json_response(400, error_object(400, "Bad Request", f"unsupported query {tail!r}"))

    # -- routing ------------------------------------------------------------------------------

    def _route(self, host: str, path: str) -> tuple[Base | None, str]:
        matches = [b for b in self.bases if b.host == host and (path + "/").startswith(b.path)]
        if not matches:
            return None, ""
        base = max(matches, key=lambda b: len(b.path))
        return base, path[len(base.path):].strip("/") if len(path) >= len(base.path) else ""

    def _help(self, base: Base) -> dict[str, Any]:
        return {"rdapConformance": ["rdap_level_0"],
                "notices": [{"title": "Help", "description": [
                    f"RDAP service of the sandbox world {self.world.name!r} at {base.url}",
                    "Queries: domain/<name>, ip/<address or cidr>, autnum/<number>, entity/<handle>"]}]}

    # -- IANA bootstrap -------------------------------------------------------------------------

    def _iana(self, tail: str) -> Response:
        now = datetime.now(UTC).replace(microsecond=0)
        nets = self.world.networks
        if tail == "dns.json":
            services = [[list(r.tlds), [r.rdap_base]] for r in self.world.registries if r.rdap_base]
            doc = _bootstrap("RDAP bootstrap file for Domain Name System registrations", services, now)
        elif tail == "ipv4.json":
            doc = _bootstrap("RDAP bootstrap file for IPv4 address allocations",
                             _grouped(ip_bootstrap_pairs(nets, 4)), now)
        elif tail == "ipv6.json":
            doc = _bootstrap("RDAP bootstrap file for IPv6 address allocations",
                             _grouped(ip_bootstrap_pairs(nets, 6)), now)
        elif tail == "asn.json":
            doc = _bootstrap("RDAP bootstrap file for Autonomous System Number allocations",
                             _grouped((str(n.asn), RIR_BASES[n.rir]) for n in nets), now)
        else:
            return Response.text(404, "Not Found\n")
        return Response(200, [("Content-Type", "application/json")], json.dumps(doc, indent=1).encode())

    def _bootstrap_redirect(self, kind: str, arg: str) -> Response:
        target = ""
        if kind in ("ip", "autnum"):
            net = self._network_for(kind, arg)
            target = f"{RIR_BASES[net.rir]}{kind}/{arg}" if net else ""
        elif kind == "domain":
            registry = self.world.registry_for(arg.rstrip(".").rsplit(".", 1)[-1])
            target = f"{registry.rdap_base}domain/{arg}" if registry and registry.rdap_base else ""
        elif kind == "entity":
            suffix = arg.rsplit("-", 1)[-1].upper()
            rir = next((r for r, s in RIR_SUFFIX.items() if s == suffix), "")
            target = f"{RIR_BASES[rir]}entity/{arg}" if rir else ""
        return Response.redirect(target, 302) if target else not_found(f"{kind}/{arg}")

    # -- RIRs ------------------------------------------------------------------------------------

    def _network_for(self, kind: str, arg: str) -> Network | None:
        if kind == "autnum":
            number = arg.upper().removeprefix("AS")
            if not number.isdigit():
                return None
            return next((n for n in self.world.networks if n.asn == int(number)), None)
        try:
            query = ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return None
        found = [n for n in self.world.networks
                 if n.network.version == query.version and query.subnet_of(n.network)]  # type: ignore[arg-type]
        return max(found, key=lambda n: n.network.prefixlen, default=None)

    def _rir(self, base: Base, kind: str, arg: str) -> Response:
        if kind == "entity":
            entity = self._rir_entity(base.rir, arg)
            return json_response(200, entity) if entity else not_found(f"entity {arg}")
        if kind not in ("ip", "autnum"):
            return json_response(400, error_object(400, "Bad Request", f"unsupported query {kind!r}"))
        if kind == "ip":
            try:
                ipaddress.ip_network(arg, strict=False)
            except ValueError:
                return json_response(400, error_object(400, "Bad Request", f"{arg!r} is not an IP address"))
        net = self._network_for(kind, arg)
        if net is None:
            return not_found(f"{kind} {arg}")
        if net.rir != base.rir:
            if base.rir == "arin":  # ARIN, like the real one, refers the query onwards
                return Response.redirect(f"{RIR_BASES[net.rir]}{kind}/{arg}", 302)
            return not_found(f"{kind} {arg}")
        return json_response(200, ip_network_object(net) if kind == "ip" else autnum_object(net))

    def _rir_entity(self, rir: str, handle: str) -> dict[str, Any] | None:
        wanted = handle.upper()
        for net in self.world.networks:
            if net.rir != rir:
                continue
            base = RIR_BASES[rir]
            entity: dict[str, Any] | None = None
            if org_handle(net).upper() == wanted:
                entity = org_entity(net, base, nested_abuse=True)
            elif net.abuse_email and abuse_handle(net).upper() == wanted:
                entity = abuse_entity(net, base)
            if entity is not None:
                return {"rdapConformance": ["rdap_level_0"], **entity,
                        "notices": rir_notices(rir, f"{base}entity/{entity['handle']}")}
        return None

    # -- domains ---------------------------------------------------------------------------------

    async def _domain(self, base: Base, name: str) -> Response:
        domain = self.world.domains.get(name)
        if domain is not None and domain.faults.rdap:
            faulty = await self._fault(domain)
            if faulty is not None:
                return faulty
        if domain is None or domain.registration is None:
            return not_found(f"domain {name}")
        registry = self.world.registry_for(domain.tld)
        registrar = self.world.registrars.get(domain.registration.registrar)
        if registry is None or registrar is None:
            return not_found(f"domain {name}")
        now = datetime.now(UTC).replace(microsecond=0)
        if base.kind == "registry" and base.registry is registry:
            return json_response(200, domain_object(domain, registry, registrar, base.url, full=False, now=now))
        if base.kind == "registrar" and base.registrar is registrar:
            return json_response(200, domain_object(domain, registry, registrar, base.url, full=True, now=now))
        return not_found(f"domain {name}")

    async def _fault(self, domain: Domain) -> Response | None:
        """The fault's response, or None when the request should be answered normally."""
        fault = domain.faults.rdap
        if fault == "429":
            if domain.name in self.rate_limited:
                return None
            self.rate_limited.add(domain.name)
            return json_response(429, error_object(429, "Too Many Requests", "rate limit exceeded"),
                                 [("Retry-After", str(domain.faults.retry_after))])
        if fault == "timeout":
            await asyncio.sleep(self.stall_seconds)
            return json_response(504, error_object(504, "Gateway Timeout", "no answer"))
        if fault in ("500", "404"):
            status = int(fault)
            title = "Internal Server Error" if status == 500 else "Not Found"
            return json_response(status, error_object(status, title, f"domain {domain.name}"))
        if fault == "malformed":
            body = json.dumps({"rdapConformance": ["rdap_level_0"], "objectClassName": "domain",
                               "ldhName": domain.name, "status": ["active"],
                               "events": [{"eventAction": "registration"}]}).encode()
            return Response(200, [("Content-Type", CONTENT_TYPE)], body[: len(body) // 2])
        return None

    def _domain_entity(self, base: Base, handle: str) -> Response:
        for registrar in self.world.registrars.values():
            if str(registrar.iana_id) == handle and (base.kind == "registry" or base.registrar is registrar):
                return json_response(200, {"rdapConformance": ["rdap_level_0"],
                                           **registrar_entity(registrar, base.url)})
        if base.kind == "registrar":
            for domain in self.world.domains.values():
                reg = domain.registration
                if (reg is not None and not reg.redacted and reg.registrar == base.registrar.name  # type: ignore[union-attr]
                        and registrant_handle(domain) == handle):
                    entity, _ = registrant_entity(domain, base.url)
                    return json_response(200, {"rdapConformance": ["rdap_level_0"], **entity})
        return not_found(f"entity {handle}")
