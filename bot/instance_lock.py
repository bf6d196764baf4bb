"""One bot process per DATA_DIR: an advisory lock on `DATA_DIR/bot.lock`, held while the bot runs.

`filelock` (tox-dev's, also used by pip's and Hugging Face's tooling) rather than hand-written fcntl: it
handles the races around creating, opening and re-locking the file. Only its native lock is allowed
(`fallback_to_soft=False`): an flock is released by the kernel when the process dies, even by `kill -9`,
whereas a soft "marker file" lock would survive a crash and keep the restarted bot out.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from filelock import FileLock, Timeout

from bot.settings import StartupError

LOCK_FILENAME = "bot.lock"


class AlreadyRunning(StartupError):
    """Another process holds the lock on this DATA_DIR."""


class InstanceLock:
    """`with InstanceLock(data_dir):` — raises AlreadyRunning at once if another process holds it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILENAME
        self._lock = FileLock(self.path, timeout=0, fallback_to_soft=False)

    def acquire(self) -> Self:
        try:
            self._lock.acquire()
        except Timeout:
            raise AlreadyRunning(
                f"configuration error: DATA_DIR={str(self.data_dir)!r} is in use by another bot process "
                f"(it holds the lock on {self.path}): stop that process first, or give this one a DATA_DIR of "
                "its own"
            ) from None
        return self

    def release(self) -> None:
        self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
