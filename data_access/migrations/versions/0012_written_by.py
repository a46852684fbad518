"""who wrote it: `written_by` on reviews and stage notes, and a log of imports

Writes need an editor now, and each records who made it (an editor's e-mail, "passphrase editor", "local",
"cli", …). Rows written before this revision say "unknown": nobody recorded who wrote them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITER_LENGTH = 320
UNKNOWN = "unknown"


def upgrade() -> None:
    """Upgrade schema."""
    for table in ("reviews", "stage_notes"):
        # added with a default so existing rows get one, then the default goes: every new write names its writer
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("written_by", sa.String(WRITER_LENGTH), nullable=False, server_default=UNKNOWN)
            )
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("written_by", server_default=None)
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=True),
        sa.Column("written_by", sa.String(length=WRITER_LENGTH), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_imports_created_at", "imports", ["created_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_imports_created_at", table_name="imports")
    op.drop_table("imports")
    for table in ("stage_notes", "reviews"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("written_by")
