"""the data version

One row holding a counter that every import, refresh, map import, review, stage note and demo load bumps
in its own transaction; the app keys its cached views by it, so they stay valid until the data changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    data_version = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(data_version, [{"id": 1, "version": 1}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("data_version")
