"""The learned part of the classifier: ``config/classifier/weights.json``.

Written by ``isop classifier train`` (:mod:`spiders.classify.training.fit`), read by the
classifier at start. It holds the logistic model (``bias`` and one ``weights`` entry per
page signal: the log-odds the signal adds at full strength), the decision ``threshold`` on
the probability (chosen for a stated false-positive rate on hard negatives), the category
rule's parameters, and what it was trained on and how (``trained``), so that the same
command on the same data writes the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEIGHTS_FORMAT = "isop-weights-1"
WEIGHTS_FILE = "weights.json"


@dataclass(frozen=True)
class CategoryRule:
    """How a piracy site's category is chosen (see :mod:`spiders.classify.category`).

    ``bias`` and ``weights`` are a learned multinomial model: a category's score is its
    bias plus, for each signal pointing to it, ``weights[signal]`` x the signal's weight
    in the piracy model (1 for signals it does not name, such as the link graph's).
    ``content_margin``: a content category (what is pirated) wins when its score is within
    this of the best delivery's. ``delivery_min``: the evidence (log-odds) at which a
    delivery mechanism is listed.
    """

    bias: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    content_margin: float = 0.5
    delivery_min: float = 0.5

    def to_doc(self) -> dict[str, Any]:
        """JSON form (sorted, rounded)."""
        return {"bias": {k: round(v, 4) for k, v in sorted(self.bias.items())},
                "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())},
                "content_margin": round(self.content_margin, 3), "delivery_min": round(self.delivery_min, 3)}


@dataclass(frozen=True)
class Weights:
    """A trained model; ``Weights()`` (no file) flags nothing."""

    bias: float = -6.0
    threshold: float = 0.5
    weights: Mapping[str, float] = field(default_factory=dict)
    category: CategoryRule = CategoryRule()
    trained: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Stable, diff-friendly JSON (sorted weights, fixed rounding)."""
        doc = {
            "format": WEIGHTS_FORMAT,
            "bias": round(self.bias, 4),
            "threshold": round(self.threshold, 4),
            "category": self.category.to_doc(),
            "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())},
            "trained": self.trained,
        }
        return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically (a partial file never replaces the shipped one)."""
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)


def _number(doc: Mapping[str, Any], key: str, where: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: {key} must be a finite number, not {value!r}")
    return float(value)


def parse_weights(text: str, where: str = WEIGHTS_FILE, signals: Mapping[str, Any] | None = None) -> Weights:
    """Parse weights.json; ``signals`` (the rules' page signals) checks every name and sign."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict) or doc.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{where}: not an isop weights file (format {WEIGHTS_FORMAT!r} expected)")
    raw = doc.get("weights")
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: weights must be a table of signal names")
    weights = {str(k): _number(raw, k, f"{where} weights") for k in raw}
    threshold = _number(doc, "threshold", where)
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"{where}: threshold must be between 0 and 1, not {threshold}")
    if signals is not None:
        for name, w in weights.items():
            rule = signals.get(name)
            if rule is None:
                raise ValueError(f"{where}: weight for {name!r}, which rules.toml does not define")
            if (rule.role == "against" and w > 0) or (rule.role != "against" and w < 0):
                raise ValueError(f"{where}: {name} is {rule.role} in rules.toml, its weight cannot be {w:+g}")
    cat = doc.get("category") or {}
    if not isinstance(cat, dict) or not all(isinstance(cat.get(k, {}), dict) for k in ("bias", "weights")):
        raise ValueError(f"{where}: category must be a table with bias and weights tables")
    rule = CategoryRule(
        bias={str(k): _number(cat["bias"], k, f"{where} category bias") for k in cat.get("bias", {})},
        weights={str(k): _number(cat["weights"], k, f"{where} category weights") for k in cat.get("weights", {})},
        content_margin=_number(cat, "content_margin", f"{where} category") if "content_margin" in cat else 0.5,
        delivery_min=_number(cat, "delivery_min", f"{where} category") if "delivery_min" in cat else 0.5)
    if any(v < 0 for v in rule.weights.values()):
        raise ValueError(f"{where}: category weights cannot be negative (a signal only votes for its category)")
    trained = doc.get("trained") or {}
    return Weights(bias=_number(doc, "bias", where), threshold=threshold, weights=weights, category=rule,
                   trained=trained if isinstance(trained, dict) else {})


def load_weights(config_dir: Path, signals: Mapping[str, Any] | None = None) -> Weights:
    """``config_dir/weights.json``, or an untrained model (flags nothing) when it is missing."""
    path = Path(config_dir) / WEIGHTS_FILE
    if not path.exists():
        return Weights()
    return parse_weights(path.read_text(encoding="utf-8"), str(path), signals)
