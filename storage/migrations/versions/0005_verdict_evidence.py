"""verdict evidence

``pages.signals`` keeps each analysed page's classifier signals, so a site's verdict is
built from the newest pages the store holds for it, whichever run fetched them, instead
of from what the last visit saw. ``classifications.cause`` says why a verdict changed
(new pages, a rules change).

Plain ``op.add_column``: no table is rebuilt, so the analyst views of 0002 stay.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:45:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pages", sa.Column(
        "signals", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
    op.add_column("classifications", sa.Column("cause", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("classifications", "cause")
    op.drop_column("pages", "signals")
