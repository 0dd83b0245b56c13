"""dissolved clusters and incremental cluster computations

``clusters.dissolved_at``: a cluster no computation finds any more is marked dissolved
(its members are no cluster's current members) instead of keeping its last members
"current"; a later computation that matches it again clears the mark.
``cluster_computations``: each computation of the operator networks with the store's
watermarks then, so the next one recomputes only the sites whose identifiers changed.

The analyst views ``v_site_latest`` and ``v_cluster_members`` are recreated so that a
site's cluster is a current member of a live cluster (and the members view says which
rows are current). Plain ``op.add_column`` and ``op.create_table``: no table is rebuilt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00

"""
import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = "m.last_seen >= k.updated_at AND k.dissolved_at IS NULL"

V_CLUSTER_MEMBERS = """
SELECT k.key AS cluster_key, k.label, s.domain, m.strength, m.first_seen, m.last_seen,
       k.dissolved_at,
       CASE WHEN m.last_seen >= k.updated_at AND k.dissolved_at IS NULL THEN TRUE ELSE FALSE END AS is_current
FROM cluster_members m
JOIN clusters k ON k.id = m.cluster_id
JOIN sites s ON s.id = m.site_id
"""


def _views_0002() -> dict[str, str]:
    return importlib.import_module("storage.migrations.versions.0002_analyst_views").VIEWS


def _site_latest() -> str:
    old = _views_0002()["v_site_latest"]
    before = "FROM cluster_members m JOIN clusters k ON k.id = m.cluster_id) cm"
    assert before in old
    return old.replace(before, f"FROM cluster_members m JOIN clusters k ON k.id = m.cluster_id\n"
                               f"           WHERE {CURRENT}) cm")


def upgrade() -> None:
    op.add_column("clusters", sa.Column("dissolved_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "cluster_computations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("dirty", sa.Integer(), nullable=False),
        sa.Column("sites", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("dissolved", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_computations")),
    )
    with op.batch_alter_table("cluster_computations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_computations_at"), ["at"], unique=False)
    for name in ("v_site_latest", "v_cluster_members"):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute(f"CREATE VIEW v_site_latest AS {_site_latest().strip()}")
    op.execute(f"CREATE VIEW v_cluster_members AS {V_CLUSTER_MEMBERS.strip()}")


def downgrade() -> None:
    old = _views_0002()
    for name in ("v_site_latest", "v_cluster_members"):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute(f"CREATE VIEW v_site_latest AS {old['v_site_latest'].strip()}")
    op.execute(f"CREATE VIEW v_cluster_members AS {old['v_cluster_members'].strip()}")
    with op.batch_alter_table("cluster_computations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_computations_at"))
    op.drop_table("cluster_computations")
    op.drop_column("clusters", "dissolved_at")
