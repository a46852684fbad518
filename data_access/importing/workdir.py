"""The temporary folders an import works in, and removing those that a killed import left behind.

An import stages a file's rows (a UTF-8 copy, a scratch database, tallies) in a folder of the temporary
directory; a SIGKILL or a power cut leaves it there, hundreds of MB at a time. Each folder holds a lock
file, locked while its import runs: the operating system releases the lock when the process dies, however
it dies, so at the next start a folder whose lock can be taken is known to be abandoned, while the folder
of an import still running in another process (a CLI import beside the app) is left alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: folders are judged by their age alone
    fcntl = None  # type: ignore[assignment]

LOG = logging.getLogger(__name__)
IMPORT_PREFIX = "atlas-import-"
UPLOAD_PREFIX = "atlas-upload-"
LOCK_FILE = ".in-use"
# a folder without a lock file (left by an earlier release, or just being made) is removed only when a day old
UNLOCKED_GRACE_SECONDS = 24 * 60 * 60


@contextlib.contextmanager
def work_folder(prefix: str = IMPORT_PREFIX) -> Iterator[Path]:
    """A temporary folder, locked as in use while the block runs and removed after it."""
    with tempfile.TemporaryDirectory(prefix=prefix) as directory, (Path(directory) / LOCK_FILE).open("w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield Path(directory)


def remove_abandoned_folders(*, now: float | None = None) -> tuple[int, int]:
    """Remove the work folders of imports and uploads that no running process holds; (folders, bytes) removed.

    Only this user's folders are looked at. Nothing here fails: a folder that cannot be removed is left.
    """
    root = Path(tempfile.gettempdir())
    removed, freed = 0, 0
    moment = time.time() if now is None else now
    for folder in sorted(root.glob(f"{IMPORT_PREFIX}*")) + sorted(root.glob(f"{UPLOAD_PREFIX}*")):
        try:
            if not folder.is_dir() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            with _claimed(folder, moment) as abandoned:
                if abandoned:
                    size = _size(folder)
                    shutil.rmtree(folder)
                    removed, freed = removed + 1, freed + size
        except OSError as error:
            LOG.warning("could not remove the abandoned import folder %s: %s", folder, error.strerror or error)
    return removed, freed


@contextlib.contextmanager
def _claimed(folder: Path, moment: float) -> Iterator[bool]:
    """Whether `folder` is abandoned; its lock is held meanwhile, so no import can take it up again."""
    lock_path = folder / LOCK_FILE
    if fcntl is None or not lock_path.exists():
        yield moment - folder.stat().st_mtime > UNLOCKED_GRACE_SECONDS
        return
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # a running import holds it
            return
        yield True


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
