"""The data version: one counter, bumped in the transaction of every write that changes what a view shows.

Imports, refreshes, map imports, reviews, stage notes and the demo load call `bump_data_version` before they
commit, so the new version becomes visible exactly when their rows do. Readers (the app's caches) put the
version in their keys: a cached view stays valid until the version moves, and a new import shows at once.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from data_access.models import DataVersion

ROW_ID = 1


def bump_data_version(target: Connection | Session) -> None:
    """Add one to the data version inside the caller's transaction (the caller commits).

    On PostgreSQL the update locks the row until commit, so two writers bump one after the other and the
    version a reader sees never goes back; writers call this last, just before committing.
    """
    connection = target.connection() if isinstance(target, Session) else target
    bumped = connection.execute(
        update(DataVersion).where(DataVersion.id == ROW_ID).values(version=DataVersion.version + 1)
    )
    if bumped.rowcount == 0:  # a database emptied by hand: the counter starts again above 0
        connection.execute(insert(DataVersion).values(id=ROW_ID, version=1))


def read_data_version(connection: Connection) -> int:
    """The current data version: one primary-key read."""
    return connection.scalar(select(DataVersion.version).where(DataVersion.id == ROW_ID)) or 0
