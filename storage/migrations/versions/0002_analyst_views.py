"""analyst views

Read-only SQL views (``v_*``) for analysts who query the store directly (sqlite3, psql,
``isop ui``); documented, with example questions, in docs/QUERIES.md.

The SQL is portable: the same statement creates each view on SQLite and PostgreSQL.

- "Latest" means what :mod:`storage.export` means by it: the highest classification id;
  the status, registration, network and cluster row with the latest ``last_seen`` (the
  highest id on a tie); per DNS name and record type, the values of the latest answer.
  ``ROW_NUMBER()`` / ``MAX() OVER`` behave the same on both engines (SQLite >= 3.25).
- JSON columns (``signals``, ``nameservers``) are exposed as JSON text on both engines
  (``CAST(... AS TEXT)``: a no-op on SQLite's JSON text, JSONB's text form on PostgreSQL).
- Flags computed here (``is_current``) are ``CASE ... THEN TRUE ELSE FALSE END``: a boolean
  on PostgreSQL, 1/0 on SQLite, exactly like the stored ``is_piracy``.
- Timestamps are the stored columns (UTC; text ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite,
  ``timestamptz`` on PostgreSQL), so they sort and compare as in the tables.

Views are not tables: ``alembic check`` (autogenerate) does not compare them. A later
migration that rebuilds one of the tables below on SQLite (``batch_alter_table`` copies,
drops and renames the table) must drop the views first and create them again after, or
SQLite refuses the rename ("error in view v_site_latest: no such table: main.sites"); running
``PRAGMA legacy_alter_table=ON`` on the connection first also works (the views then follow
the table by name).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00

"""
from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


VIEWS: dict[str, str] = {
    # One row per site: the site, its latest verdict, status and cluster.
    "v_site_latest": """
SELECT s.domain, s.suffix, s.first_seen, s.last_seen,
       c.is_piracy, c.category, c.score, CAST(c.signals AS TEXT) AS signals,
       c.pages_seen, c.classifier_version, c.classified_at,
       st.status, st.detail AS status_detail, st.last_seen AS status_seen,
       cm.cluster_key
FROM sites s
LEFT JOIN classifications c
       ON c.id = (SELECT MAX(c2.id) FROM classifications c2 WHERE c2.site_id = s.id)
LEFT JOIN (SELECT site_id, status, detail, last_seen,
                  ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY last_seen DESC, id DESC) AS rn
           FROM site_statuses) st
       ON st.site_id = s.id AND st.rn = 1
LEFT JOIN (SELECT m.site_id, k.key AS cluster_key,
                  ROW_NUMBER() OVER (PARTITION BY m.site_id
                                     ORDER BY m.last_seen DESC, m.strength DESC, m.id DESC) AS rn
           FROM cluster_members m JOIN clusters k ON k.id = m.cluster_id) cm
       ON cm.site_id = s.id AND cm.rn = 1
""",
    # Every A/AAAA record of the site's domain and hosts, with the network the address
    # was last seen in; is_current marks the records of the name's latest answer.
    "v_site_hosting": """
WITH names AS (
    SELECT site_id, fqdn AS name FROM hosts
    UNION
    SELECT id AS site_id, domain AS name FROM sites
), answers AS (
    SELECT name, rtype, value, first_seen, last_seen,
           CASE WHEN last_seen = MAX(last_seen) OVER (PARTITION BY name, rtype)
                THEN TRUE ELSE FALSE END AS is_current
    FROM dns_observations
    WHERE rtype IN ('A', 'AAAA')
), nets AS (
    SELECT l.ip_id, n.asn, n.cidr, n.name, n.org, n.country, n.abuse_email, n.cdn,
           ROW_NUMBER() OVER (PARTITION BY l.ip_id
                              ORDER BY n.last_seen DESC, l.last_seen DESC, n.id DESC) AS rn
    FROM ip_networks l JOIN networks n ON n.id = l.network_id
), as_names AS (
    SELECT number, name,
           ROW_NUMBER() OVER (PARTITION BY number ORDER BY last_seen DESC, id DESC) AS rn
    FROM asns
)
SELECT s.domain, a.name AS host, a.rtype, a.value AS ip, ip.reserved,
       nt.asn, an.name AS as_name, nt.cidr, nt.name AS network_name, nt.org, nt.country,
       nt.abuse_email, nt.cdn, a.first_seen, a.last_seen, a.is_current
FROM names nm
JOIN sites s ON s.id = nm.site_id
JOIN answers a ON a.name = nm.name
LEFT JOIN ip_addresses ip ON ip.address = a.value
LEFT JOIN nets nt ON nt.ip_id = ip.id AND nt.rn = 1
LEFT JOIN as_names an ON an.number = nt.asn AND an.rn = 1
""",
    # The latest registration record (RDAP or WHOIS) of each site that has one.
    "v_site_registration": """
SELECT s.domain, r.registrar, r.registrar_iana_id, r.created, r.updated, r.expires,
       r.registrant_org, r.registrant_country, r.abuse_email, r.abuse_phone, r.source, r.server,
       CAST(r.nameservers AS TEXT) AS nameservers, r.first_seen, r.last_seen
FROM (SELECT dr.*,
             ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY last_seen DESC, id DESC) AS rn
      FROM domain_registrations dr) r
JOIN sites s ON s.id = r.site_id
WHERE r.rn = 1
""",
    # Every sighting of an indicator on a site, with how many sites share the indicator.
    "v_indicator_sites": """
SELECT i.type, i.value, s.domain, g.first_seen, g.last_seen, g.context,
       COUNT(*) OVER (PARTITION BY g.indicator_id) AS site_count
FROM indicator_sightings g
JOIN indicators i ON i.id = g.indicator_id
JOIN sites s ON s.id = g.site_id
""",
    # Domain hopping and mirrors, one row per (from, to, kind).
    "v_hops": """
SELECT f.domain AS from_domain, t.domain AS to_domain, r.kind, r.evidence_url,
       r.first_seen, r.last_seen
FROM site_relations r
JOIN sites f ON f.id = r.from_site_id
JOIN sites t ON t.id = r.to_site_id
""",
    # Operator networks and their member sites.
    "v_cluster_members": """
SELECT k.key AS cluster_key, k.label, s.domain, m.strength, m.first_seen, m.last_seen
FROM cluster_members m
JOIN clusters k ON k.id = m.cluster_id
JOIN sites s ON s.id = m.site_id
""",
    # Every fetch of a site's pages with its hashes and where its WARC record is.
    "v_evidence": """
SELECT s.domain, p.url, p.final_url, p.fetched_at, p.status, p.error, p.content_type,
       p.content_length, p.content_sha256, p.rendered, p.run_id,
       p.warc_file, p.warc_record_id, p.warc_offset, p.warc_length, w.sha256 AS warc_sha256,
       p.screenshot, sc.sha256 AS screenshot_sha256
FROM pages p
JOIN sites s ON s.id = p.site_id
LEFT JOIN evidence_files w ON w.path = p.warc_file
LEFT JOIN evidence_files sc ON sc.path = p.screenshot
""",
}


def upgrade() -> None:
    """Create the analyst views."""
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")


def downgrade() -> None:
    """Drop the analyst views."""
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
