"""What each signal is, scoring parameters, limits and host lists, loaded from TOML data.

``rules.toml`` holds ``[scoring]``, ``[limits]``, one ``[signals.<name>]`` table per page
signal (category, role, saturate, min, reason, description: what it is, not how much it
counts; the learned weights are in ``weights.json``, see :mod:`spiders.classify.weights`)
and one ``[neighbourhood.<name>]`` table per link-graph signal (hand-set weight and per:
no offline training set has a link graph). ``hosts.toml`` lists host names;
``features.toml`` holds structural patterns and brand names.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spiders.classify.model import CATEGORIES

RULES_FORMAT = "rules-2"
ROLES = ("evidence", "context", "against")


def plain(detail: str) -> str:
    """A finding's detail without its internal label ("words: 'x' (en)" -> "'x' (en)")."""
    for label in ("title words: ", "words: "):
        if detail.startswith(label):
            return detail[len(label):]
    return detail


@dataclass(frozen=True)
class Rule:
    """What one page signal is and how its raw count becomes a feature in [0, 1]."""

    name: str
    category: str | None
    role: str
    saturate: float
    min_count: int
    reason: str
    description: str

    def feature(self, count: float) -> float:
        """``min(1, ln(1+count) / ln(1+saturate))``; 0 below ``min_count``. The first units
        of evidence count most: the 20th magnet link adds less than the second."""
        if count < self.min_count or count <= 0:
            return 0.0
        return min(1.0, math.log1p(count) / math.log1p(self.saturate))

    def sentence(self, detail: str) -> str:
        """The plain-language reason for an analyst, e.g. "Offers 16 magnet links (BitTorrent downloads)"."""
        text = self.reason.format(detail=plain(detail))
        return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class NeighbourRule:
    """A link-graph signal: a hand-set log-odds contribution (``per`` x count, capped at ``weight``)."""

    name: str
    category: str | None
    weight: float
    per: float
    min_count: int
    reason: str
    description: str

    def contribution(self, count: float) -> float:
        """``per x count`` capped at ``weight``; 0 below ``min_count``."""
        if count < self.min_count or count <= 0:
            return 0.0
        return min(self.weight, self.per * count)

    def sentence(self, detail: str) -> str:
        """The plain-language reason."""
        text = self.reason.format(detail=plain(detail))
        return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Scoring:
    """Parameters of the site score that are not learned (see ``verdict.py``)."""

    neighbour_cap: float
    neighbour_margin: float
    max_reasons: int


@dataclass(frozen=True)
class Limits:
    """Input bounds: everything beyond is ignored."""

    max_html_chars: int
    max_text_chars: int
    max_links: int
    max_elements: int
    max_script_chars: int


@dataclass(frozen=True)
class HostList:
    """Host names matched by suffix (``rapidgator.net``) or by label with any TLD (``dood.*``)."""

    suffixes: frozenset[str]
    labels: frozenset[str]

    @classmethod
    def parse(cls, entries: list[str]) -> HostList:
        """Build from config entries."""
        suffixes = {e.lower().strip(".") for e in entries if not e.endswith(".*")}
        labels = {e[:-2].lower() for e in entries if e.endswith(".*")}
        return cls(frozenset(suffixes), frozenset(labels))

    def match(self, host: str) -> str | None:
        """The entry that ``host`` matches, or ``None``."""
        if not host:
            return None
        parts = host.split(".")
        for i in range(len(parts)):
            suffix = ".".join(parts[i:])
            if suffix in self.suffixes:
                return suffix
        for label in parts[:-1]:
            if label in self.labels:
                return label + ".*"
        return None


@dataclass(frozen=True)
class Rules:
    """Everything in the config directory except the lexicons."""

    signals: Mapping[str, Rule]
    neighbourhood: Mapping[str, NeighbourRule]
    scoring: Scoring
    limits: Limits
    hosts: Mapping[str, HostList]
    host_tokens: Mapping[str, tuple[str, ...]]
    features: Mapping[str, Any]


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _category(table: str, name: str, body: dict[str, Any]) -> str | None:
    category = body.get("category") or None
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"rules.toml: [{table}.{name}] has unknown category {category!r}")
    return category


def _text(table: str, name: str, body: dict[str, Any], key: str) -> str:
    value = str(body.get(key, "")).strip()
    if not value:
        raise ValueError(f"rules.toml: [{table}.{name}] needs a {key}")
    return value


def _rule(name: str, body: dict[str, Any]) -> Rule:
    category = _category("signals", name, body)
    role = str(body.get("role", "evidence" if category else "context"))
    if role not in ROLES:
        raise ValueError(f"rules.toml: [signals.{name}] role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "evidence" and category is None:
        raise ValueError(f"rules.toml: [signals.{name}] is evidence, so it needs a category")
    saturate = float(body.get("saturate", 1))
    if not math.isfinite(saturate) or saturate <= 0:
        raise ValueError(f"rules.toml: [signals.{name}] saturate must be a positive number")
    return Rule(
        name=name,
        category=category if role == "evidence" else None,
        role=role,
        saturate=saturate,
        min_count=int(body.get("min", 1)),
        reason=_text("signals", name, body, "reason"),
        description=_text("signals", name, body, "description"),
    )


def _neighbour_rule(name: str, body: dict[str, Any]) -> NeighbourRule:
    weight = float(body["weight"])
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"rules.toml: [neighbourhood.{name}] weight must be a finite number >= 0")
    return NeighbourRule(
        name=name,
        category=_category("neighbourhood", name, body),
        weight=weight,
        per=float(body.get("per", weight)),
        min_count=int(body.get("min", 1)),
        reason=_text("neighbourhood", name, body, "reason"),
        description=_text("neighbourhood", name, body, "description"),
    )


def load_rules(config_dir: Path) -> Rules:
    """Load ``rules.toml``, ``hosts.toml`` and ``features.toml`` from ``config_dir``."""
    data = _read(config_dir / "rules.toml")
    sc, lim = data["scoring"], data["limits"]
    scoring = Scoring(
        neighbour_cap=float(sc["neighbour_cap"]),
        neighbour_margin=float(sc.get("neighbour_margin", 3.0)),
        max_reasons=int(sc.get("max_reasons", 12)),
    )
    limits = Limits(**{k: int(v) for k, v in lim.items()})
    signals = {name: _rule(name, body) for name, body in data["signals"].items()}
    neighbourhood = {name: _neighbour_rule(name, body) for name, body in data.get("neighbourhood", {}).items()}
    hosts_data = _read(config_dir / "hosts.toml")
    tokens = hosts_data.pop("host_tokens", {})
    for cat in tokens:
        if cat not in CATEGORIES:
            raise ValueError(f"hosts.toml: [host_tokens] has unknown category {cat!r}")
    hosts = {name: HostList.parse(body["hosts"]) for name, body in hosts_data.items()}
    return Rules(
        signals=signals,
        neighbourhood=neighbourhood,
        scoring=scoring,
        limits=limits,
        hosts=hosts,
        host_tokens={cat: tuple(v) for cat, v in tokens.items()},
        features=_read(config_dir / "features.toml"),
    )


def config_digest(config_dir: Path) -> str:
    """A short hash of every config file (names and bytes), for the classifier version."""
    digest = hashlib.sha256()
    for path in sorted(p for p in config_dir.rglob("*") if p.is_file() and p.suffix in {".toml", ".txt", ".json"}):
        digest.update(path.relative_to(config_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]
