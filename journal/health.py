"""The bot's health in its journal: the heartbeat and the log's errors, and the read-only
report `python bot.py status` prints from them.

The trader thread rewrites the single `heartbeat` row every `[bot] heartbeat_seconds`
(with the last candle of each symbol and interval, `market_marks`, and the ERROR lines
logged since the last beat, in the same commit); `read_status` opens the file read-only,
so it can run beside the bot, from cron or a monitoring check.
A beat older than three intervals is stale: the bot, or its trader thread, is gone.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from journal.journal import Journal, JournalError, epoch_ms, iso_time

MISSED_BEATS = 3   # a heartbeat is stale after this many intervals without one
OPEN_STATES = ("ENTERING", "OPEN", "CLOSING")


@dataclass(frozen=True)
class Heartbeat:
    """One beat. Times in epoch ms (UTC); `symbol` is the symbols traded joined with ","
    ("BTCUSDT,ETHUSDT"); `last_candle_ms` and `last_price` are the most recent closed candle
    of any symbol (its open time, its close in quote asset, USDT), None before the first
    candle (per symbol: `MarketMark`); `state` is one line for people: "running", "paused" (no new
    entries, from the dashboard) or "stopped: why"; `balance` the wallet balance (USDT) at the
    beat, None when unknown or written by a bot before schema version 5."""

    at_ms: int
    started_at_ms: int
    pid: int
    mode: str
    symbol: str
    interval_seconds: int
    last_candle_ms: int | None
    last_price: Decimal | None
    state: str
    balance: Decimal | None = None


@dataclass(frozen=True)
class MarketMark:
    """The last closed candle the live bot handled for one `symbol` and `interval` (as in
    settings: "1m", "4h"): its open time in epoch ms (UTC), its close in quote asset (USDT),
    and `seen_at_ms`, the time of the heartbeat that first wrote it (epoch ms UTC: when the
    bot had it, to a beat). Written with every heartbeat, so it is as old as the beat at most."""

    symbol: str
    interval: str
    open_time_ms: int
    close: Decimal
    seen_at_ms: int


@dataclass(frozen=True)
class SymbolDay:
    """Today's (UTC) fills of one symbol: realized PnL before fees and the fees paid, both in
    quote asset (USDT); realized is positive for a profit, fees positive for a cost."""

    symbol: str
    realized: Decimal
    fees: Decimal


@dataclass(frozen=True)
class LoggedError:
    """An ERROR log line: when (epoch ms), which logger, the message (secrets already masked)."""

    at_ms: int
    source: str
    message: str


@dataclass(frozen=True)
class OpenPosition:
    """A position not yet CLOSED, as journaled. Prices in quote asset; `entry_price` is None
    until the entry fills; `quantity` is base asset, positive."""

    id: int
    symbol: str
    side: str
    state: str
    quantity: Decimal
    entry_price: Decimal | None
    stop_price: Decimal
    take_profit_price: Decimal

    def unrealized_pnl(self, price: Decimal | None) -> Decimal | None:
        """PnL before fees at `price` in quote asset (positive = profit), None when unknown."""
        if price is None or self.entry_price is None:
            return None
        sign = 1 if self.side == "LONG" else -1
        return (price - self.entry_price) * self.quantity * sign


@dataclass(frozen=True)
class Status:
    """What `read_status` found. `heartbeat` is None when no live run ever wrote one (a replay
    journal, or a bot from before this version); money in quote asset (USDT). `positions` are
    sorted by symbol, then id; `marks` (the last candle per symbol and interval, empty for a
    journal older than version 4) and `today_by_symbol` (symbols with a fill today) by symbol."""

    mode: str | None
    heartbeat: Heartbeat | None
    positions: tuple[OpenPosition, ...]
    realized_today: Decimal
    fees_today: Decimal
    errors: tuple[LoggedError, ...]
    marks: tuple[MarketMark, ...] = ()
    today_by_symbol: tuple[SymbolDay, ...] = ()

    def is_stale(self, now_ms: int) -> bool:
        """True when the bot is not known to be running: no beat, a stopped one, or one older
        than `MISSED_BEATS` intervals."""
        beat = self.heartbeat
        if beat is None or beat.state.startswith("stopped"):
            return True
        return now_ms - beat.at_ms > MISSED_BEATS * beat.interval_seconds * 1000


def write_heartbeat(journal: Journal, beat: Heartbeat, errors: list[LoggedError],
                    marks: Sequence[MarketMark] = ()) -> None:
    """Replace the heartbeat row and the market marks (with `marks`: this run's, so a symbol
    no longer traded leaves none behind) and add `errors`, in one commit of their own.

    It goes straight to SQLite rather than through `Journal.transaction()`: a beat announces
    no order, so it must not count as a trading step (crash points count those)."""
    row = (iso_time(beat.at_ms), iso_time(beat.started_at_ms), beat.pid, beat.mode, beat.symbol, beat.interval_seconds,
           iso_time(beat.last_candle_ms) if beat.last_candle_ms is not None else None,
           format(beat.last_price, "f") if beat.last_price is not None else None, beat.state,
           format(beat.balance, "f") if beat.balance is not None else None)
    connection = journal.connection
    connection.execute("BEGIN")
    try:
        connection.execute("INSERT OR REPLACE INTO heartbeat (id, at, started_at, pid, mode, symbol, interval_seconds,"
                           " last_candle_time, last_price, state, balance) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        connection.execute("DELETE FROM market_marks")
        connection.executemany("INSERT INTO market_marks (symbol, interval, candle_open_time, close, seen_at) "
                               "VALUES (?, ?, ?, ?, ?)", [(m.symbol, m.interval, iso_time(m.open_time_ms),
                                                           format(m.close, "f"), iso_time(m.seen_at_ms)) for m in marks])
        connection.executemany("INSERT INTO errors (at, source, message) VALUES (?, ?, ?)",
                               [(iso_time(e.at_ms), e.source, e.message) for e in errors])
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def read_status(path: str | Path, now_ms: int, errors: int = 5) -> Status:
    """The health of the journal at `path`, read without writing a byte (SQLite read-only).

    `now_ms` decides "today" (UTC midnight onwards) for the realized PnL and fees; the last
    `errors` error lines are returned newest first. Raises JournalError (one line) when the
    file is missing or not a journal of this bot."""
    file = Path(path)
    if not file.is_file():
        raise JournalError(f"journal {file} does not exist; pass --journal or set [bot] journal in settings.toml")
    try:
        connection = sqlite3.connect(read_only_uri(file), uri=True)
        try:
            return _read(connection, now_ms, errors)
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise JournalError(f"journal {file} cannot be read ({exc}); is it a journal written by this bot?") from None


def read_only_uri(file: Path) -> str:
    """The SQLite URI that opens the journal `file` read-only without creating a file."""
    return file.resolve().as_uri() + _read_only_options(file)


def _read_only_options(file: Path) -> str:
    # A bot that runs (or crashed) has its -wal file beside the journal: read through it. With
    # none, open the file as immutable: a plain read-only open of a WAL journal would create the
    # -wal and -shm files, owned by whoever runs `status` (root from cron), and the bot, running
    # as its own user, could then no longer write its journal.
    return "?mode=ro" if Path(f"{file}-wal").exists() else "?mode=ro&immutable=1"


def _read(connection: sqlite3.Connection, now_ms: int, errors: int) -> Status:
    connection.row_factory = sqlite3.Row
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    mode_row = connection.execute("SELECT value FROM meta WHERE key = 'mode'").fetchone()
    beat = None
    if version >= 3:  # older journals have no heartbeat table yet
        found = connection.execute("SELECT * FROM heartbeat WHERE id = 1").fetchone()
        beat = _heartbeat(found) if found else None
    positions = tuple(_open_position(row) for row in connection.execute(
        "SELECT * FROM positions WHERE state IN (?, ?, ?) ORDER BY symbol, id", OPEN_STATES))
    days = today_by_symbol(connection, now_ms)
    realized = sum((day.realized for day in days), Decimal(0))
    fees = sum((day.fees for day in days), Decimal(0))
    logged: tuple[LoggedError, ...] = ()
    if version >= 3:
        logged = tuple(LoggedError(epoch_ms(row["at"]), row["source"], row["message"]) for row in connection.execute(
            "SELECT at, source, message FROM errors ORDER BY id DESC LIMIT ?", (errors,)))
    marks: tuple[MarketMark, ...] = ()
    if version >= 4:  # older journals keep only the heartbeat's one last candle
        marks = tuple(MarketMark(row["symbol"], row["interval"], epoch_ms(row["candle_open_time"]), Decimal(row["close"]),
                                 epoch_ms(row["seen_at"]))
                      for row in connection.execute("SELECT * FROM market_marks ORDER BY symbol, interval"))
    return Status(mode_row[0] if mode_row else None, beat, positions, realized, fees, logged, marks, days)


def today_by_symbol(connection: sqlite3.Connection, now_ms: int) -> tuple[SymbolDay, ...]:
    """Realized PnL and fees of the fills since UTC midnight of `now_ms`, per symbol of their
    position, sorted by symbol (a connection whose rows are sqlite3.Row)."""
    midnight = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for row in connection.execute("SELECT COALESCE(positions.symbol, '?') AS symbol, fills.realized_pnl, fills.fee "
                                  "FROM fills LEFT JOIN positions ON positions.id = fills.position_id WHERE fills.at >= ?",
                                  (iso_time(int(midnight.timestamp() * 1000)),)):
        realized, fees = sums.get(row["symbol"], (Decimal(0), Decimal(0)))
        sums[row["symbol"]] = (realized + Decimal(row["realized_pnl"]), fees + Decimal(row["fee"]))
    return tuple(SymbolDay(symbol, *sums[symbol]) for symbol in sorted(sums))


def _heartbeat(row: sqlite3.Row) -> Heartbeat:
    return Heartbeat(epoch_ms(row["at"]), epoch_ms(row["started_at"]), row["pid"], row["mode"], row["symbol"],
                     row["interval_seconds"], epoch_ms(row["last_candle_time"]) if row["last_candle_time"] else None,
                     Decimal(row["last_price"]) if row["last_price"] else None, row["state"],
                     Decimal(row["balance"]) if "balance" in row.keys() and row["balance"] else None)


def _open_position(row: sqlite3.Row) -> OpenPosition:
    return OpenPosition(row["id"], row["symbol"], row["side"], row["state"], Decimal(row["quantity"]),
                        Decimal(row["entry_price"]) if row["entry_price"] else None,
                        Decimal(row["stop_price"]), Decimal(row["take_profit_price"]))
