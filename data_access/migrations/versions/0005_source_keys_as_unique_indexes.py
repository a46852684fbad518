"""source keys of events and feedback: a named unique index instead of a column constraint

An import as large as the facts already stored drops the fact table's indexes and builds them again
once at the end. SQLite cannot drop the index behind a column's UNIQUE constraint, and keeping it
up to date row by row was 51 s of a 10M-event import; a named unique index can be dropped and
rebuilt like the others. On SQLite the tables are rebuilt (Alembic batch mode), keeping every row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 02:10:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("events", "feedback")
# how the unnamed UNIQUE constraints of 0001 are named, so that batch mode can drop them on SQLite
NAMING = {"uq": "%(table_name)s_%(column_0_name)s_key"}


def upgrade() -> None:
    """Upgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.drop_constraint(f"{table}_source_key_key", type_="unique")
            batch.create_index(f"ux_{table}_source_key", ["source_key"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.drop_index(f"ux_{table}_source_key")
            batch.create_unique_constraint(f"{table}_source_key_key", ["source_key"])
