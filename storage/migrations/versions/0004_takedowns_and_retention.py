"""takedowns and retention

``takedowns`` records every takedown packet handed out and the evidence it cited (pages,
WARC files and records, screenshots): retention (``isop prune``) never removes what a
takedown cited. Two indexes make deleting old pages cheap: ``indicator_sightings`` points
at pages (``ON DELETE SET NULL``), and without an index every deleted page scans it.

Plain ``op.create_index`` (no ``batch_alter_table``): nothing here rebuilds a table, so
the analyst views of 0002 are untouched on SQLite.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "takedowns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("packet_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_takedowns_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedowns")),
    )
    op.create_index(op.f("ix_takedowns_created_at"), "takedowns", ["created_at"], unique=False)
    op.create_index(op.f("ix_takedowns_site_id"), "takedowns", ["site_id"], unique=False)
    op.create_index("ix_indicator_sightings_first_page_id", "indicator_sightings", ["first_page_id"], unique=False)
    op.create_index("ix_indicator_sightings_last_page_id", "indicator_sightings", ["last_page_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_indicator_sightings_last_page_id", table_name="indicator_sightings")
    op.drop_index("ix_indicator_sightings_first_page_id", table_name="indicator_sightings")
    op.drop_index(op.f("ix_takedowns_site_id"), table_name="takedowns")
    op.drop_index(op.f("ix_takedowns_created_at"), table_name="takedowns")
    op.drop_table("takedowns")
