"""What the page renderer needs to know about one generated site.

The generator (this package) decides a world's structure -- operators, domains,
identifiers, links -- and hands each site to ``pages.render_site`` as a
``SiteSpec``; the renderer only turns it into files.  Keeping the contract in one
small dataclass lets the two halves be written and tested apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SiteSpec:
    """One web site of a generated world, as the page renderer sees it."""

    host: str
    """Host name the site is served at, e.g. ``kinogo7.xyz``."""
    role: str
    """answers.json role: piracy, legal, hard_negative, hub, forum, status,
    video_host, cyberlocker, parked, trap, hostile, or notice (a "we moved" page)."""
    category: str
    """A world CATEGORIES value; ``none`` unless the site is piracy."""
    language: str
    """One of ko en fr es ar ru zh ja pt vi id tr de it."""
    charset: str
    """Python codec name the files are encoded in (utf-8, windows-1251, gbk,
    shift_jis, euc-kr, iso-8859-1)."""
    brand: str
    """Display name of the site."""
    links: list[str] = field(default_factory=list)
    """Absolute URLs the site links to (a hub: everyone)."""
    snippets: list[str] = field(default_factory=list)
    """Raw ASCII-safe HTML fragments placed verbatim (analytics scripts, wallet
    lines, contact links, ad tags): all on the front page, some on inner pages."""
    moved_to: str = ""
    """Role ``notice``: the new URL the page announces."""
    js_only: bool = False
    """The listing is built by a script at load time (links only in JS)."""
    favicon: bytes | None = None
    """Written to favicon.ico and linked with ``<link rel="icon">``."""
    pages: int = 5
    """How many inner pages (film/episode/product/release pages)."""
    theme: str = ""
    """Shared theme/CMS name (same generator meta, same CSS path), or empty."""
