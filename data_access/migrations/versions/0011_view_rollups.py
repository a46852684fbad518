"""view rollups: the daily rollups summed over persona, per day, week and 28-day block

A view of all customers read every daily rollup row of its period, and those rows grew almost with the
data (they are keyed by persona, step, touchpoint and duration bin). `rollup_*_view` hold the same sums
without the persona, per day (`span` 1), per 7-day week and per 28-day block, so a 90-day period reads about
a dozen rows per key and the rows read stop growing with customers and events (see `view_rollups`). They
are built here from the daily rollups already stored, so an upgraded database reads them at once.

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
    ],
    "entries": [("step_id", sa.Integer(), True), ("customers", sa.Integer(), False)],
    "cohorts": [
        ("step_id", sa.Integer(), True),
        ("next_stage_id", sa.Integer(), False),
        ("next_step_id", sa.Integer(), True),
        ("duration_bin", sa.Integer(), False),
        ("customers", sa.Integer(), False),
    ],
}


def upgrade() -> None:
    """Upgrade schema."""
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

    from data_access.view_rollups import refresh_views

    refresh_views(op.get_bind())


def downgrade() -> None:
    """Downgrade schema."""
    for name in reversed(VIEW_COLUMNS):
        op.drop_index(f"ix_view_{name}_stage", table_name=f"rollup_{name}_view")
        op.drop_index(f"ix_view_{name}", table_name=f"rollup_{name}_view")
        op.drop_table(f"rollup_{name}_view")
