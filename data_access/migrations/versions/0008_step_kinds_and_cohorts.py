"""step kinds, the journey's conversion window, and the cohort rollup

Steps get a kind (`required`, `optional`, `alternative` with a named group) and journeys a conversion
window in days (30 unless the map says otherwise). `rollup_cohorts_daily` counts, per entry day, the
customers who went on from one stage or step to the next within the window, by how long it took, so
conversion is a cohort that cannot exceed 100 % and every view can sum it over days. The new rollup is
built here from the first entries already stored, so an upgraded database shows conversions at once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 19:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # plain ALTER TABLE on both databases: SQLite's batch mode would copy `journeys`, and dropping the
    # old copy cascades to every stage
    op.add_column("steps", sa.Column("kind", sa.String(length=20), server_default="required", nullable=False))
    op.add_column("steps", sa.Column("alternative_group", sa.String(length=80), nullable=True))
    op.add_column("journeys", sa.Column("conversion_window_days", sa.Integer(), server_default="30", nullable=False))
    op.create_table(
        "rollup_cohorts_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("next_stage_id", sa.Integer(), nullable=False),
        sa.Column("next_step_id", sa.Integer(), nullable=True),
        sa.Column("persona_id", sa.Integer(), nullable=True),
        sa.Column("duration_bin", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["journey_id"], ["journeys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rollup_cohorts_daily", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_cohorts", ["journey_id", "day"], unique=False)
        batch_op.create_index("ix_rollup_cohorts_stage", ["journey_id", "stage_id", "day"], unique=False)

    # every existing step is required, so the cohorts follow from the stored first entries alone
    from data_access.rollups import rebuild_cohorts

    # the view rollups come with migration 0011, which builds them from what is here
    rebuild_cohorts(op.get_bind(), with_views=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("rollup_cohorts_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_cohorts_stage")
        batch_op.drop_index("ix_rollup_cohorts")
    op.drop_table("rollup_cohorts_daily")
    op.drop_column("journeys", "conversion_window_days")
    op.drop_column("steps", "alternative_group")
    op.drop_column("steps", "kind")
