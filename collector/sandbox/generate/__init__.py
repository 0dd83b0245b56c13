"""Generated sandbox worlds: a world folder and its answer key drawn from a seed.

``generate_world(seed, out)`` writes a world that ``collector.sandbox.world.load_world``
loads and ``isop sandbox serve --world`` serves, with ``answers.json`` (the answer key:
truth per site, operators, and the shared infrastructure that must never merge
networks). Same seed and options, same bytes. The structure is drawn in ``plan``, pages
are rendered by ``pages`` from a ``spec.SiteSpec`` per site, ``writer`` writes the folder.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["generate_world"]


def generate_world(seed: int, out: Path | str, sites: int | None = None,
                   operators: int | None = None) -> Path:
    """Write the world of ``seed`` into ``out`` and return ``out``.

    ``sites``: about how many registered domains with a web site (default: drawn, 30-60);
    ``operators``: how many operator networks (default: drawn, 3-8). Files an earlier
    generation wrote in ``out`` are replaced; nothing else there is touched.
    """
    from collector.sandbox.generate.plan import Planner
    from collector.sandbox.generate.writer import write_world

    if sites is not None and sites < 1:
        raise ValueError("sites must be at least 1")
    if operators is not None and operators < 1:
        raise ValueError("operators must be at least 1")
    plan = Planner(int(seed), sites, operators).plan()
    return write_world(plan, Path(out))
