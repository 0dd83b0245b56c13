"""Labelled sites to learn from, read from disk the way the crawl would see them.

Two folder shapes are read, neither by importing the code that made it:

- a **labelled page folder** (the shape of ``../shared/data/pages``): ``labels.json`` with
  one record per page (``file``, ``domain``, ``url``, ``is_piracy``, ``category``,
  ``source.repo``...), one page per site; the cross-validation group is the record's
  source repository, so a whole repository is left out at once;
- a **sandbox world** (the default world or one from ``isop sandbox generate``):
  ``sites/<host>/`` with the files the sandbox serves, ``domains/*.toml`` with each
  domain's ``[truth]``, and for generated worlds ``answers.json`` with each site's role.
  The group is the world (its seed), so a whole world is left out at once.

Bytes are decoded as Scrapy decodes a response (HTTP charset, then ``<meta>``, then a
guess), then read by :func:`spiders.analysis.read_page`, the crawl's own reader.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spiders.analysis import PageFacts

PAGE_ROLES = frozenset({"piracy", "legal", "hard_negative", "parked", "trap", "hostile"})
"""Generated-world roles whose verdict rests on their own pages. Hubs, forums, status
pages, notices, video hosts and cyberlockers are judged by the link graph or by the
site they point to, which no offline page shows: evaluation reports them apart."""
HARD_ROLES = frozenset({"hard_negative", "legal"})
MAX_PAGES = 10
MAX_BYTES = 2_000_000


@dataclass
class SitePages:
    """One labelled site and its pages."""

    id: str
    group: str
    source: str
    label: bool
    category: str
    role: str = ""
    hard_negative: bool = False
    pages: list[PageFacts] = field(default_factory=list)


class SourceError(ValueError):
    """A training source that cannot be read (one line, names the file)."""


def decode(url: str, body: bytes, content_type: str = "") -> str:
    """The page text as the crawl decodes it."""
    from scrapy.http import HtmlResponse

    headers = {"Content-Type": content_type} if content_type else {}
    return HtmlResponse(url, body=body[:MAX_BYTES], headers=headers).text


def digest_of(path: Path) -> str:
    """sha256 of one file (what a training record lists)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SourceError(f"{path}: cannot read ({e})") from None


def _cases(folder: Path) -> list[dict]:
    """``cases.toml`` (the classifier's test fixtures: file under pages/, url, category)."""
    path = folder / "cases.toml"
    try:
        cases = tomllib.loads(path.read_text(encoding="utf-8")).get("case", [])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise SourceError(f"{path}: cannot read ({e})") from None
    return [{"file": f"pages/{c.get('file')}", "url": c.get("url"), "is_piracy": c.get("category") != "none",
             "category": c.get("category"), "charset": "utf-8"} for c in cases]


def label_file(folder: Path) -> Path:
    """The folder's label file: ``labels.json``, or the fixtures' ``cases.toml``."""
    return folder / "labels.json" if (folder / "labels.json").exists() or not (folder / "cases.toml").exists() \
        else folder / "cases.toml"


def read_labelled(folder: Path, name: str = "corpus") -> Iterator[SitePages]:
    """Sites of a labelled page folder (``labels.json`` + one page file per record, or the
    fixtures' ``cases.toml``): one site per record, grouped by source repository."""
    if not folder.is_dir():
        raise SourceError(f"{folder}: no such folder of labelled pages")
    labels = _json(folder / "labels.json") if label_file(folder).name == "labels.json" else _cases(folder)
    if not isinstance(labels, list):
        raise SourceError(f"{folder / 'labels.json'}: a list of records expected")
    for i, rec in enumerate(labels):
        where = f"{folder / 'labels.json'} record {i + 1}"
        if not isinstance(rec, dict) or not all(k in rec for k in ("file", "url", "is_piracy", "category")):
            raise SourceError(f"{where}: needs file, url, is_piracy and category")
        path = (folder / str(rec["file"])).resolve()
        if folder.resolve() not in path.parents or not path.is_file():
            raise SourceError(f"{where}: page file {rec['file']!r} not found in the folder")
        repo = (rec.get("source") or {}).get("repo") or name
        url = str(rec["url"])
        site = str(rec.get("domain") or url)
        category = str(rec["category"]) if rec["is_piracy"] else "none"
        html = decode(url, path.read_bytes(), f"text/html; charset={rec['charset']}" if rec.get("charset") else "")
        yield SitePages(id=f"{name}:{rec['file']}", group=f"{name}:{repo}", source=name, label=bool(rec["is_piracy"]),
                        category=category, role="piracy" if rec["is_piracy"] else "hard_negative",
                        hard_negative=not rec["is_piracy"],
                        pages=[PageFacts(url=url, status=200, html=html, site=site)])


def _truths(world: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((world / "domains").glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise SourceError(f"{path}: cannot read ({e})") from None
        out[path.stem] = data.get("truth") or {}
    return out


def _domain_of(host: str, truths: dict[str, dict]) -> str | None:
    parts = host.split(".")
    return next((".".join(parts[i:]) for i in range(len(parts)) if ".".join(parts[i:]) in truths), None)


def _page_files(folder: Path) -> list[Path]:
    pages = sorted((p for p in folder.rglob("*.html") if p.is_file()), key=lambda p: (p.name != "index.html",
                                                                                       len(p.parts), p.as_posix()))
    return [p for p in pages if p.name not in ("404.html",)][:MAX_PAGES]


def world_name(world: Path) -> str:
    """``world:<seed>`` for a generated world, ``world:<folder>`` for another."""
    answers = world / "answers.json"
    if answers.exists():
        doc = _json(answers)
        if isinstance(doc, dict) and "seed" in doc:
            return f"world:{doc['seed']}"
    return f"world:{world.name}"


def read_world(world: Path, roles: frozenset[str] | None = PAGE_ROLES) -> Iterator[SitePages]:
    """Sites of a sandbox world with their own pages (``roles``: generated-world roles kept;
    ``None`` keeps every site). JS-only sites are skipped: their listings need the browser."""
    name = world_name(world)
    truths = _truths(world)
    answers = _json(world / "answers.json") if (world / "answers.json").exists() else {}
    keyed = answers.get("sites", {}) if isinstance(answers, dict) else {}
    for folder in sorted(p for p in (world / "sites").iterdir() if p.is_dir()):
        host = folder.name
        domain = _domain_of(host, truths)
        if domain is None:
            continue
        truth = truths[domain]
        key = keyed.get(domain) or keyed.get(host) or {}
        role = str(key.get("role") or ("piracy" if truth.get("piracy") else "legal"))
        if key.get("js_only") or (roles is not None and keyed and role not in roles):
            continue
        pages = []
        for path in _page_files(folder):
            rel = path.relative_to(folder).as_posix()
            url = f"https://{host}/" + ("" if rel == "index.html" else rel.removesuffix("index.html"))
            pages.append(PageFacts(url=url, status=200, html=decode(url, path.read_bytes()), site=domain))
        if pages:
            yield SitePages(id=f"{name}/{host}", group=name, source="world", label=bool(truth.get("piracy")),
                            category=str(truth.get("category") or "none") if truth.get("piracy") else "none",
                            role=role, hard_negative=role in HARD_ROLES, pages=pages)
