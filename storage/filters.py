"""Site filters shared by ``isop sites``, ``isop export`` and the report.

    f = SiteFilter(piracy=True, country="RU", since=parse_when("30d"))
    query = f.apply(select(Site.id, ...).outerjoin(Classification, Classification.id == latest_classification_id()))

Every filter is a bound parameter. Filters on facts that change over time use the latest
observation, as the export does:

- ``piracy``/``category``/``min_score``: the site's latest classification (highest id);
  a site never classified matches none of them.
- ``country``/``asn``: where the site is hosted *now*: an A/AAAA value of the site's domain
  or one of its hosts from the latest DNS answer for that name, in the network the address
  was last seen in, of that country or AS. A site that moved away from the country no longer matches.
- ``registrar``: a case-insensitive substring of the latest registration's registrar.
- ``status``: the latest status observation (active, redirecting, down, parked).
- ``since``: sites last seen at or after it (still seen since); ``first_since``: sites
  first seen at or after it (new finds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, exists, func, or_, select, union
from sqlalchemy.orm import aliased

from storage.models import (
    Classification,
    DnsObservation,
    DomainRegistration,
    Host,
    IpAddress,
    IpNetwork,
    Network,
    Site,
    SiteStatusObservation,
)

CATEGORIES = ("streaming", "torrent", "ddl", "manga", "iptv", "warez", "ebook", "music", "counterfeit", "none")
STATUSES = ("active", "redirecting", "down", "parked")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class FilterError(ValueError):
    """A filter value that does not parse (the message is one line, for the CLI)."""


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """A point in time: ISO date or date-time (UTC unless a zone is given), or an age
    like ``7d``, ``12h``, ``2w`` (that long before ``now``)."""
    value = str(text).strip()
    match = _RELATIVE.match(value.lower())
    if match:
        return (now or datetime.now(UTC)) - timedelta(seconds=float(match[1]) * _UNITS[match[2]])
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise FilterError(f"not a date: {text!r} (use 2026-11-01, 2026-11-01T08:00Z or an age like 7d)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_asn(text: str | int) -> int:
    """``13335``, ``AS13335`` or ``as13335``."""
    value = str(text).strip().upper().removeprefix("AS")
    if not value.isdigit() or not 0 < int(value) < 2**32:
        raise FilterError(f"not an AS number: {text!r} (use e.g. 13335 or AS13335)")
    return int(value)


def parse_country(text: str) -> str:
    value = str(text).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise FilterError(f"not a two-letter country code: {text!r} (use e.g. NL)")
    return value


def latest_classification_id():
    """The id of the site's latest classification: a scalar subquery correlated to ``Site``
    (one index lookup per site, where a GROUP BY over every verdict would be computed
    for each page of results)."""
    later = aliased(Classification)
    return select(func.max(later.id)).where(later.site_id == Site.id).correlate(Site).scalar_subquery()


def _hosted_in(network_condition) -> object:
    """Site ids (a subquery) with a name whose latest A/AAAA answer holds an address last
    seen in a network matching the condition. Driven from the networks: the matching
    addresses, the DNS rows holding them (indexed by value), the current ones among those,
    then their names' sites."""
    d, newer, later_link = DnsObservation, aliased(DnsObservation), aliased(IpNetwork)
    addresses = (select(IpAddress.address).join(IpNetwork, IpNetwork.ip_id == IpAddress.id)
                 .join(Network, Network.id == IpNetwork.network_id)
                 .where(network_condition, ~exists().where(later_link.ip_id == IpNetwork.ip_id,
                                                           later_link.last_seen > IpNetwork.last_seen)))
    current = (select(d.name).where(d.value.in_(addresses), d.rtype.in_(("A", "AAAA")),
                                    ~exists().where(newer.name == d.name, newer.rtype == d.rtype,
                                                    newer.last_seen > d.last_seen))
               .subquery("hosted_names"))
    by_host = select(Host.site_id).join(current, current.c.name == Host.fqdn)
    by_domain = select(Site.id).join(current, current.c.name == Site.domain)
    return Site.id.in_(union(by_host, by_domain))


@dataclass(frozen=True)
class SiteFilter:
    category: str | None = None
    piracy: bool | None = None
    min_score: float | None = None
    country: str | None = None
    asn: int | None = None
    registrar: str | None = None
    status: str | None = None
    since: datetime | None = None
    first_since: datetime | None = None
    domains: tuple[str, ...] | None = None
    """Only these registered domains."""
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise FilterError(f"unknown category {self.category!r} (one of {', '.join(CATEGORIES)})")
        if self.status is not None and self.status not in STATUSES:
            raise FilterError(f"unknown status {self.status!r} (one of {', '.join(STATUSES)})")
        if self.min_score is not None and not 0 <= self.min_score <= 1:
            raise FilterError("min_score must be between 0 and 1")

    def needs_classification(self) -> bool:
        return self.piracy is not None or self.category is not None or self.min_score is not None

    def apply(self, query: Select) -> Select:
        """Add the filters to ``query``, which selects from ``Site`` joined (outer) to its
        latest ``Classification`` (see :func:`latest_classification_id`)."""
        if self.piracy is not None:
            query = query.where(Classification.is_piracy == self.piracy)
        if self.category is not None:
            query = query.where(Classification.category == self.category)
        if self.min_score is not None:
            query = query.where(Classification.score >= self.min_score)
        if self.domains is not None:
            query = query.where(Site.domain.in_(list(self.domains)))
        if self.since is not None:
            query = query.where(Site.last_seen >= self.since)
        if self.first_since is not None:
            query = query.where(Site.first_seen >= self.first_since)
        if self.country is not None:
            query = query.where(_hosted_in(Network.country == self.country))
        if self.asn is not None:
            query = query.where(_hosted_in(Network.asn == self.asn))
        if self.registrar is not None:
            r, later = DomainRegistration, aliased(DomainRegistration)
            newest = ~exists().where(later.site_id == r.site_id, or_(
                later.last_seen > r.last_seen, (later.last_seen == r.last_seen) & (later.id > r.id)))
            query = query.where(exists().where(
                r.site_id == Site.id, newest,
                func.lower(r.registrar).contains(self.registrar.strip().lower(), autoescape=True)))
        if self.status is not None:
            s, later = SiteStatusObservation, aliased(SiteStatusObservation)
            newest = ~exists().where(later.site_id == s.site_id, or_(
                later.last_seen > s.last_seen, (later.last_seen == s.last_seen) & (later.id > s.id)))
            query = query.where(exists().where(s.site_id == Site.id, newest, s.status == self.status))
        return query
