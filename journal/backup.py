"""A consistent copy of the journal, safe while the bot writes to it (`python bot.py backup`, runtime/backup.py).

The copy is made with SQLite's online backup API (`sqlite3.Connection.backup`, https://www.sqlite.org/backup.html)
in one step: it reads one snapshot of the database under a read transaction, which in the journal's WAL mode never
blocks the bot's writes, so the copy holds exactly the transactions committed before it began. The copy is written
to `<target>.partial`, switched to the rollback journal (one self-contained file), checked with
`PRAGMA integrity_check`, and only then renamed to its final name, so a file with the final name is always whole.

PATH: a file to create, or an existing folder to put `journal-YYYYmmdd-HHMMSS.db` (UTC) in. Without PATH the copy
goes to `backups/` beside the journal (created when missing). An existing file is never overwritten.
Expected problems (no journal, an unwritable target, a file that is not a journal) raise `BackupError` with one
line; `python bot.py backup` prints it and exits with 2.
"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

BACKUP_FOLDER = "backups"


class BackupError(Exception):
    """A backup that cannot be made; the message is one line naming the path and the fix."""


def default_name(now: datetime | None = None) -> str:
    """`journal-YYYYmmdd-HHMMSS.db` for `now` (UTC; default: the current time)."""
    now = now or datetime.now(timezone.utc)
    return f"journal-{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}.db"


def backup_target(journal: Path, path: str | Path | None, now: datetime | None = None) -> Path:
    """Where the copy of `journal` goes: `path`, a default name inside `path` when it is a folder, or
    `backups/<default name>` beside the journal (the folder is created). Raises BackupError for an existing file
    or a missing folder."""
    _check_journal(journal)
    if path is None:
        folder = journal.parent / BACKUP_FOLDER
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise BackupError(f"cannot create the backup folder {folder} ({exc.strerror}); give a writable PATH") from None
        target = folder / default_name(now)
    else:
        target = Path(path)
        if target.is_dir():
            target = target / default_name(now)
    if target.exists():
        raise BackupError(f"backup target {target} already exists; give another PATH (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError(f"backup folder {target.parent} does not exist; create it or give another PATH")
    return target


def backup_journal(journal: Path, target: Path) -> int:
    """Copy `journal` to `target` (see the module docstring); return the copy's size in bytes."""
    _check_journal(journal)
    partial = target.with_name(target.name + ".partial")
    try:
        # not mode=ro: a read-only connection leaves -wal and -shm files behind (owned by whoever ran the backup,
        # which the bot may then be unable to open); a normal one removes them when it is the last to close
        source = sqlite3.connect(journal)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # pages=-1: the whole database in one step, one consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the copy: one file holds everything
                verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
                tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                copy.close()
        finally:
            source.close()
        if verdict != "ok":
            raise BackupError(f"the copy of {journal} fails its integrity check ({verdict}); the journal may be damaged")
        if not {"meta", "positions", "orders"} <= tables:   # an empty file or another database is no journal
            raise BackupError(f"{journal} is not a journal of this bot (no meta, positions and orders tables); "
                              "check [bot] journal in the settings or pass --journal PATH")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {journal} to {target}: {exc}; check that it is a journal and the target "
                          "folder is writable") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target} ({exc.strerror}); give a writable PATH") from None
    finally:
        if partial.exists():
            partial.unlink()
    return target.stat().st_size


def _check_journal(journal: Path) -> None:
    if not journal.is_file():
        raise BackupError(f"journal {journal} does not exist; check [bot] journal in the settings or pass --journal PATH")
