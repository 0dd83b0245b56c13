"""Building a store by hand for the network tests: indicators written the way a crawl batch
writes them (tests/test_clusters.py, tests/test_network_rules.py)."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime

from storage.crawl import _write_indicators
from storage.sites import record_hosts

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Found = namedtuple("Found", "type value context")


def sight(s, domain: str, kind: str, value: str, at: datetime = T0) -> None:
    """An indicator seen on a site's front page, written the way a crawl batch writes it."""
    ids = record_hosts(s, [domain], at)
    _write_indicators(s, [(Found(kind, value, None), ids[domain][0], None, at)])
