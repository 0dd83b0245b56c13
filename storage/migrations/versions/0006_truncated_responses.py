"""truncated responses and downloads

``pages.truncated``: the response was cut at ``[crawl] max_response_bytes`` (an oversized
page, a decompression bomb, an endless stream); what was kept is archived with
``WARC-Truncated: length`` and hashed. ``downloads.truncated``: the file was larger than
``[crawl] hash_downloads_up_to`` (or could not be read whole), so ``sha256`` is empty.

Plain ``op.add_column``: no table is rebuilt, so the analyst views of 0002 stay.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pages", sa.Column("truncated", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("downloads", sa.Column("truncated", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("downloads", "truncated")
    op.drop_column("pages", "truncated")
