"""The `commands` table: how the web dashboard asks the bot to act, and what the bot answered.

The dashboard (another process) only appends rows, with `append_command`, through a short
connection of its own: SQLite's WAL lets it write while the bot writes, each waiting for
the other at most `BUSY_MS`. The trader thread reads the pending rows on its idle tick
(`pending_commands`), applies each, and writes the outcome into the same row
(`finish_command`). Nothing else changes a row, so the table is the audit of every command.
Design: ../docs design "Outside the trading thread"; schema in journal/schema.sql.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from journal.browse import reading
from journal.journal import Journal, JournalError, epoch_ms, iso_time

KINDS = ("pause", "resume", "close_position", "close_all", "stop", "set_risk")
STATUSES = ("pending", "taken", "applied", "rejected", "expired", "interrupted")
ANSWERS = STATUSES[2:]   # the final ones
BUSY_MS = 2000          # the dashboard waits this long at most for the bot's write to finish
FIRST_VERSION = 5       # journals from this schema version on have the table


@dataclass(frozen=True)
class CommandRow:
    """One command. `kind` is one of KINDS; `target` the position id (close_position) or the
    `[risk]` key (set_risk), else ""; `value` the new value as typed (set_risk), else "";
    `status` one of STATUSES; `result` the bot's one line (None while pending); times epoch ms UTC."""

    id: int
    created_at_ms: int
    kind: str
    target: str
    value: str
    status: str
    result: str | None
    done_at_ms: int | None


def append_command(path: str | Path, kind: str, target: str = "", value: str = "", now_ms: int = 0) -> int:
    """Append a pending command to the journal at `path`; return its id.

    Raises ValueError for an unknown `kind`, JournalError (one line) when the file is missing,
    is not a journal of this bot, is older than version 5 (start the bot once to upgrade it),
    or stays locked by a writer longer than BUSY_MS."""
    if kind not in KINDS:
        raise ValueError(f"command {kind!r} is not one of {', '.join(KINDS)}")
    file = Path(path)
    if not file.is_file():
        raise JournalError(f"journal {file} does not exist; start the bot once with these settings first")
    connection = sqlite3.connect(str(file), timeout=BUSY_MS / 1000, isolation_level=None)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version < FIRST_VERSION:
            raise JournalError(f"journal {file} is from an older bot (schema {version}); start the bot once to upgrade it, "
                               "then send the command again")
        cursor = connection.execute("INSERT INTO commands (created_at, kind, target, value) VALUES (?, ?, ?, ?)",
                                    (iso_time(now_ms), kind, target, value))
        return int(cursor.lastrowid or 0)
    except sqlite3.Error as exc:
        raise JournalError(f"journal {file} did not take the command ({exc}); try again in a moment") from None
    finally:
        connection.close()


def recent_commands(connection: sqlite3.Connection, limit: int = 20) -> list[CommandRow]:
    """The newest `limit` commands, newest first, through a connection that may be read-only
    (journal/browse.py opens one); [] for a journal older than version 5."""
    if connection.execute("PRAGMA user_version").fetchone()[0] < FIRST_VERSION:
        return []
    return [_row(row) for row in connection.execute(
        "SELECT id, created_at, kind, target, value, status, result, done_at FROM commands ORDER BY id DESC LIMIT ?",
        (limit,))]


def read_commands(path: str | Path, limit: int = 20) -> list[CommandRow]:
    """`recent_commands` of the journal at `path`, through `journal.browse.reading` (read-only, no
    byte written); [] when the file does not exist yet. Raises
    JournalError (one line) when it is not a journal of this bot."""
    if not Path(path).is_file():
        return []
    with reading(path) as connection:
        return recent_commands(connection, limit)


def pending_commands(journal: Journal) -> list[CommandRow]:
    """The commands no bot has answered yet, oldest first (the trader's own connection)."""
    return [_row(row) for row in journal.connection.execute(
        "SELECT id, created_at, kind, target, value, status, result, done_at FROM commands "
        "WHERE status = 'pending' ORDER BY id")]


def take_command(journal: Journal, command_id: int, now_ms: int) -> None:
    """Mark a pending command `taken`, in a commit of its own, before the bot acts on it (the
    journal records an intent before its action): a crash while acting leaves it `taken`, and the
    next start answers it `interrupted` (`interrupt_taken`) instead of carrying it out again."""
    journal.connection.execute("UPDATE commands SET status = 'taken', done_at = ? WHERE id = ? AND status = 'pending'",
                               (iso_time(now_ms), command_id))   # autocommit: its own commit


def finish_command(journal: Journal, command_id: int, status: str, result: str, now_ms: int) -> None:
    """Write the bot's answer to a pending or taken command, in a commit of its own (like the
    heartbeat, it announces no order, so it is not a trading step). Raises ValueError for a
    `status` that is not one of ANSWERS."""
    if status not in ANSWERS:
        raise ValueError(f"status {status!r} is not one of {', '.join(ANSWERS)}")
    journal.connection.execute("UPDATE commands SET status = ?, result = ?, done_at = ? WHERE id = ? "
                               "AND status IN ('pending', 'taken')", (status, result, iso_time(now_ms), command_id))


def interrupt_taken(journal: Journal, now_ms: int) -> int:
    """Answer every `taken` command `interrupted` (the bot stopped while carrying it out); how many."""
    cursor = journal.connection.execute(
        "UPDATE commands SET status = 'interrupted', result = ?, done_at = ? WHERE status = 'taken'",
        ("the bot stopped while carrying it out; check the positions and settings.toml, then send it again if needed",
         iso_time(now_ms)))
    return cursor.rowcount


def paused_since(journal: Journal) -> int | None:
    """When entries were paused (epoch ms), if the last applied pause or resume was a pause; None
    when trading is not paused. A bot restarted while paused stays paused until resumed."""
    row = journal.connection.execute("SELECT kind, done_at FROM commands WHERE status = 'applied' "
                                     "AND kind IN ('pause', 'resume') ORDER BY id DESC LIMIT 1").fetchone()
    if row is None or row[0] != "pause":
        return None
    return epoch_ms(row[1])


def _row(row) -> CommandRow:
    return CommandRow(row[0], epoch_ms(row[1]), row[2], row[3], row[4], row[5], row[6],
                      epoch_ms(row[7]) if row[7] else None)
