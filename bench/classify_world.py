"""Classification quality on the sandbox world: precision and recall per site.

    .venv/bin/python bench/classify_world.py [--keep DIR] [--max-pages N]

Serves the default world, runs a discovery crawl from its seeds (``isop crawl`` in a
subprocess, through the proxy and resolvers only), then compares each site's latest
verdict with the world's answer key (``[truth]``). Prints the confusion counts,
precision, recall, category accuracy and every miss with its signals.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from collector.sandbox.grading import grade  # noqa: E402
from collector.sandbox.server import ThreadedSandbox  # noqa: E402
from collector.sandbox.world import load_world  # noqa: E402
from storage.db import open_engine, session_factory  # noqa: E402


def crawl(workdir: Path, sandbox, max_pages: int) -> float:
    config = workdir / "isop.toml"
    config.write_text(sandbox.config_text(f"sqlite:///{workdir / 'isop.db'}") + f"""
[evidence]
dir = "{workdir / 'evidence'}"
[crawl]
max_pages = {max_pages}
""")
    env = dict(os.environ, PYTHONPATH=str(REPO / "tests" / "guard"))
    env.pop("ISOP_CONFIG", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(config), "crawl", "--seeds",
                    str(load_world().seeds_path()), "--no-progress"], cwd=workdir, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Keep the crawl's store and evidence in this folder.")
    parser.add_argument("--max-pages", type=int, default=1500)
    args = parser.parse_args()
    world = load_world()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with ThreadedSandbox(world, state_dir=workdir / "sandbox") as sandbox:
            seconds = crawl(workdir, sandbox, args.max_pages)
        engine = open_engine(f"sqlite:///{workdir / 'isop.db'}")
        with session_factory(engine)() as session:
            g = grade(session, world)
        engine.dispose()
    print(f"sandbox world {world.name!r}: {g.tp + g.fp + g.fn + g.tn} sites judged, crawl {seconds:.1f}s")
    print(g.summary())
    for note in g.notes:
        print("  " + note)


if __name__ == "__main__":
    main()
