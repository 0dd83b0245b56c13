"""From pages to signals, from signals to a site verdict.

Scoring (all weights in log-odds units, parameters in ``rules.toml [scoring]``):

1. Each page yields signals; a site keeps, per signal name, the strongest one seen
   (:class:`SiteState`), so memory is bounded by the number of rules, not pages.
2. Positive signals with a category add up per category. Categories listed in
   ``needs_content`` (torrent) are multiplied by ``no_content_factor`` unless some
   content-cue signal (release tags, film/warez/ebook/music vocabulary...) is present:
   a swarm of Linux ISOs is torrent structure without copyrighted content.
3. ``evidence = top category + secondary_factor × other categories
   + min(context, context_cap) + min(neighbourhood, neighbour_cap)
   + max(counter-evidence, -negative_cap)``.
4. ``score = 1 / (1 + exp(-(evidence - bias)))``; piracy when ``score >= threshold`` and
   the top category alone reaches ``min_category`` (context never flags a site alone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spiders.classify.features import FeatureExtractor
from spiders.classify.lexicon import Lexicon, load_lexicon
from spiders.classify.model import (
    CATEGORIES,
    NONE_CATEGORY,
    Neighbourhood,
    PageInput,
    Signal,
    Verdict,
)
from spiders.classify.parse import parse_page
from spiders.classify.rules import RULES_FORMAT, Rules, config_digest, load_rules

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

    def __init__(self, rules: Rules, lexicon: Lexicon, version: str) -> None:
        """Prefer :meth:`load`."""
        self.rules = rules
        self.lexicon = lexicon
        self.version = version
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
        return cls(rules, lexicon, f"{RULES_FORMAT}+{config_digest(directory)}")

    def page_signals(self, page: PageInput) -> list[Signal]:
        """Weighted signals of one page, strongest first. Error pages (status >= 400) give none."""
        if page.status >= 400:
            return []
        parsed = parse_page(page, self.rules.limits)
        signals = []
        for finding in self._features.extract(parsed):
            rule = self.rules.signals.get(finding.name)
            if rule is None:
                continue
            weight = round(rule.contribution(finding.count), 3)
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
        """Link-graph signals. Most are context (capped together); two carry a category:
        a host whose players flagged sites embed is a piracy video host (streaming), and a
        site linking out to many flagged sites is their link hub (their commonest category)."""
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
            rule = self.rules.signals.get(name)
            if rule and count > 0:
                weight = round(rule.contribution(count), 3)
                if weight:
                    out.append(Signal(name, category if rule.category is None and category else rule.category,
                                      weight, detail))
        return out

    def score(self, best: Mapping[str, Signal], neighbourhood: Neighbourhood | None = None) -> Verdict:
        """Combine the strongest signal per name into a verdict (see module docstring)."""
        sc = self.rules.scoring
        signals = sorted(best.values(), key=lambda s: (-abs(s.weight), s.name))
        content = any(
            s.weight > 0 and (rule := self.rules.signals.get(s.name)) is not None and rule.content_cue for s in signals
        )
        per_cat: dict[str, float] = {}
        context = negative = 0.0
        for sig in signals:
            if sig.weight < 0:
                negative += sig.weight
            elif sig.category:
                per_cat[sig.category] = per_cat.get(sig.category, 0.0) + sig.weight
            else:
                context += sig.weight
        notes: list[tuple[float, str]] = []
        if not content:
            for cat in sc.needs_content & per_cat.keys():
                notes.append((per_cat[cat], f"{cat}: no copyrighted-content cue, evidence ×{sc.no_content_factor:g}"))
                per_cat[cat] *= sc.no_content_factor
        hood = self._neighbour_signals(neighbourhood)
        for sig in hood:
            if sig.category:
                per_cat[sig.category] = per_cat.get(sig.category, 0.0) + sig.weight
        neighbour = min(sum(s.weight for s in hood if not s.category), sc.neighbour_cap)
        ranked = sorted(per_cat.items(), key=lambda kv: (-kv[1], CATEGORIES.index(kv[0])))
        top_cat, top = ranked[0] if ranked else (NONE_CATEGORY, 0.0)
        secondary = sum(v for _, v in ranked[1:])
        evidence = (
            top
            + sc.secondary_factor * secondary
            + min(context, sc.context_cap)
            + neighbour
            + max(negative, -sc.negative_cap)
        )
        score = 1.0 / (1.0 + math.exp(-(evidence - sc.bias)))
        is_piracy = score >= sc.threshold and top >= sc.min_category
        reasons = [(abs(s.weight), s.describe()) for s in [*signals, *hood]] + notes
        reasons.sort(key=lambda r: -r[0])
        return Verdict(
            is_piracy=is_piracy,
            category=top_cat if is_piracy else NONE_CATEGORY,
            score=round(score, 4),
            signals=tuple(text for _, text in reasons[: sc.max_reasons]),
            version=self.version,
        )
