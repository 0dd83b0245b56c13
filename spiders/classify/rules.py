"""Rule weights, scoring parameters, limits and host lists, loaded from TOML data.

``rules.toml`` holds ``[scoring]``, ``[limits]`` and one ``[signals.<name>]`` table per
signal: category, weight (the most it can contribute, in log-odds units; negative for
counter-evidence), per (contribution per unit of count), min (the count needed to fire),
content_cue (whether it shows copyrighted content), description. ``hosts.toml`` lists host
names; ``features.toml`` holds structural patterns and brand names.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spiders.classify.model import CATEGORIES

RULES_FORMAT = "rules-1"


@dataclass(frozen=True)
class Rule:
    """How one signal's raw count becomes a weight."""

    name: str
    category: str | None
    weight: float
    per: float
    min_count: int
    content_cue: bool
    description: str

    def contribution(self, count: float) -> float:
        """``per × count``, capped at ``weight`` (both signed alike); 0 below ``min_count``."""
        if count < self.min_count or count <= 0:
            return 0.0
        raw = abs(self.per) * count
        value = min(abs(self.weight), raw)
        return value if self.weight >= 0 else -value


@dataclass(frozen=True)
class Scoring:
    """Parameters of the site score (see ``verdict.py``)."""

    bias: float
    threshold: float
    secondary_factor: float
    context_cap: float
    negative_cap: float
    neighbour_cap: float
    min_category: float
    no_content_factor: float
    needs_content: frozenset[str]
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
    scoring: Scoring
    limits: Limits
    hosts: Mapping[str, HostList]
    host_tokens: Mapping[str, tuple[str, ...]]
    features: Mapping[str, Any]


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _rule(name: str, body: dict[str, Any]) -> Rule:
    category = body.get("category") or None
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"rules.toml: [signals.{name}] has unknown category {category!r}")
    weight = float(body["weight"])
    description = str(body.get("description", "")).strip()
    if not description:
        raise ValueError(f"rules.toml: [signals.{name}] needs a description")
    return Rule(
        name=name,
        category=category if weight >= 0 else None,
        weight=weight,
        per=float(body.get("per", weight)),
        min_count=int(body.get("min", 1)),
        content_cue=bool(body.get("content_cue", False)),
        description=description,
    )


def load_rules(config_dir: Path) -> Rules:
    """Load ``rules.toml``, ``hosts.toml`` and ``features.toml`` from ``config_dir``."""
    data = _read(config_dir / "rules.toml")
    sc, lim = data["scoring"], data["limits"]
    scoring = Scoring(
        bias=float(sc["bias"]),
        threshold=float(sc["threshold"]),
        secondary_factor=float(sc["secondary_factor"]),
        context_cap=float(sc["context_cap"]),
        negative_cap=float(sc["negative_cap"]),
        neighbour_cap=float(sc["neighbour_cap"]),
        min_category=float(sc["min_category"]),
        no_content_factor=float(sc["no_content_factor"]),
        needs_content=frozenset(sc.get("needs_content", [])),
        max_reasons=int(sc.get("max_reasons", 12)),
    )
    limits = Limits(**{k: int(v) for k, v in lim.items()})
    signals = {name: _rule(name, body) for name, body in data["signals"].items()}
    hosts_data = _read(config_dir / "hosts.toml")
    tokens = hosts_data.pop("host_tokens", {})
    for cat in tokens:
        if cat not in CATEGORIES:
            raise ValueError(f"hosts.toml: [host_tokens] has unknown category {cat!r}")
    hosts = {name: HostList.parse(body["hosts"]) for name, body in hosts_data.items()}
    return Rules(
        signals=signals,
        scoring=scoring,
        limits=limits,
        hosts=hosts,
        host_tokens={cat: tuple(v) for cat, v in tokens.items()},
        features=_read(config_dir / "features.toml"),
    )


def config_digest(config_dir: Path) -> str:
    """A short hash of every config file (names and bytes), for the classifier version."""
    digest = hashlib.sha256()
    for path in sorted(p for p in config_dir.rglob("*") if p.is_file() and p.suffix in {".toml", ".txt"}):
        digest.update(path.relative_to(config_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]
