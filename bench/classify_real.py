"""Classification of real captured pages (../shared/data/pages), cross-validated.

    .venv/bin/python bench/classify_real.py [--corpus DIR] [--only-worlds] [--errors N]

Each repository of the shared corpus is left out in turn: weights are trained (with the
recipe of config/classifier/training.toml: generated worlds 101-140, the default world,
the fixtures and the corpus's other repositories; calibration, threshold and category
rule chosen inside that training part) and judge the left-out repository's pages, which
the weights have never seen. Prints piracy precision/recall/F1, negatives flagged,
category accuracy, the per-category table, confusion matrix, calibration and every error;
then the issue 13 targets with PASS/FAIL. ``--only-worlds`` trains without any corpus
page (how far the generated worlds and fixtures alone carry).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from collector.classifier_training import examples_of, load_recipe, sources_of  # noqa: E402
from spiders.classify import Classifier  # noqa: E402
from spiders.classify.training.fit import cross_validate  # noqa: E402
from spiders.classify.training.report import format_metrics, measure  # noqa: E402

TARGETS = {"recall": 0.9, "negatives flagged": 2, "category accuracy": 0.85}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "data" / "pages")
    parser.add_argument("--only-worlds", action="store_true", help="Train without any corpus page.")
    parser.add_argument("--errors", type=int, default=40)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "labels.json").exists():
        raise SystemExit(f"{corpus}: no labels.json (the shared corpus sits beside the project)")
    recipe = load_recipe()
    recipe.labelled = [p for p in recipe.labelled if p.resolve() != corpus] + [corpus]
    started = time.perf_counter()
    examples = examples_of(sources_of(recipe, strict=True), recipe.cache)
    classifier = Classifier.load()
    is_corpus = lambda e: e.source == "corpus"  # noqa: E731
    if args.only_worlds:
        training = [e for e in examples if not is_corpus(e)]
        from spiders.classify.training.fit import judge, train

        model = train(training, classifier, recipe.fit)
        held = [e for e in examples if is_corpus(e)]
        judged = list(zip(held, judge(held, model, classifier), strict=True))
        how = "trained without the corpus"
    else:
        judged = cross_validate(examples, classifier, recipe.fit, hold_out=is_corpus)
        how = "each repository left out in turn"
    m = measure(judged)
    print(f"{len(judged)} corpus pages, {how}; {len(examples) - len(judged)} other training sites; "
          f"{time.perf_counter() - started:.0f}s")
    print(format_metrics(m, "shared corpus", args.errors))
    negatives = m.fp + m.tn
    checks = [(f"recall >= {TARGETS['recall']}", m.recall >= TARGETS["recall"]),
              (f"at most {TARGETS['negatives flagged']} of {negatives} negatives flagged ({m.fp})",
               m.fp <= TARGETS["negatives flagged"]),
              (f"category accuracy >= {TARGETS['category accuracy']}",
               m.category_accuracy >= TARGETS["category accuracy"])]
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")


if __name__ == "__main__":
    main()
