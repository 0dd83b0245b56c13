"""Write one generated site: :func:`render_site` picks the builder of the site's role
(:mod:`~collector.sandbox.generate.pages_infra`, :mod:`~collector.sandbox.generate.pages_roles`)
over the shared :class:`~collector.sandbox.generate.pages_site.Site` state, then encodes the
files in the site's charset. The draws come from the caller's ``random.Random`` only."""

from __future__ import annotations

import random

from collector.sandbox.generate.pages_infra import BUILDERS, build_piracy
from collector.sandbox.generate.pages_site import Site, charset_label, own_link_pages, stylesheet
from collector.sandbox.generate.spec import SiteSpec

__all__ = ["charset_label", "render_site"]


def render_site(rng: random.Random, spec: SiteSpec) -> dict[str, bytes]:
    """relative path -> bytes for one site; same rng state and spec => same bytes."""
    site = Site(rng, spec)
    BUILDERS.get(spec.role, build_piracy)(site)
    own_link_pages(site)
    for args in site.pending:
        site._assemble(*args)
    site.files = {p: c for p, c in site.files.items() if c != ""}
    if spec.favicon:
        site.files["favicon.ico"] = spec.favicon
    if site.css:
        site.files[site.css.lstrip("/")] = stylesheet(rng, spec)
    return site.encoded()
