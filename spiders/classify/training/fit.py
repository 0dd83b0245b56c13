"""Learning the weights: L2-regularised logistic regression over the signals, with signs kept.

- Features: ``x = rule.feature(count)`` in [0, 1] for every page signal of ``rules.toml``.
- Model: ``P(piracy) = logistic(bias + w . x)``, fitted by accelerated projected gradient
  descent (FISTA) on the weighted log-loss plus ``l2/2 |w|^2``. Evidence and context
  signals keep ``w >= 0``, counter-evidence ``w <= 0``: a weight an analyst reads always
  points the way its reason says.
- Examples are weighted so that real pages (labelled folders) count ``labelled_weight``
  times a generated site, and both classes weigh the same in total.
- Class balancing skews probabilities, so the fitted logit is then recalibrated (Platt:
  ``a x logit + c``, fitted on out-of-fold logits without class balancing, folded into the
  weights; ``a > 0`` keeps every sign): the score is the probability that a site is piracy
  at the training mix's prevalence.
- The threshold on that probability is chosen on out-of-fold probabilities (folds of
  whole groups: a world, a repository) as the lowest that flags at most ``target_fpr`` of
  the hard negatives; the category rule's parameters maximise out-of-fold category accuracy.

Everything is deterministic for one ``seed``: the same examples give the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from spiders.classify.category import category_scores, choose_category
from spiders.classify.model import CATEGORIES, Signal, Verdict
from spiders.classify.training.dataset import Example
from spiders.classify.weights import CategoryRule, Weights


@dataclass(frozen=True)
class FitOptions:
    """How to train (recorded in weights.json)."""

    l2: float = 0.003
    target_fpr: float = 0.01
    folds: int = 5
    seed: int = 0
    labelled_weight: float = 3.0
    iterations: int = 1500
    min_threshold: float = 0.2


def _names(rules) -> list[str]:
    return sorted(rules.signals)


def design(examples: Sequence[Example], rules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature matrix, labels and sign constraints (+1: w >= 0, -1: w <= 0)."""
    names = _names(rules)
    index = {n: j for j, n in enumerate(names)}
    x = np.zeros((len(examples), len(names)))
    for i, e in enumerate(examples):
        for name, (count, _detail) in e.counts.items():
            j = index.get(name)
            if j is not None:
                x[i, j] = rules.signals[name].feature(count)
    y = np.array([1.0 if e.label else 0.0 for e in examples])
    sign = np.array([-1.0 if rules.signals[n].role == "against" else 1.0 for n in names])
    return x, y, sign


def sample_weights(examples: Sequence[Example], options: FitOptions, balance: bool = True) -> np.ndarray:
    """Real pages weigh ``labelled_weight``; positives and negatives weigh the same in total
    (``balance``)."""
    s = np.array([options.labelled_weight if e.source != "world" else 1.0 for e in examples], dtype=float)
    if not balance:
        return s
    y = np.array([bool(e.label) for e in examples], dtype=bool)
    pos, neg = s[y].sum(), s[~y].sum()
    if pos > 0 and neg > 0:
        s = np.where(y, s * (pos + neg) / (2 * pos), s * (pos + neg) / (2 * neg))
    return s


def fit_logistic(x: np.ndarray, y: np.ndarray, s: np.ndarray, sign: np.ndarray, l2: float,
                 iterations: int) -> tuple[float, np.ndarray]:
    """Minimise the weighted log-loss + ``l2/2 |w|^2`` with sign constraints (FISTA)."""
    n, d = x.shape
    xb = np.hstack([np.ones((n, 1)), x])
    total = s.sum()
    v = np.ones(d + 1) / np.sqrt(d + 1)
    for _ in range(60):  # power iteration: the largest curvature sets the step
        v = xb.T @ (s * (xb @ v)) / total
        v /= np.linalg.norm(v) or 1.0
    lipschitz = 0.25 * float(v @ (xb.T @ (s * (xb @ v)))) / total + l2
    step = 1.0 / lipschitz
    theta = np.zeros(d + 1)
    theta[0] = -1.0
    momentum, t = theta.copy(), 1.0
    reg = np.concatenate([[0.0], np.full(d, l2)])

    def project(th: np.ndarray) -> np.ndarray:
        w = th[1:]
        th[1:] = np.where(sign > 0, np.maximum(w, 0.0), np.minimum(w, 0.0))
        return th

    for _ in range(iterations):
        z = np.clip(xb @ momentum, -40, 40)
        grad = xb.T @ (s * (1.0 / (1.0 + np.exp(-z)) - y)) / total + reg * momentum
        new = project(momentum - step * grad)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        momentum = new + ((t - 1) / t_next) * (new - theta)
        theta, t = new, t_next
    return float(theta[0]), theta[1:]


def site_signals(example: Example, weights: Mapping[str, float], rules) -> dict[str, Signal]:
    """The strongest signal per name, as :class:`~spiders.classify.SiteState` holds them."""
    out = {}
    for name, (count, detail) in example.counts.items():
        rule = rules.signals.get(name)
        if rule is None:
            continue
        weight = round(weights.get(name, 0.0) * rule.feature(count), 3)
        if weight:
            out[name] = Signal(name, rule.category, weight, detail)
    return out


def judge(examples: Sequence[Example], model: Weights, classifier) -> list[Verdict]:
    """Verdicts of ``examples`` under ``model``, through the classifier's own scoring."""
    scorer = classifier.with_weights(model)
    return [scorer.score(site_signals(e, model.weights, classifier.rules)) for e in examples]


def logit_of(example: Example, bias: float, weights: Mapping[str, float], rules) -> float:
    """The model's logit for one example (before the link graph)."""
    return bias + sum(sig.weight for sig in site_signals(example, weights, rules).values())


def folds_of(examples: Sequence[Example], folds: int, seed: int) -> list[list[int]]:
    """Index lists of ``folds`` folds of whole groups (0 or more folds than groups: one per
    group). With a single group there is nothing whole to leave out: sites are folded."""
    groups = sorted({e.group for e in examples})
    if len(groups) < 2:
        examples = [Example(**{**vars(e), "group": e.id}) for e in examples]
        groups = sorted({e.group for e in examples})
    random.Random(seed).shuffle(groups)
    k = len(groups) if folds <= 0 or folds >= len(groups) else folds
    fold_of = {g: i % k for i, g in enumerate(groups)}
    out: list[list[int]] = [[] for _ in range(k)]
    for i, e in enumerate(examples):
        out[fold_of[e.group]].append(i)
    return [f for f in out if f]


def _weights(names: Sequence[str], w: np.ndarray) -> dict[str, float]:
    return {n: round(float(v), 4) for n, v in zip(names, w, strict=True) if abs(v) >= 5e-5}


def _raw_fit(examples: Sequence[Example], classifier, options: FitOptions) -> tuple[float, dict[str, float]]:
    rules = classifier.rules
    x, y, sign = design(examples, rules)
    bias, w = fit_logistic(x, y, sample_weights(examples, options), sign, options.l2, options.iterations)
    return round(bias, 4), _weights(_names(rules), w)


def choose_threshold(probabilities: Sequence[float], target_fpr: float, floor: float) -> float:
    """The lowest threshold that flags at most ``target_fpr`` of these hard negatives."""
    ranked = sorted(probabilities, reverse=True)
    allowed = int(target_fpr * len(ranked) + 1e-9)
    if allowed >= len(ranked):
        return floor
    return max(floor, min(0.9999, round(ranked[allowed] + 1e-4, 4)))


def _category_design(examples: Sequence[Example], weights: Mapping[str, float], rules,
                     ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per example, each category signal's piracy-model weight; and the signal -> category map."""
    names = [n for n in _names(rules) if rules.signals[n].category and weights.get(n, 0.0) > 0]
    index = {n: j for j, n in enumerate(names)}
    z = np.zeros((len(examples), len(names)))
    for i, e in enumerate(examples):
        for sig in site_signals(e, weights, rules).values():
            if sig.name in index:
                z[i, index[sig.name]] = sig.weight
    onehot = np.zeros((len(names), len(CATEGORIES)))
    for j, n in enumerate(names):
        onehot[j, CATEGORIES.index(rules.signals[n].category)] = 1.0
    return names, z, onehot


def fit_categories(examples: Sequence[Example], weights: Mapping[str, float], rules, options: FitOptions,
                   margin: float = 0.5) -> CategoryRule:
    """The multinomial category model over labelled piracy sites: a bias per category and one
    non-negative vote per signal for its own category (FISTA on the softmax loss)."""
    cases = [e for e in examples if e.label and e.category in CATEGORIES]
    if not cases:
        return CategoryRule(content_margin=margin)
    names, z, onehot = _category_design(cases, weights, rules)
    y = np.zeros((len(cases), len(CATEGORIES)))
    for i, e in enumerate(cases):
        y[i, CATEGORIES.index(e.category)] = 1.0
    s = sample_weights(cases, options, balance=False)
    total = s.sum()
    v, bias = np.ones(len(names)), np.zeros(len(CATEGORIES))
    step = 1.0 / (0.5 * float(np.max((z ** 2).sum(axis=1), initial=1.0)) + 1.0 + options.l2)
    mv, mb, t = v.copy(), bias.copy(), 1.0
    for _ in range(options.iterations):
        scores = mb + (z @ (onehot * mv[:, None]) if names else 0.0)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        g = s[:, None] * (p - y) / total
        grad_b = g.sum(axis=0)
        grad_v = ((z.T @ g) * onehot).sum(axis=1) + options.l2 * (mv - 1.0) if names else mv
        new_v = np.maximum(mv - step * grad_v, 0.0)
        new_b = mb - step * grad_b
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        mv = new_v + ((t - 1) / t_next) * (new_v - v)
        mb = new_b + ((t - 1) / t_next) * (new_b - bias)
        v, bias, t = new_v, new_b, t_next
    bias = bias - bias.mean()
    return CategoryRule(bias={c: round(float(b), 4) for c, b in zip(CATEGORIES, bias, strict=True)},
                        weights={n: round(float(x), 4) for n, x in zip(names, v, strict=True)},
                        content_margin=margin)


def train(examples: Sequence[Example], classifier, options: FitOptions = FitOptions(),
          trained: Mapping | None = None) -> Weights:
    """Weights for ``examples``: inner cross-validation (folds of groups) for the calibration,
    the threshold and the category margin, then fits on everything."""
    rules = classifier.rules
    oof: dict[int, float] = {}
    cases: list[tuple[list[Signal], str, CategoryRule]] = []
    for held in folds_of(examples, options.folds, options.seed):
        held_set = set(held)
        part = [e for i, e in enumerate(examples) if i not in held_set]
        if not any(e.label for e in part) or all(e.label for e in part):
            continue
        bias, w = _raw_fit(part, classifier, options)
        fold_rule = fit_categories(part, w, rules, options)
        for i in held:
            oof[i] = logit_of(examples[i], bias, w, rules)
            if examples[i].label and examples[i].category in CATEGORIES:
                sigs = list(site_signals(examples[i], w, rules).values())
                cases.append(([replace(sig, weight=sig.weight * fold_rule.weights.get(sig.name, 1.0)) for sig in sigs],
                              examples[i].category, fold_rule))
    a, c = 1.0, 0.0
    if oof:
        idx = sorted(oof)
        z = np.array([[oof[i]] for i in idx])
        y = np.array([1.0 if examples[i].label else 0.0 for i in idx])
        c, (a,) = fit_logistic(z, y, sample_weights([examples[i] for i in idx], options, balance=False),
                               np.array([1.0]), 1e-6, 800)
        a = max(float(a), 0.05)
    hard = [1.0 / (1.0 + np.exp(-(a * z + c))) for i, z in oof.items()
            if examples[i].hard_negative and not examples[i].label]
    threshold = choose_threshold(hard, options.target_fpr, options.min_threshold) if hard else 0.5
    margin = _oof_margin(cases)
    bias, w = _raw_fit(examples, classifier, options)
    # fold the calibration into the model: every weight scales by a (signs kept); category
    # votes are per unit of weight, so they stay; margins in log-odds scale by a
    w = {k: round(a * v, 4) for k, v in w.items()}
    rule = fit_categories(examples, w, rules, options, margin * a)
    rule = replace(rule, delivery_min=round(0.5 * a, 3))
    record = dict(trained or {})
    record["options"] = {k: v for k, v in vars(options).items()}
    record["calibration"] = {"a": round(a, 4), "c": round(float(c), 4)}
    record["examples"] = {"sites": len(examples), "piracy": sum(e.label for e in examples),
                          "hard_negatives": sum(e.hard_negative and not e.label for e in examples)}
    return Weights(bias=round(a * bias + c, 4), threshold=threshold, weights=w, category=rule, trained=record)


def _oof_margin(cases: Sequence[tuple[list[Signal], str, CategoryRule]]) -> float:
    """The content margin (in fitted units) with the best out-of-fold category accuracy."""
    if not cases:
        return 0.5
    best, best_key = 0.5, None
    for margin in (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0):
        right = 0
        for sigs, truth, rule in cases:
            trial = replace(rule, content_margin=margin, weights={})  # votes already applied
            right += choose_category(category_scores(sigs, trial), trial) == truth
        key = (right, -abs(margin - 0.5))
        if best_key is None or key > best_key:
            best, best_key = margin, key
    return best


def cross_validate(examples: Sequence[Example], classifier, options: FitOptions = FitOptions(),
                   folds: int | None = None, hold_out: Callable[[Example], bool] | None = None,
                   ) -> list[tuple[Example, Verdict]]:
    """Out-of-fold verdicts: each fold of whole groups judged by weights trained without it
    (calibration, threshold and category rule chosen inside the training part too).
    ``hold_out`` limits the judged examples: each group it selects is its own fold, and the
    other examples only ever train."""
    out: dict[int, Verdict] = {}
    if hold_out is None:
        outer = folds_of(examples, options.folds if folds is None else folds, options.seed + 1)
    else:
        groups = sorted({e.group for e in examples if hold_out(e)})
        outer = [[i for i, e in enumerate(examples) if e.group == g and hold_out(e)] for g in groups]
    for held in outer:
        held_set = set(held)
        part = [e for i, e in enumerate(examples) if i not in held_set]
        if not any(e.label for e in part) or all(e.label for e in part):
            continue
        model = train(part, classifier, options)
        for i, verdict in zip(held, judge([examples[i] for i in held], model, classifier), strict=True):
            out[i] = verdict
    return [(examples[i], out[i]) for i in sorted(out)]
