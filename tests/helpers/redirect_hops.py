"""The hops a crawl recorded."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Site, SiteRelation


def hops(db) -> set[tuple[str, str, str]]:
    with db.connect() as c:
        a, b = Site.__table__.alias("a"), Site.__table__.alias("b")
        return {(r[0], r[1], str(r[2])) for r in c.execute(
            select(a.c.domain, b.c.domain, SiteRelation.kind)
            .join(a, a.c.id == SiteRelation.from_site_id).join(b, b.c.id == SiteRelation.to_site_id))}
