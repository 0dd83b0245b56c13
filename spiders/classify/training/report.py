"""Verdicts against labels: piracy and per-category precision/recall/F1, the confusion
matrix, calibration (reliability bins, Brier score, ECE) and the errors, for analysts and
benches alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from spiders.classify.model import CATEGORIES, NONE_CATEGORY, Verdict
from spiders.classify.training.dataset import Example


@dataclass
class Metrics:
    """Counts and rates over one set of judged examples."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    hard_negatives: int = 0
    hard_flagged: int = 0
    category_right: int = 0
    confusion: Counter = field(default_factory=Counter)
    """(true category, predicted category) -> sites; ``none`` for not piracy."""
    brier: float = 0.0
    ece: float = 0.0
    bins: list[tuple[float, float, float, int]] = field(default_factory=list)
    """Reliability: (low, mean predicted, observed piracy rate, sites) per probability bin."""
    errors: list[tuple[str, Example, Verdict]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Of the sites flagged, the share that are piracy."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Of the piracy sites, the share flagged."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def category_accuracy(self) -> float:
        """Of the piracy sites flagged, the share given their labelled category."""
        return self.category_right / self.tp if self.tp else 1.0

    def per_category(self) -> dict[str, tuple[float, float, float, int]]:
        """category -> (precision, recall, F1, labelled sites), the category counted as a class."""
        out = {}
        for cat in CATEGORIES:
            tp = self.confusion[(cat, cat)]
            predicted = sum(n for (_t, p), n in self.confusion.items() if p == cat)
            actual = sum(n for (t, _p), n in self.confusion.items() if t == cat)
            if not predicted and not actual:
                continue
            p = tp / predicted if predicted else 1.0
            r = tp / actual if actual else 1.0
            out[cat] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, actual)
        return out


def measure(judged: Sequence[tuple[Example, Verdict]], bins: int = 10) -> Metrics:
    """Metrics of ``(example, verdict)`` pairs."""
    m = Metrics()
    sums = [[0.0, 0.0, 0] for _ in range(bins)]
    for example, verdict in judged:
        truth = example.category if example.label else NONE_CATEGORY
        predicted = verdict.category if verdict.is_piracy else NONE_CATEGORY
        m.confusion[(truth, predicted)] += 1
        if example.label and verdict.is_piracy:
            m.tp += 1
            if predicted == truth:
                m.category_right += 1
            else:
                m.errors.append(("wrong category", example, verdict))
        elif example.label:
            m.fn += 1
            m.errors.append(("missed", example, verdict))
        elif verdict.is_piracy:
            m.fp += 1
            m.errors.append(("false positive", example, verdict))
        else:
            m.tn += 1
        if example.hard_negative and not example.label:
            m.hard_negatives += 1
            m.hard_flagged += int(verdict.is_piracy)
        y = 1.0 if example.label else 0.0
        m.brier += (verdict.score - y) ** 2
        b = min(bins - 1, int(verdict.score * bins))
        sums[b][0] += verdict.score
        sums[b][1] += y
        sums[b][2] += 1
    n = len(judged)
    if n:
        m.brier /= n
        m.ece = sum(abs(s[0] - s[1]) for s in sums if s[2]) / n
    m.bins = [(i / bins, s[0] / s[2], s[1] / s[2], s[2]) for i, s in enumerate(sums) if s[2]]
    return m


def format_metrics(m: Metrics, title: str, errors: int = 20) -> str:
    """A plain-text report: headline, per category, confusion matrix, calibration, errors."""
    lines = [f"{title}: {m.tp + m.fp + m.fn + m.tn} sites - piracy precision {m.precision:.3f}, "
             f"recall {m.recall:.3f}, F1 {m.f1:.3f} (tp {m.tp}, fp {m.fp}, fn {m.fn}, tn {m.tn}); "
             f"hard negatives flagged {m.hard_flagged}/{m.hard_negatives}; "
             f"category accuracy {m.category_accuracy:.3f}"]
    lines.append("  per category (precision / recall / F1 / labelled):")
    for cat, (p, r, f, n) in m.per_category().items():
        lines.append(f"    {cat:12s} {p:.3f} / {r:.3f} / {f:.3f} / {n}")
    cats = [c for c in (*CATEGORIES, NONE_CATEGORY) if any(c in k for k in m.confusion)]
    lines.append("  confusion (rows: labelled, columns: verdict):")
    lines.append("    " + " " * 12 + "".join(f"{c[:6]:>7s}" for c in cats))
    for t in cats:
        lines.append(f"    {t:12s}" + "".join(f"{m.confusion[(t, p)]:7d}" for p in cats))
    lines.append(f"  calibration: Brier {m.brier:.4f}, ECE {m.ece:.4f}; bins (predicted -> observed, sites):")
    lines.append("    " + "; ".join(f"{lo:.1f}: {pred:.2f} -> {obs:.2f} ({n})" for lo, pred, obs, n in m.bins))
    if m.errors and errors:
        lines.append(f"  errors ({len(m.errors)}; first {min(errors, len(m.errors))}):")
        for kind, e, v in m.errors[:errors]:
            label = e.category if e.label else "not piracy"
            lines.append(f"    {kind}: {e.id} (labelled {label}, role {e.role}) -> "
                         f"{v.category if v.is_piracy else 'not piracy'} p={v.score:.3f}; "
                         + "; ".join(v.signals[:4]))
    return "\n".join(lines)
