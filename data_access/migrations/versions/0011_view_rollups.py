"""view rollups, comment counts in the feedback rollup, and comment indexes by step and touchpoint

A view of all customers read every daily rollup row of its period, and those rows grew almost with the
data (they are keyed by persona, step, touchpoint and duration bin). `rollup_*_view` hold the same sums
without the persona, per day (`span` 1), per 7-day week and per 28-day block, so a 90-day period reads about
a dozen rows per key and the rows read stop growing with customers and events (see `view_rollups`);
`rollup_conversions_view` also drops the cohorts' duration bin, for conversions per day. They
are built here from the daily rollups already stored, so an upgraded database reads them at once.

The feedback rollup also counts the answers with a comment, in all and per band, so the journey page counts
its comments from rollups instead of reading every answer of the stage; it is rebuilt here to fill them.
Two indexes on `feedback` find the newest comments of one step or one touchpoint (a finding's evidence)
without reading the stage's other answers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 06:30:00

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# each view's columns after (id, day, journey_id, stage_id, span): (name, type, nullable)
VIEW_COLUMNS: dict[str, list[tuple[str, sa.types.TypeEngine[Any], bool]]] = {
    "events": [
        ("channel_id", sa.Integer(), False),
        ("step_id", sa.Integer(), True),
        ("events", sa.Integer(), False),
        ("value_sum", sa.Float(), False),
    ],
    "feedback": [
        ("channel_id", sa.Integer(), True),
        ("touchpoint_id", sa.Integer(), True),
        ("step_id", sa.Integer(), True),
        ("measure", sa.String(length=20), False),
        ("answers", sa.Integer(), False),
        ("score_sum", sa.Float(), False),
        ("good", sa.Integer(), False),
        ("bad", sa.Integer(), False),
        *((column, sa.Integer(), False) for column in ("comments", "comments_good", "comments_bad")),
    ],
    "entries": [("step_id", sa.Integer(), True), ("customers", sa.Integer(), False)],
    "cohorts": [
        ("step_id", sa.Integer(), True),
        ("next_stage_id", sa.Integer(), False),
        ("next_step_id", sa.Integer(), True),
        ("duration_bin", sa.Integer(), False),
        ("customers", sa.Integer(), False),
    ],
    "conversions": [
        ("step_id", sa.Integer(), True),
        ("next_stage_id", sa.Integer(), False),
        ("next_step_id", sa.Integer(), True),
        ("customers", sa.Integer(), False),
    ],
}


COMMENT_SUMS = ("comments", "comments_good", "comments_bad")


def upgrade() -> None:
    """Upgrade schema."""
    for column in COMMENT_SUMS:
        op.add_column("rollup_feedback_daily", sa.Column(column, sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_feedback_step_time", "feedback", ["journey_id", "stage_id", "step_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_feedback_touchpoint_time",
        "feedback",
        ["journey_id", "stage_id", "touchpoint_id", "occurred_at"],
        unique=False,
    )
    for name, columns in VIEW_COLUMNS.items():
        op.create_table(
            f"rollup_{name}_view",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("journey_id", sa.Integer(), nullable=False),
            sa.Column("stage_id", sa.Integer(), nullable=False),
            sa.Column("span", sa.Integer(), nullable=False),
            *(sa.Column(column, kind, nullable=nullable) for column, kind, nullable in columns),
            sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_view_{name}", f"rollup_{name}_view", ["journey_id", "span", "day"], unique=False)
        op.create_index(
            f"ix_view_{name}_stage", f"rollup_{name}_view", ["journey_id", "stage_id", "span", "day"], unique=False
        )

    from data_access.rollups import rebuild_feedback_rollup
    from data_access.view_rollups import refresh_views

    rebuild_feedback_rollup(op.get_bind())
    refresh_views(op.get_bind())


def downgrade() -> None:
    """Downgrade schema."""
    for name in reversed(VIEW_COLUMNS):
        op.drop_index(f"ix_view_{name}_stage", table_name=f"rollup_{name}_view")
        op.drop_index(f"ix_view_{name}", table_name=f"rollup_{name}_view")
        op.drop_table(f"rollup_{name}_view")
    op.drop_index("ix_feedback_touchpoint_time", table_name="feedback")
    op.drop_index("ix_feedback_step_time", table_name="feedback")
    with op.batch_alter_table("rollup_feedback_daily") as batch_op:
        for column in COMMENT_SUMS:
            batch_op.drop_column(column)
