"""Index the feedback and entries rollups by stage, for the journey map's per-stage queries.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rollup_feedback_stage", "rollup_feedback_daily", ["journey_id", "stage_id", "day"])
    op.create_index("ix_rollup_entries_stage", "rollup_entries_daily", ["journey_id", "stage_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_rollup_entries_stage", table_name="rollup_entries_daily")
    op.drop_index("ix_rollup_feedback_stage", table_name="rollup_feedback_daily")
