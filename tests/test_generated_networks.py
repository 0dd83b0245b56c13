"""Operator networks on a generated world, end to end: generate, serve, crawl, enrich, grade.

A small world (fixed seed) from ``collector.sandbox.generate`` is served by its own
ThreadedSandbox; ``isop crawl`` from its seeds.txt and ``isop enrich`` run in subprocesses
with the network guard installed, each recomputing the stored networks; the networks an
analyst would see are graded against the world's answer key. ``bench/clusters.py`` runs
the same on twenty worlds with stricter targets.
"""

from __future__ import annotations

import os

import pytest
from conftest import GUARD_DIR
from helpers.world_crawl import isop, write_config

from collector.sandbox.grading_clusters import grade_clusters
from collector.sandbox.server import ThreadedSandbox
from collector.sandbox.world import load_world
from storage.db import open_engine, session_factory

SEED, SITES = 7, 18
NO_LATENCY = {"dns": 0.0, "http": 0.0, "rdap": 0.0, "whois": 0.0}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from collector.sandbox.generate import generate_world

    tmp = tmp_path_factory.mktemp("generated-networks")
    world = load_world(generate_world(SEED, tmp / "world", sites=SITES))
    env = dict(os.environ, PYTHONPATH=str(GUARD_DIR))
    env.pop("ISOP_CONFIG", None)
    env.pop("ISOP_STORAGE_URL", None)
    with ThreadedSandbox(world, state_dir=tmp / "sandbox", latency=NO_LATENCY) as sandbox:
        config = write_config(tmp, sandbox, max_pages=300, site_pages=25, depth=5, download_timeout=10.0,
                              render_max_pages=10, screenshots=False)
        config.write_text(config.read_text() + "\n[enrich]\nrdap_rate = 200.0\nwhois_rate = 200.0\n")
        crawl = isop(["crawl", "--seeds", str(world.seeds_path()), "--no-progress"], config, env, tmp, timeout=120)
        enrich = isop(["enrich", "--no-progress"], config, env, tmp, timeout=120)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr[-3000:]
    assert enrich.returncode == 0, enrich.stdout + enrich.stderr[-3000:]
    engine = open_engine(f"sqlite:///{tmp / 'isop.db'}")
    try:
        with session_factory(engine)() as session:
            g = grade_clusters(session, world)
    finally:
        engine.dispose()
    print(g.summary(), *g.lines(), sep="\n  ")
    return g


def test_the_world_has_operators_to_find(graded):
    assert graded.operators >= 2 and graded.true >= 2 and graded.source == "stored"


def test_no_false_merge_through_shared_infrastructure(graded):
    assert graded.infra_false_merges == 0, graded.lines()


def test_networks_are_precise(graded):
    assert graded.precision >= 0.85, graded.lines()


def test_operators_are_found(graded):
    """Over the operators that share something a crawl can see (answers.json "visible")."""
    assert graded.recall_visible is not None and graded.recall_visible >= 0.8, graded.lines()
