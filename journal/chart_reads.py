"""The journal's reads for the dashboard's chart: the mode that wrote the journal, the last time it
mentions a symbol and how many positions that symbol has (`read_chart_journal`), then the symbol's
positions held within the candles shown, open ones included (`read_chart_positions`).

Read-only: `journal.browse.reading` never creates the journal, nor -wal/-shm files of its own (the rule of
`journal.health`), so the dashboard can read a journal a running bot writes, or a replay journal.
Times come back as epoch ms (UTC), decimal text as Decimal, a NULL as None.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from journal.browse import reading
from journal.journal import JournalError
from journal.values import decimal_or_none, epoch_ms, epoch_or_none, iso_time


@dataclass(frozen=True, slots=True)
class ChartPosition:
    """One position as the chart draws it (a `positions` row).

    - `side`: "LONG" or "SHORT"; `state`: IDLE | ENTERING | OPEN | CLOSING | CLOSED.
    - `quantity`: base asset, always positive (the filled size once filled).
    - `entry_price`, `exit_price`: average fill prices (quote asset); None before the fill.
    - `stop_price`, `take_profit_price`: the planned stop and target.
    - `opened_at_ms`: the first entry fill, `closed_at_ms`: the close (epoch ms UTC); None until then.
    - `close_reason`: take_profit, stop_loss, exit, end_of_replay...; None while open.
    - `realized_pnl` (before fees, positive for a profit) and `fees` (positive for a cost), USDT.
    """

    id: int
    symbol: str
    side: str
    strategy: str
    state: str
    quantity: Decimal
    entry_price: Decimal | None
    stop_price: Decimal
    take_profit_price: Decimal
    opened_at_ms: int | None
    closed_at_ms: int | None
    exit_price: Decimal | None
    close_reason: str | None
    realized_pnl: Decimal
    fees: Decimal


@dataclass(frozen=True)
class ChartJournal:
    """What the chart needs to know of the journal for one symbol before it picks its candles: the
    journal's `mode` (None when unclaimed), `last_ms` (`last_time_of`) and `positions`, how many
    positions the symbol has in all."""

    mode: str | None
    last_ms: int | None
    positions: int


def read_chart_journal(path: str | Path, symbol: str) -> ChartJournal | None:
    """`ChartJournal` of `symbol` from the journal at `path`; None when there is no journal file
    yet. Raises JournalError (one line) when it cannot be read."""
    if not Path(path).is_file():
        return None
    with reading(path) as connection:
        count = connection.execute("SELECT COUNT(*) FROM positions WHERE symbol = ?", (symbol,)).fetchone()[0]
        return ChartJournal(journal_mode(connection), last_time_of(connection, symbol), count)


def read_chart_positions(path: str | Path, symbol: str, from_ms: int, to_ms: int) -> list[ChartPosition]:
    """The positions of `symbol` in the journal at `path` that were held at some time in
    [from_ms, to_ms) (entered before `to_ms`, not closed before `from_ms`), and those still waiting
    for their entry; oldest first. [] without a journal file; JournalError (one line) when unreadable."""
    if not Path(path).is_file():
        return []
    with reading(path) as connection:
        return chart_positions(connection, symbol, from_ms, to_ms)


def chart_positions(connection: sqlite3.Connection, symbol: str, from_ms: int, to_ms: int) -> list[ChartPosition]:
    """See `read_chart_positions`. (ISO-8601 text of one format sorts as the times do.)"""
    rows = connection.execute(
        "SELECT id, symbol, side, strategy, state, quantity, entry_price, stop_price, take_profit_price, opened_at, "
        "closed_at, exit_price, close_reason, realized_pnl, fees FROM positions WHERE symbol = ? AND "
        "((opened_at < ? AND (closed_at IS NULL OR closed_at >= ?)) OR (opened_at IS NULL AND state != 'CLOSED')) "
        "ORDER BY id", (symbol, iso_time(to_ms), iso_time(from_ms))).fetchall()
    return [ChartPosition(row["id"], row["symbol"], row["side"], row["strategy"], row["state"], Decimal(row["quantity"]),
                          decimal_or_none(row["entry_price"]), Decimal(row["stop_price"]),
                          Decimal(row["take_profit_price"]), epoch_or_none(row["opened_at"]),
                          epoch_or_none(row["closed_at"]), decimal_or_none(row["exit_price"]), row["close_reason"],
                          Decimal(row["realized_pnl"]), Decimal(row["fees"]))
            for row in rows]


def journal_mode(connection: sqlite3.Connection) -> str | None:
    """The mode that wrote the journal (`meta.mode`: replay, paper, demo...), None when unclaimed."""
    row = connection.execute("SELECT value FROM meta WHERE key = 'mode'").fetchone()
    return row["value"] if row else None


def last_time_of(connection: sqlite3.Connection, symbol: str) -> int | None:
    """The latest time (epoch ms UTC) the journal records for `symbol`: its last signal's candle, or
    its last position's entry or close, whichever is later; None when it has none. For a replay
    journal this lies in the last candle the replay went through on that symbol: its fills are
    stamped with their candle's open time, and the end-of-replay close, stamped with the last
    candle's close time (the next candle's open), is taken 1 ms earlier."""
    row = connection.execute(
        "SELECT (SELECT MAX(candle_time) FROM signals WHERE symbol = :s) AS signal,"
        " (SELECT MAX(opened_at) FROM positions WHERE symbol = :s) AS opened,"
        " (SELECT MAX(closed_at) FROM positions WHERE symbol = :s AND close_reason IS NOT 'end_of_replay') AS closed,"
        " (SELECT MAX(closed_at) FROM positions WHERE symbol = :s AND close_reason = 'end_of_replay') AS ended",
        {"s": symbol}).fetchone()
    times = [epoch_ms(row[key]) for key in ("signal", "opened", "closed") if row[key]]
    if row["ended"]:
        times.append(epoch_ms(row["ended"]) - 1)
    return max(times, default=None)
