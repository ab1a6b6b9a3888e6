"""Opening the journal, its transactions, and the audit reads.

The trader is the only writer, through the named writes of `journal.writes` (`record_*`,
taking `journal.records` dataclasses); recovery reads through `journal.reads`. No table or
column name lives outside this package. The trader groups the rows of one step in
`transaction()`, which commits before the trader sends the request those rows announce: a
crash after the commit leaves an intent that restart can check with the exchange, a crash
before it leaves nothing that was ever sent. A replay batches its commits
(`deferred_commits`, whole candles only). Decimals are stored as decimal text and times as
UTC ISO-8601 text (`journal.values`).

`insert`, `update` and `rows` are the low-level calls the named ones are built on; tests and
benchmarks use `rows` to assert on the tables.
"""
from __future__ import annotations

import secrets
import sqlite3
from contextlib import contextmanager
from functools import lru_cache
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from journal.migrations import migrate
from journal.reads import JournalReads
from journal.records import JournaledTrade, TimelineFill
from journal.values import decimal_or_none, epoch_ms, epoch_or_none, iso_time, stored, stored_row
from journal.writes import JournalWrites

__all__ = ["Journal", "JournalError", "SCHEMA_FILE", "SCHEMA_VERSION", "epoch_ms", "iso_time"]

SCHEMA_VERSION = 5
SCHEMA_FILE = Path(__file__).with_name("schema.sql")


class JournalError(Exception):
    """The journal file cannot be used as asked; the message names the file and the fix."""


class Journal(JournalWrites, JournalReads):
    """One SQLite file in WAL mode. Open with `Journal.open(path, mode)`.

    `mode` is the bot mode that writes it (replay, paper, testnet, demo, mainnet). A journal
    takes a mode with `claim_mode` (a replay at once, a live mode once its start has succeeded)
    and keeps it while it holds positions: another mode is refused, naming the mode that wrote
    it; a journal without positions is reused by any mode. `durable=False` (replay) skips the fsync on commit: a replay can be rerun.
    `id_prefix` is a short random token made once per journal; client order ids start
    with it, so two journals never reuse each other's ids on one account.
    """

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self.connection = connection
        self.path = path
        self._depth = 0
        self._pending: dict[str, list[list]] = {}   # INSERT statement -> rows waiting for the next commit (see insert_soon)
        self._updates: dict[tuple[str, str, Any], dict[str, Any]] = {}   # (table, key column, key) -> columns (see update)
        self._base = 0      # 1 inside deferred_commits: the batch's own transaction is open
        self._every = self._candles = 0
        self._broken = False
        self.durable = True
        self.after_commit: Callable[[], None] | None = None   # test-only crash point (trade/crash_points.py)
        id_prefix = self.meta("id_prefix")
        assert id_prefix is not None  # written with the schema (open), kept by every migration
        self.id_prefix: str = id_prefix
        self.mode = self.meta("mode")

    @classmethod
    def open(cls, path: str | Path, mode: str, durable: bool = True, fresh: bool = False, fsync: bool = True,
             claim: bool = True) -> "Journal":
        """Open or create the journal at `path`; `fresh=True` starts a replay journal anew.
        With `claim=False` the journal takes `mode` only when `claim_mode` is called (a live start
        that fails leaves the file as it found it). Raises JournalError naming the file and the fix.

        A durable journal commits every step before the bot acts on it. With `fsync` each commit
        also waits for the disk (survives a power cut); without, a commit survives a crash of
        the bot but not of the machine, and costs microseconds instead of milliseconds."""
        path = str(path)
        if fresh and path != ":memory:":
            _remove_replay_journal(path)
        try:
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={('FULL' if fsync else 'NORMAL') if durable else 'OFF'}")
            connection.execute("PRAGMA foreign_keys=ON")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise JournalError(f"journal {path} cannot be opened: {exc}; check [bot] journal in settings.toml") from None
        if version > SCHEMA_VERSION:
            raise JournalError(f"journal {path} has schema version {version}, newer than this bot's {SCHEMA_VERSION}; update the bot or use another journal file")
        if version == 0:
            connection.executescript("BEGIN;" + SCHEMA_FILE.read_text(encoding="utf-8") + f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
            connection.execute("INSERT OR IGNORE INTO meta VALUES ('id_prefix', ?)", (_new_prefix(),))
        elif version < SCHEMA_VERSION:
            try:
                migrate(connection, version, SCHEMA_VERSION)
            except sqlite3.Error as exc:
                connection.close()
                raise JournalError(f"journal {path} could not be upgraded from schema version {version} to "
                                   f"{SCHEMA_VERSION} ({exc}); nothing was changed. Keep a copy and report it") from None
        journal = cls(connection, path)
        journal.durable = durable
        if journal.mode not in (None, mode) and journal.holds_positions():
            connection.close()
            raise JournalError(
                f"journal {path} was written in {journal.mode} mode and holds its positions; it cannot be used in {mode} "
                f"mode. Set [bot] journal (or --journal) to another file")
        if claim:
            journal.claim_mode(mode)
        return journal

    def claim_mode(self, mode: str) -> None:
        """Stamp the journal with `mode` (the mode whose positions it will hold)."""
        if self.mode != mode:
            self.connection.execute("INSERT OR REPLACE INTO meta VALUES ('mode', ?)", (mode,))
            self.mode = mode

    def holds_positions(self) -> bool:
        """True when any position was ever journaled: its mode then belongs to the file."""
        return self.connection.execute("SELECT EXISTS (SELECT 1 FROM positions)").fetchone()[0] == 1

    def close(self) -> None:
        self.flush()
        self.connection.close()

    def meta(self, key: str) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; commit when the outermost block ends, roll back on an exception.

        Inside `deferred_commits` (replay) a block commits nothing itself: its rows go in with
        the next `candle_done` commit, and an exception only marks the open batch as broken."""
        if self._depth == self._base:
            if self._base == 0:
                self.connection.execute("BEGIN")
            self._write_inserts()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.connection.execute("ROLLBACK")
            elif self._depth == self._base:
                self._broken = True   # a step stopped halfway: its rows must never be committed
            raise
        self._depth -= 1
        if self._depth == 0:
            self.connection.execute("COMMIT")
            if self.after_commit is not None:
                self.after_commit()

    @contextmanager
    def deferred_commits(self, every_candles: int = 1000) -> Iterator[None]:
        """Replay only: one transaction per `every_candles` candles instead of one per step.

        Call `candle_done()` after each candle; the batch commits there every `every_candles`
        candles, so a commit never splits a candle: each committed position has its orders,
        fills and transitions. At the end, and when the block ends by an exception raised
        between two steps (a StrategyError), everything booked so far is committed; an
        exception that broke off a step (Ctrl+C without the stop handler, a bug) rolls back
        to the last commit, which is a candle boundary. A durable journal (live modes)
        ignores this: it keeps its write-ahead commit before every order."""
        if self.durable or self._depth:
            yield
            return
        self.connection.execute("BEGIN")
        self._base = self._depth = 1
        self._every, self._candles, self._broken = every_candles, 0, False
        try:
            yield
        except BaseException:
            self._end_batch("ROLLBACK" if self._broken else "COMMIT")
            raise
        self._end_batch("COMMIT")

    def candle_done(self) -> None:
        """A candle is fully booked: commit the batch when it holds `every_candles` candles."""
        if self._base:
            self._candles += 1
            if self._candles >= self._every and not self._broken:
                self._write_pending()
                self.connection.execute("COMMIT")
                self.connection.execute("BEGIN")
                self._candles = 0

    def _end_batch(self, verb: str) -> None:
        if verb == "COMMIT":
            self._write_pending()
        else:
            self._pending.clear()   # refusals after the last commit go with the rest of their candle
            self._updates.clear()
        self.connection.execute(verb)
        self._base = self._depth = 0

    # ----- writes -------------------------------------------------------------------------
    def insert(self, table: str, **values: Any) -> int:
        """Insert one row; return its rowid. Column names come from code, never from input."""
        return self.insert_row(table, tuple(values), values.values())

    def insert_row(self, table: str, columns: tuple[str, ...], values: Iterable[Any]) -> int:
        """`insert` with the columns and their values apart (the named writes: no keyword dict per row)."""
        cursor = self.connection.execute(_insert_sql(table, columns), stored_row(values))
        assert cursor.lastrowid is not None  # set by every INSERT
        return cursor.lastrowid

    def insert_soon(self, table: str, **values: Any) -> None:
        """Insert a row that announces no action (a refused signal).

        A durable journal writes it at once. A replay journal keeps it until the next
        transaction, `flush` or `close`, in order, so a replay does not pay one commit per
        refusal; nothing is sent because of such a row, so nothing can get ahead of it."""
        self.insert_row_soon(table, tuple(values), values.values())

    def insert_row_soon(self, table: str, columns: tuple[str, ...], values: Iterable[Any]) -> None:
        """`insert_soon` with the columns and their values apart."""
        if self.durable:
            self.insert_row(table, columns, values)
            return
        self._pending.setdefault(_insert_sql(table, columns), []).append(stored_row(values))

    def flush(self) -> None:
        """Write the changes kept by `update`, and the rows kept by `insert_soon` (between steps)."""
        self._write_updates()
        if self._pending:
            with self.transaction():
                pass

    def _write_pending(self) -> None:
        self._write_inserts()
        self._write_updates()

    def _write_inserts(self) -> None:
        for sql, rows in self._pending.items():
            self.connection.executemany(sql, rows)
        self._pending.clear()

    def _write_updates(self) -> None:
        for (table, key_column, key), values in self._updates.items():
            self.connection.execute(_update_sql(table, key_column, tuple(values)), [*values.values(), key])
        self._updates.clear()

    def update(self, table: str, key_column: str, key: Any, **values: Any) -> None:
        """Set columns of one row. Inside a replay's batch (`deferred_commits`) the change waits,
        merged with the row's other changes, for the batch's commit or the next read: a position
        changes state, totals and result several times a trade, and its row is written once."""
        if self._base:
            self._updates.setdefault((table, key_column, stored(key)), {}).update(zip(values, stored_row(values.values())))
            return
        self.connection.execute(_update_sql(table, key_column, tuple(values)), stored_row((*values.values(), key)))

    # ----- reads --------------------------------------------------------------------------
    def rows(self, sql: str, *params: Any) -> list[dict]:
        self.flush()
        cursor = self.connection.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def closed_trades(self) -> list[JournaledTrade]:
        """Closed positions that were entered, oldest first, with the plan of the signal behind each."""
        rows = self.rows(
            "SELECT p.id, p.symbol, p.side, p.strategy, p.quantity, p.entry_price, p.exit_price, p.opened_at,"
            " p.closed_at, p.close_reason, p.realized_pnl, p.fees, s.entry_price AS planned_entry,"
            " s.stop_price AS planned_stop, s.take_profit_price AS planned_target,"
            " s.candle_time AS signal_candle_time, s.basis"
            " FROM positions p LEFT JOIN signals s ON s.position_id = p.id AND s.accepted = 1"
            " WHERE p.state = 'CLOSED' AND p.opened_at IS NOT NULL ORDER BY p.id")
        return [JournaledTrade(
            row["id"], row["symbol"], row["side"], row["strategy"], Decimal(row["quantity"]), Decimal(row["entry_price"]),
            decimal_or_none(row["exit_price"]), epoch_ms(row["opened_at"]), epoch_ms(row["closed_at"]), row["close_reason"],
            Decimal(row["realized_pnl"]), Decimal(row["fees"]), _planned(row["planned_entry"]), _planned(row["planned_stop"]),
            _planned(row["planned_target"]), epoch_or_none(row["signal_candle_time"]),
            tuple(ref.strip() for ref in (row["basis"] or "").split(",") if ref.strip())) for row in rows]

    def fill_timeline(self) -> list[TimelineFill]:
        """Every fill in the order it was booked (see `TimelineFill`)."""
        rows = self.rows(
            "SELECT f.at, f.position_id, p.side, o.role, f.quantity, f.price, f.fee, f.realized_pnl, p.symbol FROM fills f"
            " JOIN orders o ON o.client_order_id = f.client_order_id JOIN positions p ON p.id = f.position_id"
            " ORDER BY f.id")
        return [TimelineFill(epoch_ms(row["at"]), row["position_id"], row["side"], row["role"], Decimal(row["quantity"]),
                             Decimal(row["price"]), Decimal(row["fee"]), Decimal(row["realized_pnl"]), row["symbol"])
                for row in rows]


@lru_cache(maxsize=None)   # a few dozen statements, each written thousands of times in a replay
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


@lru_cache(maxsize=None)
def _update_sql(table: str, key_column: str, columns: tuple[str, ...]) -> str:
    return f"UPDATE {table} SET {', '.join(f'{column} = ?' for column in columns)} WHERE {key_column} = ?"


def _planned(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _new_prefix() -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


def _remove_replay_journal(path: str) -> None:
    """Delete a previous journal at `path` for a new replay: a replay journal, or one that
    never held a position or a signal (a live start that stopped early). Refuse any other file."""
    if not Path(path).exists():
        return
    try:
        connection = sqlite3.connect(path)
        row = connection.execute("SELECT value FROM meta WHERE key = 'mode'").fetchone()
        used = connection.execute("SELECT EXISTS (SELECT 1 FROM positions) OR EXISTS (SELECT 1 FROM signals)").fetchone()[0]
        connection.close()
    except sqlite3.Error:
        raise JournalError(f"{path} is not a journal; a replay will not overwrite it. Pass --journal with another file") from None
    if used and (not row or row[0] != "replay"):
        raise JournalError(f"journal {path} was written in {row[0] if row else 'an unknown'} mode; a replay will not "
                           "overwrite it. Pass --journal with another file")
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
