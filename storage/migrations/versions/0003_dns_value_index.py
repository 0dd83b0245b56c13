"""dns value index

Which names resolved to an address, and which sites are hosted in a network: both start
from ``dns_observations.value`` (``isop network``, ``isop sites --country/--asn``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:00:00

"""
from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_dns_observations_value", "dns_observations", ["value"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dns_observations_value", table_name="dns_observations")
