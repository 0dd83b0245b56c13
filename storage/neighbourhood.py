"""The identifiers of the store or around a few sites, gathered with targeted queries.

One gatherer serves the whole-store computation (:func:`storage.clusters.identifiers`,
``ids=None``) and ``isop network`` (:func:`identifiers_around`, a few site ids), so both
see the same identifiers under the same rules. Around sites, each identifier comes with
*all* the sites it was seen on (weights and the shared-value statistics are exact), using
indexed lookups only:

- indicators sighted on the sites (:data:`storage.clusters.INDICATOR_WEIGHTS` types); a
  Google Analytics property ``UA-123456-4`` counts as its account ``UA-123456`` (one
  account, several properties; which property each site uses is kept as the identifier's
  detail). GA4 ``G-`` ids, GTM containers and AdSense ``pub-`` ids are accounts already;
- certificates presented by the sites' hosts or naming their domains in their SANs (a
  substring search of the SAN lists, the one table scan here, so ``isop network`` does it
  for the site asked about only) — never one presented by a host on a CDN edge (an address
  in a CDN's range or network, or a CNAME into a CDN): that certificate is the CDN's. An
  operator tie (``"cert"``) only between sites whose hosts present it *for themselves* (its
  SANs cover the presenting host); a host presenting one that does not name it (a shared
  host's default) or a site merely named in the SANs (attacker-chosen: the probe verifies
  no chain) is ``"cert_seen"``, infrastructure;
- A/AAAA addresses of the sites' names that are neither reserved nor CDN edges (by
  ``Network.cdn``, the published ranges of ``config/enrich/cdn.toml``, or the name's CNAME
  into a CDN), canonical (IPv6 compressed, IPv4-mapped as IPv4); an address with more than
  :data:`MAX_NAMES_PER_ADDRESS` names is shared hosting and skipped;
- the latest nameserver set of the sites (DNS NS answer of the apex, latest registration),
  unless one of its servers is a CDN's (``cdn.toml``) or a DNS provider's, registrar's
  default or parking service's (``config/enrich/nameservers.toml``);
- hops (``site_relations``): a redirect, a "we moved" notice or a mirror from one site to
  another is an operator tie ``("hop", "a.com -> b.com")`` — a notice or mirror only
  between domains of one brand (a site announcing that *it* moved: ``baytor.to`` ->
  ``baytor.se``, ``toon101`` -> ``toon102``; a forum post saying some other site moved is
  no tie), a redirect across brands too (the server hands its visitors over) unless its
  target receives hops from more than one other brand (two unrelated sites sending their
  visitors to one betting partner are not tied through it) — and unless either end
  hops to (or is hopped to from) more than ``max_hop_brands`` brands or
  ``max_hop_domains`` domains — a status page or a mirror list of several brands links
  everyone it names, and is no operator; a numbered successor that merely resolves
  (``"numbered"``) is infrastructure (anyone may register ``site102``).

Every list of ids goes into ``IN (...)`` in chunks (:mod:`storage.chunks`): PostgreSQL takes
at most 65,535 parameters a statement, and an incremental recompute may ask about 34,000 sites.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from storage.cdn import cdn_of, cdn_of_cname, cdn_of_nameserver
from storage.chunks import chunks
from storage.cluster_rules import ClustersConfig
from storage.models import (
    Certificate,
    DnsObservation,
    DomainRegistration,
    Host,
    HostCertificate,
    Indicator,
    IndicatorSighting,
    IpAddress,
    IpNetwork,
    Network,
    RelationKind,
    Site,
    SiteRelation,
)
from storage.names import HostNameError, parse_host, same_brand
from storage.nameservers import provider_of

MAX_NAMES_PER_ADDRESS = 200
"""An address more names resolved to than this is shared hosting (it cannot link sites)."""

MAX_NS_CANDIDATES = 200
"""Sites checked for one nameserver set; more means it is shared by too many to link."""

HOP_KINDS = (RelationKind.REDIRECT, RelationKind.ANNOUNCED, RelationKind.MIRROR)
"""Relations that are operator ties (when the ends pass the hop limits)."""

_UA = re.compile(r"^(UA-\d{4,10})-\d{1,4}$", re.I)

Key = tuple[str, str]


class IdentifierMap(dict[Key, set[int]]):
    """``(type, value) -> site ids``, with ``details``: ``(type, value) -> site id -> the
    site's own spelling`` (a GA property of the account, a hop's kind)."""

    def __init__(self) -> None:
        super().__init__()
        self.details: dict[Key, dict[int, set[str]]] = {}

    def add(self, key: Key, site: int, detail: str | None = None) -> None:
        self.setdefault(key, set()).add(site)
        if detail:
            self.details.setdefault(key, {}).setdefault(site, set()).add(detail)

    def merge(self, other: Any) -> None:
        for key, sites in other.items():
            self.setdefault(key, set()).update(sites)
        for key, per in getattr(other, "details", {}).items():
            mine = self.details.setdefault(key, {})
            for site, values in per.items():
                mine.setdefault(site, set()).update(values)


Identifiers = IdentifierMap


def account_of(kind: str, value: str) -> str:
    """The account an analytics id belongs to: ``UA-123456-4`` -> ``UA-123456``; other ids are
    accounts themselves."""
    if kind == "ga" and (m := _UA.match(value.strip())):
        return m.group(1).upper()
    return value


def canonical_ip(value: str) -> str:
    """An address in one spelling (IPv6 compressed and lower-case, IPv4-mapped as IPv4)."""
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        return value.strip().lower()
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return str(addr)


@lru_cache(maxsize=65536)
def shared_nameserver(name: str) -> str | None:
    """The CDN or provider whose nameserver ``name`` is (never an operator's), or None
    (cached: the lists are read once per process, and a change of them makes a full
    recomputation anyway)."""
    if cdn := cdn_of_nameserver(name):
        return cdn
    provider = provider_of(name)
    return provider.name if provider else None


def _each(session: Session, query: Any, column: Any, ids: Collection[Any] | None, *more: Any) -> list[Any]:
    """The rows of ``query`` (a select) for ``column IN ids`` (None: unrestricted), one
    chunk of ``ids`` at a time (PostgreSQL takes at most 65,535 parameters a statement);
    ``more``: further columns restricted to the same chunk (``a IN chunk OR b IN chunk``)."""
    if ids is None:
        return list(session.execute(query).all())
    rows: list[Any] = []
    for chunk in chunks(sorted(set(ids))):
        rows += session.execute(query.where(or_(column.in_(chunk), *(c.in_(chunk) for c in more)))).all()
    return rows


def _sites_of_names(session: Session, names: Collection[str]) -> dict[str, int]:
    """Host or domain name -> site id, for the names the store knows (wildcards folded)."""
    clean = {n: n.strip().rstrip(".").lower().removeprefix("*.") for n in names if isinstance(n, str)}
    wanted = set(clean.values())
    domains: dict[str, str] = {}
    for name in wanted:
        try:
            domains[name] = parse_host(name).domain
        except HostNameError:
            continue
    by_host: dict[str, int] = {}
    by_domain: dict[str, int] = {}
    for chunk in chunks(wanted):
        by_host.update(session.execute(select(Host.fqdn, Host.site_id).where(Host.fqdn.in_(chunk))).all())
    for chunk in chunks(set(domains.values())):
        by_domain.update(session.execute(select(Site.domain, Site.id).where(Site.domain.in_(chunk))).all())
    out = {}
    for raw, name in clean.items():
        site = by_host.get(name) or by_domain.get(domains.get(name, ""))
        if site is not None:
            out[raw] = site
    return out


# --- indicators ---------------------------------------------------------------------------


def _indicators(session: Session, ids: list[int] | None, weights: Collection[str], max_sites: int) -> IdentifierMap:
    s = IndicatorSighting
    upper = func.upper(Indicator.value)  # ua-123-4 is UA-123-4 (LIKE is case-sensitive on PostgreSQL)
    ua = (Indicator.type == "ga") & upper.like("UA-%-%")
    many = (select(s.indicator_id).group_by(s.indicator_id)
            .having(func.count(func.distinct(s.site_id)).between(2, max_sites)))
    base = (select(Indicator.type, Indicator.value, s.site_id).join(s, s.indicator_id == Indicator.id)
            .where(Indicator.type.in_(list(weights))))
    if ids is None:
        rows = session.execute(base.where(or_(Indicator.id.in_(many), ua))).all()
    else:
        touching = {i for (i,) in _each(session, select(s.indicator_id).distinct(), s.site_id, ids)}
        linking = {i for (i,) in _each(session, many, s.indicator_id, touching)}
        accounts = {account_of("ga", v) for (v,) in _each(session, select(Indicator.value).where(ua),
                                                           Indicator.id, touching)}
        same_account = [upper.like(f"{a}-%") for a in sorted(accounts) if _UA.match(f"{a}-1")]
        rows = _each(session, base, Indicator.id, linking)
        for start in range(0, len(same_account), 200):
            rows += session.execute(base.where(ua, or_(*same_account[start:start + 200]))).all()
    out = IdentifierMap()
    for kind, value, site_id in dict.fromkeys(rows):
        account = account_of(kind, value)
        out.add((kind, account), site_id, value if account != value else None)
    return out


# --- CDN edges ----------------------------------------------------------------------------


def _edge_names(session: Session, names: Iterable[str] | None) -> set[str]:
    """The names (of ``names``; None: every name) on a CDN edge: an A/AAAA address in a CDN
    range or CDN network, or a CNAME into a CDN."""
    d = DnsObservation
    rows: list[tuple[str, str, str]] = []
    if names is None:
        rows = session.execute(select(d.name, d.rtype, d.value).where(d.rtype.in_(("A", "AAAA", "CNAME")))).all()
    else:
        for chunk in chunks(set(names)):
            rows += session.execute(select(d.name, d.rtype, d.value)
                                    .where(d.name.in_(chunk), d.rtype.in_(("A", "AAAA", "CNAME")))).all()
    ips = {v for _n, t, v in rows if t != "CNAME"}
    cdn_net = _cdn_network_ips(session, ips)
    out = set()
    for name, rtype, value in rows:
        if (rtype == "CNAME" and cdn_of_cname(value)) or (rtype != "CNAME" and (value in cdn_net or cdn_of(value))):
            out.add(name)
    return out


def _cdn_network_ips(session: Session, ips: Collection[str]) -> set[str]:
    out: set[str] = set()
    for chunk in chunks(ips):
        out.update(session.scalars(
            select(IpAddress.address).join(IpNetwork, IpNetwork.ip_id == IpAddress.id)
            .join(Network, Network.id == IpNetwork.network_id)
            .where(IpAddress.address.in_(chunk), Network.cdn.is_not(None))))
    return out


# --- certificates -------------------------------------------------------------------------


def covers(sans: Iterable[Any], fqdn: str) -> bool:
    """Whether a certificate's SAN list names host ``fqdn`` (exactly, or by a wildcard one
    label deep): a host presenting a certificate for other names serves someone's default."""
    host = fqdn.strip().rstrip(".").lower()
    parent = host.partition(".")[2]
    for name in sans or ():
        if not isinstance(name, str):
            continue
        name = name.strip().rstrip(".").lower()
        if name == host or (parent and name == f"*.{parent}"):
            return True
    return False


def _certificates(session: Session, ids: list[int] | None, san_search: bool) -> IdentifierMap:
    """``("cert", sha)``: the sites whose hosts present the certificate *for themselves* (its
    SANs cover the presenting host). ``("cert_seen", sha)``, infrastructure, every site tied
    to it otherwise too: a host presenting a certificate that does not name it (a shared
    host's default) and a site only *named* in the SANs (the probe does not verify chains,
    so anyone may list legit-news.com in a self-signed certificate; a named site counts as
    the operator's when its own hosts present the certificate)."""
    hc = HostCertificate
    if ids is None:
        wanted = None
    else:
        wanted = {c for (c,) in _each(session, select(hc.certificate_id).join(Host, Host.id == hc.host_id),
                                      Host.site_id, ids)}
        # Certificates naming the sites (a JSON string ending in the domain: "x.com", "*.x.com").
        sans_text = cast(Certificate.sans, Text)
        naming = [] if not san_search else [
            cond for (domain,) in _each(session, select(Site.domain), Site.id, ids)
            for cond in (sans_text.contains(f'"{domain}"', autoescape=True),
                         sans_text.contains(f'.{domain}"', autoescape=True))]
        for start in range(0, len(naming), 200):
            wanted.update(session.scalars(select(Certificate.id).where(or_(*naming[start:start + 200]))))
    presented = _each(session, select(Certificate.sha256, Host.fqdn, Host.site_id, Certificate.sans)
                      .join(hc, hc.certificate_id == Certificate.id).join(Host, Host.id == hc.host_id),
                      Certificate.id, wanted)
    edges = _edge_names(session, None if ids is None else {fqdn for _s, fqdn, _i, _n in presented})
    cdn_certs = {sha for sha, fqdn, _i, _n in presented if fqdn in edges}
    out = IdentifierMap()
    seen: dict[str, set[int]] = defaultdict(set)
    for sha, fqdn, site_id, listed in presented:
        if sha in cdn_certs:
            continue
        seen[sha].add(site_id)
        if covers(listed, fqdn):
            out.add(("cert", sha), site_id)
    sans = [(sha, listed) for sha, listed in _each(session, select(Certificate.sha256, Certificate.sans),
                                                   Certificate.id, wanted) if sha not in cdn_certs]
    names = {n for _sha, listed in sans for n in (listed or ()) if isinstance(n, str)}
    sites = _sites_of_names(session, names)
    for sha, listed in sans:
        for name in listed or ():
            if isinstance(name, str) and name in sites:
                seen[sha].add(sites[name])
    for sha, tied in seen.items():
        if tied != out.get(("cert", sha), set()):
            for site_id in tied:
                out.add(("cert_seen", sha), site_id)
    return out


# --- addresses ----------------------------------------------------------------------------


def _site_names(session: Session, ids: list[int]) -> set[str]:
    names = {n for (n,) in _each(session, select(Site.domain), Site.id, ids)}
    names.update(n for (n,) in _each(session, select(Host.fqdn), Host.site_id, ids))
    return names


def _addresses(session: Session, ids: list[int] | None) -> IdentifierMap:
    d = DnsObservation
    rows: list[tuple[str, str]] = []
    if ids is None:
        rows = session.execute(select(d.name, d.value).where(d.rtype.in_(("A", "AAAA")))).all()
        names_per_ip = Counter(ip for _n, ip in rows)  # the targeted read's HAVING, here in Python
        rows = [(n, ip) for n, ip in rows if names_per_ip[ip] <= MAX_NAMES_PER_ADDRESS]
        ips = {ip for _n, ip in rows}
    else:
        ips = set()
        for chunk in chunks(_site_names(session, ids)):
            ips.update(session.scalars(select(d.value).where(d.name.in_(chunk), d.rtype.in_(("A", "AAAA")))))
    if not ips:
        return IdentifierMap()
    excluded: set[str] = set()
    for chunk in chunks(ips):
        excluded.update(session.scalars(select(IpAddress.address).where(
            IpAddress.address.in_(chunk), IpAddress.reserved.is_not(None))))
    excluded |= _cdn_network_ips(session, ips)
    dedicated = sorted(ip for ip in ips - excluded if not cdn_of(ip))
    if ids is not None:
        rows = []
        for chunk in chunks(dedicated):
            few = (select(d.value).where(d.value.in_(chunk), d.rtype.in_(("A", "AAAA"))).group_by(d.value)
                   .having(func.count() <= MAX_NAMES_PER_ADDRESS))
            rows += session.execute(select(d.name, d.value).where(d.value.in_(few), d.rtype.in_(("A", "AAAA")))).all()
    keep = set(dedicated)
    rows = [(n, ip) for n, ip in rows if ip in keep]
    # a name CNAMEd into a CDN has edge addresses, whatever their ranges say
    cnamed = {n for n in _edge_names(session, {n for n, _ip in rows}) if n}
    sites = _sites_of_names(session, {name for name, _ip in rows})
    out = IdentifierMap()
    for name, ip in rows:
        if name in sites and name not in cnamed:
            out.add(("ip", canonical_ip(ip)), sites[name])
    return out


# --- nameservers --------------------------------------------------------------------------


def ns_value(names: Iterable[str]) -> str | None:
    """A nameserver set as one identifier value: ``ns1.x.net,ns2.x.net``."""
    clean = sorted({n.strip().rstrip(".").lower() for n in names if isinstance(n, str) and n.strip()})
    return ",".join(clean)[:1000] if clean else None


def operator_ns_value(names: Iterable[str]) -> str | None:
    """:func:`ns_value`, or None when a server is a CDN's or a shared provider's."""
    value = ns_value(names)
    if value is None or any(shared_nameserver(n) for n in value.split(",")):
        return None
    return value


def _latest_ns_sets(session: Session, site_ids: Collection[int] | None) -> dict[int, set[str]]:
    """Site id -> its operator nameserver set values (latest DNS NS answer of the apex,
    latest registration); sets on shared providers' servers are left out."""
    out: dict[int, set[str]] = defaultdict(set)
    for site_id, values in latest_ns_answers(session, site_ids).items():
        for names in values:
            if (v := operator_ns_value(names)) is not None:
                out[site_id].add(v)
    return out


def latest_ns_answers(session: Session, site_ids: Collection[int] | None) -> dict[int, list[list[str]]]:
    """Site id -> [the latest DNS NS answer of its apex, its latest registration's
    nameservers] (those it has; the latest: highest ``last_seen``, then highest row id)."""
    ids = None if site_ids is None else list(site_ids)
    domains = dict((d, i) for d, i in _each(session, select(Site.domain, Site.id), Site.id, ids))
    latest: dict[str, tuple[datetime, list[str]]] = {}
    d = DnsObservation
    query = select(d.name, d.value, d.last_seen).where(d.rtype == "NS")
    for name, value, seen in _each(session, query, d.name, None if ids is None else list(domains)):
        name = name.strip().rstrip(".").lower()
        if name not in domains:
            continue
        if name not in latest or seen > latest[name][0]:
            latest[name] = (seen, [value])
        elif seen == latest[name][0]:
            latest[name][1].append(value)
    out: dict[int, list[list[str]]] = defaultdict(list)
    for name, (_seen, values) in latest.items():
        out[domains[name]].append(values)
    newest: dict[int, tuple[datetime, int, list]] = {}
    r = DomainRegistration
    for site_id, nameservers, seen, row_id in _each(session, select(r.site_id, r.nameservers, r.last_seen, r.id),
                                                    r.site_id, ids):
        if site_id not in newest or (seen, row_id) > newest[site_id][:2]:
            newest[site_id] = (seen, row_id, list(nameservers or ()))
    for site_id, (_seen, _id, nameservers) in newest.items():
        out[site_id].append(nameservers)
    return out


def _nameservers(session: Session, ids: list[int] | None) -> IdentifierMap:
    own = _latest_ns_sets(session, ids)
    out = IdentifierMap()
    if ids is None:
        for site_id, values in own.items():
            for value in values:
                out.add(("nameservers", value), site_id)
        return out
    wanted = {v for values in own.values() for v in values}
    if not wanted:
        return out
    # one grouped read: every name answering with any of the wanted servers
    servers = {s for value in wanted for s in value.split(",")}
    spelled = sorted(servers | {f"{s}." for s in servers})
    d = DnsObservation
    serving: dict[str, set[str]] = defaultdict(set)
    for name, value in _each(session, select(d.name, d.value).where(d.rtype == "NS"), d.value, spelled):
        serving[value.strip().rstrip(".").lower()].add(name.strip().rstrip(".").lower())
    candidates: dict[str, set[str]] = {}
    for value in wanted:
        names = set.intersection(*(serving.get(s, set()) for s in value.split(",")))
        if len(names) < MAX_NS_CANDIDATES:
            candidates[value] = names
    by_domain = dict(_each(session, select(Site.domain, Site.id), Site.domain,
                           {n for names in candidates.values() for n in names}))
    candidate_ids: dict[str, set[int]] = {}
    for value, names in candidates.items():
        candidate_ids[value] = {by_domain[n] for n in names if n in by_domain}
        candidate_ids[value].update(i for i, values in own.items() if value in values)
    latest = _latest_ns_sets(session, {i for group in candidate_ids.values() for i in group})
    for value, group in candidate_ids.items():
        for site_id in group:
            if value in latest.get(site_id, ()):
                out.add(("nameservers", value), site_id)
    return out


# --- hops ---------------------------------------------------------------------------------


def brands(domains: Iterable[str]) -> int:
    """How many brands ``domains`` carry (``baytor.cc``, ``baytor-proxy.net`` and
    ``xbaytor.ws`` are one: :func:`storage.names.same_brand`)."""

    groups: list[str] = []
    for d in sorted(domains):
        if not any(same_brand(d, g) for g in groups):
            groups.append(d)
    return len(groups)


def _hops(session: Session, ids: list[int] | None, max_brands: int, max_domains: int) -> IdentifierMap:
    r = SiteRelation
    base = select(r.from_site_id, r.to_site_id, r.kind)
    complete: set[int] | None = None  # the sites whose every hop was read (None: all)
    if ids is None:
        rows = session.execute(base).all()
    else:
        rows = _each(session, base, r.from_site_id, ids, r.to_site_id)
        ends = complete = {x for f, t, _k in rows for x in (f, t)}
        rows += _each(session, base, r.from_site_id, ends, r.to_site_id)  # every hop of the ends, for the limits
        rows = list(dict.fromkeys(rows))
    if not rows:
        return IdentifierMap()
    sites = {x for f, t, _k in rows for x in (f, t)}
    domains: dict[int, str] = {}
    for chunk in chunks(sites):
        domains.update(session.execute(select(Site.id, Site.domain).where(Site.id.in_(chunk))).all())
    outgoing: dict[int, set[int]] = defaultdict(set)
    incoming: dict[int, set[int]] = defaultdict(set)
    for f, t, kind in rows:
        if kind in HOP_KINDS and f != t:
            outgoing[f].add(t)
            incoming[t].add(f)

    def ordinary(group: set[int]) -> bool:
        return len(group) <= max_domains and brands(domains.get(i, "") for i in group) <= max_brands


    def one_brand_in(t: int) -> bool:
        """Whether the sites hopping to ``t`` from other brands are of one brand at most: two
        unrelated sites redirecting to one partner (an ad or betting domain) are not tied."""
        others = {domains.get(i, "") for i in incoming[t] if not same_brand(domains.get(i, ""), domains[t])}
        return brands(others) <= 1

    out = IdentifierMap()
    for f, t, kind in sorted(set(rows), key=lambda x: (x[0], x[1], str(x[2]))):
        if f == t or f not in domains or t not in domains or (complete is not None and not {f, t} <= complete):
            continue  # (a hop between sites whose other hops are unread: judged when it is asked about)
        value = f"{domains[f]} -> {domains[t]}"
        if kind == RelationKind.NUMBERED:
            out.add(("numbered", value), f, "numbered predecessor")
            out.add(("numbered", value), t, "numbered successor")
        elif kind in HOP_KINDS and ordinary(outgoing[f]) and ordinary(incoming[t]) and (
                same_brand(domains[f], domains[t]) or (kind == RelationKind.REDIRECT and one_brand_in(t))):
            verb = {"redirect": "redirects to", "announced": "announces its move to",
                    "mirror": "lists as its mirror"}[str(kind.value if hasattr(kind, "value") else kind)]
            out.add(("hop", value), f, f"{verb} {domains[t]}")
            out.add(("hop", value), t, f"{domains[f]} {verb} it")
    return out


# --- all together -------------------------------------------------------------------------


def gather(session: Session, ids: Collection[int] | None, weights: Collection[str], max_sites: int,
           san_search: bool = True, max_hop_brands: int = 2, max_hop_domains: int = 10) -> IdentifierMap:
    """Identifiers touching ``ids`` (None: the whole store) -> every site id they were seen on."""
    scope = None if ids is None else sorted(set(ids))
    out = IdentifierMap()
    if scope is not None and not scope:
        return out
    for part in (_indicators(session, scope, weights, max_sites), _certificates(session, scope, san_search),
                 _addresses(session, scope), _nameservers(session, scope),
                 _hops(session, scope, max_hop_brands, max_hop_domains)):
        out.merge(part)
    return out


def identifiers_around(session: Session, site_ids: Collection[int], weights: Collection[str],
                       max_sites: int, san_search: bool = True, rules: Any = None) -> IdentifierMap:
    """Identifiers ``(type, value)`` touching ``site_ids`` -> every site id they were seen on.

    ``weights``: the indicator types that can link; ``max_sites``: indicators seen on more
    sites are left out (they could not link); ``san_search``: also scan the certificates'
    SAN lists for the sites' domains (the one query here that reads a whole table);
    ``rules``: a :class:`storage.cluster_rules.ClustersConfig` (its hop limits; default: defaults).
    """
    if rules is None:
        rules = ClustersConfig()
    return gather(session, site_ids, weights, max_sites, san_search, rules.max_hop_brands, rules.max_hop_domains)
