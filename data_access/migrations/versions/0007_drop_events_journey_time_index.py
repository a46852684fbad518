"""drop the events index on (journey, time)

Nothing reads raw events by journey and time: the dashboard reads the rollups and `stage_entries`,
and a rebuild of rollups groups whole journeys, for which a scan is as fast as the index. Like the
customer index dropped in 0004, it only cost time on every import: its build was the slowest step of
a first import of 10M events (21 s on SQLite, 9–11 s on PostgreSQL), and every later import updated
it row by row. Deleting a journey now finds its events by a scan, as deleting a stage or a channel
always has.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:45:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index("ix_events_journey_time", table_name="events")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_events_journey_time", "events", ["journey_id", "occurred_at"], unique=False)
