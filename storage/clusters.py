"""Operator networks ("follow the money"): sites tied together by what only an operator shares.

**Operator identifiers make links; infrastructure only strengthens them.** Two sites are
*linked* when they share at least one *operator* identifier:

* indicators found on their pages (:data:`INDICATOR_WEIGHTS`: analytics and ad accounts,
  wallets, contacts, favicon hashes; never ``video_host`` or ``ad_network``). A Google
  Analytics property counts as its account (``UA-123456-1`` and ``UA-123456-4`` are one
  identifier ``UA-123456``; each site's own property is the identifier's ``detail``);
* a *private* certificate (by SHA-256) the hosts of both sites present for themselves (its
  SANs name the presenting hosts) — never one presented by a host on a CDN edge, which is
  the CDN's. A certificate presented by a host it does not name (a shared host's default),
  or only *naming* a site whose hosts do not present it (SANs are the presenter's word: a
  self-signed certificate on pirate.cc may list legit-news.com), is ``"cert_seen"``,
  infrastructure;
* a *hop* (``"hop"``): one site redirects to the other, announces on its own page that it
  moved there, or lists it as its mirror (those two within one brand) — unless the site hops to, or is hopped
  to from, more than ``max_hop_brands`` brands or ``max_hop_domains`` domains (a status
  page, a mirror list of several brands: it names everyone, it is nobody's operator). Links
  between pages are never ties: a hub links to everyone.

*Infrastructure* identifiers — a dedicated IP address, an operator nameserver set, a
numbered successor that merely resolves (``"numbered"``), a certificate tying sites
otherwise (``"cert_seen"``) — add their weight to a link that
has an operator identifier; alone, or added up, they never join two sites. CDN edges (the
ranges and CNAMEs of ``config/enrich/cdn.toml``, networks marked ``Network.cdn``) and
nameservers of CDNs, DNS providers, registrar defaults and parking services
(``config/enrich/nameservers.toml``) are not identifiers at all (:mod:`storage.neighbourhood`
gathers them that way).

**Shared values, from the store's own statistics.** A value seen on many sites with no
other tie between them is shared (a CMS theme's favicon, a theme's default analytics id, a
shared host's address, a CDN edge certificate naming many customers), whatever its type.
With ``n`` the number of sites an identifier is seen on (``[clusters]`` in the config):

* ``n > max_sites_per_identifier`` (25): shared, always;
* ``n <= uncorroborated_sites`` (10) for accounts, wallets, contacts, certificates and hops,
  ``n <= uncorroborated_weak_sites`` (2) for favicons, addresses and nameserver sets: it
  counts as it is (an operator runs 1-10 sites; two sites rarely share a theme by chance);
* otherwise it counts only when *corroborated*: one network of the *plain* identifiers
  (those of the previous case, never another corroborated one, so the rule cannot feed
  itself; the joining links they make, through any sites) holds at least ``corroboration``
  (0.6) of its ``n`` sites. It then weighs at least ``base x share`` (a favicon on 7 sites,
  6 of them one network: 0.7 x 6/7 = 0.6, so the seventh joins).

An operator's favicon on its 4 sites that also share a chain of wallets is kept (4 of 4
tied); a theme's favicon on 12 unrelated sites is not (at most the 2 or 3 of one operator
among them). The cost: an operator's favicon (or IP) on 3+ sites with nothing else in
common links nothing, and a shared value whose sites are mostly one operator's (7 of 12)
is kept for all 12; ``tests/test_network_rules.py`` measures both sides.

Weights (transparent; the reasons an analyst reads in ``isop network``) fall with ``n``::

    weight = base(type, n) / (1 + DECAY * log2(n - 1))      # n = 2: the full base weight

so a favicon shared by 2 sites weighs 0.7, by 4 sites 0.57 — except that an account,
wallet, contact, certificate or hop within ``uncorroborated_sites`` keeps its full base
weight (the statistics above, not the decay, decide whether it is shared: measured on
generated worlds, an operator's phone number on its 7 sites weighed 0.50 decayed and
missed them). A :class:`Link`'s ``strength``
is the sum of its identifiers' weights capped at 1.0 (``raw`` uncapped; ``operator`` and
``infrastructure`` the two parts); it *joins* when it has an operator identifier and
``strength >= threshold`` (0.6): one specific identifier joins on its own, a weak one (a
phone number on many sites) with a dedicated IP. Clusters are the connected components of
joining links (union-find); only components of two or more sites count.

Stored clusters (:class:`~storage.models.Cluster`, :class:`~storage.models.ClusterMember`)
keep stable keys: a recomputed cluster takes the key of the stored cluster whose current
members it overlaps most (Jaccard), a new one gets ``op-`` + a short hash of its earliest
member. A member's ``last_seen`` moves to the time of each computation that finds it in
the cluster; a cluster's current members are those with ``last_seen >= updated_at`` while
``dissolved_at`` is empty. A cluster a computation no longer finds is marked dissolved
(``dissolved_at``) and revived (cleared) when a later one matches it again.

After a crawl or an enrichment run, :func:`recompute` touches only the sites whose
identifiers changed (:mod:`storage.cluster_updates`: new or changed sightings, DNS,
registrations, certificates, hops since the last computation) and the networks around
them; the first computation, a rules or list change, rows deleted (retention), or more
changed sites than ``incremental_max_share`` of the store make it recompute the whole store.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.chunks import chunks
from storage.cluster_rules import ClustersConfig
from storage.cluster_updates import changed_sites, record_computation, table_state
from storage.models import Cluster, ClusterMember, Site
from storage.names import HostNameError, parse_host
from storage.neighbourhood import IdentifierMap, gather, identifiers_around
from storage.observe import upsert

RULES = ClustersConfig()
"""The default rules (``[clusters]`` of the configuration)."""

MAX_SITES_PER_IDENTIFIER = RULES.max_sites_per_identifier
"""An identifier seen on more sites than this is shared infrastructure, not an operator's."""

DEFAULT_THRESHOLD = RULES.threshold
"""Link strength at or above which two sites are put in one cluster (with an operator identifier)."""

DECAY = 0.15
"""How fast an identifier's weight falls with the number of sites sharing it."""

INDICATOR_WEIGHTS: Mapping[str, float] = {
    "ga": 1.0, "gtm": 1.0, "adsense": 1.0, "yandex_metrica": 1.0,
    "btc": 1.0, "eth": 1.0, "trx": 1.0, "xmr": 1.0, "paypal": 1.0,
    "email": 1.0, "telegram": 1.0,
    "discord": 0.9, "whatsapp": 0.8,
    "phone": 0.7, "favicon_mmh3": 0.7,
}
"""Base weight per indicator type; types not listed (video_host, ad_network) never link."""

CERT_WEIGHT = 0.9
"""A private certificate the hosts of several sites present for themselves (its SANs name them)."""

CERT_SEEN_WEIGHT = 0.3
"""A certificate tying sites otherwise (``"cert_seen"``, infrastructure): presented by a host
it does not name (a shared host's default), or naming a site whose hosts do not present it
(SANs are the presenter's word: the probe verifies no chain)."""

HOP_WEIGHT = 1.0
"""A redirect, "we moved" notice or same-brand mirror from one site to the other."""

IP_WEIGHT = 0.5
"""A dedicated (non-CDN, non-reserved) IP address the sites' hosts resolved to (infrastructure)."""

NAMESERVER_WEIGHT = 0.3
NAMESERVER_FEW_WEIGHT = 0.5
NAMESERVER_FEW_SITES = 3
"""An operator nameserver set shared by at most this many sites weighs NAMESERVER_FEW_WEIGHT."""

NUMBERED_WEIGHT = 0.3
"""A numbered successor (site101 -> site102) that resolves: anyone may have registered it."""

OPERATOR_TYPES = frozenset({*INDICATOR_WEIGHTS, "cert", "hop"})
"""Identifier types that can make a link."""
INFRASTRUCTURE_TYPES = frozenset({"ip", "nameservers", "numbered", "cert_seen"})
"""Identifier types that only strengthen a link that has an operator identifier."""
WEAK_TYPES = frozenset({"favicon_mmh3", "ip", "nameservers", "cert_seen"})
"""Types a theme, a CMS or a shared host gives unrelated sites: corroborated from fewer sites."""
PAIR_TYPES = frozenset({"hop", "numbered"})
"""Types that name one pair of sites (never shared by more)."""


@dataclass(frozen=True)
class Identifier:
    """One identifier two sites share, with its weight and the number of sites sharing it."""

    type: str
    value: str
    weight: float
    sites: int
    kind: str = "operator"
    """``operator`` (can make a link) or ``infrastructure`` (only strengthens one)."""
    detail: tuple[tuple[str, str], ...] = ()
    """(domain, what that site shows): the GA property of an account, a hop's direction."""
    note: str = ""
    """Why a value above the sharing limits still counts (its corroboration)."""

    def as_dict(self, only: Collection[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "value": self.value, "weight": round(self.weight, 4),
                               "sites": self.sites, "kind": self.kind}
        detail = {d: v for d, v in self.detail if only is None or d in only}
        if detail:
            out["detail"] = detail
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Link:
    """Two sites (``a < b``) and the identifiers they share."""

    a: str
    b: str
    identifiers: list[Identifier] = field(default_factory=list)

    @property
    def raw(self) -> float:
        """The uncapped sum of the identifiers' weights."""
        return sum(i.weight for i in self.identifiers)

    @property
    def operator(self) -> float:
        """The sum of the operator identifiers' weights."""
        return sum(i.weight for i in self.identifiers if i.kind == "operator")

    @property
    def infrastructure(self) -> float:
        """The sum of the infrastructure identifiers' weights."""
        return sum(i.weight for i in self.identifiers if i.kind != "operator")

    @property
    def strength(self) -> float:
        """The sum of the identifiers' weights, capped at 1.0."""
        return min(1.0, self.raw)

    def joins(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        """Whether the link puts its sites in one network: an operator identifier, and strength."""
        return self.operator > 0 and self.strength >= threshold

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "strength": round(self.strength, 4), "raw": round(self.raw, 4),
                "operator": round(self.operator, 4), "infrastructure": round(self.infrastructure, 4),
                "identifiers": [i.as_dict((self.a, self.b)) for i in self.identifiers]}


def identifier_weight(kind: str, n: int, max_sites: int = MAX_SITES_PER_IDENTIFIER) -> float:
    """The weight of an identifier of ``kind`` shared by ``n`` sites (0 when it must not link)."""
    if n < 2 or n > max_sites:
        return 0.0
    if kind == "nameservers":
        base = NAMESERVER_FEW_WEIGHT if n <= NAMESERVER_FEW_SITES else NAMESERVER_WEIGHT
    elif kind == "cert":
        base = CERT_WEIGHT
    elif kind == "cert_seen":
        base = CERT_SEEN_WEIGHT
    elif kind == "ip":
        base = IP_WEIGHT
    elif kind == "hop":
        base = HOP_WEIGHT
    elif kind == "numbered":
        base = NUMBERED_WEIGHT
    else:
        base = INDICATOR_WEIGHTS.get(kind, 0.0)
    return base / (1 + DECAY * math.log2(n - 1))


def free_limit(kind: str, rules: ClustersConfig = RULES) -> int:
    """Up to how many sites an identifier of ``kind`` counts without corroboration."""
    if kind in PAIR_TYPES:
        return 2
    return rules.uncorroborated_weak_sites if kind in WEAK_TYPES else rules.uncorroborated_sites


def needs_corroboration(kind: str, n: int, rules: ClustersConfig = RULES) -> bool:
    """Whether an identifier of ``kind`` on ``n`` sites counts only when corroborated."""
    return free_limit(kind, rules) < n <= rules.max_sites_per_identifier and identifier_weight(
        kind, n, rules.max_sites_per_identifier) > 0


# --- gathering identifiers ----------------------------------------------------------------


def identifiers(session: Session, rules: ClustersConfig = RULES) -> IdentifierMap:
    """Every candidate identifier ``(type, value)`` -> the ids of the sites it was seen on."""
    return gather(session, None, INDICATOR_WEIGHTS, rules.max_sites_per_identifier, True,
                  rules.max_hop_brands, rules.max_hop_domains)


# --- links and clusters -------------------------------------------------------------------


def _root(parent: dict[int, int], x: int) -> int:
    parent.setdefault(x, x)
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _plain(found: Mapping[tuple[str, str], set[int]], rules: ClustersConfig
           ) -> tuple[dict[tuple[str, str], float], list[tuple[tuple[str, str], float]]]:
    """(identifiers that count as they are -> weight, [(identifier needing corroboration, weight)])."""
    plain: dict[tuple[str, str], float] = {}
    pending = []
    for key, sites in found.items():
        weight = identifier_weight(key[0], len(sites), rules.max_sites_per_identifier)
        if weight <= 0:
            continue
        if len(sites) <= free_limit(key[0], rules):
            # an account, wallet, contact or certificate within the limit is one operator's
            # (the statistics decide sharing): its full weight; weak types keep the decay
            strong = key[0] in OPERATOR_TYPES and key[0] not in WEAK_TYPES
            plain[key] = identifier_weight(key[0], 2, rules.max_sites_per_identifier) if strong else weight
        else:
            pending.append((key, weight))
    return plain, pending


def plain_networks(found: Mapping[tuple[str, str], set[int]], rules: ClustersConfig = RULES) -> dict[int, int]:
    """Site id -> a representative of its network under the plain identifiers alone (the
    joining links they make); sites in no such network are left out."""
    plain, _pending = _plain(found, rules)
    total: dict[tuple[int, int], float] = defaultdict(float)
    operator: dict[tuple[int, int], float] = defaultdict(float)
    for key, weight in plain.items():
        for a, b in combinations(sorted(found[key]), 2):
            total[(a, b)] += weight
            if key[0] in OPERATOR_TYPES:
                operator[(a, b)] += weight
    parent: dict[int, int] = {}
    for (a, b), weight in operator.items():
        if weight > 0 and min(1.0, total[(a, b)]) >= rules.threshold:
            ra, rb = _root(parent, a), _root(parent, b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {s: _root(parent, s) for s in list(parent)}


def judge(found: Mapping[tuple[str, str], set[int]], rules: ClustersConfig = RULES
          ) -> dict[tuple[str, str], tuple[float, str]]:
    """The identifiers of ``found`` that count: ``(type, value) -> (weight, note)``.

    Applies the sharing limits and the corroboration rule of this module's docstring: an
    identifier above its limit counts when one network of the plain identifiers
    (:func:`plain_networks`) holds at least ``corroboration`` of its sites; it then weighs
    at least ``base weight x that share`` (its own decay aside: the value is that
    network's). ``found`` must hold every identifier touching those networks' sites (the
    whole store does; :func:`grow` fetches them)."""
    plain, pending = _plain(found, rules)
    counted: dict[tuple[str, str], tuple[float, str]] = {k: (w, "") for k, w in plain.items()}
    networks = plain_networks(found, rules) if pending else {}
    for key, weight in pending:
        sites = found[key]
        sizes: dict[int, int] = defaultdict(int)
        for s in sites:
            sizes[networks.get(s, -s - 1)] += 1
        largest = max(sizes.values())
        share = largest / len(sites)
        if share >= rules.corroboration:
            base = identifier_weight(key[0], 2, rules.max_sites_per_identifier)
            counted[key] = (round(max(weight, base * share), 6),
                            f"on {len(sites)} sites, {largest} of them one network by other identifiers")
    return counted


def links_from(found: Mapping[tuple[str, str], set[int]], domains: Mapping[int, str],
               rules: ClustersConfig = RULES) -> list[Link]:
    """The links that identifiers ``(type, value) -> site ids`` make, strongest first."""
    details = getattr(found, "details", {})
    pairs: dict[tuple[str, str], Link] = {}
    for (kind, value), (weight, note) in sorted(judge(found, rules).items()):
        site_ids = found[(kind, value)]
        per = details.get((kind, value), {})
        detail = tuple(sorted((domains[s], ", ".join(sorted(per[s]))) for s in site_ids if s in per and s in domains))
        ident = Identifier(kind, value, weight, len(site_ids),
                           "operator" if kind in OPERATOR_TYPES else "infrastructure", detail, note)
        names = sorted(domains[s] for s in site_ids if s in domains)
        # a pair the certificate ties as an operator's gets no infrastructure copy of it
        own = {domains[s] for s in found.get(("cert", value), ())} if kind == "cert_seen" else set()
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if not (a in own and b in own):
                    pairs.setdefault((a, b), Link(a, b)).identifiers.append(ident)
    links = list(pairs.values())
    for link in links:
        link.identifiers.sort(key=lambda x: (x.kind != "operator", -x.weight, x.type, x.value))
    links.sort(key=lambda lk: (-lk.raw, lk.a, lk.b))
    return links


def site_links(session: Session, rules: ClustersConfig = RULES) -> list[Link]:
    """Pairs of sites sharing at least one identifier that counts, strongest first."""
    domains = {i: d for i, d in session.execute(select(Site.id, Site.domain))}
    return links_from(identifiers(session, rules), domains, rules)


def _components(links: Iterable[Link], threshold: float) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        if link.joins(threshold):
            ra, rb = find(link.a), find(link.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        groups[find(x)].append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


def compute_clusters(session: Session, threshold: float | None = None, links: Sequence[Link] | None = None,
                     rules: ClustersConfig = RULES) -> list[list[str]]:
    """Operator networks: sorted lists of two or more domains joined by joining links
    (transitively). ``links``: reuse already computed links."""
    threshold = rules.threshold if threshold is None else threshold
    return _components(site_links(session, rules) if links is None else links, threshold)


# --- growing networks with targeted queries -----------------------------------------------


def _pending_sites(found: Mapping[tuple[str, str], set[int]], rules: ClustersConfig) -> set[int]:
    """The sites :func:`judge` must see around: those of identifiers needing corroboration,
    and every site of the plain networks holding them."""
    sites = {s for (kind, _v), ids in found.items() if needs_corroboration(kind, len(ids), rules) for s in ids}
    if not sites:
        return sites
    networks = plain_networks(found, rules)
    wanted = {networks[s] for s in sites if s in networks}
    return sites | {s for s, r in networks.items() if r in wanted}


@dataclass
class Grown:
    """What :func:`grow` found: the sites, the identifiers around them, the links."""

    members: set[int]
    found: IdentifierMap
    domains: dict[int, str]
    links: list[Link]
    truncated: bool = False


def grow(session: Session, start: Collection[int], rules: ClustersConfig = RULES, threshold: float | None = None,
         san_search: str = "first", limit: int | None = None) -> Grown:
    """The networks containing ``start``, grown outwards with targeted queries.

    Returns every site of the joined components holding a ``start`` site, with every
    identifier touching them (and touching the sites of identifiers that need
    corroboration, so :func:`judge` decides as it would over the whole store).
    ``san_search``: ``"first"`` (the start sites' domains only), ``"all"`` or ``"none"``.
    """
    threshold = rules.threshold if threshold is None else threshold
    members, frontier, fetched = set(start), set(start), set()
    found = IdentifierMap()
    domains: dict[int, str] = {}
    links: list[Link] = []
    truncated, first = False, True

    def fetch(ids: set[int], san: bool) -> None:
        found.merge(identifiers_around(session, ids, INDICATOR_WEIGHTS, rules.max_sites_per_identifier,
                                       san_search=san, rules=rules))
        fetched.update(ids)

    while frontier:
        fetch(frontier - fetched, san_search == "all" or (san_search == "first" and first))
        first = False
        while need := _pending_sites(found, rules) - fetched:
            fetch(need, san_search == "all")
        unknown = sorted({i for ids in found.values() for i in ids} - set(domains))
        for part in chunks(unknown):
            domains.update(session.execute(select(Site.id, Site.domain).where(Site.id.in_(part))).all())
        links = links_from(found, domains, rules)
        by_name = {d: i for i, d in domains.items()}
        wanted = {domains[i] for i in members if i in domains}
        grown = {by_name[d] for c in _components(links, threshold) if wanted & set(c) for d in c} - members
        if limit is not None and len(members) + len(grown) > limit:
            truncated = True
            break
        members |= grown
        frontier = grown
    return Grown(members, found, domains, links, truncated)


# --- stored clusters ----------------------------------------------------------------------


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _current_members(session: Session) -> dict[int, tuple[str, datetime, set[int], datetime | None]]:
    """Stored cluster id -> (key, updated_at, site ids of its last members, dissolved_at)."""
    clusters = {cid: (key, updated, set(), dissolved) for cid, key, updated, dissolved in
                session.execute(select(Cluster.id, Cluster.key, Cluster.updated_at, Cluster.dissolved_at))}
    for cid, site_id, last_seen in session.execute(
            select(ClusterMember.cluster_id, ClusterMember.site_id, ClusterMember.last_seen)):
        if cid in clusters and last_seen >= clusters[cid][1]:
            clusters[cid][2].add(site_id)
    return clusters


def _new_key(earliest_domain: str, taken: set[str]) -> str:
    for attempt in range(1000):
        seed = earliest_domain if attempt == 0 else f"{earliest_domain}#{attempt}"
        key = "op-" + hashlib.sha256(seed.encode()).hexdigest()[:10]
        if key not in taken:
            return key
    raise RuntimeError("no free cluster key")  # pragma: no cover


def store_clusters(session: Session, clusters: Sequence[Sequence[str]], now: datetime,
                   links: Sequence[Link] | None = None, scope: Collection[int] | None = None,
                   counts: dict[str, int] | None = None) -> dict[str, str]:
    """Write ``clusters`` (lists of domains) with stable keys; returns domain -> cluster key.

    Each cluster takes the key of the stored cluster its members overlap most (Jaccard
    over last members; greedy, best overlaps first, each stored cluster used once; a
    dissolved one is revived); otherwise a new key ``op-<hash of the earliest-seen
    member>``. Members' ``strength`` is their strongest link inside the cluster (from
    ``links``, computed when not given). Live stored clusters no cluster matched are marked
    dissolved — all of them, or with ``scope`` (site ids recomputed) those whose current
    members lie in it. ``counts`` receives ``clusters`` and ``dissolved``.
    """
    site_rows = {d: (i, seen) for i, d, seen in session.execute(select(Site.id, Site.domain, Site.first_seen))}
    wanted = [sorted({d for d in c if d in site_rows}) for c in clusters]
    wanted = [c for c in wanted if len(c) >= 2]
    if wanted and links is None:
        links = site_links(session)
    best: dict[str, float] = defaultdict(float)
    index = {d: n for n, c in enumerate(wanted) for d in c}
    for link in links or ():
        if index.get(link.a) is not None and index.get(link.a) == index.get(link.b):
            best[link.a] = max(best[link.a], link.strength)
            best[link.b] = max(best[link.b], link.strength)

    stored = _current_members(session)
    candidates = []
    for n, c in enumerate(wanted):
        ids = {site_rows[d][0] for d in c}
        for cid, (_key, updated, members, dissolved) in stored.items():
            if ids & members:
                candidates.append((-_jaccard(ids, members), dissolved is not None, -updated.timestamp(), cid, n))
    candidates.sort()
    assigned: dict[int, int] = {}
    used: set[int] = set()
    for *_rank, cid, n in candidates:
        if n not in assigned and cid not in used:
            assigned[n] = cid
            used.add(cid)

    taken = {entry[0] for entry in stored.values()}
    result: dict[str, str] = {}
    member_rows = []
    for n, c in enumerate(wanted):
        stamp = now
        if n in assigned:
            cid = assigned[n]
            key = stored[cid][0]
            # another process's later clock: stay after it, or its former members stay current
            stamp = max(now, stored[cid][1] + timedelta(microseconds=1))
            session.execute(Cluster.__table__.update().where(Cluster.id == cid)
                            .values(updated_at=stamp, dissolved_at=None))
        else:
            earliest = min(c, key=lambda d: (site_rows[d][1], d))
            key = _new_key(earliest, taken)
            taken.add(key)
            row = Cluster(key=key, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            cid = row.id
        for d in c:
            result[d] = key
            member_rows.append({"cluster_id": cid, "site_id": site_rows[d][0], "strength": float(best[d]),
                                "first_seen": now, "last_seen": stamp})
    upsert(session, ClusterMember, member_rows, key=["cluster_id", "site_id"], update=["strength"])
    inside = None if scope is None else set(scope)
    gone = [cid for cid, (_k, _u, members, dissolved) in stored.items()
            if cid not in used and dissolved is None and (inside is None or members & inside)]
    for start in range(0, len(gone), 5000):
        session.execute(Cluster.__table__.update().where(Cluster.id.in_(gone[start:start + 5000]))
                        .values(dissolved_at=now))
    if counts is not None:
        counts["clusters"] = len(wanted)
        counts["dissolved"] = len(gone)
    return result


def recompute_all(session: Session, now: datetime, threshold: float | None = None,
                  rules: ClustersConfig = RULES, counts: dict[str, int] | None = None) -> dict[str, str]:
    """Compute the links and clusters of the whole store afresh and store them; returns
    domain -> cluster key (of every clustered site)."""
    links = site_links(session, rules)
    return store_clusters(session, compute_clusters(session, threshold, links, rules), now, links, counts=counts)


def recompute_around(session: Session, now: datetime, dirty: Collection[int], rules: ClustersConfig = RULES,
                     counts: dict[str, int] | None = None) -> dict[str, str]:
    """Recompute only the networks ``dirty`` sites (whose identifiers changed) can affect.

    The sites whose links can change are those of the identifiers touching the dirty
    sites (the sites of an identifier new sightings pushed past ``max_sites_per_identifier``
    are dirty themselves, :func:`storage.cluster_updates.changed_sites`), and of the
    identifiers touching those (an identifier's corroboration depends on
    its sites' other ties); to them come the current members of the stored clusters they
    are in; the networks holding any of them are grown with targeted queries, recomputed,
    and stored (clusters of these sites that no longer exist are marked dissolved).
    Returns domain -> cluster key for the recomputed sites. Equals :func:`recompute_all`
    restricted to those sites when the stored clusters were up to date before the changes.
    """
    region = set(dirty)
    for _round in range(2):
        around = identifiers_around(session, region, INDICATOR_WEIGHTS, rules.max_sites_per_identifier,
                                    san_search=True, rules=rules)
        region |= {s for sites in around.values() for s in sites}
    stored = _current_members(session)
    region |= {s for _k, _u, members, dissolved in stored.values() if dissolved is None and members & region
               for s in members}
    if not region:
        if counts is not None:
            counts.update(clusters=0, dissolved=0, sites=0)
        return {}
    grown = grow(session, region, rules, san_search="all")
    scope = grown.members | region
    clusters = [c for c in _components(grown.links, rules.threshold)
                if {grown.domains.get(i) for i in scope} & set(c)]
    result = store_clusters(session, clusters, now, grown.links, scope=scope, counts=counts)
    if counts is not None:
        counts["sites"] = len(scope)
    return result


def recompute(session: Session, now: datetime, threshold: float | None = None, rules: ClustersConfig = RULES,
              full: bool | None = None) -> dict[str, str]:
    """Bring the stored clusters up to date; returns domain -> cluster key of every site
    in a live cluster. Incremental (:func:`recompute_around` over the sites whose identifiers
    changed since the last computation) unless ``full`` or nothing says what changed
    (:mod:`storage.cluster_updates`); a ``threshold`` other than the rules' makes it full."""
    if threshold is not None and threshold != rules.threshold:
        rules = replace(rules, threshold=threshold)
    weights = [dict(INDICATOR_WEIGHTS), CERT_WEIGHT, IP_WEIGHT, HOP_WEIGHT, DECAY, NAMESERVER_WEIGHT,
               NAMESERVER_FEW_WEIGHT, NAMESERVER_FEW_SITES, NUMBERED_WEIGHT]
    state = table_state(session)  # before reading changes: rows committed meanwhile are seen next time
    dirty = None if full else changed_sites(session, rules, weights)
    total = int(session.scalar(select(func.count(Site.id))) or 0)
    if dirty is not None and len(dirty) > rules.incremental_max_share * total:
        dirty = None  # most of the store: one whole-store pass is cheaper than growing around each
    counts: dict[str, int] = {}
    if dirty is None:
        recompute_all(session, now, rules=rules, counts=counts)
        counts["sites"] = total
        record_computation(session, now, rules, full=True, dirty=total, counts=counts, weights=weights, state=state)
    else:
        if dirty:
            recompute_around(session, now, dirty, rules, counts=counts)
        record_computation(session, now, rules, full=False, dirty=len(dirty), counts=counts, weights=weights,
                           state=state)
    return current_clusters(session)


def current_clusters(session: Session) -> dict[str, str]:
    """Domain -> key of the live cluster it is a current member of."""
    m = ClusterMember
    return dict(session.execute(
        select(Site.domain, Cluster.key).join(m, m.site_id == Site.id).join(Cluster, Cluster.id == m.cluster_id)
        .where(m.last_seen >= Cluster.updated_at, Cluster.dissolved_at.is_(None))
        .order_by(Site.domain, Cluster.updated_at, Cluster.id)).all())


MAX_NETWORK_SITES = 500
"""``network_of`` stops growing a network past this many sites (and says so)."""


def network_of(session: Session, domain: str, threshold: float | None = None,
               rules: ClustersConfig = RULES) -> dict[str, Any]:
    """The operator network around ``domain``, computed from the store as it is now.

    Returns ``{"domain", "cluster" (stored key or None), "sites" (sorted), "links",
    "truncated"}``; the links are those among the network's sites (weak ones included and
    flagged ``"joins": False``, infrastructure-only ones among them) plus ``domain``'s own
    weak links to sites outside it, each with its identifiers (``kind`` operator or
    infrastructure; ``detail``: which property or direction each site shows). A site in no
    cluster gets ``sites == [domain]``. The network grows outwards from ``domain`` with
    targeted queries (:func:`grow`), so the cost follows the network's size, not the
    store's; it is the connected component :func:`compute_clusters` finds, except that
    certificates naming (not presented by) a site are searched for ``domain`` only.
    """
    threshold = rules.threshold if threshold is None else threshold
    try:
        domain = parse_host(domain).domain
    except HostNameError:
        domain = domain.strip().lower()
    site_id = session.scalar(select(Site.id).where(Site.domain == domain))
    if site_id is None:
        return {"domain": domain, "cluster": None, "sites": [domain], "links": [], "truncated": False}
    grown = grow(session, {site_id}, rules, threshold, san_search="first", limit=MAX_NETWORK_SITES)
    grown.domains.setdefault(site_id, domain)
    sites = sorted(grown.domains[i] for i in grown.members if i in grown.domains)
    inside = set(sites)
    shown = [lk for lk in grown.links if (lk.a in inside and lk.b in inside) or domain in (lk.a, lk.b)]
    key = session.scalar(
        select(Cluster.key).join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
        .where(ClusterMember.site_id == site_id, ClusterMember.last_seen >= Cluster.updated_at,
               Cluster.dissolved_at.is_(None))
        .order_by(Cluster.updated_at.desc(), Cluster.id.desc()).limit(1))
    return {"domain": domain, "cluster": key, "sites": sites if len(sites) > 1 else [domain],
            "truncated": grown.truncated,
            "links": [{**lk.as_dict(), "joins": lk.joins(threshold)} for lk in shown]}
