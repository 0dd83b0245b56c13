"""Which nameservers many unrelated customers share, by ``config/enrich/nameservers.toml``.

A nameserver set is an operator's only when the operator runs it: a DNS provider
(Cloudflare hands every customer two names from one pool), a registrar's default pair or a
parking service serves thousands of unrelated zones, so a set on any of them never ties
sites (:mod:`storage.clusters`). CDNs' nameserver suffixes (``config/enrich/cdn.toml``,
:func:`storage.cdn.cdn_of_nameserver`) count too. The file is read once per path
(:func:`load`, cached); :func:`check` raises :class:`NameserverListError` with one line,
which ``isop config check`` prints.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NAMESERVERS_FILE = Path(__file__).resolve().parents[1] / "config" / "enrich" / "nameservers.toml"
KINDS = ("dns-provider", "registrar-default", "parking")


class NameserverListError(ValueError):
    """The nameserver file cannot be used; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class NameserverProvider:
    """One ``[[provider]]`` of the file."""

    name: str
    kind: str
    """dns-provider, registrar-default or parking."""
    suffixes: tuple[str, ...] = ()
    """Name suffixes, lower-case, matched on label boundaries."""
    label_prefixes: tuple[str, ...] = ()
    """A label of the name starting with one of these matches (``awsdns-``)."""

    def matches(self, name: str) -> bool:
        return any(name == s or name.endswith("." + s) for s in self.suffixes) or \
            any(label.startswith(p) for p in self.label_prefixes for label in name.split("."))


def _norm(name: str) -> str:
    return name.strip().strip(".").lower()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _provider(item: object, where: str) -> NameserverProvider:
    if not isinstance(item, dict):
        raise NameserverListError(f"{where}: not a table")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise NameserverListError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name.strip()})"
    unknown = set(item) - {"name", "kind", "suffixes", "label_prefixes"}
    if unknown:
        raise NameserverListError(f"{where}: unknown keys {sorted(unknown)}")
    if item.get("kind") not in KINDS:
        raise NameserverListError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")

    def strings(key: str) -> tuple[str, ...]:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and _norm(v) for v in value):
            raise NameserverListError(f"{where}: {key!r} must be a list of non-empty strings")
        return tuple(_norm(v) for v in value)

    suffixes, prefixes = strings("suffixes"), strings("label_prefixes")
    if not suffixes and not prefixes:
        raise NameserverListError(f"{where}: needs 'suffixes' or 'label_prefixes'")
    return NameserverProvider(name.strip(), item["kind"], suffixes, prefixes)


def check(path: Path | str | None = None) -> tuple[NameserverProvider, ...]:
    """The providers of a nameserver file (default: :data:`NAMESERVERS_FILE`); raises
    :class:`NameserverListError` (one line)."""
    path = Path(path) if path is not None else NAMESERVERS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as e:
        raise NameserverListError(_one_line(f"{path}: {e}")) from None
    items = data.get("provider", [])
    if not isinstance(items, list):
        raise NameserverListError(f"{path}: 'provider' must be an array of tables ([[provider]])")
    return tuple(_provider(item, f"{path}: provider {i + 1}") for i, item in enumerate(items))


@lru_cache(maxsize=4)
def load(path: Path = NAMESERVERS_FILE) -> tuple[NameserverProvider, ...]:
    """The providers, read once per path. A bad file gives none here (``isop config check``
    reports it); CDN nameservers still count."""
    try:
        return check(path)
    except NameserverListError:
        return ()


def provider_of(nameserver: str, path: Path = NAMESERVERS_FILE) -> NameserverProvider | None:
    """The shared-nameserver provider ``nameserver`` belongs to, or None."""
    name = _norm(nameserver)
    return next((p for p in load(path) if name and p.matches(name)), None)
