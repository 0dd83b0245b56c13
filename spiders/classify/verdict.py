"""From pages to signals, from signals to a site verdict.

Scoring (a logistic model learned by ``isop classifier train``; see docs/CLASSIFIER.md):

1. Each page yields findings (named counts); each becomes a feature
   ``x = min(1, ln(1+n)/ln(1+saturate))`` (``rules.toml``) and a signal of weight
   ``w x x`` (``w`` learned, in ``weights.json``). A site keeps, per signal name, the
   strongest one seen (:class:`SiteState`), so memory is bounded by the rules, not pages.
2. ``logit = bias + sum of the signals' weights + link-graph signals`` (hand-set, see
   ``rules.toml [neighbourhood]``: written in units of the margin from bias to threshold,
   context ones capped together)
   and ``score = 1 / (1 + exp(-logit))``: the probability that the site is a piracy site.
3. Piracy when ``score >= threshold`` (chosen in training for a stated false-positive
   rate on hard negatives) and some category-bearing evidence is positive (context never
   flags a site alone).
4. The category follows :mod:`spiders.classify.category` (what is pirated wins over how
   it is delivered); ``delivery`` lists the mechanisms seen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spiders.classify.category import category_scores, choose_category, delivery_of
from spiders.classify.features import FeatureExtractor, Finding
from spiders.classify.lexicon import Lexicon, load_lexicon
from spiders.classify.model import (
    NONE_CATEGORY,
    Neighbourhood,
    PageInput,
    Signal,
    Verdict,
)
from spiders.classify.parse import parse_page
from spiders.classify.rules import RULES_FORMAT, Rules, config_digest, load_rules
from spiders.classify.weights import Weights, load_weights

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "classifier"


@dataclass
class SiteState:
    """Incremental site evidence: the strongest signal per name and how many pages showed it."""

    pages: int = 0
    best: dict[str, Signal] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)

    def add(self, signals: Sequence[Signal]) -> None:
        """Fold one page's signals in."""
        self.pages += 1
        for sig in signals:
            self.seen[sig.name] = self.seen.get(sig.name, 0) + 1
            held = self.best.get(sig.name)
            if held is None or abs(sig.weight) > abs(held.weight):
                self.best[sig.name] = sig

    def verdict(self, classifier: Classifier, neighbourhood: Neighbourhood | None = None) -> Verdict:
        """The site verdict for what has been seen so far."""
        return classifier.score(self.best, neighbourhood)


class Classifier:
    """Rules + lexicons + compiled patterns; thread-safe to share once loaded."""

    def __init__(self, rules: Rules, lexicon: Lexicon, version: str, weights: Weights | None = None) -> None:
        """Prefer :meth:`load`."""
        self.rules = rules
        self.lexicon = lexicon
        self.version = version
        self.weights = weights if weights is not None else Weights()
        self._features = FeatureExtractor(rules, lexicon)
        for section in lexicon.sections:
            if f"lex_{section}" not in rules.signals:
                raise ValueError(f"lexicon section [{section}] has no rule lex_{section} in rules.toml")

    @classmethod
    def load(cls, config_dir: Path | None = None) -> Classifier:
        """Load rules, host lists and lexicons from ``config_dir`` (default: the shipped config)."""
        directory = Path(config_dir) if config_dir is not None else DEFAULT_CONFIG_DIR
        rules = load_rules(directory)
        lexicon = load_lexicon(directory / "lexicon")
        weights = load_weights(directory, rules.signals)
        return cls(rules, lexicon, f"{RULES_FORMAT}+{config_digest(directory)}", weights)

    def with_weights(self, weights: Weights) -> Classifier:
        """The same rules and patterns scored with other weights (training, evaluation)."""
        clone = Classifier.__new__(Classifier)
        clone.__dict__.update(self.__dict__)
        clone.weights = weights
        return clone

    def page_findings(self, page: PageInput) -> list[Finding]:
        """What one page shows, before weighting (the training data). Error pages give none."""
        if page.status >= 400:
            return []
        return self._features.extract(parse_page(page, self.rules.limits))

    def page_signals(self, page: PageInput) -> list[Signal]:
        """Weighted signals of one page, strongest first. Error pages (status >= 400) give none."""
        return self.signals_of(self.page_findings(page))

    def signals_of(self, findings: Sequence[Finding]) -> list[Signal]:
        """Findings weighted by the learned model; signals of weight 0 are dropped."""
        signals = []
        learned = self.weights.weights
        for finding in findings:
            rule = self.rules.signals.get(finding.name)
            if rule is None:
                continue
            weight = round(learned.get(rule.name, 0.0) * rule.feature(finding.count), 3)
            if weight:
                signals.append(Signal(rule.name, rule.category, weight, finding.detail))
        signals.sort(key=lambda s: (-abs(s.weight), s.name))
        return signals

    def verdict(self, pages: Sequence[Sequence[Signal]], neighbourhood: Neighbourhood | None = None) -> Verdict:
        """Site verdict from several pages' signals."""
        state = SiteState()
        for signals in pages:
            state.add(signals)
        return state.verdict(self, neighbourhood)

    def _neighbour_signals(self, hood: Neighbourhood | None) -> list[Signal]:
        """Link-graph signals (hand-set weights). Most are context (capped together); two
        carry a category: a host whose players flagged sites embed is a piracy video host
        (streaming), and a site linking out to many flagged sites is their link hub (their
        commonest category)."""
        if hood is None:
            return []
        top_out = hood.outbound_categories[0][0] if hood.outbound_categories else None
        out = []
        for name, count, category, detail in (
            ("neighbour_inbound", hood.flagged_inbound, None, f"linked from {hood.flagged_inbound} flagged piracy site(s)"),
            ("neighbour_outbound", hood.flagged_outbound, None, f"links to {hood.flagged_outbound} flagged piracy site(s)"),
            ("hub_listed", int(hood.hub_listed), None, "listed on a piracy link hub"),
            ("embedded_by_flagged", hood.embedded_by_flagged, "streaming",
             f"its player is embedded by {hood.embedded_by_flagged} flagged piracy site(s)"),
            ("links_hub", hood.flagged_outbound, top_out,
             f"a link hub: lists {hood.flagged_outbound} flagged piracy sites"
             + (f", mostly {top_out}" if top_out else "")),
        ):
            rule = self.rules.neighbourhood.get(name)
            if rule and count > 0:
                weight = round(rule.contribution(count) * self._margin, 3)
                if weight:
                    out.append(Signal(name, category if rule.category is None and category else rule.category,
                                      weight, detail))
        return out

    @property
    def _margin(self) -> float:
        """Link-graph weights are written in units of ``neighbour_margin`` (the evidence a
        site needed when they were set); scaled to this model's margin, the log-odds from
        the bias to the threshold, they keep the same share of a decision."""
        t = self.weights.threshold
        needed = math.log(t / (1.0 - t)) - self.weights.bias
        return max(needed, 0.5) / self.rules.scoring.neighbour_margin

    def _sentence(self, sig: Signal) -> str:
        rule = self.rules.signals.get(sig.name) or self.rules.neighbourhood.get(sig.name)
        return rule.sentence(sig.detail) if rule is not None else sig.detail

    def score(self, best: Mapping[str, Signal], neighbourhood: Neighbourhood | None = None) -> Verdict:
        """Combine the strongest signal per name into a verdict (see module docstring)."""
        model = self.weights
        hood = self._neighbour_signals(neighbourhood)
        signals = sorted([*best.values(), *hood], key=lambda s: (-abs(s.weight), s.name))
        per_cat: dict[str, float] = {}
        for sig in signals:
            if sig.weight > 0 and sig.category:
                per_cat[sig.category] = per_cat.get(sig.category, 0.0) + sig.weight
        page_sum = sum(s.weight for s in best.values())
        context = min(sum(s.weight for s in hood if not s.category), self.rules.scoring.neighbour_cap * self._margin)
        logit = model.bias + page_sum + context + sum(s.weight for s in hood if s.category)
        score = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))
        is_piracy = score >= model.threshold and any(v > 0 for v in per_cat.values())
        category = choose_category(category_scores(signals, model.category), model.category) \
            if is_piracy else NONE_CATEGORY
        limit = self.rules.scoring.max_reasons
        return Verdict(
            is_piracy=is_piracy,
            category=category,
            score=round(score, 4),
            signals=tuple(s.describe() for s in signals[:limit]),
            version=self.version,
            reasons=tuple(self._sentence(s) for s in signals if s.weight > 0)[:limit],
            delivery=delivery_of(per_cat, model.category, category) if is_piracy else (),
        )
