"""Recording sites and hosts: the keys every other observation hangs from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import Host, Site
from storage.names import parse_host
from storage.observe import ids_by_key, upsert


def record_hosts(session: Session, hosts: Iterable[str], seen_at: datetime,
                 run_id: int | None = None) -> dict[str, tuple[int, int]]:
    """Observe host names (and their sites) at ``seen_at``.

    Returns ``{fqdn: (site_id, host_id)}`` keyed by the normalised (punycode) name.
    """
    parsed = {parse_host(h).fqdn: parse_host(h) for h in hosts}
    if not parsed:
        return {}
    upsert(session, Site, [{"domain": p.domain, "suffix": p.suffix, "first_run_id": run_id,
                            "first_seen": seen_at, "last_seen": seen_at} for p in parsed.values()],
           key=["domain"])
    site_ids = ids_by_key(session, Site, ["domain"], [(p.domain,) for p in parsed.values()])
    upsert(session, Host, [{"fqdn": p.fqdn, "site_id": site_ids[(p.domain,)],
                            "first_seen": seen_at, "last_seen": seen_at} for p in parsed.values()],
           key=["fqdn"])
    host_ids = ids_by_key(session, Host, ["fqdn"], [(f,) for f in parsed])
    return {f: (site_ids[(p.domain,)], host_ids[(f,)]) for f, p in parsed.items()}
