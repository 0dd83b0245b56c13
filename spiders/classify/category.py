"""Which category a piracy site is, and how it delivers: the semantics, in one place.

What is pirated wins over how it is delivered:

1. content: ``warez`` (software, games, mod APKs, cracks), ``ebook``, ``music``, ``manga``
   (manga, manhwa, manhua, webtoons), ``counterfeit`` (goods) - a music tracker is
   ``music``, a manga site linking cyberlockers is ``manga``;
2. then ``iptv`` (paid or free live-TV services and resellers);
3. then, for film and TV, the delivery: ``streaming``, ``torrent``, ``ddl``.

The category model is learned (labels that follow these semantics), and the order is
kept explicitly: a content category wins when its score comes within a margin of the best
delivery's, iptv likewise over film delivery.

The delivery mechanisms seen (torrent, ddl, streaming, iptv) are listed on their own,
whatever the category: a music site offering magnets is category ``music``, delivery
``torrent``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from spiders.classify.model import NONE_CATEGORY, Signal
from spiders.classify.weights import CategoryRule

CONTENT: tuple[str, ...] = ("warez", "ebook", "music", "manga", "counterfeit")
"""Categories named for what is pirated; they win over delivery."""
FILM_DELIVERY: tuple[str, ...] = ("streaming", "torrent", "ddl")
"""How film and TV are delivered; the category when nothing more specific is pirated."""
DELIVERY_ORDER: tuple[str, ...] = ("torrent", "ddl", "streaming", "iptv")


def category_scores(signals: Iterable[Signal], rule: CategoryRule) -> dict[str, float]:
    """Each category with evidence: its learned bias plus its signals' votes (see
    :class:`~spiders.classify.weights.CategoryRule`)."""
    scores: dict[str, float] = {}
    for sig in signals:
        if sig.weight > 0 and sig.category:
            base = scores.get(sig.category, rule.bias.get(sig.category, 0.0))
            scores[sig.category] = base + rule.weights.get(sig.name, 1.0) * sig.weight
    return scores


def choose_category(scores: Mapping[str, float], rule: CategoryRule) -> str:
    """The category of a site judged piracy: the best-scoring content category when it is
    within ``content_margin`` of the best other one; else iptv when it is within the margin
    of the best film delivery; else the best film delivery."""
    if not scores:
        return NONE_CATEGORY

    def best(names: tuple[str, ...]) -> tuple[str | None, float]:
        held = [(scores[c], -names.index(c), c) for c in names if c in scores]
        return (max(held)[2], max(held)[0]) if held else (None, float("-inf"))

    content, c_score = best(CONTENT)
    iptv = scores.get("iptv", float("-inf"))
    film, f_score = best(FILM_DELIVERY)
    if content is not None and c_score >= max(iptv, f_score) - rule.content_margin:
        return content
    if "iptv" in scores and iptv >= f_score - rule.content_margin:
        return "iptv"
    return film or max(scores, key=lambda c: scores[c])


def delivery_of(evidence: Mapping[str, float], rule: CategoryRule, category: str) -> tuple[str, ...]:
    """Delivery mechanisms seen, strongest first: those whose evidence (the piracy model's
    log-odds) reaches ``delivery_min``, and the category itself when it is one."""
    seen = {c for c in DELIVERY_ORDER if evidence.get(c, 0.0) >= rule.delivery_min}
    if category in DELIVERY_ORDER:
        seen.add(category)
    return tuple(sorted(seen, key=lambda c: (-evidence.get(c, 0.0), DELIVERY_ORDER.index(c))))
