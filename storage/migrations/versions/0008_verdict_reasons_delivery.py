"""verdict reasons and delivery

``classifications.reasons``: the verdict's plain-language sentences for an analyst,
strongest first (``signals`` stays, the weighted internal detail).
``classifications.delivery``: the delivery mechanisms seen (torrent, ddl, streaming,
iptv), strongest first. Both JSON lists with a server default of ``[]``, so rows stored
before this revision read as empty lists (readers then fall back to ``signals``).

The analyst view ``v_site_latest`` is recreated with ``delivery`` after ``category`` and
``reasons`` after ``signals`` (JSON text, like ``signals``). Plain ``op.add_column``: no
table is rebuilt.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:00:00

"""
import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _site_latest_0007() -> str:
    m = importlib.import_module("storage.migrations.versions.0007_cluster_dissolution")
    return m._site_latest()


def _site_latest() -> str:
    old = _site_latest_0007()
    before = "c.is_piracy, c.category, c.score, CAST(c.signals AS TEXT) AS signals,"
    assert before in old
    return old.replace(before, "c.is_piracy, c.category, CAST(c.delivery AS TEXT) AS delivery, c.score,\n"
                               "       CAST(c.signals AS TEXT) AS signals, CAST(c.reasons AS TEXT) AS reasons,")


def upgrade() -> None:
    op.add_column("classifications", sa.Column("reasons", JSON, server_default="[]", nullable=False))
    op.add_column("classifications", sa.Column("delivery", JSON, server_default="[]", nullable=False))
    op.execute("DROP VIEW IF EXISTS v_site_latest")
    op.execute(f"CREATE VIEW v_site_latest AS {_site_latest().strip()}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_site_latest")
    op.execute(f"CREATE VIEW v_site_latest AS {_site_latest_0007().strip()}")
    op.drop_column("classifications", "delivery")
    op.drop_column("classifications", "reasons")
