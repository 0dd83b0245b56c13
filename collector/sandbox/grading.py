"""Grading a store against a world's answer key: how well did isop (or a trainee) do?

Each judged domain's latest verdict in the store is compared with the domain's
``[truth]``: piracy or not, and the category. Used by the tests (precision and recall on
the sandbox world must stay at or above 0.9), by ``bench/classify_world.py`` and by
``isop sandbox grade`` on courses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from collector.sandbox.world import Domain, World
from storage.queries import latest_verdicts

NOT_JUDGED = ("hostile-range.net",)
"""Test ranges that a crawl from the seeds does not reach by design."""


@dataclass
class Grade:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    category_ok: int = 0
    notes: list[str] = field(default_factory=list)
    """One line per miss: missed, false alarm, wrong category."""

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def category_accuracy(self) -> float:
        return self.category_ok / self.tp if self.tp else 0.0

    def summary(self) -> str:
        return (f"precision {self.precision:.3f}  recall {self.recall:.3f}  category accuracy "
                f"{self.category_accuracy:.3f}  (tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})")


def judged_domains(world: World) -> list[Domain]:
    """Domains with a web site reachable by resolving names (faulty DNS is not judged)."""
    return [d for d in world.domains.values() if d.sites and d.name not in NOT_JUDGED and not d.faults.dns]


def grade(session: Session, world: World) -> Grade:
    latest = {v.domain: v for v in latest_verdicts(session)}
    g = Grade()
    for d in judged_domains(world):
        v = latest.get(d.name)
        predicted = bool(v and v.is_piracy)
        described = "no verdict (not crawled)" if v is None else \
            f"{v.category} {v.score:.2f}: {'; '.join(v.signals[:4])}"
        if d.truth.piracy and predicted:
            g.tp += 1
            if v.category == d.truth.category:
                g.category_ok += 1
            else:
                g.notes.append(f"category {d.name}: truth {d.truth.category}, said {v.category}")
        elif d.truth.piracy:
            g.fn += 1
            g.notes.append(f"missed {d.name} ({d.truth.category}): {described}")
        elif predicted:
            g.fp += 1
            g.notes.append(f"false alarm {d.name}: {described}")
        else:
            g.tn += 1
    return g
