"""The shared infrastructure of a generated world: CDNs, name-server pools, hosts, themes.

Everything here is used by many unrelated sites on purpose. A clustering rule that lets
one of these values join two sites is wrong, and generated worlds are where that shows:
Cloudflare-style anycast addresses of both families and name-server pairs drawn from a
pool of names, a CDN that isop's CDN list does not know (only its network says
``cdn = ...``), a DDoS-protection host nothing marks as one, registrar default and parking
name servers, shared-hosting addresses, themes with their favicon, script CDNs, video
hosts and ad networks.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass, field

CF_NS_POOL = ("ada", "bob", "kiki", "walt", "lara", "greg", "nina", "hugo", "elsa", "rick", "kate",
              "dana", "ivan", "jill", "kurt", "lily", "mark", "olga", "pete", "rose", "seth", "tina")
"""Cloudflare gives each customer two of these names under ns.cloudflare.com."""


@dataclass(frozen=True)
class NetworkDef:
    """A [[network]] entry written to networks.toml."""

    cidr: str
    asn: int
    as_name: str
    org: str
    country: str
    rir: str
    allocated: str
    org_handle: str
    abuse_email: str
    cdn: str = ""


@dataclass
class Provider:
    """A hosting or edge provider whose addresses many sites share (or a dedicated host)."""

    name: str
    """What reports print: the CDN name, or the hosting company."""
    cdn: str
    """The answer key's ``hosting.cdn``: the provider's CDN name, or "" when nothing in the
    world marks it as one (a plain host, or a DDoS shield isop can only tell from data)."""
    v4: NetworkDef
    v6: NetworkDef | None
    what: str
    """Shared-infrastructure label for its addresses."""
    ns_domain: str = ""
    """Domain holding its name servers (pool names ``<x>.<ns_suffix>``)."""
    ns_suffix: str = ""
    ns_names: tuple[str, ...] = ()
    """Name pool: customers get a pair of these (empty: ``ns1``/``ns2`` for all)."""
    edge_cert: str = ""
    """Suffix of shared edge certificates' first name (``sni12345.<edge_cert>``)."""
    tenants: list = field(default_factory=list)


CLOUDFLARE_V4 = (NetworkDef("104.21.0.0/16", 13335, "CLOUDFLARENET", "Cloudflare, Inc.", "US", "arin",
                            "2014-03-28", "CLOUD14", "abuse@cloudflare.com", "Cloudflare"),
                 NetworkDef("172.67.0.0/16", 13335, "CLOUDFLARENET", "Cloudflare, Inc.", "US", "arin",
                            "2015-02-25", "CLOUD14", "abuse@cloudflare.com", "Cloudflare"))
CLOUDFLARE_V6 = NetworkDef("2606:4700::/32", 13335, "CLOUDFLARENET", "Cloudflare, Inc.", "US", "arin",
                           "2011-11-01", "CLOUD14", "abuse@cloudflare.com", "Cloudflare")
DDOS_GUARD_V4 = NetworkDef("185.178.208.0/22", 57724, "DDOS-GUARD", "DDOS-GUARD LTD", "RU", "ripencc",
                           "2016-06-21", "ORG-DL236-RIPE", "abuse@ddos-guard.net", "DDoS-Guard")

CLOUDS = (
    NetworkDef("52.84.0.0/15", 16509, "AMAZON-02", "Amazon.com, Inc.", "US", "arin", "2015-09-02",
               "AMAZO-4", "trustandsafety@support.aws.com", "Amazon CloudFront"),
    NetworkDef("167.99.0.0/16", 14061, "DIGITALOCEAN-ASN", "DigitalOcean, LLC", "US", "arin", "2017-11-08",
               "DO-13", "abuse@digitalocean.com"),
    NetworkDef("34.96.0.0/14", 396982, "GOOGLE-CLOUD-PLATFORM", "Google LLC", "US", "arin", "2018-09-28",
               "GOOGL-2", "google-cloud-compliance@google.com"),
    NetworkDef("88.198.0.0/16", 24940, "HETZNER-AS", "Hetzner Online GmbH", "DE", "ripencc", "2004-07-13",
               "ORG-HOA1-RIPE", "abuse@hetzner.com"),
    NetworkDef("51.38.0.0/16", 16276, "OVH", "OVH SAS", "FR", "ripencc", "2017-02-08", "ORG-OS3-RIPE",
               "abuse@ovh.net"),
)
"""Real clouds where legal sites live (their prefixes, sandbox data only)."""
CLOUD_V6 = {24940: "2a01:4f8::/32", 14061: "2604:a880::/32"}

# Fictional companies: per-seed names are composed from these parts.
ORG_WORDS = ("Korvo", "Netshield", "Jade Harbor", "Saigon Lotus", "Nusa Awan", "Tropico", "Sertao",
             "Mahe Bay", "Kilima", "Baltic Rock", "Andes Peak", "Coral Key", "Steppe", "Fjordline",
             "Red Dune", "Ivory Coast", "Amber", "Pampas", "Monsoon", "Highland", "Obsidian", "Lagoon")
ORG_KINDS = ("Hosting SRL", "Offshore B.V.", "Cloud Limited", "Datacenter Ltd", "Networks Ltd",
             "Hosting S.A.", "Telecom Ltda", "Servers LLC", "Data Center JSC", "Host GmbH")
RIR_COUNTRIES = {"arin": ("US", "CA", "BZ"), "ripencc": ("NL", "MD", "SE", "RU", "SC", "LV", "BG"),
                 "apnic": ("HK", "VN", "ID", "SG", "MY"), "lacnic": ("PA", "BR", "CL", "AR"),
                 "afrinic": ("SC", "KE", "ZA", "MU")}
RIR_HANDLE = {"arin": "{}-ARIN", "ripencc": "ORG-{}-RIPE", "apnic": "ORG-{}-AP", "lacnic": "{}-LACNIC",
              "afrinic": "ORG-{}-AFRINIC"}
V4_BLOCKS = {"arin": (23, 45, 64, 66, 107, 142, 192, 198, 199, 206, 208, 209),
             "ripencc": (31, 37, 46, 77, 78, 80, 91, 93, 94, 176, 178, 185, 193, 194, 195, 212, 213),
             "apnic": (101, 103, 110, 111, 112, 114, 115, 116, 118, 119, 175, 180, 202),
             "lacnic": (177, 179, 181, 186, 187, 189, 190, 191, 200, 201),
             "afrinic": (41, 102, 105, 154, 155, 156, 160, 196, 197)}
V6_BLOCKS = {"arin": "2602:f{:03x}::/36", "ripencc": "2a0{:x}:{:x}00::/32", "apnic": "2404:{:x}000::/36",
             "lacnic": "2801:{:x}0::/44", "afrinic": "2c0f:{:x}00::/40"}

CDN_NAMES = ("Nimbus Edge", "Skyward CDN", "Velocity Edge", "Aether Cloud", "Quasar CDN")
SHIELD_NAMES = ("Bastion Shield", "Aegis Guard", "Rampart Shield", "Citadel Protect")
DNS_PROVIDERS = ("hushdns.net", "quietns.org", "veilns.net", "dnsden.io")
DNS_WORDS = ("alpha", "bravo", "delta", "echo", "gamma", "kappa", "lima", "omega", "sierra", "tango",
             "zeta", "nova")

REGISTRAR_DEFAULT_NS = {
    "NameCheap, Inc.": ("registrar-servers.com", ("dns1", "dns2")),
    "GoDaddy.com, LLC": ("domaincontrol.com", ("ns41", "ns42")),
}
"""Registrars whose customers who change nothing get these name servers."""
PARKING_DOMAIN = "parkingcrew.net"

SCRIPT_CDNS = (
    ("cdn.jsdelivr.net", '<script src="https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist/jquery.min.js"></script>'),
    ("cdnjs.cloudflare.com", '<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.5.1/css/all.min.css">'),
    ("code.jquery.com", '<script src="https://code.jquery.com/jquery-3.6.0.min.js"></script>'),
    ("unpkg.com", '<script src="https://unpkg.com/swiper@11/swiper-bundle.min.js"></script>'),
)
AD_NETWORKS = (
    ("popads", '<script data-cfasync="false" src="//c1.popads.net/pop.js"></script>'),
    ("propellerads", '<script src="https://onclickads.net/tag.min.js" data-zone="{zone}"></script>'),
    ("adsterra", '<script src="//www.highperformanceformat.com/{zone}/invoke.js"></script>'),
    ("exoclick", '<script async src="https://a.magsrv.com/ad-provider.js"></script>'),
)
"""(network name as isop reports it, tag): networks of config/indicators/ad_networks.txt."""
KNOWN_VIDEO_HOSTS = ("streamtape.com", "dood.to")
"""Video hosts on isop's list, embedded by many streaming sites."""
THEMES = ("DooPlay 2.5.5", "MangaReader 3.1", "TorrentPier 2.4", "WP-Cinema 1.9", "Madara 1.7.3",
          "FlixTheme 4.0")


def make_ico(rng: random.Random) -> bytes:
    """A 16x16 32-bit ICO with a pattern drawn from ``rng`` (distinct bytes, distinct hash)."""
    c1 = bytes((rng.randrange(256), rng.randrange(256), rng.randrange(256), 255))
    c2 = bytes((rng.randrange(256), rng.randrange(256), rng.randrange(256), 255))
    mask = rng.getrandbits(256)
    pixels = b"".join(c1 if (mask >> i) & 1 else c2 for i in range(256))
    and_mask = b"\0" * (4 * 16)
    header = struct.pack("<IiiHHIIiiII", 40, 16, 32, 1, 32, 0, len(pixels) + len(and_mask), 0, 0, 0, 0)
    image = header + pixels + and_mask
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(image), 22) + image


class AddressPlan:
    """Draws distinct addresses inside networks (data only: nothing ever connects to them)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self, cidr: str, low: int = 2) -> str:
        net = ipaddress.ip_network(cidr)
        span = min(net.num_addresses - low - 1, 2**32)
        for _ in range(1000):
            addr = str(net.network_address + low + self.rng.randrange(span))
            if addr not in self.used:
                self.used.add(addr)
                return addr
        raise RuntimeError(f"no free address left in {cidr}")


def fictional_network(rng: random.Random, rir: str, taken: list[ipaddress._BaseNetwork],
                      org: str, asn: int, cdn: str = "") -> tuple[NetworkDef, NetworkDef]:
    """A /22 and a v6 prefix for ``org`` in ``rir``'s space, overlapping nothing in ``taken``."""
    country = rng.choice(RIR_COUNTRIES[rir])
    handle = RIR_HANDLE[rir].format("".join(w[0] for w in org.split()).upper() + str(rng.randint(1, 99)))
    as_name = org.split()[0].upper().replace(" ", "") + ("-AS" if rir != "lacnic" else " S.A.")
    year = rng.randint(2009, 2022)
    allocated = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    abuse = f"abuse@{org.split()[0].lower().replace(' ', '')}-{org.split()[-1].lower().strip('.')}.example"
    for _ in range(1000):
        first = rng.choice(V4_BLOCKS[rir])
        v4 = ipaddress.ip_network(f"{first}.{rng.randrange(256)}.{rng.randrange(64) * 4}.0/22")
        fmt = V6_BLOCKS[rir]
        v6 = ipaddress.ip_network(fmt.format(*(rng.randrange(1, 16) for _ in range(fmt.count("{")))),
                                  strict=False)
        if not any((t.version == 4 and v4.overlaps(t)) or (t.version == 6 and v6.overlaps(t)) for t in taken):
            taken += [v4, v6]
            return (NetworkDef(str(v4), asn, as_name, org, country, rir, allocated, handle, abuse, cdn),
                    NetworkDef(str(v6), asn, as_name, org, country, rir, allocated, handle, abuse, cdn))
    raise RuntimeError("no free prefix")
