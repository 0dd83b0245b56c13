"""The rules of operator networks (``[clusters]`` of the configuration), kept with the store
code that applies them (:mod:`storage.clusters`) so that the store never imports upwards;
:mod:`collector.config` reads the TOML section into this dataclass and checks it."""

from __future__ import annotations

from dataclasses import dataclass, field


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _fraction(value: float) -> float:
    if not 0 < value <= 1:
        raise ValueError("must be more than 0 and at most 1")
    return value


@dataclass(frozen=True)
class ClustersConfig:
    """Operator networks (:mod:`storage.clusters`): when shared identifiers tie sites."""

    threshold: float = field(default=0.6, metadata={"check": _fraction, "max": 1.0})
    """Link strength at or above which two sites are one operator's (the link must also
    carry an operator identifier: infrastructure never joins sites alone)."""
    max_sites_per_identifier: int = field(default=25, metadata={"check": _positive, "max": 100_000})
    """An identifier seen on more sites than this is shared infrastructure, whatever else."""
    uncorroborated_sites: int = field(default=10, metadata={"check": _positive, "max": 100_000})
    """An account, wallet, contact, private certificate seen on more sites than this links
    them only when most of those sites are also tied by other identifiers (an operator runs
    1-10 sites; a theme's default id is on many unrelated ones)."""
    uncorroborated_weak_sites: int = field(default=2, metadata={"check": _positive, "max": 100_000})
    """The same for favicons, IP addresses and nameserver sets, which a theme, a CMS or a
    shared host gives unrelated sites: on more sites than this they need corroboration."""
    corroboration: float = field(default=0.6, metadata={"check": _fraction, "max": 1.0})
    """Share of an identifier's sites that other operator ties must connect (the largest
    such group) for a value above the limits to count as one operator's."""
    max_hop_brands: int = field(default=2, metadata={"check": _positive, "max": 10_000})
    """A site whose redirects, notices and mirror lists point at more brands than this
    (a status page, a mirror list of several brands) makes no hop ties; nor does a site
    reached by hops from more brands than this."""
    max_hop_domains: int = field(default=10, metadata={"check": _positive, "max": 100_000})
    """Likewise for the number of distinct registered domains a site hops to (or from)."""
    incremental_max_share: float = field(default=0.2, metadata={"check": _fraction, "max": 1.0})
    """The recompute after a crawl grows networks around the changed sites only while they
    are at most this share of the store; more, and one whole-store pass is cheaper."""
