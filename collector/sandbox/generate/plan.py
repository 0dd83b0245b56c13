"""Draw a world's structure from a seed: who runs what, where it is hosted, what it shows.

Everything is drawn from one ``random.Random`` in a fixed order, over lists (never sets),
so a seed gives the same world byte for byte. The plan is plain data; ``writer`` turns it
into the world folder and the answer key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from collector.sandbox.generate import adverts as A
from collector.sandbox.generate import idents as I
from collector.sandbox.generate import infra as F
from collector.sandbox.generate import names as N
from collector.sandbox.world import CATEGORIES

LANGUAGES = ("ko", "en", "fr", "es", "ar", "ru", "zh", "ja", "pt", "vi", "id", "tr", "de", "it")
PIRACY_CATEGORIES = tuple(c for c in CATEGORIES if c != "none")
LEGACY_CHARSETS = {"ru": "windows-1251", "zh": "gbk", "ja": "shift_jis", "ko": "euc-kr",
                   "fr": "iso-8859-1", "de": "iso-8859-1", "es": "iso-8859-1", "it": "iso-8859-1",
                   "pt": "iso-8859-1"}
REFERENCE = dt.datetime(2026, 11, 15, 12, 0, 0, tzinfo=dt.UTC)
"""The world's "today" for registration dates (fixed: a seed must not depend on the clock)."""
MAX_OPERATOR_SITES = 10

TLDS = {"ko": ("kr", "com", "net", "me", "xyz"), "ru": ("ru", "net", "cc", "xyz", "to", "me"),
        "default": ("com", "net", "xyz", "io", "to", "cc", "tv", "me", "se", "org")}
PIRACY_REGISTRARS = ("NameCheap, Inc.", "NICENIC INTERNATIONAL GROUP CO., LIMITED",
                     "PDR Ltd. d/b/a PublicDomainRegistry.com", "Dynadot Inc", "Porkbun LLC",
                     "1337 Services LLC", "GoDaddy.com, LLC", "Tucows Domains Inc.")
LEGAL_REGISTRARS = ("MarkMonitor Inc.", "Gandi SAS", "GoDaddy.com, LLC", "Tucows Domains Inc.",
                    "OVH sas", "Cloudflare, Inc.", "NameCheap, Inc.")
PRIVACY_ORGS = {"NameCheap, Inc.": ("Privacy service provided by Withheld for Privacy ehf", "IS"),
                "1337 Services LLC": ("1337 Services LLC", "KN"),
                "Dynadot Inc": ("Super Privacy Service LTD c/o Dynadot", "US"),
                "Porkbun LLC": ("Private by Design, LLC", "US")}

STRONG_FAMILIES = ("ga_ua", "ga4", "gtm", "adsense", "yandex", "btc", "eth", "trx", "xmr",
                   "telegram", "whatsapp", "discord", "phone", "email", "paypal", "favicon")
"""Operator-specific identifier families (each one value per operator; GA one account)."""


@dataclass
class PSite:
    """One registered domain with a web site, as planned."""

    domain: str
    role: str
    category: str = "none"
    piracy: bool = False
    operator: str = ""
    brand: str = ""
    unicode: str = ""
    language: str = "en"
    charset: str = "utf-8"
    chain: list[str] = field(default_factory=list)
    hop: str = ""
    """Chain members before the newest: "redirect" (every path 301s on) or "notice"."""
    moved_to: str = ""
    kind: str = ""
    """Hosting kind: cf, ddosguard, cdnx, shield, shared, dedicated, cloud, parking."""
    registrar: str = ""
    created: dt.datetime = REFERENCE
    ipv4: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)
    network: F.NetworkDef | None = None
    cdn: str = ""
    nameservers: list[str] = field(default_factory=list)
    ns_what: str = ""
    families: list[str] = field(default_factory=list)
    idents: list[I.Ident] = field(default_factory=list)
    snippets: list[str] = field(default_factory=list)
    infra: list[tuple[str, str, str]] = field(default_factory=list)
    """(type, value, what) of shared-infrastructure values this site carries."""
    links: list[str] = field(default_factory=list)
    certificate: str = ""
    favicon: bytes | None = None
    theme: str = ""
    js_only: bool = False
    www: bool = True
    http_mode: str = "redirect"
    pages: int = 5
    notes: list[str] = field(default_factory=list)
    mirror_of: str = ""
    faults: dict[str, object] = field(default_factory=dict)
    """A ``[faults]`` table: lookups that misbehave on purpose (never a timeout: benches crawl these)."""

    @property
    def url(self) -> str:
        return f"https://{self.domain}/"

    @property
    def has_pages(self) -> bool:
        return self.hop != "redirect"

    @property
    def label(self) -> str:
        """Who the site belongs to for "shared by several operators": its operator, or itself."""
        return self.operator or f"-{self.domain}"


@dataclass
class Operator:
    name: str
    visible: bool
    language: str
    sites: list[PSite] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)
    home: str = ""
    dedicated4: list[str] = field(default_factory=list)
    dedicated6: list[str] = field(default_factory=list)
    dedicated_net: tuple[F.NetworkDef, F.NetworkDef] | None = None
    private_ns: bool = False
    cert_name: str = ""


@dataclass
class Certificate:
    name: str
    sans: list[str]
    what: str
    operator: str = ""
    hosts: list[str] = field(default_factory=list)


@dataclass
class InfraDomain:
    """A registered domain without a web site that holds providers' name servers."""

    domain: str
    registrar: str
    org: str
    country: str
    records: dict[str, dict[str, list[str]]]
    notes: str


@dataclass
class Plan:
    seed: int
    options: dict[str, int]
    sites: list[PSite]
    operators: list[Operator]
    networks: list[F.NetworkDef]
    certificates: list[Certificate]
    infra_domains: list[InfraDomain]
    providers: dict[str, F.Provider]


class Planner:
    """Draws a :class:`Plan` (call :meth:`plan` once)."""

    def __init__(self, seed: int, sites: int | None, operators: int | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.want_sites = sites
        self.want_operators = operators
        self.taken: list[str] = []
        self.addresses = F.AddressPlan(self.rng)
        self.networks: list[F.NetworkDef] = []
        self.taken_nets: list[ipaddress._BaseNetwork] = []
        self.used_asns: list[int] = []
        self.infra_domains: list[InfraDomain] = []
        self.certificates: list[Certificate] = []

    # --- names ----------------------------------------------------------------------------

    def _free(self, name: str) -> bool:
        return name not in self.taken

    def domain(self, slug: str, tld: str) -> str:
        name = f"{slug}.{tld}"
        n = 2
        while not self._free(name):
            name = f"{slug}{n}.{tld}"
            n += 1
        self.taken.append(name)
        return name

    def tld_for(self, language: str) -> str:
        return self.rng.choice(TLDS.get(language, TLDS["default"]))

    # --- providers -------------------------------------------------------------------------

    def _asn(self) -> int:
        cdn_asns = {a for p in _cdn_list() for a in p.get("asns", [])}
        while True:
            asn = self.rng.choice((self.rng.randint(200000, 216000), self.rng.randint(263000, 270000),
                                   self.rng.randint(135000, 142000), self.rng.randint(328000, 329900),
                                   self.rng.randint(393000, 399000)))
            if asn not in cdn_asns and asn not in self.used_asns:
                self.used_asns.append(asn)
                return asn

    def _org(self) -> str:
        return f"{self.rng.choice(F.ORG_WORDS)} {self.rng.choice(F.ORG_KINDS)}"

    def _fictional(self, rir: str, org: str, cdn: str = "") -> tuple[F.NetworkDef, F.NetworkDef]:
        v4, v6 = F.fictional_network(self.rng, rir, self.taken_nets, org, self._asn(), cdn)
        self.networks += [v4, v6]
        return v4, v6

    def providers(self) -> dict[str, F.Provider]:
        for cidr in [c for p in _cdn_list() for c in p.get("cidrs", [])]:
            self.taken_nets.append(ipaddress.ip_network(cidr))
        fixed = [*F.CLOUDFLARE_V4, F.CLOUDFLARE_V6, F.DDOS_GUARD_V4, *F.CLOUDS,
                 F.NetworkDef("173.245.48.0/20", 13335, "CLOUDFLARENET", "Cloudflare, Inc.", "US", "arin",
                              "2010-07-09", "CLOUD14", "abuse@cloudflare.com", "Cloudflare"),
                 F.NetworkDef("156.154.0.0/16", 19905, "NEUSTAR-AS6", "Vercara, LLC", "US", "arin",
                              "2008-02-12", "VERCA-1", "abuse@vercara.com"),
                 F.NetworkDef("97.74.0.0/16", 44273, "GODADDY", "GoDaddy.com, LLC", "US", "arin",
                              "2009-03-02", "GODAD", "abuse@godaddy.com")]
        for asn, cidr in F.CLOUD_V6.items():
            base = next(n for n in F.CLOUDS if n.asn == asn)
            fixed.append(F.NetworkDef(cidr, asn, base.as_name, base.org, base.country, base.rir,
                                      base.allocated, base.org_handle, base.abuse_email))
        for net in fixed:
            self.taken_nets.append(ipaddress.ip_network(net.cidr))
        self.networks += fixed
        rng = self.rng
        cdnx_name = rng.choice(F.CDN_NAMES)
        cdnx_slug = cdnx_name.lower().replace(" ", "")
        shield_name = rng.choice(F.SHIELD_NAMES)
        cdnx4, cdnx6 = self._fictional(rng.choice(("ripencc", "arin")), f"{cdnx_name} Ltd", cdnx_name)
        shield4, shield6 = self._fictional(rng.choice(("ripencc", "lacnic", "apnic")), f"{shield_name} Inc")
        shared4, shared6 = self._fictional(rng.choice(("arin", "ripencc", "apnic")), self._org())
        park4, park6 = self._fictional("ripencc", "ParkingCrew Services GmbH")
        dns_domain = rng.choice(F.DNS_PROVIDERS)
        dns4, _ = self._fictional(rng.choice(("ripencc", "arin")), f"{dns_domain.split('.')[0].capitalize()} DNS AB")
        self.dns_provider = (dns_domain, dns4)
        providers = {
            "cf": F.Provider("Cloudflare", "Cloudflare", F.CLOUDFLARE_V4[0], F.CLOUDFLARE_V6,
                             "cdn anycast", "cloudflare.com", "ns.cloudflare.com",
                             tuple(rng.sample(F.CF_NS_POOL, 20)), "cloudflaressl.com"),
            "ddosguard": F.Provider("DDoS-Guard", "DDoS-Guard", F.DDOS_GUARD_V4, None, "ddos-protection anycast",
                                    "ddos-guard.net", "ddos-guard.net"),
            "cdnx": F.Provider(cdnx_name, cdnx_name, cdnx4, cdnx6, "cdn anycast",
                               f"{cdnx_slug}.net", f"ns.{cdnx_slug}.net",
                               tuple(rng.sample(F.DNS_WORDS, 8))),
            "shield": F.Provider(shield_name, "", shield4, shield6, "ddos-protection shared address"),
            "shared": F.Provider(shared4.org, "", shared4, shared6, "shared hosting ip"),
            "parking": F.Provider("ParkingCrew", "", park4, park6, "parking ip", F.PARKING_DOMAIN,
                                  F.PARKING_DOMAIN),
        }
        # Offshore hosts for operators' own servers: one per RIR at least.
        rirs = ["arin", "ripencc", "apnic", "lacnic", "afrinic"]
        rng.shuffle(rirs)
        rirs += [rng.choice(rirs) for _ in range(rng.randint(0, 2))]
        self.offshore = [self._fictional(rir, self._org()) for rir in rirs]
        return providers

    # --- the plan ----------------------------------------------------------------------------

    def plan(self) -> Plan:
        rng = self.rng
        providers = self.providers()
        target = self.want_sites if self.want_sites else rng.randint(30, 60)
        big = target >= 25
        core = {"hub": 2 if big else 1, "forum": 1, "status": 1,
                "video_host": rng.randint(2, 3) if big else 1, "cyberlocker": 1,
                "legal": rng.randint(2, 3) if big else 1, "hard_negative": rng.randint(3, 5) if big else 2,
                "parked": 3 if big and rng.random() < 0.7 else 0, "trap": 1, "hostile": 1}
        budget = max(target - sum(core.values()), 2)
        n_ops = self.want_operators if self.want_operators else rng.randint(3, 8)
        if not self.want_operators:
            n_ops = max(1, min(n_ops, budget // 2), -(-budget // 7))  # 1-10 sites each fill the budget
        budget = max(budget, n_ops)
        invisible = [rng.random() < 0.2 for _ in range(n_ops)]
        if n_ops >= 4 and not any(invisible):
            invisible[rng.randrange(n_ops)] = True
        if all(invisible):
            invisible[0] = False
        sizes = self._sizes(budget, n_ops, invisible)

        operators: list[Operator] = []
        sites: list[PSite] = []
        can_hop = [i for i in range(n_ops) if not invisible[i] and sizes[i] >= 2]
        hopper = rng.choice(can_hop) if can_hop else -1  # every world has a hopping chain
        for i in range(n_ops):
            op = self._operator(sizes[i], not invisible[i], [o.name for o in operators], i == hopper)
            operators.append(op)
            sites += op.sites
        for role, count in core.items():
            for _ in range(count):
                sites.append(self._core_site(role))
        self._languages(sites)
        self._categories(operators)
        self._idn(sites, operators)
        for site in sites:  # a small world: hubs and forums are graded as the categories left over
            if site.role in ("hub", "forum", "status") and self._missing_categories:
                site.category = self._missing_categories.pop()
        for site in sites:
            self._registration(site)
        self._hosting(sites, operators, providers)
        self._nameservers(sites, operators, providers)
        self._identifiers(sites, operators)
        self._shared_content(sites)
        self._advertisers(sites)
        self._links(sites, operators)
        self._edge_certificates(sites, providers)
        self._default_certificate(sites, providers)
        self._faults(sites)
        return Plan(self.seed, {"sites": target, "operators": n_ops}, sites, operators, self.networks,
                    self.certificates, self.infra_domains, providers)

    def _sizes(self, budget: int, n_ops: int, invisible: list[bool]) -> list[int]:
        rng = self.rng
        sizes = [1] * n_ops
        caps = [3 if inv else MAX_OPERATOR_SITES for inv in invisible]
        for i in range(n_ops):  # an invisible operator with one site would be no network at all
            if invisible[i] and sum(sizes) < budget:
                sizes[i] = 2
        left = budget - sum(sizes)
        while left > 0 and any(s < c for s, c in zip(sizes, caps, strict=True)):
            i = rng.randrange(n_ops)
            if sizes[i] < caps[i]:
                sizes[i] += 1
                left -= 1
        return sizes

    def _operator(self, size: int, visible: bool, names: list[str], hop: bool = False) -> Operator:
        rng = self.rng
        language = rng.choice(LANGUAGES)
        category = rng.choice(PIRACY_CATEGORIES)
        slug, display = N.brand(rng, language, category)
        name = slug
        while name in names:
            name = f"{slug}-{rng.randint(2, 99)}"
        op = Operator(name=name, visible=visible, language=language)
        remaining = size
        if visible and size >= 2 and (rng.random() < 0.6 or hop):
            length = rng.randint(2, min(4, size))
            op.sites += self._chain(op, slug, display, category, length)
            remaining -= length
        for _ in range(remaining):
            lang = language if rng.random() < 0.7 else rng.choice(LANGUAGES)
            cat = category if rng.random() < 0.5 else rng.choice(PIRACY_CATEGORIES)
            if visible and op.sites and rng.random() < 0.25:  # a mirror of the brand on another TLD
                first = op.sites[-1]
                base = first.domain.split(".")[0].rstrip("0123456789") or first.domain.split(".")[0]
                site = PSite(self.domain(base, self.tld_for(first.language)), "piracy", first.category, True,
                             op.name, first.brand, language=first.language)
                site.mirror_of = first.domain
                site.notes.append(f"mirror of {first.domain}")
            else:
                s, d = N.brand(rng, lang, cat)
                site = PSite(self.domain(s, self.tld_for(lang)), "piracy", cat, True, op.name, d, language=lang)
            op.sites.append(site)
        op.home = next(s.domain for s in reversed(op.sites) if s.has_pages)
        return op

    def _chain(self, op: Operator, slug: str, display: str, category: str, length: int) -> list[PSite]:
        rng = self.rng
        if rng.random() < 0.5:  # numbered domains on one TLD
            tld = self.tld_for(op.language)
            start = rng.randint(1, 40)
            domains = [self.domain(f"{slug}{start + i}", tld) for i in range(length)]
            style = "numbered"
        else:
            tlds = list(TLDS.get(op.language, TLDS["default"]))
            rng.shuffle(tlds)
            while len(tlds) < length:
                tlds.append(rng.choice(TLDS["default"]))
            domains = [self.domain(slug, t) for t in tlds[:length]]
            style = "tld hop"
        sites = []
        for i, d in enumerate(domains):
            site = PSite(d, "piracy", category, True, op.name, display, language=op.language, chain=domains)
            if i < length - 1:
                site.hop = "redirect" if rng.random() < 0.6 else "notice"
                site.moved_to = domains[i + 1]
                site.notes.append(f"{style} chain: {site.hop} to {domains[i + 1]}")
            else:
                site.notes.append(f"newest of the {style} chain {' -> '.join(domains)}")
            sites.append(site)
        return sites

    def _core_site(self, role: str) -> PSite:
        rng = self.rng
        lang = rng.choice(LANGUAGES)
        category = {"video_host": "streaming", "cyberlocker": "ddl"}.get(role, "none")
        piracy = role in ("video_host", "cyberlocker", "hub", "forum", "status")
        if role in ("hub", "forum", "status"):
            category = rng.choice(("streaming", "torrent", "manga"))
        word = {"hub": ("links", "juso", "proxy", "unblock", "list"), "forum": ("forum", "board", "talk"),
                "status": ("status", "mirrors", "alive"), "video_host": ("vid", "tape", "stream", "play"),
                "cyberlocker": ("file", "upload", "drop", "share"), "parked": ("deals", "shop", "online"),
                "trap": ("cinema", "events", "news"), "hostile": ("range", "lab", "test")}.get(role)
        if word:
            slug = rng.choice(N.SYLLABLES[lang]) + rng.choice(word)
            display = slug.capitalize()
        else:
            slug, display = N.brand(rng, lang, "none")
        tld = rng.choice(("com", "net", "org", "io", "xyz")) if role != "hub" else self.tld_for(lang)
        site = PSite(self.domain(slug, tld), role, category, piracy, "", display, language=lang)
        if role == "trap":
            site.notes.append("crawler trap: /calendar/ (endless) and /archive/ (big generated site)")
        if role == "hostile":
            site.notes.append("hostile test host: huge, slow, broken, looping and mislabelled answers")
        return site

    def _languages(self, sites: list[PSite]) -> None:
        rng = self.rng
        used = [s.language for s in sites if s.operator]
        missing = [lang for lang in LANGUAGES if lang not in used]
        rng.shuffle(missing)
        for site in sites:
            if not site.operator and missing:
                site.language = missing.pop()
        for site in sites:  # still missing (a small world): operator sites outside chains
            if missing and site.operator and not site.chain and site.language in used and used.count(site.language) > 1:
                used.remove(site.language)
                site.language = missing.pop()
        for site in sites:
            if site.language in LEGACY_CHARSETS and rng.random() < 0.35:
                site.charset = LEGACY_CHARSETS[site.language]
        for site in sites:  # a chain or a mirror is one brand: one language
            head = next((s for s in sites if s.domain == (site.chain[-1] if site.chain else site.mirror_of)), None)
            if head is not None:
                site.language, site.charset = head.language, head.charset
        for lang, charset in LEGACY_CHARSETS.items():
            if not any(s.charset == charset for s in sites):
                first = next((s for s in sites if s.language == lang and s.charset == "utf-8" and not s.chain
                              and not s.mirror_of and not any(m.mirror_of == s.domain for m in sites)),
                             next((s for s in sites if s.language == lang and s.charset == "utf-8"), None))
                for site in sites if first is not None else ():
                    if site is first or (first.chain and site.chain == first.chain) or \
                            (site.mirror_of and site.mirror_of == first.domain):
                        site.charset = charset

    def _categories(self, operators: list[Operator]) -> None:
        rng = self.rng
        units: list[list[PSite]] = []
        for op in operators:
            chained = [s for s in op.sites if s.chain]
            if chained:
                units.append(chained)
            units += [[s] for s in op.sites if not s.chain and not s.mirror_of]
        order = list(PIRACY_CATEGORIES)
        rng.shuffle(order)
        rng.shuffle(units)
        for unit, category in zip(units, order, strict=False):
            for site in unit:
                site.category = category
        self._missing_categories = order[len(units):]
        for op in operators:
            for site in op.sites:
                if site.mirror_of:
                    original = next(s for s in op.sites if s.domain == site.mirror_of)
                    site.category = original.category

    def _registration(self, site: PSite) -> None:
        rng = self.rng
        tld = site.domain.rsplit(".", 1)[-1]
        if tld == "kr":
            site.registrar = "Gabia, Inc."
        elif tld in ("ru", N.CYRILLIC_TLD):
            site.registrar = "Registrar of domain names REG.RU LLC"
        elif site.piracy:
            site.registrar = rng.choice(PIRACY_REGISTRARS)
        else:
            site.registrar = rng.choice(LEGAL_REGISTRARS)
        if site.chain:
            return  # dated with its chain in _date_chains
        years = (2006, 2019) if not site.piracy else (2016, 2026)
        start = dt.datetime(years[0], 1, 1, tzinfo=dt.UTC)
        span = (min(dt.datetime(years[1], 1, 1, tzinfo=dt.UTC), REFERENCE - dt.timedelta(days=30)) - start)
        site.created = start + dt.timedelta(seconds=rng.randrange(int(span.total_seconds())))

    def _date_chains(self, sites: list[PSite]) -> None:
        rng = self.rng
        by_domain = {s.domain: s for s in sites}
        done: list[str] = []
        for site in sites:
            if not site.chain or site.chain[-1] in done:
                continue
            done.append(site.chain[-1])
            when = REFERENCE - dt.timedelta(days=rng.randint(20, 300), seconds=rng.randrange(86400))
            for d in reversed(site.chain):
                by_domain[d].created = when
                when -= dt.timedelta(days=rng.randint(60, 400), seconds=rng.randrange(86400))

    # --- hosting ----------------------------------------------------------------------------

    def _hosting(self, sites: list[PSite], operators: list[Operator], providers: dict[str, F.Provider]) -> None:
        rng = self.rng
        self._date_chains(sites)
        for op in operators:
            if not op.visible:
                continue
            k = rng.randint(2, 6)
            weights = list(STRONG_FAMILIES)
            if op.language == "ru":
                weights += ["yandex", "yandex"]
            fams: list[str] = []
            while len(fams) < k:
                f = rng.choice(weights)
                if f not in fams:
                    fams.append(f)
            op.families = fams
            page_sites = [s for s in op.sites if s.has_pages]
            if rng.random() < 0.6:
                op.dedicated_net = rng.choice(self.offshore)
                op.dedicated4 = [self.addresses.draw(op.dedicated_net[0].cidr) for _ in range(rng.randint(1, 2))]
                op.dedicated6 = [self.addresses.draw(op.dedicated_net[1].cidr)]
                op.private_ns = rng.random() < 0.5
                if len(page_sites) >= 2 and rng.random() < 0.6:
                    op.cert_name = f"operator-{op.name}"
        kinds_op = ("cf", "cf", "cf", "cdnx", "ddosguard", "shield", "shared")
        for site in sites:
            op = next((o for o in operators if o.name == site.operator), None)
            if op is not None and op.dedicated_net and (rng.random() < 0.5 or (op.cert_name and site.has_pages)):
                site.kind = "dedicated"
            elif op is not None and not op.visible:
                site.kind = rng.choice(("cf", "cf", "cdnx", "shared"))
            elif op is not None:
                site.kind = rng.choice(kinds_op)
            else:
                site.kind = {"hub": rng.choice(("cf", "cdnx")), "forum": rng.choice(("cf", "shield")),
                             "status": "cf", "video_host": rng.choice(("cf", "cdnx")),
                             "cyberlocker": rng.choice(("ddosguard", "shield", "cf")),
                             "legal": "cloud", "hard_negative": rng.choice(("cloud", "shared", "cf", "shared")),
                             "parked": "parking", "trap": rng.choice(("cloud", "shared")),
                             "hostile": "cloud"}[site.role]
        for key in ("cdnx", "shield"):  # enough tenants that their addresses are visibly shared
            movable = [s for s in sites if s.kind in ("cf", "shared") and not s.certificate]
            def enough(key: str = key) -> bool:
                owners = [s.label for s in sites if s.kind == key]
                return len(owners) >= 3 and len(dict.fromkeys(owners)) >= 2
            while not enough() and movable:
                movable.pop(rng.randrange(len(movable))).kind = key
        # Shared pools: every value on >= 3 sites of >= 2 owners where there are enough tenants.
        for key in ("cf", "cdnx", "ddosguard", "shield", "shared", "parking"):
            prov = providers[key]
            tenants = [s for s in sites if s.kind == key]
            prov.tenants = tenants
            n_values = {"cf": max(1, len(tenants) // 3), "cdnx": max(1, len(tenants) // 3)}.get(key, 1)
            entries = [self._edge_entry(key, prov) for _ in range(n_values)]
            for site, entry in zip(tenants, self._spread(tenants, entries), strict=True):
                site.ipv4, site.ipv6 = list(entry[0]), list(entry[1])
                site.network, site.cdn = prov.v4, prov.cdn
                who = prov.name + {"cdnx": ": a CDN cdn.toml does not list, its network says cdn",
                                   "shield": ": nothing marks it as a CDN"}.get(key, "")
                for ip in site.ipv4:
                    site.infra.append(("ip", ip, f"{prov.what} ipv4 ({who})"))
                for ip in site.ipv6:
                    site.infra.append(("ip", ip, f"{prov.what} ipv6 ({who})"))
        for site in sites:
            if site.kind == "dedicated":
                op = next(o for o in operators if o.name == site.operator)
                site.ipv4, site.ipv6 = list(op.dedicated4), list(op.dedicated6)
                site.network = op.dedicated_net[0]
            elif site.kind == "cloud":
                net = rng.choice(F.CLOUDS)
                site.network, site.cdn = net, net.cdn
                site.ipv4 = [self.addresses.draw(net.cidr)]
                if net.asn in F.CLOUD_V6:
                    site.ipv6 = [self.addresses.draw(F.CLOUD_V6[net.asn])]

    def _edge_entry(self, key: str, prov: F.Provider) -> tuple[list[str], list[str]]:
        rng, draw = self.rng, self.addresses.draw
        if key == "cf":
            a, b = draw("104.21.0.0/16"), draw("172.67.0.0/16")
            v6 = [f"2606:4700:3030::6815:{int(ipaddress.ip_address(a)) & 0xFFFF:x}",
                  f"2606:4700:3031::ac43:{int(ipaddress.ip_address(b)) & 0xFFFF:x}"]
            return [a, b], v6
        if key == "ddosguard":
            return [draw(prov.v4.cidr)], []
        if key in ("cdnx", "shield"):
            return [draw(prov.v4.cidr), draw(prov.v4.cidr)], [draw(prov.v6.cidr)] if prov.v6 else []
        return [draw(prov.v4.cidr)], ([draw(prov.v6.cidr)] if prov.v6 and rng.random() < 0.5 else [])

    def _spread(self, tenants: list[PSite], values: list) -> list:
        """A value per tenant, each value on >= 3 tenants of >= 2 owners when possible."""
        rng = self.rng
        if not tenants:
            return []
        k = len(values)
        best = None
        for _ in range(60):
            order = list(range(len(tenants)))
            rng.shuffle(order)
            assign = [None] * len(tenants)
            for pos, idx in enumerate(order):
                assign[idx] = values[pos % k]
            ok = True
            for v in range(k):
                owners = [tenants[i].label for i in range(len(tenants)) if assign[i] is values[v]]
                if len(owners) >= 3 and len(dict.fromkeys(owners)) < 2:
                    ok = False
            best = assign
            if ok:
                break
        return best

    def _nameservers(self, sites: list[PSite], operators: list[Operator], providers: dict[str, F.Provider]) -> None:
        rng = self.rng
        cf, cdnx = providers["cf"], providers["cdnx"]
        cf_pairs = []
        for i in range(0, 20, 2):
            cf_pairs.append([f"{cf.ns_names[i]}.{cf.ns_suffix}", f"{cf.ns_names[i + 1]}.{cf.ns_suffix}"])
        rng.shuffle(cf_pairs)
        dns_domain = self.dns_provider[0]
        dns_names = rng.sample(F.DNS_WORDS, 6)
        dns_pairs = [[f"ns-{dns_names[i]}.{dns_domain}", f"ns-{dns_names[i + 1]}.{dns_domain}"] for i in (0, 2, 4)]
        cdnx_pairs = [[f"{cdnx.ns_names[i]}.{cdnx.ns_suffix}", f"{cdnx.ns_names[i + 1]}.{cdnx.ns_suffix}"]
                      for i in (0, 2, 4, 6)]
        groups: dict[str, list[PSite]] = {}
        for site in sites:
            op = next((o for o in operators if o.name == site.operator), None)
            if site.kind == "cf":
                group = "cf"
            elif site.kind == "cdnx":
                group = "cdnx"
            elif site.kind == "ddosguard":
                group = "ddosguard"
            elif site.kind == "parking":
                group = "parking"
            elif op is not None and op.private_ns and site.kind == "dedicated":
                site.nameservers = [f"ns1.{op.home}", f"ns2.{op.home}"]
                continue
            elif site.registrar in F.REGISTRAR_DEFAULT_NS and rng.random() < 0.6:
                group = "registrar:" + site.registrar
            elif site.role in ("legal", "trap", "hostile") and rng.random() < 0.6:
                site.nameservers = [f"ns1.{site.domain}", f"ns2.{site.domain}"]
                continue
            else:
                group = "dnsprov"
            groups.setdefault(group, []).append(site)
        for group, members in groups.items():
            if group == "cf":
                pairs, what = cf_pairs[:max(1, len(members) // 3)], "cdn-assigned ns pair (Cloudflare pool)"
            elif group == "cdnx":
                pairs, what = cdnx_pairs[:max(1, len(members) // 3)], f"cdn-assigned ns pair ({cdnx.name} pool)"
            elif group == "ddosguard":
                pairs, what = [["ns1.ddos-guard.net", "ns2.ddos-guard.net"]], "ddos-protection ns"
            elif group == "parking":
                pairs, what = [[f"ns1.{F.PARKING_DOMAIN}", f"ns2.{F.PARKING_DOMAIN}"]], "parking ns"
            elif group == "dnsprov":
                pairs, what = dns_pairs[:max(1, len(members) // 3)], f"dns-provider ns pair ({dns_domain})"
            else:
                registrar = group.split(":", 1)[1]
                zone, labels = F.REGISTRAR_DEFAULT_NS[registrar]
                pairs, what = [[f"{labels[0]}.{zone}", f"{labels[1]}.{zone}"]], f"registrar default ns ({registrar})"
            for site, pair in zip(members, self._spread(members, pairs), strict=True):
                site.nameservers = list(pair)
                site.ns_what = what
                site.infra.append(("nameservers", ",".join(sorted(pair)), what))
        self._infra_domains(providers, cf_pairs, dns_pairs, cdnx_pairs)

    def _infra_domains(self, providers: dict[str, F.Provider], cf_pairs, dns_pairs, cdnx_pairs) -> None:
        draw = self.addresses.draw

        def add(domain: str, registrar: str, org: str, country: str, names: list[str], net4: str,
                net6: str = "", notes: str = "") -> None:
            records: dict[str, dict[str, list[str]]] = {"@": {"A": [draw(net4)]}}
            for ns in names:
                owner = ns[: -len(domain) - 1]
                records[owner] = {"A": [draw(net4)]}
                if net6:
                    records[owner]["AAAA"] = [draw(net6)]
            self.taken.append(domain)
            self.infra_domains.append(InfraDomain(domain, registrar, org, country, records, notes))

        cf_names = [n for pair in cf_pairs for n in pair]
        add("cloudflare.com", "Cloudflare, Inc.", "Cloudflare, Inc.", "US", cf_names, "173.245.48.0/20",
            "2606:4700::/32", "Infrastructure: the *.ns.cloudflare.com pool many unrelated sites share.")
        add("ddos-guard.net", "NameCheap, Inc.", "DDOS-GUARD LTD", "RU", ["ns1.ddos-guard.net", "ns2.ddos-guard.net"],
            F.DDOS_GUARD_V4.cidr, "", "Infrastructure: DDoS-Guard's name servers for every protected zone.")
        cdnx = providers["cdnx"]
        add(cdnx.ns_domain, "Gandi SAS", f"{cdnx.name} Ltd", cdnx.v4.country,
            [n for pair in cdnx_pairs for n in pair], cdnx.v4.cidr, cdnx.v6.cidr if cdnx.v6 else "",
            f"Infrastructure: {cdnx.name}, a CDN isop's CDN list does not know (its network says cdn).")
        dns_domain, dns4 = self.dns_provider
        add(dns_domain, "Tucows Domains Inc.", dns4.org, dns4.country, [n for pair in dns_pairs for n in pair],
            dns4.cidr, "", "Infrastructure: a DNS provider whose name-server pairs many customers share.")
        add(F.PARKING_DOMAIN, "GoDaddy.com, LLC", "ParkingCrew Services GmbH", "DE",
            [f"ns1.{F.PARKING_DOMAIN}", f"ns2.{F.PARKING_DOMAIN}"], providers["parking"].v4.cidr, "",
            "Infrastructure: parking name servers.")
        add("registrar-servers.com", "NameCheap, Inc.", "Namecheap, Inc.", "US",
            ["dns1.registrar-servers.com", "dns2.registrar-servers.com"], "156.154.0.0/16", "",
            "Infrastructure: NameCheap's default name servers.")
        add("domaincontrol.com", "GoDaddy.com, LLC", "GoDaddy.com, LLC", "US",
            ["ns41.domaincontrol.com", "ns42.domaincontrol.com"], "97.74.0.0/16", "",
            "Infrastructure: GoDaddy's default name servers.")

    # --- identifiers ---------------------------------------------------------------------------

    def _identifiers(self, sites: list[PSite], operators: list[Operator]) -> None:
        rng = self.rng
        for op in operators:
            if not op.visible:
                continue
            country = I.LANGUAGE_COUNTRY[op.language]
            number = I.phone(rng, country)
            handle = op.name.replace("-", "_")[:20]
            v: dict[str, object] = {
                "ga_ua": I.ga_account(rng), "ga4": I.ga4(rng), "gtm": I.gtm(rng), "adsense": I.adsense(rng),
                "yandex": I.yandex(rng),
                "btc": I.btc(rng, rng.choice(("legacy", "p2sh", "bech32"))), "eth": I.eth(rng),
                "trx": I.trx(rng), "xmr": I.xmr(rng),
                "telegram": f"t.me/{handle}_{rng.choice(('official', 'news', 'chat', 'juso', 'info'))}{rng.randint(1, 99)}",
                "discord": f"discord.gg/{I.discord(rng)}", "phone": number,
                "email": f"{rng.choice(('admin', 'support', 'dmca', 'contact', 'team'))}{rng.randint(1, 99)}@"
                         + (op.home if rng.random() < 0.5 and op.home.rsplit(".", 1)[-1].isalpha()
                            else rng.choice(("proton.me", "gmail.com", "outlook.com"))),
                "paypal": f"paypal.me/{handle.replace('_', '')}{rng.randint(10, 999)}",
                "favicon": F.make_ico(rng),
            }
            op.values = v
            page_sites = [s for s in op.sites if s.has_pages]
            for i in range(1, len(page_sites)):  # a chain of evidence: A-B by one family, B-C by another
                f = rng.choice(op.families)
                for s in (page_sites[i - 1], page_sites[i]):
                    if f not in s.families:
                        s.families.append(f)
            for f in op.families:
                for s in page_sites:
                    if f not in s.families and rng.random() < 0.25:
                        s.families.append(f)
                if not any(f in s.families for s in page_sites):
                    rng.choice(page_sites).families.append(f)
            suffixes = rng.sample(range(1, 40), len(page_sites))
            for s, suffix in zip(page_sites, suffixes, strict=True):
                s.families = [f for f in op.families if f in s.families]  # operator order
                for f in s.families:
                    self._carry(s, f, v, suffix)
            for s in op.sites:
                if s.kind == "dedicated":
                    s.idents += [I.Ident("ip", ip) for ip in s.ipv4 + s.ipv6]
                if op.private_ns and s.kind == "dedicated":
                    s.idents.append(I.Ident("nameservers", ",".join(sorted(s.nameservers))))
            if op.cert_name:
                holders = [s for s in page_sites if s.kind == "dedicated"]
                if len(holders) >= 2:
                    sans = [n for s in holders for n in (s.domain, f"www.{s.domain}")]
                    cert = Certificate(op.cert_name, sans, "operator certificate", op.name)
                    for s in holders:
                        s.certificate = op.cert_name
                        s.idents.append(I.Ident("cert", ",".join(sans)))
                    self.certificates.append(cert)
                else:
                    op.cert_name = ""
        for site in sites:  # a few non-operator sites show ids of their own (one site each)
            if not site.operator and site.role in ("legal", "hard_negative", "hub", "trap") and rng.random() < 0.5:
                own = rng.choice(("ga4", "adsense", "gtm"))
                value = {"ga4": I.ga4, "adsense": I.adsense, "gtm": I.gtm}[own](rng)
                ident = I.Ident({"ga4": "ga", "adsense": "adsense", "gtm": "gtm"}[own], value)
                site.idents.append(ident)
                site.snippets.append(I.snippet(rng, ident))

    def _carry(self, s: PSite, family: str, v: dict[str, object], suffix: int) -> None:
        rng = self.rng
        number = v["phone"]
        if family == "favicon":
            s.favicon = v["favicon"]  # type: ignore[assignment]
            from spiders.indicators.favicon import favicon_mmh3

            s.idents.append(I.Ident("favicon_mmh3", favicon_mmh3(s.favicon)))
            return
        idents: list[I.Ident] = []
        if family == "ga_ua":
            idents.append(I.Ident("ga", f"UA-{v['ga_ua']}-{suffix}"))
        elif family == "ga4":
            idents.append(I.Ident("ga", str(v["ga4"])))
        elif family == "gtm":
            idents.append(I.Ident("gtm", str(v["gtm"])))
        elif family == "adsense":
            idents.append(I.Ident("adsense", str(v["adsense"])))
        elif family == "yandex":
            idents.append(I.Ident("yandex_metrica", str(v["yandex"])))
        elif family in ("btc", "eth", "trx", "xmr", "telegram", "discord", "email", "paypal"):
            idents.append(I.Ident(family, str(v[family])))
        elif family == "whatsapp":
            idents.append(I.Ident("whatsapp", "wa.me/" + I.e164(number).lstrip("+")))
        elif family == "phone":
            idents.append(I.Ident("phone", I.e164(number)))
        for ident in idents:
            s.idents.append(ident)
            s.snippets.append(I.snippet(rng, ident, host=s.domain, language=s.language, number=number))
        if family == "whatsapp":
            s.idents.append(I.Ident("phone", I.e164(number)))

    # --- content everyone shares ------------------------------------------------------------------

    def _shared_content(self, sites: list[PSite]) -> None:
        rng = self.rng
        page_sites = [s for s in sites if s.has_pages and s.role not in ("parked", "hostile")]
        for s in page_sites:
            for name, tag in rng.sample(F.SCRIPT_CDNS, rng.randint(0, 2)):
                s.snippets.append(tag)
                s.infra.append(("script_cdn", name, "common script cdn"))
        piracy = [s for s in page_sites if s.role == "piracy"]
        for s in piracy:
            if rng.random() < 0.6:
                name, tag = rng.choice(F.AD_NETWORKS)
                s.snippets.append(tag.format(zone=rng.randint(100000, 9999999)))
                s.infra.append(("ad_network", name, "ad network embedded by many"))
        # themes: each on >= 3 sites, two of them without an operator
        own_icon = [s for s in page_sites if s.favicon is not None]
        free = [s for s in page_sites if s not in own_icon]
        loners = [s for s in free if not s.operator and s.role in ("hub", "forum", "hard_negative", "legal",
                                                                   "status", "trap")]
        ops = [s for s in free if s.operator and s.role == "piracy"]
        themes = rng.sample(F.THEMES, 2)
        for theme in themes:
            if len(loners) < 2 or len(ops) < 1:
                break
            members = [loners.pop(rng.randrange(len(loners))) for _ in range(2)]
            members += [ops.pop(rng.randrange(len(ops))) for _ in range(min(len(ops), rng.randint(1, 4)))]
            icon = F.make_ico(rng)
            from spiders.indicators.favicon import favicon_mmh3

            for s in members:
                s.theme, s.favicon = theme, icon
                s.infra.append(("theme", theme, "shared theme / CMS (same generator meta)"))
                s.infra.append(("favicon_mmh3", favicon_mmh3(icon), f"favicon of the {theme} theme"))
        for s in page_sites:
            if s.role == "piracy" and rng.random() < 0.15:
                s.js_only = True
        listings = [s for s in page_sites if s.role == "piracy" and not s.hop]
        if listings and not any(s.js_only for s in page_sites):  # every world has one
            rng.choice(listings).js_only = True
            s.pages = rng.randint(2, 9) if s.role not in ("trap",) else rng.randint(3, 6)
            s.www = rng.random() < 0.75
            s.http_mode = "serve" if rng.random() < 0.15 else "redirect"

    def _advertisers(self, sites: list[PSite]) -> None:
        """One or two advertisers whose banner (their Telegram, maybe WhatsApp) sits in ad slots on
        sites of different operators and on hubs and forums: a contact that is nobody's operator tie."""
        rng = random.Random(f"{self.seed}/adverts")  # its own draws: the rest of the world is unchanged
        pool = [s for s in sites if s.has_pages and s.role in ("piracy", "hub", "forum")]
        by_label: dict[str, list[PSite]] = {}
        for s in pool:
            by_label.setdefault(s.label, []).append(s)
        if len(by_label) < 3:
            return
        for adv in A.draw_advertisers(rng, 2 if len(by_label) >= 6 else 1):
            labels = rng.sample(sorted(by_label), min(len(by_label), rng.randint(3, 6)))
            for label in labels:  # one site per operator: the banner is the only thing they share
                s = rng.choice(by_label[label])
                snippet, shown = A.banner(rng, adv, s.language)
                s.snippets.append(snippet)
                for type_ in shown:
                    s.infra.append((type_, adv[type_], f"advertiser contact in ad slots ({adv['kind']})"))

    def _links(self, sites: list[PSite], operators: list[Operator]) -> None:
        rng = self.rng
        by_role = {r: [s for s in sites if s.role == r] for r in ("hub", "forum", "status", "video_host",
                                                                 "cyberlocker", "legal", "hard_negative")}
        everyone = [s for s in sites if s.role != "hostile"]
        for hub in by_role["hub"]:
            hub.links = [s.url for s in everyone if s is not hub]
            rng.shuffle(hub.links)
            for s in everyone:
                if s is not hub:
                    s.infra.append(("link_hub", hub.domain, "link hub linking to everyone"))
        piracy = [s for s in sites if s.role == "piracy"]
        for forum in by_role["forum"]:
            chosen = [s for s in piracy if rng.random() < 0.7] or piracy[:3]
            forum.links = [s.url for s in chosen] + [h.url for h in by_role["hub"]]
            for s in chosen:
                s.infra.append(("forum", forum.domain, "forum linking to many sites"))
        mirrors = [s for s in piracy if s.chain or s.mirror_of]
        for status in by_role["status"]:
            status.links = [s.url for s in mirrors] or [s.url for s in piracy[:5]]
            for s in mirrors:
                s.infra.append(("status_page", status.domain, "status page listing mirrors of several brands"))
        videos, lockers = by_role["video_host"], by_role["cyberlocker"]
        for s in piracy:
            if not s.has_pages:
                continue
            if s.category in ("streaming", "iptv", "manga") and videos:
                for vh in rng.sample(videos, rng.randint(1, len(videos))):
                    s.links.append(vh.url)
                    s.snippets.append(f'<iframe src="https://{vh.domain}/e/{rng.randrange(16**8):08x}" '
                                      'allowfullscreen></iframe>')
                    s.infra.append(("video_host", vh.domain, "video host embedded by many"))
                if rng.random() < 0.5:
                    known = rng.choice(F.KNOWN_VIDEO_HOSTS)
                    s.snippets.append(f'<iframe src="https://{known}/e/{rng.randrange(16**10):010x}"></iframe>')
                    s.infra.append(("video_host", known, "video host embedded by many"))
            if s.category in ("ddl", "warez", "ebook", "music", "torrent") and lockers:
                for lk in lockers:
                    s.links.append(f"https://{lk.domain}/f/{rng.randrange(16**8):08x}")
                    s.infra.append(("cyberlocker", lk.domain, "cyberlocker many sites link to"))
            if s.hop == "notice":
                s.links.append(f"https://{s.moved_to}/")
            if rng.random() < 0.5 and by_role["hub"]:
                s.links.append(rng.choice(by_role["hub"]).url)
            if s.operator and rng.random() < 0.3:
                op = next(o for o in operators if o.name == s.operator)
                s.links += [o.url for o in op.sites if o is not s and o.has_pages and not o.chain][:2]
        for s in by_role["legal"] + by_role["hard_negative"]:
            others = [o for o in by_role["legal"] + by_role["hard_negative"] if o is not s]
            s.links = [o.url for o in rng.sample(others, min(len(others), rng.randint(0, 2)))]
        for s in sites:
            if s.role == "trap":
                s.links = [f"https://{s.domain}/calendar/", f"https://{s.domain}/archive/"]
            elif s.role == "hostile":
                s.links = [f"http://{s.domain}{p}" for p in HOSTILE_LINKS]

    def _edge_certificates(self, sites: list[PSite], providers: dict[str, F.Provider]) -> None:
        """Some Cloudflare customers present a shared edge certificate naming many unrelated sites."""
        rng = self.rng
        eligible = [s for s in sites if s.kind == "cf" and not s.certificate]
        tenants = [s for s in eligible if rng.random() < 0.5]
        if len(tenants) < 3:
            tenants = eligible[:3]
        if len(tenants) < 3:
            return
        n = max(1, len(tenants) // 4)
        names = [f"cloudflare-edge-{i + 1}" for i in range(n)]
        groups: dict[str, list[PSite]] = {}
        for site, name in zip(tenants, self._spread(tenants, names), strict=True):
            groups.setdefault(name, []).append(site)
        for name in names:
            members = groups.get(name, [])
            if len(members) < 3:
                continue
            sans = [f"sni{rng.randint(10000, 99999)}.{providers['cf'].edge_cert}"]
            for s in members:
                sans += [s.domain, f"*.{s.domain}"]
            self.certificates.append(Certificate(name, sans, "cdn shared edge certificate"))
            for s in members:
                s.certificate = name
                s.infra.append(("cert", ",".join(sans), "cdn shared edge certificate"))

    def _default_certificate(self, sites: list[PSite], providers: dict[str, F.Provider]) -> None:
        """Tenants of the shared host without a certificate of their own present the host's
        default one, whose SANs name the hosting company (``*.<its domain>``), not them:
        unrelated sites with one certificate that says nothing of who runs them.

        Its own generator (``random.Random(f"{seed}/default-cert")``): no other draw moves."""
        rng = random.Random(f"{self.seed}/default-cert")
        prov = providers["shared"]
        tenants = [s for s in sites if s.kind == "shared" and not s.certificate]
        if len(tenants) < 3 or len({s.label for s in tenants}) < 2:
            return
        for _ in range(20):
            chosen = rng.sample(tenants, rng.randint(3, max(3, len(tenants) * 2 // 3)))
            if len({s.label for s in chosen}) >= 2:
                break
        else:
            chosen = tenants
        company = prov.v4.abuse_email.split("@", 1)[1]
        sans = [f"*.{company}", company]
        self.certificates.append(Certificate("shared-hosting-default", sans, "shared hosting default certificate"))
        for s in sorted(chosen, key=lambda s: s.domain):
            s.certificate = "shared-hosting-default"
            s.infra.append(("cert", ",".join(sans), "shared hosting default certificate"))

    def _faults(self, sites: list[PSite]) -> None:
        """A rate-limited RDAP answer and a broken WHOIS answer, as real registries give."""
        rng = self.rng
        for roles, fault, note in ((("video_host", "cyberlocker"), {"rdap": "429", "retry_after": 1},
                                    "RDAP answers 429 with Retry-After 1"),
                                   (("piracy",), {"whois": "malformed"}, "WHOIS answers garbage")):
            candidates = [s for s in sites if s.role in roles and not s.faults]
            if candidates:
                site = rng.choice(candidates)
                site.faults = dict(fault)
                site.notes.append(f"lookup fault: {note}")

    def _idn(self, sites: list[PSite], operators: list[Operator]) -> None:
        """Names in other scripts: a Cyrillic .рф and a German umlaut domain (punycode on the wire)."""
        rng = self.rng
        for lang, tld in (("ru", N.CYRILLIC_TLD), ("de", "com")):
            candidates = [s for s in sites if s.language == lang and not s.chain and s.role in
                          ("piracy", "hard_negative", "legal") and not s.certificate]
            if not candidates:
                langs = [s.language for s in sites]
                candidates = [s for s in sites if not s.chain and s.role in ("hard_negative", "legal")
                              and not s.certificate and not s.unicode and langs.count(s.language) > 1
                              and s.charset == "utf-8"]
                if not candidates:
                    continue
                site = rng.choice(candidates)
                site.language, site.charset = lang, "utf-8"
            else:
                site = rng.choice(candidates)
            unicode_label, label = N.idn_label(rng, lang)
            new = f"{label}.{tld}"
            if new in self.taken:
                continue
            old = site.domain
            self.taken.append(new)
            site.domain = new
            site.unicode = f"{unicode_label}.{'рф' if tld == N.CYRILLIC_TLD else tld}"
            if tld == N.CYRILLIC_TLD:
                site.registrar = "Registrar of domain names REG.RU LLC"
            elif site.registrar == "Registrar of domain names REG.RU LLC":
                site.registrar = "NameCheap, Inc."
            for s in sites:
                if s.mirror_of == old:
                    s.mirror_of = new
            for op in operators:
                if op.home == old:
                    op.home = new
            site.notes.append(f"internationalised domain name {site.unicode}")


HOSTILE_LINKS = ("/huge.html", "/slow.html", "/broken", "/gone", "/loop-a", "/charset-lie.html")


def _cdn_list() -> list[dict]:
    path = Path(__file__).resolve().parents[3] / "config" / "enrich" / "cdn.toml"
    with path.open("rb") as f:
        return tomllib.load(f).get("provider", [])
