"""Learning the classifier's weights: sources, the fit, calibration, threshold, category
semantics, cross-validation by whole sources, weights.json, and the two CLI commands."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from collector.sandbox.generate import generate_world
from spiders.classify import DELIVERY, Classifier, PageInput, Signal
from spiders.classify.category import CONTENT, category_scores, choose_category, delivery_of
from spiders.classify.training import fit as fitting
from spiders.classify.training.dataset import Example, Source, build
from spiders.classify.training.fit import (
    FitOptions,
    choose_threshold,
    cross_validate,
    fit_logistic,
    folds_of,
    judge,
    train,
)
from spiders.classify.training.report import format_metrics, measure
from spiders.classify.training.sources import PAGE_ROLES, SourceError, read_labelled, read_world
from spiders.classify.weights import CategoryRule, Weights, parse_weights

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "classifier"
QUICK = FitOptions(iterations=600, folds=3)


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


@pytest.fixture(scope="module")
def fixture_examples() -> list[Example]:
    return build([Source("labelled", FIXTURES, "fixtures")])


def labelled_folder(root: Path, records: list[dict], pages: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, body in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(body)
    (root / "labels.json").write_text(json.dumps(records), encoding="utf-8")
    return root


# --- sources ---------------------------------------------------------------------------


def test_a_labelled_folder_is_read_as_the_crawl_decodes_it(tmp_path):
    body = "<title>Фильмы</title><p>Смотреть онлайн бесплатно</p>".encode("windows-1251")
    folder = labelled_folder(tmp_path / "set", [
        {"file": "a/page.html", "domain": "kino.example", "url": "https://kino.example/", "is_piracy": True,
         "category": "streaming", "charset": "windows-1251", "source": {"repo": "someone/repo"}},
        {"file": "b/page.html", "url": "https://news.example/", "is_piracy": False, "category": "none"},
    ], {"a/page.html": body, "b/page.html": b"<p>news</p>"})
    sites = list(read_labelled(folder, "set"))
    assert [s.label for s in sites] == [True, False]
    assert "Смотреть онлайн" in sites[0].pages[0].html  # decoded from windows-1251, not mojibake
    assert sites[0].group == "set:someone/repo" and sites[1].group == "set:set"
    assert sites[1].hard_negative and not sites[0].hard_negative


@pytest.mark.parametrize("labels, message", [
    ("{not json", "not JSON|cannot read"),
    ('{"file": "x"}', "a list of records"),
    ('[{"file": "missing.html", "url": "https://x.example/", "is_piracy": true, "category": "torrent"}]', "not found"),
    ('[{"file": "../../etc/passwd", "url": "https://x.example/", "is_piracy": true, "category": "torrent"}]',
     "not found"),
    ('[{"url": "https://x.example/"}]', "needs file, url"),
])
def test_a_bad_label_file_is_one_line(tmp_path, labels, message):
    (tmp_path / "labels.json").write_text(labels, encoding="utf-8")
    with pytest.raises(SourceError, match=message) as err:
        list(read_labelled(tmp_path))
    assert "\n" not in str(err.value) and "labels.json" in str(err.value)


def test_a_generated_world_gives_its_page_judged_sites(tmp_path):
    world = generate_world(5, tmp_path / "w", sites=14)
    answers = json.loads((world / "answers.json").read_text(encoding="utf-8"))["sites"]
    sites = list(read_world(world))
    assert sites and all(s.group == "world:5" for s in sites)
    for s in sites:
        key = answers[s.pages[0].site]
        assert s.role in PAGE_ROLES and s.label == key["piracy"] and not key.get("js_only")
        assert s.category == (key["category"] if key["piracy"] else "none")
        assert all(p.url.startswith("https://") for p in s.pages)
    everything = list(read_world(world, roles=None))
    assert len(everything) >= len(sites)


# --- the fit ---------------------------------------------------------------------------


def test_signs_are_kept_even_against_the_data():
    rng = np.random.default_rng(0)
    x = rng.random((400, 3))
    y = (x[:, 0] + x[:, 1] > 1.0).astype(float)  # feature 1 is evidence, but declared "against"
    bias, w = fit_logistic(x, y, np.ones(400), np.array([1.0, -1.0, 1.0]), 0.001, 800)
    assert w[0] > 1.0 and w[1] == 0.0 and w[2] >= 0.0
    free_bias, free = fit_logistic(x, y, np.ones(400), np.array([1.0, 1.0, 1.0]), 0.001, 800)
    assert free[1] > 1.0


def test_the_threshold_flags_at_most_the_stated_share_of_hard_negatives():
    probabilities = [i / 100 for i in range(100)]
    t = choose_threshold(probabilities, 0.05, 0.0)
    assert sum(p >= t for p in probabilities) <= 5
    assert sum(p >= choose_threshold(probabilities, 0.0, 0.0) for p in probabilities) == 0
    assert choose_threshold([0.01, 0.02], 0.01, 0.3) == 0.3  # never below the floor


def test_training_is_reproducible_and_readable(clf, fixture_examples):
    a = train(fixture_examples, clf, QUICK, {"sources": ["fixtures"]})
    b = train(fixture_examples, clf, QUICK, {"sources": ["fixtures"]})
    assert a.to_json() == b.to_json()
    again = parse_weights(a.to_json(), "w.json", clf.rules.signals)
    assert again.weights == a.weights and again.threshold == a.threshold
    for name, w in a.weights.items():
        assert (w <= 0) if clf.rules.signals[name].role == "against" else (w >= 0), name
    assert 0 < a.threshold < 1 and a.trained["sources"] == ["fixtures"]
    assert a.trained["examples"]["sites"] == len(fixture_examples)
    m = measure(list(zip(fixture_examples, judge(fixture_examples, a, clf), strict=True)))
    assert m.recall >= 0.8 and m.precision >= 0.9  # in-sample: the weights learn the fixtures


def test_a_different_seed_draws_other_folds_but_ranks_sites_alike(clf, fixture_examples):
    a = train(fixture_examples, clf, QUICK)
    b = train(fixture_examples, clf, FitOptions(iterations=600, folds=3, seed=7))
    # the final fit uses every example; the folds only move the calibration (one scale for
    # every weight) and the threshold
    assert a.weights.keys() == b.weights.keys()
    ratios = {round(b.weights[k] / a.weights[k], 2) for k in a.weights if abs(a.weights[k]) > 0.05}
    assert max(ratios) - min(ratios) <= 0.02


def test_cross_validation_leaves_whole_sources_out(clf, fixture_examples, monkeypatch):
    examples = [Example(**{**vars(e), "group": f"g{i % 4}"}) for i, e in enumerate(fixture_examples)]
    seen: list[set[str]] = []
    real = fitting.train

    def spy(part, classifier, options, trained=None):
        seen.append({e.group for e in part})
        return real(part, classifier, options, trained)

    monkeypatch.setattr(fitting, "train", spy)
    judged = cross_validate(examples, clf, QUICK, folds=0)
    assert len(judged) == len(examples)
    assert len(seen) == 4 and all(len(groups) == 3 for groups in seen)  # each fit misses exactly one group
    only = cross_validate(examples, clf, QUICK, hold_out=lambda e: e.group == "g1")
    assert {e.group for e, _v in only} == {"g1"}


def test_folds_keep_groups_whole(fixture_examples):
    examples = [Example(**{**vars(e), "group": f"g{i % 7}"}) for i, e in enumerate(fixture_examples)]
    folds = folds_of(examples, 3, 0)
    groups = [{examples[i].group for i in f} for f in folds]
    assert len(folds) == 3 and all(not (a & b) for i, a in enumerate(groups) for b in groups[i + 1:])
    assert sorted(i for f in folds for i in f) == list(range(len(examples)))


# --- weights.json ----------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format="x"), "not an isop weights file"),
    (lambda d: d["weights"].update(no_such_signal=1.0), "does not define"),
    (lambda d: d["weights"].update(checksums=2.0), "cannot be"),
    (lambda d: d["weights"].update(magnet_links=-1.0), "cannot be"),
    (lambda d: d.update(threshold=1.5), "between 0 and 1"),
    (lambda d: d.update(bias="high"), "finite number"),
])
def test_bad_weights_files_are_refused_in_one_line(clf, change, message):
    doc = json.loads(Weights(weights={"magnet_links": 1.0}).to_json())
    change(doc)
    with pytest.raises(ValueError, match=message) as err:
        parse_weights(json.dumps(doc), "w.json", clf.rules.signals)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="not JSON"):
        parse_weights("{", "w.json")


def test_the_shipped_weights_list_what_they_were_trained_on(clf):
    trained = clf.weights.trained
    names = {s["name"] for s in trained["sources"]}
    assert {"world:101", "world:140", "world:default", "fixtures"} <= names
    assert not names & {f"world:{s}" for s in range(1, 21)}  # the bench's worlds are never trained on
    assert all(s["sites"] > 0 and s["key"] for s in trained["sources"])
    assert trained["options"]["target_fpr"] > 0 and clf.weights.threshold > 0


def test_the_score_is_a_probability_of_the_learned_model(clf):
    page = PageInput("https://t.example/", 200, "", "<a href='magnet:?xt=urn:btih:" + "a" * 40 + "'>m</a>")
    sigs = clf.page_signals(page)
    v = clf.verdict([sigs])
    logit = clf.weights.bias + sum(s.weight for s in sigs)
    assert v.score == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-3)


# --- category semantics ----------------------------------------------------------------

RULE = CategoryRule(content_margin=0.5, delivery_min=0.5)


@pytest.mark.parametrize("evidence, category", [
    ({"music": 2.6, "torrent": 3.0}, "music"),            # a music tracker is music, delivered by torrent
    ({"manga": 2.2, "ddl": 2.5}, "manga"),                # manga linked from cyberlockers
    ({"warez": 1.8, "ddl": 2.0}, "warez"),                # cracked software from cyberlockers
    ({"counterfeit": 2.0, "streaming": 0.5}, "counterfeit"),
    ({"iptv": 2.1, "streaming": 2.5}, "iptv"),            # a live-TV service that also streams films
    ({"streaming": 2.0, "torrent": 1.0}, "streaming"),    # film and TV: by delivery
    ({"torrent": 2.0, "warez": 0.3}, "torrent"),          # a word of cracks does not make a torrent index warez
    ({"ebook": 0.4, "ddl": 3.0}, "ddl"),
])
def test_what_is_pirated_wins_over_how_it_is_delivered(evidence, category):
    signals = [Signal(f"s_{c}", c, v, "x") for c, v in evidence.items()]
    assert choose_category(category_scores(signals, RULE), RULE) == category


def test_learned_votes_and_biases_move_the_category():
    signals = [Signal("lex_ebook", "ebook", 1.0, "words: 'pdf'"), Signal("magnet_links", "torrent", 3.0, "m")]
    rule = CategoryRule(bias={"ebook": 3.0}, weights={"lex_ebook": 1.0}, content_margin=0.0)
    assert choose_category(category_scores(signals, rule), rule) == "ebook"
    quiet = CategoryRule(weights={"lex_ebook": 0.1}, content_margin=0.0)
    assert choose_category(category_scores(signals, quiet), quiet) == "torrent"


def test_delivery_is_listed_apart_from_the_category():
    assert delivery_of({"music": 2.0, "torrent": 3.0, "ddl": 0.6}, RULE, "music") == ("torrent", "ddl")
    assert delivery_of({"streaming": 0.2}, RULE, "streaming") == ("streaming",)
    assert set(DELIVERY) == {"torrent", "ddl", "streaming", "iptv"} and not set(DELIVERY) & set(CONTENT)


def test_a_music_tracker_is_music_delivered_by_torrent(clf):
    rows = "".join(f"<tr><td><a href='/t/{i}'>Artist {i} - Album (2024) [FLAC] 320kbps album zip</a></td>"
                   f"<td><a href='magnet:?xt=urn:btih:{i:040x}'>magnet</a></td><td>{i * 3}</td><td>{i}</td></tr>"
                   for i in range(1, 30))
    html = (f"<title>Free MP3 download - lossless music torrents</title><table><tr><th>Name</th><th></th>"
            f"<th>Seeders</th><th>Leechers</th></tr>{rows}</table><p>free mp3 download, 320kbps, album zip, "
            f"discography download</p>")
    v = clf.verdict([clf.page_signals(PageInput("https://tunes.example/", 200, "", html))])
    assert v.is_piracy and v.category == "music" and "torrent" in v.delivery
    assert v.reasons and all("(+" not in r for r in v.reasons)  # plain sentences, no weights


# --- reports and the CLI ---------------------------------------------------------------


def test_the_report_has_categories_confusion_calibration_and_errors(clf, fixture_examples):
    model = train(fixture_examples, clf, QUICK)
    text = format_metrics(measure(list(zip(fixture_examples, judge(fixture_examples, model, clf), strict=True))),
                          "fixtures")
    for part in ("piracy precision", "per category", "confusion", "calibration: Brier", "ECE"):
        assert part in text


def isop(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "collector.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "tests" / "guard")})


def test_train_and_evaluate_commands(tmp_path):
    out = tmp_path / "w.json"
    common = ["--worlds", "", "--no-default-world", "--labelled", str(FIXTURES), "--no-cache"]
    done = isop("classifier", "train", *common, "--out", str(out), cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "trained on 57 sites" in done.stdout and out.exists()
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["trained"]["sources"][0]["name"] == "fixtures" and doc["trained"]["sources"][0]["labels_sha256"]
    again = tmp_path / "again.json"
    assert isop("classifier", "train", *common, "--out", str(again), cwd=REPO).returncode == 0
    assert again.read_bytes() == out.read_bytes()
    done = isop("classifier", "evaluate", *common, "--weights", str(out), cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "trained on fixtures" in done.stdout and "confusion" in done.stdout
    done = isop("classifier", "evaluate", *common, "--cv", "--folds", "3", "--json", cwd=REPO)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["fixtures"]
    assert 0 <= figures["recall"] <= 1 and "per_category" in figures


def test_train_refuses_bad_sources_in_one_line(tmp_path):
    (tmp_path / "labels.json").write_text("[{]", encoding="utf-8")
    for args in (["--labelled", str(tmp_path)], ["--labelled", str(tmp_path / "nowhere")], ["--worlds", "9-1"]):
        done = isop("classifier", "train", "--no-default-world", "--worlds", "", *args, "--out",
                    str(tmp_path / "w.json"), cwd=REPO)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) <= 3, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "w.json").exists()


def test_the_example_cache_follows_the_bytes_not_the_sizes(tmp_path):
    folder = labelled_folder(tmp_path / "set", [
        {"file": "a.html", "url": "https://a.example/", "is_piracy": True, "category": "torrent"},
        {"file": "b.html", "url": "https://b.example/", "is_piracy": False, "category": "none"},
    ], {"a.html": b"<p>magnet seeders leechers</p>", "b.html": b"<p>news</p>"})
    source = Source("labelled", folder, "set")
    before = source.key()
    (folder / "a.html").write_bytes(b"<p>nothing here at all....</p>")  # same size, other words
    assert (folder / "a.html").stat().st_size == len(b"<p>magnet seeders leechers</p>")
    assert source.key() != before
    (folder / "labels.json").write_text(json.dumps([
        {"file": "a.html", "url": "https://a.example/", "is_piracy": False, "category": "none"},
        {"file": "b.html", "url": "https://b.example/", "is_piracy": False, "category": "none"}]), encoding="utf-8")
    relabelled = source.key()
    cache = tmp_path / "cache"
    first = build([source], cache=cache)
    assert [e.label for e in first] == [False, False] and relabelled != before
    assert build([source], cache=cache) == first


def test_a_world_written_by_another_generator_is_written_again(tmp_path):
    from collector.classifier_training import (
        GENERATOR_STAMP,
        Recipe,
        generator_digest,
        world_folder,
    )

    recipe = Recipe(worlds=[3], world_dir=tmp_path / "worlds")
    folder = world_folder(recipe, 3)
    stamp = folder / GENERATOR_STAMP
    assert (folder / "answers.json").exists() and stamp.read_text().strip() == generator_digest()
    (folder / "mine.txt").write_text("kept while the generator is the same")
    assert world_folder(recipe, 3) == folder and (folder / "mine.txt").exists()
    stamp.write_text("0123456789abcdef\n")  # an older generator wrote this world
    world_folder(recipe, 3)
    assert not (folder / "mine.txt").exists() and stamp.read_text().strip() == generator_digest()
    assert (folder / "answers.json").exists()
