"""The classifier's value types: what goes in (a page), what comes out (signals, a verdict)."""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = (
    "streaming",
    "torrent",
    "ddl",
    "manga",
    "iptv",
    "warez",
    "ebook",
    "music",
    "counterfeit",
)
"""Piracy categories; a verdict's category is one of these or ``"none"``."""

NONE_CATEGORY = "none"

DELIVERY: tuple[str, ...] = ("torrent", "ddl", "streaming", "iptv")
"""Delivery mechanisms a verdict's ``delivery`` draws from."""

LINK_KINDS: frozenset[str] = frozenset({"anchor", "iframe", "script", "redirect", "js", "form"})


@dataclass(frozen=True)
class Signal:
    """One piece of evidence from a page.

    ``category`` is the piracy category the evidence points to, or ``None`` for context
    evidence (ad networks, domain hopping) and for counter-evidence (negative ``weight``).
    ``weight`` is the contribution in log-odds units; ``detail`` is short human text.
    """

    name: str
    category: str | None
    weight: float
    detail: str

    def describe(self) -> str:
        """Human-readable form, e.g. ``"torrent: 12 magnet links (+1.60)"``."""
        if self.weight < 0:
            label = "against"
        else:
            label = self.category or "context"
        return f"{label}: {self.detail} ({self.weight:+.2f})"


@dataclass(frozen=True)
class PageInput:
    """A fetched page as the crawler saw it.

    ``text`` is the visible text (may be empty: then it is derived from ``html``);
    ``links`` are ``(url, kind, anchor text)`` with kind in :data:`LINK_KINDS`.
    """

    url: str
    status: int
    title: str
    html: str
    text: str = ""
    links: tuple[tuple[str, str, str], ...] = ()
    lang: str | None = None


@dataclass(frozen=True)
class Neighbourhood:
    """What the link graph says about a site."""

    flagged_inbound: int = 0
    """Distinct flagged piracy sites linking here."""
    flagged_outbound: int = 0
    """Distinct flagged piracy sites this site links to."""
    hub_listed: bool = False
    embedded_by_flagged: int = 0
    """Distinct flagged piracy sites that embed this site in an iframe (a player host)."""
    outbound_categories: tuple[tuple[str, int], ...] = ()
    """Categories of the flagged sites this site links to, most common first."""


@dataclass(frozen=True)
class Verdict:
    """A site's classification with the reasons, strongest first.

    ``signals`` is internal detail with weights (the dossier's detail section);
    ``reasons`` are plain-language sentences for an analyst, positive evidence strongest
    first; ``delivery`` the mechanisms seen (a subset of :data:`DELIVERY`, strongest
    first, empty when not piracy).
    """

    is_piracy: bool
    category: str
    score: float
    signals: tuple[str, ...]
    version: str
    reasons: tuple[str, ...] = ()
    delivery: tuple[str, ...] = ()
