"""Read-side queries shared by the CLI's commands. Every filter is a bound parameter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Classification, Page, Site


@dataclass(frozen=True)
class SiteVerdict:
    domain: str
    is_piracy: bool
    category: str
    score: float
    signals: list[str]
    classified_at: object


def latest_verdicts(session: Session, run_id: int | None = None, piracy_only: bool = False,
                    limit: int | None = None) -> list[SiteVerdict]:
    """Each site's latest classification (sites of one run, or all), highest score first."""
    latest = select(func.max(Classification.id)).group_by(Classification.site_id)
    if run_id is not None:
        in_run = select(Page.site_id).where(Page.run_id == run_id).distinct()
        latest = latest.where(Classification.site_id.in_(in_run))
    query = (select(Site.domain, Classification.is_piracy, Classification.category, Classification.score,
                    Classification.signals, Classification.classified_at)
             .join(Site, Site.id == Classification.site_id)
             .where(Classification.id.in_(latest))
             .order_by(Classification.score.desc(), Site.domain))
    if piracy_only:
        query = query.where(Classification.is_piracy.is_(True))
    if limit:
        query = query.limit(limit)
    return [SiteVerdict(*row) for row in session.execute(query)]
