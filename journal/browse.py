"""Read-only queries behind the web dashboard's pages: the overview's money and equity curve,
the open positions and their entry orders, the last price per symbol, the log's errors.

Every function takes a connection from `connect_read_only` (never the bot's own) and an
optional `symbol` ("" or None: every symbol) and returns small frozen dataclasses: decimal
text as Decimal (USDT for money and prices, base asset for quantities), times as epoch ms
UTC. The trades and signals lists, paged and filtered, are in `journal.browse_lists`.

Open one connection per page request and close it after: a journal opened as immutable
(no bot running) must not be read again after a bot has started writing it.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from journal.health import read_only_uri, today_by_symbol
from journal.journal import JournalError
from journal.values import decimal_or_none, epoch_ms

OPEN_STATES = ("ENTERING", "OPEN", "CLOSING")
OPEN_ORDER_STATUSES = ("INTENT", "NEW", "PARTIALLY_FILLED")   # not final: the order may still fill
RESTING_STATUSES = ("NEW", "PARTIALLY_FILLED")                 # accepted by the exchange and not ended
EQUITY_POINTS = 2000
ZERO = Decimal(0)


Connection = sqlite3.Connection   # what `connect_read_only` returns (the dashboard names no sqlite3 itself)


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to the journal at `path` that writes no byte and creates no file.

    With a `-wal` file beside the journal (a bot runs, or crashed) it reads through it; without
    one it opens the file as immutable, since a plain read-only open of a WAL journal would
    create `-wal` and `-shm` files owned by the dashboard's user (journal/health.py, same rule).
    Rows come back as `sqlite3.Row`. Raises JournalError (one line naming the file and the fix)
    when the file is missing or is not a journal of this bot."""
    file = Path(path)
    if not file.is_file():
        raise JournalError(f"journal {file} does not exist; start the bot (or a replay) with this journal, "
                           "or point [bot] journal in settings.toml at the bot's journal")
    try:
        connection = sqlite3.connect(read_only_uri(file), uri=True, timeout=2.0, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise JournalError(f"journal {file} cannot be read ({exc}); is it a journal written by this bot?") from None
    return connection


@contextmanager
def reading(path: str | Path) -> Iterator[sqlite3.Connection]:
    """`connect_read_only(path)` for the length of the block, closed after it; a read in the block
    that fails (a table an older bot did not write, a disk error) raises JournalError (one line)."""
    connection = connect_read_only(path)
    try:
        yield connection
    except sqlite3.Error as exc:
        raise JournalError(f"journal {path} cannot be read ({exc}); is it a journal written by this bot?") from None
    except (ValueError, ArithmeticError) as exc:   # a damaged row: text where a number or a time should be
        raise JournalError(f"journal {path} cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class Money:
    """Realized PnL before fees and the fees paid, USDT (realized positive = profit, fees positive = cost)."""

    realized: Decimal
    fees: Decimal

    @property
    def net(self) -> Decimal:
        return self.realized - self.fees


@dataclass(frozen=True, slots=True)
class Overview:
    """The overview page's figures. `mode` is the journal's (replay, paper, demo, ...; None when
    unclaimed); `total` sums every position's realized PnL and fees (closed or not), `today` the
    fills booked since UTC midnight of `now_ms`; `trades` counts closed positions that were entered.
    `balance` is the wallet balance of the last heartbeat (USDT; None for a replay journal, a
    journal from before schema 5, or while unknown); `starting_balance` the paper account's
    (meta `paper_starting_balance`), None otherwise."""

    mode: str | None
    total: Money
    today: Money
    trades: int
    balance: Decimal | None
    starting_balance: Decimal | None


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The cumulative net PnL (USDT, after fees) once the trade closed at `time_ms` was booked."""

    time_ms: int
    value: Decimal


@dataclass(frozen=True, slots=True)
class EntryOrder:
    """A position's latest entry order: `type` MARKET or LIMIT, `status` as journaled (INTENT, NEW,
    PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, REJECTED), `price` the LIMIT price (None for MARKET),
    `quantity` the size asked for and `filled` the size filled so far (base asset)."""

    client_order_id: str
    type: str
    status: str
    price: Decimal | None
    quantity: Decimal
    filled: Decimal

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES


@dataclass(frozen=True, slots=True)
class OpenPositionRow:
    """A position in ENTERING, OPEN or CLOSING. `held` is what its fills entered minus what they
    exited (base asset, positive); `entry_price` the average entry fill (None before one);
    `planned_entry` the price its accepted signal named (the LIMIT price, or the price seen for a
    MARKET entry); `stop_price` the current stop (it may have moved since creation). Times epoch ms."""

    id: int
    symbol: str
    side: str
    strategy: str
    state: str
    held: Decimal
    entry_price: Decimal | None
    stop_price: Decimal
    take_profit_price: Decimal
    created_at_ms: int
    opened_at_ms: int | None
    planned_entry: Decimal | None
    reason: str | None
    entry_order: EntryOrder | None

    @property
    def is_resting_entry(self) -> bool:
        """An ENTERING position whose LIMIT entry rests on the book (NEW or PARTIALLY_FILLED)."""
        order = self.entry_order
        return (self.state == "ENTERING" and order is not None and order.type == "LIMIT"
                and order.status in RESTING_STATUSES)

    def unrealized_pnl(self, price: Decimal | None) -> Decimal | None:
        """PnL before fees of what is held, at `price` (USDT, positive = profit); None when unknown."""
        if price is None or self.entry_price is None:
            return None
        sign = 1 if self.side == "LONG" else -1
        return (price - self.entry_price) * self.held * sign


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """An ERROR line of the bot's log as journaled by the heartbeat (secrets already masked)."""

    id: int
    at_ms: int
    source: str
    message: str


def _where_symbol(symbol: str | None, column: str = "symbol") -> tuple[str, tuple]:
    return (f" AND {column} = ?", (symbol,)) if symbol else ("", ())


def overview(connection: sqlite3.Connection, now_ms: int, symbol: str | None = None) -> Overview:
    """The overview's figures for `symbol` (None: all); "today" starts at UTC midnight of `now_ms`."""
    where, params = _where_symbol(symbol)
    realized = fees = ZERO
    trades = 0
    for row in connection.execute("SELECT realized_pnl, fees, state = 'CLOSED' AND opened_at IS NOT NULL AS traded "
                                  f"FROM positions WHERE 1 = 1{where}", params):
        realized += Decimal(row[0])
        fees += Decimal(row[1])
        trades += row[2]
    days = [day for day in today_by_symbol(connection, now_ms) if symbol is None or day.symbol == symbol]
    today_realized = sum((day.realized for day in days), ZERO)
    today_fees = sum((day.fees for day in days), ZERO)
    return Overview(_meta(connection, "mode"), Money(realized, fees), Money(today_realized, today_fees), trades,
                    _heartbeat_balance(connection), decimal_or_none(_meta(connection, "paper_starting_balance")))


def _meta(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _heartbeat_balance(connection: sqlite3.Connection) -> Decimal | None:
    if "balance" not in _columns(connection, "heartbeat"):   # no heartbeat table, or schema before 5
        return None
    row = connection.execute("SELECT balance FROM heartbeat WHERE id = 1").fetchone()
    return decimal_or_none(row[0]) if row else None


def equity_curve(connection: sqlite3.Connection, symbol: str | None = None,
                 max_points: int = EQUITY_POINTS) -> tuple[EquityPoint, ...]:
    """Cumulative net PnL (after fees) per closed, entered position in the order they closed.

    More than `max_points` trades are thinned to at most `max_points` points: each of
    `(max_points - 1) // 2` runs of consecutive trades keeps its lowest and highest point (in time
    order), so no drawdown or peak disappears; the last point is always kept."""
    where, params = _where_symbol(symbol)
    points: list[EquityPoint] = []
    total = ZERO
    for row in connection.execute("SELECT closed_at, realized_pnl, fees FROM positions "
                                  f"WHERE state = 'CLOSED' AND opened_at IS NOT NULL{where} ORDER BY closed_at, id", params):
        total += Decimal(row[1]) - Decimal(row[2])
        points.append(EquityPoint(epoch_ms(row[0]), total))
    return thin(points, max_points)


def thin(points: list[EquityPoint], max_points: int) -> tuple[EquityPoint, ...]:
    """`points` when there are at most `max_points`, else the low and high of each run (see `equity_curve`)."""
    if len(points) <= max_points:
        return tuple(points)
    runs = max(1, (max_points - 1) // 2)   # room for the last point beside two per run
    size = -(-len(points) // runs)
    kept: list[EquityPoint] = []
    for start in range(0, len(points), size):
        run = points[start:start + size]
        low = min(range(len(run)), key=lambda i: run[i].value)
        high = max(range(len(run)), key=lambda i: run[i].value)
        kept.extend(run[i] for i in sorted({low, high}))
    if kept[-1] is not points[-1]:
        kept.append(points[-1])
    return tuple(kept)


def open_positions(connection: sqlite3.Connection, symbol: str | None = None) -> tuple[OpenPositionRow, ...]:
    """Positions in ENTERING, OPEN or CLOSING, by symbol then id, each with its latest entry order."""
    where, params = _where_symbol(symbol, "p.symbol")
    rows = connection.execute(
        "SELECT p.id, p.symbol, p.side, p.strategy, p.state, p.entry_price, p.stop_price, p.take_profit_price,"
        " p.created_at, p.opened_at, s.entry_price AS planned_entry, s.reason,"
        " o.client_order_id, o.type, o.status, o.price, o.quantity, o.filled_quantity"
        " FROM positions p LEFT JOIN signals s ON s.position_id = p.id AND s.accepted = 1"
        " LEFT JOIN orders o ON o.client_order_id = (SELECT client_order_id FROM orders"
        "   WHERE position_id = p.id AND role = 'entry' ORDER BY rowid DESC LIMIT 1)"
        f" WHERE p.state IN (?, ?, ?){where} ORDER BY p.symbol, p.id", (*OPEN_STATES, *params)).fetchall()
    held = _held(connection, [row["id"] for row in rows])
    return tuple(OpenPositionRow(
        row["id"], row["symbol"], row["side"], row["strategy"], row["state"], held.get(row["id"], ZERO),
        decimal_or_none(row["entry_price"]), Decimal(row["stop_price"]), Decimal(row["take_profit_price"]),
        epoch_ms(row["created_at"]), epoch_ms(row["opened_at"]) if row["opened_at"] else None,
        decimal_or_none(row["planned_entry"]), row["reason"],
        EntryOrder(row["client_order_id"], row["type"], row["status"], decimal_or_none(row["price"]),
                   Decimal(row["quantity"] or 0), Decimal(row["filled_quantity"]))
        if row["client_order_id"] else None) for row in rows)


def _held(connection: sqlite3.Connection, ids: list[int]) -> dict[int, Decimal]:
    """Position id -> base quantity its entry fills added minus what its other fills took away."""
    if not ids:
        return {}
    held: dict[int, Decimal] = {}
    for row in connection.execute(
            "SELECT f.position_id, o.role, f.quantity FROM fills f JOIN orders o ON o.client_order_id = f.client_order_id"
            f" WHERE f.position_id IN ({', '.join('?' for _ in ids)})", ids):
        sign = 1 if row[1] == "entry" else -1
        held[row[0]] = held.get(row[0], ZERO) + sign * Decimal(row[2])
    return held


def last_prices(connection: sqlite3.Connection) -> dict[str, Decimal]:
    """Symbol -> the close of the last candle the live bot handled for it (`market_marks`, the finest
    interval's newest; the heartbeat's `last_price` for a journal of one symbol without marks).
    Empty for a replay journal."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    prices: dict[str, Decimal] = {}
    if "market_marks" in tables:
        for row in connection.execute("SELECT symbol, close FROM market_marks ORDER BY candle_open_time"):
            prices[row[0]] = Decimal(row[1])   # the newest candle comes last and wins
    if not prices and "heartbeat" in tables:
        row = connection.execute("SELECT symbol, last_price FROM heartbeat WHERE id = 1").fetchone()
        if row and row[1] and "," not in row[0]:
            prices[row[0]] = Decimal(row[1])
    return prices


def recent_errors(connection: sqlite3.Connection, symbol: str | None = None, limit: int = 50) -> tuple[ErrorRow, ...]:
    """The last `limit` ERROR lines, newest first; with `symbol`, only those whose message names it
    (an error row has no symbol column). Empty for a journal without an errors table (before schema 3)."""
    if "message" not in _columns(connection, "errors"):
        return ()
    where, params = (" WHERE instr(message, ?) > 0", (symbol,)) if symbol else ("", ())
    return tuple(ErrorRow(row[0], epoch_ms(row[1]), row[2], row[3]) for row in connection.execute(
        f"SELECT id, at, source, message FROM errors{where} ORDER BY id DESC LIMIT ?", (*params, limit)))

