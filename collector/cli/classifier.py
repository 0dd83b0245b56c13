"""``isop classifier train`` and ``isop classifier evaluate``: the learned weights.

With no options both follow ``config/classifier/training.toml``; ``--worlds``,
``--no-default-world`` and ``--labelled`` replace its sources.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from collector.classifier_training import (
    Recipe,
    describe_sources,
    examples_of,
    load_recipe,
    parse_seeds,
    sources_of,
    split,
)
from collector.cli import cli
from collector.cli.common import UsageProblem, exit_codes


def _recipe(worlds: str | None, default_world: bool | None, labelled: tuple[str, ...], seed: int | None,
            no_cache: bool) -> tuple[Recipe, bool]:
    recipe = load_recipe()
    strict = False
    if worlds is not None:
        recipe.worlds = parse_seeds(worlds)
    if default_world is not None:
        recipe.default_world = default_world
    if labelled:
        recipe.labelled = [Path(p).resolve() for p in labelled]
        strict = True
    if seed is not None:
        from dataclasses import replace

        recipe.fit = replace(recipe.fit, seed=seed)
    if no_cache:
        recipe.cache = None
    return recipe, strict


def _examples(worlds, default_world, labelled, seed, no_cache):
    """The recipe with the options applied, its sources and their examples (one-line errors)."""
    with exit_codes():
        recipe, strict = _recipe(worlds, default_world, labelled, seed, no_cache)
        sources = sources_of(recipe, strict)
        return recipe, sources, examples_of(sources, recipe.cache)


def _source_options(f):
    f = click.option("--no-cache", is_flag=True, help="Re-read every page (no example cache).")(f)
    f = click.option("--labelled", multiple=True, type=click.Path(file_okay=False),
                     help="A labelled page folder (labels.json or cases.toml); repeat for several. "
                          "Replaces the recipe's folders.")(f)
    f = click.option("--default-world/--no-default-world", default=None,
                     help="Learn from the default sandbox world (recipe: yes).")(f)
    f = click.option("--worlds", metavar="SEEDS",
                     help="Generated world seeds, e.g. 101-140 or 1,3,5 ('' for none).")(f)
    return f


@cli.group("classifier")
def classifier_group() -> None:
    """Train and evaluate the classifier's learned weights."""


@classifier_group.command("train")
@_source_options
@click.option("--seed", type=click.IntRange(0, 2**31), help="Fold seed (recipe: 0).")
@click.option("--out", type=click.Path(dir_okay=False), help="Where to write (default: the shipped weights.json).")
def train_command(worlds, default_world, labelled, no_cache, seed, out) -> None:
    """Learn the weights from labelled sites and write weights.json.

    Deterministic: the same sources and seed write the same bytes. The file lists the
    sources it was trained on (with digests) and the options used.
    """
    from spiders.classify import Classifier
    from spiders.classify.training.fit import train
    from spiders.classify.verdict import DEFAULT_CONFIG_DIR
    from spiders.classify.weights import WEIGHTS_FILE

    recipe, sources, examples = _examples(worlds, default_world, labelled, seed, no_cache)
    if not any(e.label for e in examples) or all(e.label for e in examples):
        raise UsageProblem("the sources need both piracy and non-piracy sites to learn from")
    classifier = Classifier.load()
    weights = train(examples, classifier, recipe.fit, {"sources": describe_sources(sources, examples)})
    target = Path(out) if out else DEFAULT_CONFIG_DIR / WEIGHTS_FILE
    weights.save(target)
    nonzero = sum(1 for v in weights.weights.values() if v)
    click.echo(f"trained on {len(examples)} sites ({sum(e.label for e in examples)} piracy) from "
               f"{len(sources)} sources: {nonzero} signals weighted, threshold {weights.threshold:.3f}; "
               f"written to {target}")


@classifier_group.command("evaluate")
@_source_options
@click.option("--cv", "cv", is_flag=True, help="Cross-validate: each fold of whole sources judged by "
                                                "weights trained without it (slower; honest on unseen sites).")
@click.option("--folds", type=click.IntRange(0, 1000), default=5, show_default=True,
              help="Outer folds of whole sources for --cv (0: one per source).")
@click.option("--weights", "weights_path", type=click.Path(dir_okay=False, exists=True),
              help="Weights to judge with (default: the shipped ones).")
@click.option("--errors", type=click.IntRange(0, 10_000), default=20, show_default=True,
              help="How many errors to list per section.")
@click.option("--json", "as_json", is_flag=True, help="Figures as JSON.")
def evaluate_command(worlds, default_world, labelled, no_cache, cv, folds, weights_path, errors, as_json) -> None:
    """Per-category precision/recall/F1, confusion matrix, calibration and errors."""
    from spiders.classify import Classifier
    from spiders.classify.training.fit import cross_validate, judge
    from spiders.classify.training.report import format_metrics, measure
    from spiders.classify.weights import parse_weights

    recipe, sources, examples = _examples(worlds, default_world, labelled, None, no_cache)
    classifier = Classifier.load()
    if weights_path:
        with exit_codes(usage=(OSError, ValueError)):
            classifier = classifier.with_weights(parse_weights(Path(weights_path).read_text(encoding="utf-8"),
                                                               weights_path, classifier.rules.signals))
    if cv:
        judged = cross_validate(examples, classifier, recipe.fit, folds=folds)
        how = f"cross-validated, {folds or 'one'} fold(s) {'of' if folds else 'per'} whole sources"
    else:
        trained = {s.get("key") for s in classifier.weights.trained.get("sources", [])}
        seen = [s.label for s in sources if s.key() in trained]
        if seen and not as_json:
            click.echo(f"note: these weights were trained on {', '.join(seen)}; use --cv for unseen-site figures")
        judged = list(zip(examples, judge(examples, classifier.weights, classifier), strict=True))
        how = "with the given weights"
    sections = split(examples)
    if as_json:
        out = {}
        for name, keep in sections.items():
            m = measure([(e, v) for e, v in judged if keep(e)])
            out[name] = {"precision": m.precision, "recall": m.recall, "f1": m.f1, "tp": m.tp, "fp": m.fp,
                         "fn": m.fn, "tn": m.tn, "hard_flagged": m.hard_flagged, "hard_negatives": m.hard_negatives,
                         "category_accuracy": m.category_accuracy, "brier": m.brier, "ece": m.ece,
                         "per_category": {c: dict(zip(("precision", "recall", "f1", "sites"), v, strict=True))
                                          for c, v in m.per_category().items()}}
        click.echo(json.dumps(out, indent=1))
        return
    click.echo(f"{len(examples)} sites from {len(sources)} sources, judged {how}")
    for name, keep in sections.items():
        click.echo(format_metrics(measure([(e, v) for e, v in judged if keep(e)]), name, errors))
