"""One bot per journal: an operating-system lock on a file beside it (`journal.db.lock`), held
for the whole run by the replay and by every live mode.

Two bots writing one journal would each believe its own positions; a replay that replaced the
journal of a running bot would leave that bot writing into a deleted file. The lock is the
operating system's (flock on Linux and macOS, LockFileEx on Windows, through `filelock`), so
it is released the moment its process ends, even by a crash or kill -9: systemd's restart
after a crash finds it free. `python bot.py status` and `backup` only read and take no lock.
"""
from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from journal.journal import JournalError


class JournalLock:
    """`with JournalLock(path):` holds the lock of the journal at `path` (none for ":memory:").

    Raises JournalError (one line) when another process holds it, or the lock file cannot be made."""

    def __init__(self, journal: str | Path) -> None:
        self.journal = str(journal)
        self.file = Path(self.journal + ".lock")
        self._lock = None if self.journal == ":memory:" else FileLock(str(self.file), timeout=0)

    def __enter__(self) -> "JournalLock":
        if self._lock is None:
            return self
        try:
            self._lock.acquire()
        except Timeout:
            raise JournalError(f"journal {self.journal} is in use by another bot (it holds {self.file}); stop that bot "
                               "first, or pass --journal with another file") from None
        except OSError as exc:
            raise JournalError(f"journal {self.journal}: cannot create its lock file {self.file} ({exc.strerror or exc}); "
                               "check that its folder is writable") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.release()
