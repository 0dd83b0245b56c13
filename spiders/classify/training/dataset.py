"""Sites as training examples: the strongest count of every finding over a site's pages.

A site's verdict keeps, per signal, the strongest page (``SiteState``); since a signal's
weight grows with its count, that is the page with the largest count, so an example is
``{finding: (largest count, its detail)}`` and training sees exactly what scoring sees.
Examples of one source are cached as JSON lines keyed by the source's bytes and the
classifier's patterns (not its weights), so retraining does not re-read pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spiders.classify.training.sources import (
    SitePages,
    label_file,
    read_labelled,
    read_world,
    world_name,
)

DATASET_FORMAT = 1


@dataclass
class Example:
    """One labelled site, reduced to its findings."""

    id: str
    group: str
    source: str
    label: bool
    category: str
    role: str
    hard_negative: bool
    pages: int
    counts: dict[str, tuple[float, str]] = field(default_factory=dict)


def _classifier():
    from spiders.classify import Classifier

    global _CLF
    if _CLF is None:
        _CLF = Classifier.load()
    return _CLF


_CLF = None


def example_of(site: SitePages, classifier=None) -> Example:
    """Read ``site``'s pages through the crawl's reader and the classifier's findings."""
    from spiders.analysis import read_page

    clf = classifier or _classifier()
    counts: dict[str, tuple[float, str]] = {}
    for page in site.pages:
        _sel, facts = read_page(page)
        for f in clf.page_findings(facts):
            held = counts.get(f.name)
            if held is None or f.count > held[0]:
                counts[f.name] = (f.count, f.detail)
    return Example(site.id, site.group, site.source, site.label, site.category, site.role, site.hard_negative,
                   len(site.pages), counts)


def patterns_digest() -> str:
    """The classifier's config without the learned weights: what findings depend on."""
    from spiders.classify.verdict import DEFAULT_CONFIG_DIR

    digest = hashlib.sha256()
    for path in sorted(p for p in DEFAULT_CONFIG_DIR.rglob("*") if p.is_file() and p.suffix in {".toml", ".txt"}):
        digest.update(path.relative_to(DEFAULT_CONFIG_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    for module in sorted((Path(__file__).resolve().parents[1]).glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Source:
    """A folder to learn from: ``kind`` is ``labelled`` or ``world``."""

    kind: str
    path: Path
    name: str = ""

    @property
    def label(self) -> str:
        """How training records name it."""
        return world_name(self.path) if self.kind == "world" else (self.name or self.path.name)

    def key(self) -> str:
        """A digest of the bytes the examples come from: the label file, or the world's answer
        key and domain files (their ``[truth]``), and every page."""
        digest = hashlib.sha256(f"{DATASET_FORMAT}:{self.kind}:{self.label}".encode())
        root = self.path
        files = [root / label_file(root).name] if self.kind == "labelled" else \
            [root / "answers.json", *sorted((root / "domains").glob("*.toml"))]
        for path in [*files, *sorted(p for p in root.rglob("*.html") if p.is_file())]:
            if path.exists():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]

    def sites(self) -> Iterator[SitePages]:
        """The source's labelled sites."""
        if self.kind == "world":
            return read_world(self.path)
        return read_labelled(self.path, self.name or self.path.name)


def _read_source(source: Source) -> list[Example]:
    return [example_of(site) for site in source.sites()]


def _dump(examples: Iterable[Example]) -> str:
    return "".join(json.dumps(asdict(e), ensure_ascii=False, sort_keys=True) + "\n" for e in examples)


def _load(text: str) -> list[Example]:
    out = []
    for line in text.splitlines():
        doc = json.loads(line)
        doc["counts"] = {k: (float(v[0]), str(v[1])) for k, v in doc["counts"].items()}
        out.append(Example(**doc))
    return out


def build(sources: Sequence[Source], cache: Path | None = None, workers: int = 1) -> list[Example]:
    """Examples of every source, in source order (cached per source under ``cache``)."""
    results: dict[int, list[Example]] = {}
    todo: list[int] = []
    paths: dict[int, Path] = {}
    if cache is not None:
        folder = cache / patterns_digest()
        folder.mkdir(parents=True, exist_ok=True)
        for i, source in enumerate(sources):
            paths[i] = folder / f"{source.kind}-{source.key()}.jsonl"
            if paths[i].exists():
                results[i] = _load(paths[i].read_text(encoding="utf-8"))
            else:
                todo.append(i)
    else:
        todo = list(range(len(sources)))
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for i, examples in zip(todo, pool.map(_read_source, [sources[i] for i in todo]), strict=True):
                results[i] = examples
    else:
        for i in todo:
            results[i] = _read_source(sources[i])
    for i in todo:
        if i in paths:
            tmp = paths[i].with_suffix(".partial")
            tmp.write_text(_dump(results[i]), encoding="utf-8")
            tmp.replace(paths[i])
    return [e for i in range(len(sources)) for e in results[i]]
