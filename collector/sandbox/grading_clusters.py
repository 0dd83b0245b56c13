"""Grading operator networks against a world's answer key: which sites does one operator run?

Pairwise, over the judged sites of the world (:func:`collector.sandbox.grading.judged_domains`):

- a *predicted* pair is two judged sites in the same **current stored** cluster, which is
  what an analyst sees after a crawl; a store that holds no cluster at all (never
  recomputed) is graded on :func:`storage.clusters.compute_clusters` instead;
- a *true* pair is two judged sites with the same non-empty ``[truth] operator``.

Precision is 1.0 when nothing is predicted (nothing claimed, nothing wrong) and the summary
says so; recall has no value when the world has no true pair. Generated worlds carry
``answers.json`` (format 1): recall is then also given over the operators marked
``visible`` (those that share something a crawl can see), and its ``shared_infrastructure``
values count as infrastructure when a false pair is explained.

Every false pair comes with the identifiers of the links on the path that joined its two
sites (a shortest path over the joining links of :func:`storage.clusters.network_of`); a
false pair whose path uses an infrastructure identifier (an IP address, a nameserver set,
a hosting network, a CDN address, a value the answer key lists as shared
infrastructure (a certificate by its SAN list, which the store keeps with its SHA-256), or a hop to or from a hub or status page it lists) is a *false merge
through shared infrastructure*: the failure the issue
12 rules exist to prevent.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.sandbox.grading import judged_domains
from collector.sandbox.world import World
from storage.cluster_rules import ClustersConfig
from storage.safe_text import inert

INFRA_TYPES = frozenset({"ip", "nameservers", "network", "asn", "hosting"})
"""Identifier types that are infrastructure: they may strengthen a link, never make one."""

SHOWN = 20
"""Pairs of each kind listed by :meth:`ClusterGrade.lines` (the rest are counted)."""


@dataclass(frozen=True)
class FalsePair:
    """Two sites in one predicted network that the answer key says different operators run."""

    a: str
    b: str
    operators: tuple[str, str]
    """The truth operators of ``a`` and ``b`` ('' when none)."""
    identifiers: tuple[tuple[str, str], ...]
    """(type, value) of every identifier on the links of the path joining ``a`` to ``b``;
    empty when no joining path was found (the stored cluster predates the store's links)."""
    infra: tuple[tuple[str, str], ...]
    """The identifiers of ``identifiers`` that are shared infrastructure."""


@dataclass(frozen=True)
class MissedPair:
    a: str
    b: str
    operator: str


@dataclass
class ClusterGrade:
    sites: int = 0
    """Judged sites."""
    operators: int = 0
    """Distinct operators among the judged sites."""
    source: str = "stored"
    """Where the predicted networks came from: ``stored`` clusters or ``computed`` ones."""
    predicted: int = 0
    """Pairs of judged sites in one predicted network."""
    true: int = 0
    """Pairs of judged sites the same operator runs."""
    tp: int = 0
    """Pairs both predicted and true."""
    visible_true: int | None = None
    """True pairs of operators marked visible in answers.json (None: no answers.json)."""
    visible_tp: int | None = None
    false_pairs: list[FalsePair] = field(default_factory=list)
    missed_pairs: list[MissedPair] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float | None:
        return self.tp / self.true if self.true else None

    @property
    def recall_visible(self) -> float | None:
        return self.visible_tp / self.visible_true if self.visible_true else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def infra_false_merges(self) -> int:
        """False pairs joined through shared infrastructure."""
        return sum(1 for fp in self.false_pairs if fp.infra)

    def summary(self) -> str:
        def figure(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        precision = f"{self.precision:.3f}" if self.predicted else "n/a (no pair predicted, counted 1.0)"
        visible = "" if self.visible_true is None else f"  recall (visible operators) {figure(self.recall_visible)}"
        return (f"networks ({self.source}): pairwise precision {precision}  recall {figure(self.recall)}  "
                f"F1 {figure(self.f1)}{visible}  (pairs: {self.predicted} predicted, {self.true} true, "
                f"{self.tp} right; {self.sites} sites, {self.operators} operators; "
                f"{self.infra_false_merges} false merges through shared infrastructure)")

    def lines(self, shown: int = SHOWN) -> list[str]:
        """The false and missed pairs, one line each, every scraped string made inert."""
        out = []
        for fp in self.false_pairs[:shown]:
            joined = ", ".join(f"{t}={v}" for t, v in fp.identifiers) or "no joining path in the current links"
            infra = f" [infrastructure: {', '.join(f'{t}={v}' for t, v in fp.infra)}]" if fp.infra else ""
            out.append(inert(f"false pair {fp.a} ({fp.operators[0] or '-'}) + {fp.b} ({fp.operators[1] or '-'}): "
                             f"joined by {joined}{infra}"))
        if len(self.false_pairs) > shown:
            out.append(f"... {len(self.false_pairs) - shown} more false pairs")
        for mp in self.missed_pairs[:shown]:
            out.append(inert(f"missed pair {mp.a} + {mp.b} (operator {mp.operator})"))
        if len(self.missed_pairs) > shown:
            out.append(f"... {len(self.missed_pairs) - shown} more missed pairs")
        return out


def load_answers(world: World) -> dict[str, Any] | None:
    """The world's answers.json (generated worlds), or None."""
    path = world.root / "answers.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def stored_networks(session: Session) -> list[list[str]] | None:
    """The live stored clusters' current members (sorted domains, through
    :func:`storage.clusters.current_clusters`), or None when the store holds no cluster at
    all (never computed); a store whose clusters are all dissolved has none."""
    from storage.clusters import current_clusters
    from storage.models import Cluster

    if not session.scalar(select(func.count()).select_from(Cluster)):
        return None
    groups: dict[str, list[str]] = {}
    for domain, key in current_clusters(session).items():
        groups.setdefault(key, []).append(domain)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


def _pairs(groups: Iterable[Iterable[str]], judged: set[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for g in groups:
        out.update(combinations(sorted(set(g) & judged), 2))
    return out


CERT_TYPES = frozenset({"cert", "cert_seen"})
"""Link identifier types whose value is a certificate's SHA-256 (the store's ``Certificate``)."""


def san_key(sans: Iterable[str]) -> str:
    """A SAN list as the answer key's ``cert`` values are compared: lower-case, sorted, joined by ","."""
    return ",".join(sorted({n.strip().lower() for n in sans if n.strip()}))


def _shared_values(answers: dict[str, Any] | None) -> set[str]:
    """The answer key's shared-infrastructure values, lower-case; a ``cert`` value (a SAN
    list: the SHA-256 is unknown when a world is generated) as :func:`san_key` gives it."""
    out = set()
    for item in (answers or {}).get("shared_infrastructure", []):
        value = str(item.get("value", "")).strip()
        if value:
            out.add(san_key(value.split(",")) if item.get("type") == "cert" else value.lower())
    return out


def _cert_sans(session: Session, sha256s: Iterable[str]) -> dict[str, str]:
    """SHA-256 -> :func:`san_key` of the store's certificates among ``sha256s``."""
    from storage.models import Certificate

    wanted = sorted({s.strip().lower() for s in sha256s})
    if not wanted:
        return {}
    rows = session.execute(select(Certificate.sha256, Certificate.sans).where(Certificate.sha256.in_(wanted)))
    return {sha.lower(): san_key(sans or ()) for sha, sans in rows}


def is_infrastructure(kind: str, value: str, shared: set[str]) -> bool:
    """Whether the identifier ``(kind, value)`` is infrastructure rather than an operator's."""
    from storage.cdn import cdn_of

    v = value.strip().lower()
    if kind in INFRA_TYPES or v in shared or cdn_of(v) is not None:
        return True
    # A hop ("a -> b") to or from a link hub, forum or status page the key lists.
    return " -> " in v and any(end.strip() in shared for end in v.split(" -> "))


def _path(links: Sequence[dict[str, Any]], a: str, b: str) -> list[dict[str, Any]] | None:
    """A shortest path of joining links from ``a`` to ``b`` (breadth first), or None."""
    adjacent: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for lk in links:
        if lk.get("joins", True):
            adjacent.setdefault(lk["a"], []).append((lk["b"], lk))
            adjacent.setdefault(lk["b"], []).append((lk["a"], lk))
    came: dict[str, tuple[str, dict[str, Any]] | None] = {a: None}
    queue = deque([a])
    while queue:
        x = queue.popleft()
        if x == b:
            path = []
            while came[x] is not None:
                x, lk = came[x]
                path.append(lk)
            return path[::-1]
        for y, lk in adjacent.get(x, ()):
            if y not in came:
                came[y] = (x, lk)
                queue.append(y)
    return None


def grade_clusters(session: Session, world: World, rules: ClustersConfig | None = None) -> ClusterGrade:
    """Grade the store's operator networks against ``world``'s answer key (pairwise).

    ``rules`` are the configured ``[clusters]`` rules (default: the built-in ones); the
    computed networks of a never-recomputed store and the paths that explain false pairs
    use them, so the grade is of the rules the analyst's store runs."""
    from storage.clusters import RULES, compute_clusters, network_of

    rules = RULES if rules is None else rules

    judged = {d.name: d.truth.operator.strip() for d in judged_domains(world)}
    answers = load_answers(world)
    groups = stored_networks(session)
    g = ClusterGrade(sites=len(judged), operators=len({o for o in judged.values() if o}))
    if groups is None:
        groups, g.source = compute_clusters(session, rules=rules), "computed"
    predicted = _pairs(groups, set(judged))
    by_operator: dict[str, list[str]] = {}
    for name, op in judged.items():
        if op:
            by_operator.setdefault(op, []).append(name)
    true = _pairs(by_operator.values(), set(judged))
    g.predicted, g.true, g.tp = len(predicted), len(true), len(predicted & true)
    if answers is not None:
        visible = {name for name, op in (answers.get("operators") or {}).items() if op.get("visible", True)}
        vis_true = {p for p in true if judged[p[0]] in visible}
        g.visible_true, g.visible_tp = len(vis_true), len(vis_true & predicted)
    shared = _shared_values(answers)
    networks: dict[str, list[dict[str, Any]]] = {}
    for a, b in sorted(predicted - true):
        if a not in networks:
            net = network_of(session, a, rules=rules)
            for site in net["sites"]:
                networks.setdefault(site, net["links"])
            networks.setdefault(a, net["links"])
        path = _path(networks[a], a, b) or []
        idents = tuple(dict.fromkeys((i["type"], str(i["value"])) for lk in path for i in lk["identifiers"]))
        # A certificate is known to the key by its SAN list, to the store by its SHA-256.
        sans = _cert_sans(session, (v for t, v in idents if t in CERT_TYPES))
        infra = tuple(i for i in idents if is_infrastructure(*i, shared)
                      or (i[0] in CERT_TYPES and sans.get(i[1].lower(), "") in shared))
        g.false_pairs.append(FalsePair(a, b, (judged[a], judged[b]), idents, infra))
    g.missed_pairs = [MissedPair(a, b, judged[a]) for a, b in sorted(true - predicted)]
    return g
