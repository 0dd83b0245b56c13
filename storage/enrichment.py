"""Writing enrichment results as history: DNS records, IPs, networks, ASNs, registrations,
certificates, and every lookup's outcome (failures included, with the reason).

Each function takes plain values (the ``enrich`` package's dataclasses or their fields),
writes with the idempotent upserts of :mod:`storage.observe`, and leaves the transaction
to the caller. Re-observing a fact moves its ``last_seen``; a changed fact (a new
registrar, a new abuse contact) has a new fingerprint and so becomes a new row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from storage.models import (
    Asn,
    Certificate,
    DnsObservation,
    DomainRegistration,
    Host,
    HostCertificate,
    IpAddress,
    IpNetwork,
    Lookup,
    Network,
    Page,
    Site,
    SiteRelation,
)
from storage.names import HostNameError, parse_host
from storage.observe import fingerprint, ids_by_key, upsert
from storage.sites import record_hosts

MAX_RAW_CHARS = 200_000


def record_lookups(session: Session, lookups: Iterable[Mapping[str, Any]], run_id: int | None) -> int:
    """``lookups``: dicts with service, target, server, outcome, detail, duration_ms, at."""
    rows = [{"run_id": run_id, "service": lk["service"], "target": str(lk["target"])[:300],
             "server": (lk.get("server") or None) and str(lk["server"])[:300], "outcome": lk["outcome"][:20],
             "detail": (lk.get("detail") or None) and str(lk["detail"])[:1000],
             "duration_ms": lk.get("duration_ms"), "at": lk["at"]} for lk in lookups]
    if rows:
        session.execute(Lookup.__table__.insert(), rows)
    return len(rows)


def record_dns(session: Session, records: Iterable[tuple[str, str, str, int | None]], seen_at: datetime) -> int:
    """``records``: ``(name, rtype, value, ttl)`` of answered records."""
    rows = [{"name": n[:253], "rtype": t, "value": v[:1000], "ttl": ttl, "first_seen": seen_at, "last_seen": seen_at}
            for n, t, v, ttl in records]
    return upsert(session, DnsObservation, rows, key=["name", "rtype", "value"], update=["ttl"])


def record_ips(session: Session, ips: Mapping[str, str | None], seen_at: datetime) -> dict[str, int]:
    """``ips``: address -> reserved kind (None for public). Returns address -> id."""
    rows = [{"address": ip, "version": 6 if ":" in ip else 4, "reserved": kind,
             "first_seen": seen_at, "last_seen": seen_at} for ip, kind in ips.items()]
    upsert(session, IpAddress, rows, key=["address"], update=["reserved"])
    return {k[0]: v for k, v in ids_by_key(session, IpAddress, ["address"], [(ip,) for ip in ips]).items()}


NETWORK_FACTS = ("cidr", "start_address", "end_address", "asn", "name", "handle", "org", "country", "rir",
                 "abuse_email", "cdn")


def record_network(session: Session, facts: Mapping[str, Any], raw: Any, seen_at: datetime) -> int:
    """A network (history row keyed by its facts' fingerprint); returns its id."""
    row = {k: facts.get(k) for k in NETWORK_FACTS}
    row["fingerprint"] = fingerprint(row)
    row.update(raw=raw if isinstance(raw, dict) else None, first_seen=seen_at, last_seen=seen_at)
    upsert(session, Network, [row], key=["cidr", "fingerprint"])
    return ids_by_key(session, Network, ["cidr", "fingerprint"], [(row["cidr"], row["fingerprint"])])[
        (row["cidr"], row["fingerprint"])]


def record_asn(session: Session, number: int, name: str | None, country: str | None, rir: str | None,
               allocated: str | None, seen_at: datetime) -> None:
    facts = {"number": number, "name": name, "country": country, "rir": rir, "allocated": allocated}
    upsert(session, Asn, [{**facts, "fingerprint": fingerprint(facts), "first_seen": seen_at, "last_seen": seen_at}],
           key=["number", "fingerprint"])


def link_ip_network(session: Session, ip_id: int, network_id: int, seen_at: datetime) -> None:
    upsert(session, IpNetwork, [{"ip_id": ip_id, "network_id": network_id, "first_seen": seen_at,
                                 "last_seen": seen_at}], key=["ip_id", "network_id"])


REGISTRATION_FACTS = ("registrar", "registrar_iana_id", "created", "updated", "expires", "nameservers", "statuses",
                      "registrant_org", "registrant_country", "abuse_email", "redacted")


def record_registration(session: Session, site_id: int, source: str, server: str | None,
                        facts: Mapping[str, Any], raw: str, seen_at: datetime) -> None:
    """A parsed WHOIS/RDAP record with its raw answer; a changed record is a new row."""
    row = {k: facts.get(k) for k in REGISTRATION_FACTS}
    row["nameservers"] = list(row["nameservers"] or ())
    row["statuses"] = list(row["statuses"] or ())
    fp = fingerprint({"source": source, **row})
    upsert(session, DomainRegistration, [{**row, "site_id": site_id, "source": source, "server": server,
                                          "raw": raw[:MAX_RAW_CHARS], "fingerprint": fp,
                                          "first_seen": seen_at, "last_seen": seen_at}],
           key=["site_id", "source", "fingerprint"])


def record_certificate(session: Session, host: str, cert: Mapping[str, Any], seen_at: datetime,
                       run_id: int | None = None) -> list[str]:
    """The certificate ``host`` presented; returns its SAN names that are new sites (leads)."""
    upsert(session, Certificate, [{
        "sha256": cert["sha256"], "issuer": (cert.get("issuer") or "")[:1000] or None,
        "subject": (cert.get("subject") or "")[:1000] or None, "subject_cn": (cert.get("subject_cn") or "")[:300] or None,
        "sans": list(cert.get("sans") or ())[:500], "serial": cert.get("serial"),
        "not_before": cert.get("not_before"), "not_after": cert.get("not_after"), "der": cert.get("der"),
        "first_seen": seen_at, "last_seen": seen_at}], key=["sha256"])
    cert_id = ids_by_key(session, Certificate, ["sha256"], [(cert["sha256"],)])[(cert["sha256"],)]
    # SAN entries are attacker-chosen: keep those that are host names (no IPs, no wildcards)
    names: dict[str, str] = {}
    for n in cert.get("sans") or ():
        if isinstance(n, str) and not n.startswith("*."):
            try:
                parsed = parse_host(n)
            except HostNameError:
                continue
            if parsed.known_suffix:
                names[parsed.fqdn] = parsed.domain
    candidates = sorted(set(names.values()))
    known = set(session.scalars(select(Site.domain).where(Site.domain.in_(candidates)))) if candidates else set()
    ids = record_hosts(session, [host, *names], seen_at, run_id)
    host_id = ids.get(host.lower().rstrip("."), (None, None))[1]
    if host_id is not None:
        upsert(session, HostCertificate, [{"host_id": host_id, "certificate_id": cert_id, "first_seen": seen_at,
                                           "last_seen": seen_at}], key=["host_id", "certificate_id"])
    return [d for d in candidates if d not in known]


def sites_due(session: Session, services: Sequence[str], stale_before: datetime,
              domains: Sequence[str] | None = None) -> list[tuple[int, str]]:
    """Crawled sites (with at least one page) and the domains hops name, never enriched for
    one of ``services`` or last enriched before ``stale_before``; sites only linked to (video
    hosts, social networks) are not enriched unless named. ``domains`` given: those sites, due or not.
    Returns ``(site_id, domain)``."""
    if domains:
        rows = session.execute(select(Site.id, Site.domain).where(Site.domain.in_(list(domains)))).all()
        return [(r[0], r[1]) for r in rows]
    last = (select(Lookup.target, func.max(Lookup.at).label("at"))
            .where(Lookup.service.in_([f"site:{s}" for s in services])).group_by(Lookup.target).subquery())
    # Crawled sites, and the domains a hop names (redirects, announced moves, mirrors,
    # numbered successors): a successor is an investigation target before it serves a page.
    crawled = union(select(Page.site_id.label("site_id")),
                    select(SiteRelation.from_site_id.label("site_id")),
                    select(SiteRelation.to_site_id.label("site_id"))).subquery()
    rows = session.execute(select(Site.id, Site.domain, last.c.at).join(crawled, crawled.c.site_id == Site.id)
                           .outerjoin(last, last.c.target == Site.domain).order_by(Site.id)).all()
    return [(r[0], r[1]) for r in rows if r[2] is None or r[2] < stale_before]


def crawled_hosts(session: Session, site_id: int, limit: int = 20) -> list[str]:
    """Host names recorded for the site (from its pages and links), at most ``limit``."""
    hosts = list(session.scalars(select(Host.fqdn).where(Host.site_id == site_id).order_by(Host.fqdn).limit(limit)))
    return hosts


def https_hosts(session: Session, site_id: int, limit: int = 5) -> list[str]:
    """Hosts of the site fetched over HTTPS (from its pages' final URLs)."""
    urls = session.scalars(select(Page.final_url).where(Page.site_id == site_id, Page.final_url.like("https://%"))
                           .limit(200))
    out: list[str] = []
    for url in urls:
        host = url.split("/", 3)[2].split(":")[0].lower() if url.count("/") >= 2 else ""
        if host and host not in out:
            out.append(host)
        if len(out) >= limit:
            break
    return out


def has_pages(session: Session, site_id: int) -> bool:
    """Whether any page of the site was fetched (over any scheme)."""
    return session.scalar(select(Page.id).where(Page.site_id == site_id).limit(1)) is not None
