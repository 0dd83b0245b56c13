"""Operator networks on generated worlds: pairwise precision and recall per seed.

    .venv/bin/python bench/clusters.py [--seeds 1-20] [--sites M] [--operators K]
                                       [--max-pages N] [--keep DIR] [--world DIR]

For each seed, generates a world (``collector.sandbox.generate.generate_world``), serves it
(a ThreadedSandbox with its own state folder, no added latency), runs ``isop crawl`` from
its seeds.txt and then ``isop enrich`` in subprocesses with the network guard on
``PYTHONPATH`` (so they reach nothing but the sandbox), each of which recomputes the stored
operator networks, and grades the networks against the answer key under the run's
``[clusters]`` rules
(:func:`collector.sandbox.grading_clusters.grade_clusters`). Prints one line per seed, the
mean and minimum, and the issue 12 targets with PASS/FAIL (recall twice: over all operators,
and over the operators answers.json marks visible); then every false pair with the
identifiers that joined it. ``--world DIR`` grades an existing world folder instead (e.g.
``config/sandbox/default``), under the same targets.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from collector.config import load_config  # noqa: E402
from collector.sandbox.grading_clusters import ClusterGrade, grade_clusters  # noqa: E402
from collector.sandbox.server import ThreadedSandbox  # noqa: E402
from collector.sandbox.world import load_world  # noqa: E402
from storage.db import open_engine, session_factory  # noqa: E402

TARGETS = {"mean precision": 0.95, "mean recall": 0.9, "min precision": 0.85}
"""Issue 12's targets; and no false merge through shared infrastructure."""

NO_LATENCY = {"dns": 0.0, "http": 0.0, "rdap": 0.0, "whois": 0.0}


@dataclass
class Result:
    label: str
    grade: ClusterGrade
    crawl_seconds: float
    enrich_seconds: float
    problems: list[str]


def parse_seeds(text: str) -> list[int]:
    """``3,5,9``, ``1-40`` or both (``1-5,9``), in the order given, without repeats."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high) + 1) if high else [int(low)])
    return list(dict.fromkeys(out))


def config_text(sandbox: ThreadedSandbox, workdir: Path, max_pages: int) -> str:
    """The sandbox's config plus bounded crawl budgets and enrichment rates a local world can take."""
    return sandbox.config_text(f"sqlite:///{workdir / 'isop.db'}") + f"""
[evidence]
dir = "{workdir / 'evidence'}"
[crawl]
max_pages = {max_pages}
site_pages = 25
depth = 5
download_timeout = 10.0
render_max_pages = 10
screenshots = false
[enrich]
after_crawl = false
rdap_rate = 200.0
whois_rate = 200.0
"""


def isop(args: list[str], config: Path, workdir: Path) -> tuple[float, str | None]:
    """Run ``isop ARGS`` guarded; returns (seconds, a problem line or None)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests" / "guard"))
    env.pop("ISOP_CONFIG", None)
    env.pop("ISOP_STORAGE_URL", None)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(config), *args, "--no-progress"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return seconds, f"isop {args[0]} exited {done.returncode}: {tail[:200]}"
    return seconds, None


def run_world(label: str, world_dir: Path, workdir: Path, max_pages: int) -> Result:
    world = load_world(world_dir.resolve())
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    problems = []
    with ThreadedSandbox(world, state_dir=workdir / "sandbox", latency=NO_LATENCY) as sandbox:
        config = workdir / "isop.toml"
        config.write_text(config_text(sandbox, workdir, max_pages))
        crawl_s, problem = isop(["crawl", "--seeds", str(world.seeds_path())], config, workdir)
        problems += [problem] if problem else []
        enrich_s, problem = isop(["enrich"], config, workdir)
        problems += [problem] if problem else []
    # Graded under the [clusters] rules the crawl and enrichment ran with.
    rules = load_config(config, env={}).clusters
    engine = open_engine(f"sqlite:///{workdir / 'isop.db'}")
    try:
        with session_factory(engine)() as session:
            g = grade_clusters(session, world, rules)
    finally:
        engine.dispose()
    return Result(label, g, crawl_s, enrich_s, problems)


def figure(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def report(results: list[Result], total: float) -> bool:
    print(f"{'world':>12} {'sites':>5} {'ops':>4} {'P':>6} {'R':>6} {'R vis':>6} {'F1':>6} {'false':>5} "
          f"{'missed':>6} {'infra':>5} {'crawl+enrich s':>15}")
    for r in results:
        g = r.grade
        print(f"{r.label:>12} {g.sites:>5} {g.operators:>4} {g.precision:>6.3f} {figure(g.recall):>6} "
              f"{figure(g.recall_visible):>6} {figure(g.f1):>6} {len(g.false_pairs):>5} {len(g.missed_pairs):>6} "
              f"{g.infra_false_merges:>5} {r.crawl_seconds:>7.1f}+{r.enrich_seconds:<7.1f}")
    precisions = [r.grade.precision for r in results]
    recalls = [r.grade.recall for r in results if r.grade.recall is not None]
    visible = [r.grade.recall_visible for r in results if r.grade.recall_visible is not None]
    f1s = [r.grade.f1 for r in results if r.grade.f1 is not None]
    infra = sum(r.grade.infra_false_merges for r in results)

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    print(f"{'mean':>12} {'':>5} {'':>4} {mean(precisions):>6.3f} {figure(mean(recalls)):>6} "
          f"{figure(mean(visible)):>6} {figure(mean(f1s)):>6}")
    print(f"{'min':>12} {'':>5} {'':>4} {min(precisions):>6.3f} {figure(min(recalls, default=None)):>6} "
          f"{figure(min(visible, default=None)):>6} {figure(min(f1s, default=None)):>6}")
    checks = [
        (f"mean precision >= {TARGETS['mean precision']}", mean(precisions) >= TARGETS["mean precision"]),
        # Issue 12's recall target is over all operators; the recall over the operators
        # answers.json marks visible (those that share something a crawl can see) says how
        # much of the gap is no rule's to close. Both are printed, each with its own verdict.
        (f"mean recall (all operators) >= {TARGETS['mean recall']}",
         (mean(recalls) or 0.0) >= TARGETS["mean recall"]),
        (f"mean recall (operators with visible ties) >= {TARGETS['mean recall']}",
         None if not visible else (mean(visible) or 0.0) >= TARGETS["mean recall"]),
        (f"no world below {TARGETS['min precision']} precision", min(precisions) >= TARGETS["min precision"]),
        ("0 false merges through shared infrastructure", infra == 0),
    ]
    for what, ok in checks:  # None: no world says which operators are visible (no answers.json)
        print(f"  {'n/a ' if ok is None else 'PASS' if ok else 'FAIL'}  {what}")
    print(f"total {total:.1f}s for {len(results)} worlds")
    for r in results:
        for problem in r.problems:
            print(f"{r.label}: {problem}")
        for line in r.grade.lines(shown=10):
            print(f"{r.label}: {line}")
    return all(ok is not False for _w, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-20", help="Seeds: 3,5,9 or 1-40 (default 1-20).")
    parser.add_argument("--sites", type=int, help="Registered domains per world (default: drawn per seed).")
    parser.add_argument("--operators", type=int, help="Operators per world (default: drawn per seed).")
    parser.add_argument("--max-pages", type=int, default=400, help="Page budget of each world's crawl.")
    parser.add_argument("--keep", type=Path, help="Keep the worlds, stores and evidence in this folder.")
    parser.add_argument("--world", type=Path, help="Grade this world folder instead of generating worlds.")
    args = parser.parse_args()
    start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        if args.world:
            results.append(run_world(args.world.name[:12], args.world, base / "run", args.max_pages))
        else:
            from collector.sandbox.generate import generate_world

            for seed in parse_seeds(args.seeds):
                out = base / f"seed-{seed}"
                world_dir = generate_world(seed, out / "world", sites=args.sites, operators=args.operators)
                results.append(run_world(f"seed {seed}", world_dir, out / "run", args.max_pages))
                r = results[-1]
                print(f"  seed {seed}: P {r.grade.precision:.3f} R {figure(r.grade.recall)} "
                      f"({time.perf_counter() - start:.0f}s so far)", file=sys.stderr, flush=True)
    return 0 if report(results, time.perf_counter() - start) else 1


if __name__ == "__main__":
    sys.exit(main())
