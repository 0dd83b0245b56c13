"""Load a sandbox world (a folder of TOML and page files) into plain dataclasses.

The schema is documented in ``docs/SANDBOX.md``. Loading validates cross references
(registrar names, network membership of addresses) so a broken world fails at start with
one line naming the file and the problem.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_WORLD = Path(__file__).resolve().parents[2] / "config" / "sandbox" / "default"

RIR_NAMES = ("arin", "ripencc", "apnic", "lacnic", "afrinic")
DNS_FAULTS = ("", "servfail", "timeout", "nxdomain", "malformed")
RDAP_FAULTS = ("", "429", "timeout", "malformed", "500", "404")
WHOIS_FAULTS = ("", "throttled", "timeout", "malformed")
HTTP_MODES = ("serve", "redirect", "off")
CATEGORIES = ("streaming", "torrent", "ddl", "manga", "iptv", "warez", "ebook", "music",
              "counterfeit", "none")


class WorldError(ValueError):
    """A world folder that cannot be loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class Registry:
    """A TLD registry: where its WHOIS and RDAP answer and in which format."""

    tlds: tuple[str, ...]
    operator: str
    whois_server: str
    whois_format: str
    thin: bool = False
    rdap_base: str = ""
    """Base URL of the registry's RDAP service, ending in '/'; empty when the TLD has none."""


@dataclass(frozen=True)
class Registrar:
    name: str
    iana_id: int
    url: str = ""
    whois_server: str = ""
    whois_format: str = "icann"
    rdap_base: str = ""
    abuse_email: str = ""
    abuse_phone: str = ""
    country: str = ""


@dataclass(frozen=True)
class Network:
    """An announced prefix with its origin AS and its RIR registration."""

    cidr: str
    asn: int
    as_name: str
    org: str
    country: str
    rir: str
    allocated: str = ""
    org_handle: str = ""
    abuse_email: str = ""
    cdn: str = ""

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr, strict=False)


@dataclass(frozen=True)
class Registration:
    registrar: str
    created: datetime
    updated: datetime
    expires: datetime
    status: tuple[str, ...] = ()
    nameservers: tuple[str, ...] = ()
    registrant_org: str = ""
    registrant_country: str = ""
    redacted: bool = True
    dnssec: bool = False


@dataclass(frozen=True)
class Route:
    """A per-path behaviour of a virtual site (see docs/SANDBOX.md)."""

    path: str
    redirect: str = ""
    status: int = 0
    generator: str = ""
    pages: int = 0
    bytes: int = 0
    delay: float = 0.0
    file: str = ""
    content_type: str = ""

    def matches(self, path: str) -> bool:
        return path == self.path or (self.path.endswith("/") and path.startswith(self.path))


@dataclass(frozen=True)
class Site:
    host: str
    root: Path
    """Folder whose files the site serves (may not exist for redirect-only hosts)."""
    https: bool = True
    http: str = "redirect"
    redirect: str = ""
    redirect_status: int = 301
    headers: tuple[tuple[str, str], ...] = ()
    routes: tuple[Route, ...] = ()
    certificate: str = ""
    """Name of a ``certificates.toml`` entry this host presents over HTTPS (the same
    certificate on every host naming it); empty: a certificate of its own."""

    def route_for(self, path: str) -> Route | None:
        """The most specific route matching ``path`` (exact beats the longest prefix)."""
        best: Route | None = None
        for route in self.routes:
            if route.path == path:
                return route
            if route.matches(path) and (best is None or len(route.path) > len(best.path)):
                best = route
        return best


@dataclass(frozen=True)
class Certificate:
    """A certificate several hosts present (``certificates.toml``): one DER, many hosts.

    Real operators put several of their sites in one certificate's SANs, and CDNs serve
    shared edge certificates naming many unrelated customers; both need one certificate
    shown by several hosts, not one per host.
    """

    name: str
    sans: tuple[str, ...]
    """DNS names in the subject alternative names, the first one also the subject CN."""


@dataclass(frozen=True)
class Faults:
    dns: str = ""
    rdap: str = ""
    whois: str = ""
    retry_after: int = 2


@dataclass(frozen=True)
class Truth:
    """What the world's author says the site is: the answer key for tests and courses."""

    piracy: bool = False
    category: str = "none"
    operator: str = ""
    """Name of the operator network the site belongs to, if any."""
    notes: str = ""
    """What a trainee should find here (shown by ``isop sandbox sites``)."""


@dataclass(frozen=True)
class Domain:
    name: str
    registration: Registration | None
    records: dict[str, dict[str, tuple[str, ...]]]
    """Owner name (fully qualified, lowercase, no trailing dot) -> type -> values."""
    sites: tuple[Site, ...] = ()
    faults: Faults = field(default_factory=Faults)
    truth: Truth = field(default_factory=lambda: Truth())

    @property
    def tld(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class World:
    name: str
    description: str
    root: Path
    registries: tuple[Registry, ...]
    registrars: dict[str, Registrar]
    networks: tuple[Network, ...]
    domains: dict[str, Domain]
    latency_ms: dict[str, float]
    """Service name (dns, http, rdap, whois) -> added latency per answer in milliseconds."""
    certificates: dict[str, Certificate] = field(default_factory=dict)
    """Shared certificates by name (``certificates.toml``)."""

    @property
    def sites(self) -> dict[str, Site]:
        """Every virtual host of the world, by host name."""
        return {site.host: site for d in self.domains.values() for site in d.sites}

    def registry_for(self, tld: str) -> Registry | None:
        tld = tld.lower().strip(".")
        return next((r for r in self.registries if tld in r.tlds), None)

    def network_for(self, ip: str) -> Network | None:
        """The most specific network containing ``ip``, or None."""
        addr = ipaddress.ip_address(ip)
        found = [n for n in self.networks if addr.version == n.network.version and addr in n.network]
        return max(found, key=lambda n: n.network.prefixlen, default=None)

    def domain_for(self, fqdn: str) -> Domain | None:
        """The registered domain a host name belongs to (longest matching suffix)."""
        labels = fqdn.lower().rstrip(".").split(".")
        for i in range(len(labels)):
            d = self.domains.get(".".join(labels[i:]))
            if d is not None:
                return d
        return None

    def seeds_path(self) -> Path:
        return self.root / "seeds.txt"


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise WorldError(f"{path}: not valid TOML: {e}") from None


def _date(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if hasattr(value, "year") and not isinstance(value, datetime):  # a TOML date
        return datetime(value.year, value.month, value.day, tzinfo=UTC)  # type: ignore[attr-defined]
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise WorldError(f"{where}: {value!r} is not an ISO-8601 date") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise WorldError(f"{where}: {value!r} is not a date")


def _make(cls, data: dict, where: str):
    try:
        return cls(**data)
    except TypeError as e:
        raise WorldError(f"{where}: {e}") from None


def _check(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise WorldError(f"{where}: {message}")


def _load_domain(path: Path, world_root: Path, registrars: dict[str, Registrar]) -> Domain:
    data = _read_toml(path)
    name = path.stem.lower()
    where = str(path)
    unknown = set(data) - {"registration", "dns", "site", "faults", "truth"}
    _check(not unknown, where, f"unknown section(s) {sorted(unknown)}")

    registration = None
    if "registration" in data:
        reg = dict(data["registration"])
        for key in ("created", "updated", "expires"):
            _check(key in reg, where, f"registration.{key} is missing")
            reg[key] = _date(reg[key], f"{where}: registration.{key}")
        for key in ("status", "nameservers"):
            reg[key] = tuple(str(v).lower().rstrip(".") if key == "nameservers" else str(v)
                             for v in reg.get(key, ()))
        registration = _make(Registration, reg, where)
        _check(registration.registrar in registrars, where,
               f"registrar {registration.registrar!r} is not in registrars.toml")

    records: dict[str, dict[str, tuple[str, ...]]] = {}
    for owner, rrsets in data.get("dns", {}).items():
        fqdn = name if owner == "@" else f"{owner.lower().rstrip('.')}.{name}"
        _check(isinstance(rrsets, dict), where, f"dns.{owner} must be a table of record types")
        records[fqdn] = {}
        for rtype, values in rrsets.items():
            if isinstance(values, str):
                values = [values]
            records[fqdn][rtype.upper()] = tuple(str(v) for v in values)
            if rtype.upper() in ("A", "AAAA"):
                for v in values:
                    try:
                        ipaddress.ip_address(v)
                    except ValueError:
                        raise WorldError(f"{where}: dns.{owner}.{rtype}: {v!r} is not an IP address") from None

    sites = []
    for i, raw in enumerate(data.get("site", [])):
        raw = dict(raw)
        swhere = f"{where}: site[{i}]"
        _check("host" in raw, swhere, "host is missing")
        host = raw.pop("host").lower().rstrip(".")
        folder = raw.pop("dir", host)
        routes = tuple(_make(Route, {"path": p, **r}, f"{swhere}.routes[{p!r}]")
                       for p, r in raw.pop("routes", {}).items())
        headers = tuple((str(k), str(v)) for k, v in raw.pop("headers", {}).items())
        site = _make(Site, {"host": host, "root": world_root / "sites" / folder, "routes": routes,
                            "headers": headers, **raw}, swhere)
        _check(site.http in HTTP_MODES, swhere, f"http must be one of {HTTP_MODES}")
        sites.append(site)

    faults = _make(Faults, data.get("faults", {}), f"{where}: faults")
    _check(faults.dns in DNS_FAULTS, where, f"faults.dns must be one of {DNS_FAULTS}")
    _check(faults.rdap in RDAP_FAULTS, where, f"faults.rdap must be one of {RDAP_FAULTS}")
    _check(faults.whois in WHOIS_FAULTS, where, f"faults.whois must be one of {WHOIS_FAULTS}")
    truth = _make(Truth, data.get("truth", {}), f"{where}: truth")
    _check(truth.category in CATEGORIES, where, f"truth.category must be one of {CATEGORIES}")
    return Domain(name=name, registration=registration, records=records, sites=tuple(sites),
                  faults=faults, truth=truth)


def _load_certificates(path: Path) -> dict[str, Certificate]:
    """``certificates.toml``: ``[[certificate]] name = "...", sans = ["a.example", ...]``."""
    out: dict[str, Certificate] = {}
    for i, raw in enumerate(_read_toml(path).get("certificate", [])):
        where = f"{path}: certificate[{i}]"
        _check(isinstance(raw.get("name"), str) and raw["name"] != "", where, "name is missing")
        sans = raw.get("sans", [])
        _check(isinstance(sans, list) and bool(sans) and all(isinstance(n, str) and n for n in sans),
               where, "sans must be a non-empty list of host names")
        cert = _make(Certificate, {**raw, "sans": tuple(n.lower().rstrip(".") for n in sans)}, where)
        _check(cert.name not in out, where, f"certificate {cert.name!r} is defined twice")
        out[cert.name] = cert
    return out


def load_world(root: Path | str | None = None) -> World:
    """Load and validate the world in ``root`` (default: ``config/sandbox/default``)."""
    root = Path(root) if root else DEFAULT_WORLD
    if not (root / "world.toml").is_file():
        raise WorldError(f"{root}: no world.toml, not a sandbox world folder")
    meta = _read_toml(root / "world.toml")
    info = meta.get("world", {})

    registries = tuple(
        _make(Registry, {**r, "tlds": tuple(t.lower().lstrip(".") for t in r.get("tlds", ()))},
              f"{root / 'registries.toml'}: registry[{i}]")
        for i, r in enumerate(_read_toml(root / "registries.toml").get("registry", [])))
    registrars = {}
    for i, r in enumerate(_read_toml(root / "registrars.toml").get("registrar", [])):
        registrar = _make(Registrar, r, f"{root / 'registrars.toml'}: registrar[{i}]")
        registrars[registrar.name] = registrar
    networks = []
    for i, n in enumerate(_read_toml(root / "networks.toml").get("network", [])):
        where = f"{root / 'networks.toml'}: network[{i}]"
        net = _make(Network, n, where)
        try:
            net.network  # noqa: B018 - validates the CIDR
        except ValueError:
            raise WorldError(f"{where}: {net.cidr!r} is not a network") from None
        _check(net.rir in RIR_NAMES, where, f"rir must be one of {RIR_NAMES}")
        networks.append(net)

    certificates = _load_certificates(root / "certificates.toml")
    domains = {}
    for path in sorted((root / "domains").glob("*.toml")):
        domain = _load_domain(path, root, registrars)
        for i, site in enumerate(domain.sites):
            _check(not site.certificate or site.certificate in certificates, f"{path}: site[{i}]",
                   f"certificate {site.certificate!r} is not in certificates.toml")
        domains[domain.name] = domain

    latency = {k: float(v) for k, v in meta.get("latency", {}).items()}
    world = World(name=info.get("name", root.name), description=info.get("description", ""),
                  root=root, registries=registries, registrars=registrars,
                  networks=tuple(networks), domains=domains, latency_ms=latency,
                  certificates=certificates)
    for domain in domains.values():
        if domain.registration is not None:
            _check(world.registry_for(domain.tld) is not None, str(root / "domains" / f"{domain.name}.toml"),
                   f"no registry in registries.toml serves .{domain.tld}")
    return world
