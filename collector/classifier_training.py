"""The training recipe (``config/classifier/training.toml``) turned into sources, examples,
weights and reports: what ``isop classifier train`` and ``evaluate`` and the benches run.

Worlds named by the recipe are generated on first use (``isop sandbox generate``, the same
seed writes the same bytes) under ``world_dir``; examples are cached per source.
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from spiders.classify.training.dataset import Example, Source, build
from spiders.classify.training.fit import FitOptions
from spiders.classify.training.sources import SourceError, digest_of, label_file

log = logging.getLogger("isop.classifier")

PROJECT = Path(__file__).resolve().parents[1]
RECIPE = PROJECT / "config" / "classifier" / "training.toml"
DEFAULT_WORLD = PROJECT / "config" / "sandbox" / "default"


class RecipeError(ValueError):
    """A training recipe or option that cannot be used (one line)."""


def parse_seeds(spec: str) -> list[int]:
    """``"101-140"``, ``"1,2,5-7"`` or ``""`` -> seeds."""
    seeds: list[int] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo or hi - lo > 10_000:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise RecipeError(f"world seeds {spec!r}: use numbers and ranges like 101-140") from None
    return seeds


@dataclass
class Recipe:
    """What to learn from and how."""

    worlds: list[int] = field(default_factory=list)
    world_dir: Path = PROJECT / "data" / "classifier" / "worlds"
    default_world: bool = True
    labelled: list[Path] = field(default_factory=list)
    cache: Path | None = PROJECT / "data" / "classifier" / "cache"
    fit: FitOptions = FitOptions()


def load_recipe(path: Path = RECIPE) -> Recipe:
    """Read the recipe (paths relative to the project folder)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise RecipeError(f"{path}: cannot read ({e})") from None
    names = {f.name: f.type for f in fields(FitOptions)}
    fit = doc.get("fit", {})
    unknown = sorted(set(fit) - set(names))
    if unknown:
        raise RecipeError(f"{path}: [fit] has unknown keys {', '.join(unknown)}")
    try:
        options = FitOptions(**{k: (int(v) if names[k] == "int" else float(v)) for k, v in fit.items()})
    except (TypeError, ValueError):
        raise RecipeError(f"{path}: [fit] values must be numbers") from None
    return Recipe(
        worlds=parse_seeds(str(doc.get("worlds", ""))),
        world_dir=PROJECT / str(doc.get("world_dir", "data/classifier/worlds")),
        default_world=bool(doc.get("default_world", True)),
        labelled=[(PROJECT / str(p)).resolve() for p in doc.get("labelled", [])],
        cache=PROJECT / str(doc["cache"]) if doc.get("cache") else None,
        fit=options,
    )


GENERATOR_STAMP = ".generator"
"""File in a generated world folder naming the generator code that wrote it."""


@functools.cache
def generator_digest() -> str:
    """sha256 over the world generator's source files: a world written by other code is stale
    (read once per process; every world of a recipe is checked against it)."""
    import hashlib

    from collector.sandbox import generate

    h = hashlib.sha256()
    for path in sorted(Path(generate.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def world_folder(recipe: Recipe, seed: int) -> Path:
    """The generated world of ``seed``, written first if it is not there yet or was written
    by another version of the generator (so training on any machine reads the same worlds)."""
    import shutil

    folder = recipe.world_dir / str(seed)
    stamp = folder / GENERATOR_STAMP
    digest = generator_digest()
    current = stamp.read_text(encoding="utf-8").strip() if stamp.exists() else ""
    if current != digest or not (folder / "answers.json").exists():
        from collector.sandbox.generate import generate_world

        if folder.exists():
            log.info("world %s was written by another generator: writing it again", seed)
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        generate_world(seed, folder)
        stamp.write_text(digest + "\n", encoding="utf-8")
    return folder


def sources_of(recipe: Recipe, strict: bool = False) -> list[Source]:
    """The recipe's sources; a missing labelled folder is skipped with a warning (an error
    when ``strict``: the user named it)."""
    out = [Source("world", world_folder(recipe, seed)) for seed in recipe.worlds]
    if recipe.default_world:
        out.append(Source("world", DEFAULT_WORLD))
    for folder in recipe.labelled:
        if not label_file(folder).exists():
            if strict:
                raise RecipeError(f"{folder}: no labels.json or cases.toml there")
            log.warning("labelled pages %s not found: trained without them", folder)
            continue
        name = "fixtures" if folder.name == "classifier" and folder.parent.name == "fixtures" else folder.name
        out.append(Source("labelled", folder, name if name != "pages" else "corpus"))
    if not out:
        raise RecipeError("nothing to learn from: no worlds, no default world, no labelled folder")
    return out


def examples_of(sources: Sequence[Source], cache: Path | None, workers: int = 2) -> list[Example]:
    """Every source's examples (cached)."""
    try:
        return build(sources, cache=cache, workers=workers)
    except SourceError as e:
        raise RecipeError(str(e)) from None


def describe_sources(sources: Sequence[Source], examples: Sequence[Example]) -> list[dict]:
    """What weights.json lists as its training data."""
    out = []
    for source in sources:
        mine = [e for e in examples if (e.group.split("/")[0] if source.kind == "world" else e.source)
                == (source.label if source.kind == "world" else source.name)]
        entry = {"kind": source.kind, "name": source.label, "key": source.key(), "sites": len(mine),
                 "piracy": sum(e.label for e in mine)}
        if source.kind == "labelled":
            entry["labels_sha256"] = digest_of(label_file(source.path))
        try:
            entry["path"] = source.path.resolve().relative_to(PROJECT.parent).as_posix()
        except ValueError:
            entry["path"] = source.path.name
        out.append(entry)
    return out


def split(examples: Sequence[Example]) -> dict[str, Callable[[Example], bool]]:
    """Report sections: generated worlds, the default world, each labelled folder."""
    out: dict[str, Callable[[Example], bool]] = {}
    if any(e.source == "world" and e.group != "world:default" for e in examples):
        out["generated worlds"] = lambda e: e.source == "world" and e.group != "world:default"
    if any(e.group == "world:default" for e in examples):
        out["default world"] = lambda e: e.group == "world:default"
    for name in sorted({e.source for e in examples if e.source != "world"}):
        out[name] = lambda e, n=name: e.source == n
    return out
