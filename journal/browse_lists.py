"""The dashboard's long lists, read-only: closed trades and signals, newest first, filtered and
paged (`PAGE_SIZE` rows a page), and every matching trade as a stream (`iter_trades`; as text
for the CSV download, `trade_table`).

Connections come from `journal.browse.connect_read_only`. Values as in `journal.browse`:
decimal text as Decimal (USDT, base asset for quantities), times epoch ms UTC. Filters take
clean values (the dashboard checks what a person typed); None or "" means "any".
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, Iterator, TypeVar

from journal.values import decimal_or_none, epoch_ms, iso_time

PAGE_SIZE = 50
R_PLACES = Decimal("0.01")
MAX_CHOICES = 200   # strategies or refusal codes offered by a filter
Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page of a list: `number` counts from 1; `total` rows match the filter in all."""

    rows: tuple[Row, ...]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True, slots=True)
class TradeFilter:
    """Which closed trades: `side` LONG or SHORT, `strategy` its exact name, and closed at or after
    `from_ms` and before `to_ms` (epoch ms UTC)."""

    symbol: str | None = None
    side: str | None = None
    strategy: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TradeRow:
    """A closed position that was entered. `quantity` is the filled entry size (base asset);
    `initial_stop` the stop it was created with (its first stop order's trigger; the position's
    stop when it never had one: a stop only moves while one is live), `stop_price` its last stop;
    `close_reason` how it ended (take_profit, stop_loss, ...), `reason` its signal's words."""

    id: int
    symbol: str
    side: str
    strategy: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    initial_stop: Decimal
    stop_price: Decimal
    take_profit_price: Decimal
    opened_at_ms: int
    closed_at_ms: int
    close_reason: str | None
    reason: str | None
    realized_pnl: Decimal
    fees: Decimal

    @property
    def net_pnl(self) -> Decimal:
        """Realized PnL after fees, USDT."""
        return self.realized_pnl - self.fees

    @property
    def initial_risk(self) -> Decimal:
        """USDT the trade would have lost at its initial stop, fees left out: |entry - initial stop| x quantity."""
        return abs(self.entry_price - self.initial_stop) * self.quantity

    @property
    def r_multiple(self) -> Decimal | None:
        """Net PnL in units of the initial risk, to 0.01 (R, as Van Tharp defines it); None without a risk."""
        risk = self.initial_risk
        return (self.net_pnl / risk).quantize(R_PLACES) if risk else None

    @property
    def duration_ms(self) -> int:
        return self.closed_at_ms - self.opened_at_ms


@dataclass(frozen=True, slots=True)
class SignalFilter:
    """Which signals: `accepted` True, False or None (both), `strategy` its exact name,
    `refusal_code` the code before the colon of a refusal (MAX_POSITIONS, PAUSED, ...)."""

    symbol: str | None = None
    accepted: bool | None = None
    strategy: str | None = None
    refusal_code: str | None = None


@dataclass(frozen=True, slots=True)
class SignalRow:
    """A signal as journaled: prices as the strategy gave them (USDT), `refusal` "CODE: words" or
    None, `position_id` the position it opened, `basis` the ICT engine events it was built from
    (e.g. ("fvg:812", "choch:799")); `at_ms` when the bot handled it, `candle_time_ms` its candle's open."""

    id: int
    at_ms: int
    candle_time_ms: int
    symbol: str
    side: str
    entry_type: str
    entry_price: Decimal
    stop_price: Decimal
    take_profit_price: Decimal
    strategy: str
    reason: str
    accepted: bool
    refusal: str | None
    position_id: int | None
    basis: tuple[str, ...]

    @property
    def refusal_code(self) -> str | None:
        return self.refusal.split(":", 1)[0] if self.refusal else None


_TRADE_COLUMNS = (
    "SELECT p.id, p.symbol, p.side, p.strategy, p.quantity, p.entry_price, p.exit_price, p.stop_price,"
    " p.take_profit_price, p.opened_at, p.closed_at, p.close_reason, p.realized_pnl, p.fees, s.reason,"
    " (SELECT trigger_price FROM orders WHERE position_id = p.id AND role = 'stop' ORDER BY rowid LIMIT 1) AS first_stop"
    " FROM positions p LEFT JOIN signals s ON s.position_id = p.id AND s.accepted = 1")


def _trade_where(chosen: TradeFilter) -> tuple[str, list]:
    clauses, params = ["p.state = 'CLOSED'", "p.opened_at IS NOT NULL"], []   # the `trades` view's rows
    for column, value in (("p.symbol = ?", chosen.symbol), ("p.side = ?", chosen.side),
                          ("p.strategy = ?", chosen.strategy)):
        if value:
            clauses.append(column)
            params.append(value)
    if chosen.from_ms is not None:
        clauses.append("p.closed_at >= ?")
        params.append(iso_time(chosen.from_ms))
    if chosen.to_ms is not None:
        clauses.append("p.closed_at < ?")
        params.append(iso_time(chosen.to_ms))
    return " WHERE " + " AND ".join(clauses), params


def trades_page(connection: sqlite3.Connection, chosen: TradeFilter, number: int = 1,
                size: int = PAGE_SIZE) -> Page[TradeRow]:
    """Page `number` (from 1) of the closed trades matching `chosen`, newest close first."""
    where, params = _trade_where(chosen)
    total = connection.execute(f"SELECT COUNT(*) FROM positions p{where}", params).fetchone()[0]
    rows = connection.execute(f"{_TRADE_COLUMNS}{where} ORDER BY p.closed_at DESC, p.id DESC LIMIT ? OFFSET ?",
                              (*params, size, (number - 1) * size))
    return Page(tuple(_trade(row) for row in rows), number, size, total)


def iter_trades(connection: sqlite3.Connection, chosen: TradeFilter) -> Iterator[TradeRow]:
    """Every closed trade matching `chosen`, newest close first, read as it is consumed (the CSV
    download uses `trade_table`, the same rows as text)."""
    where, params = _trade_where(chosen)
    for row in connection.execute(f"{_TRADE_COLUMNS}{where} ORDER BY p.closed_at DESC, p.id DESC", params):
        yield _trade(row)


TABLE_COLUMNS = ("id", "symbol", "side", "strategy", "quantity", "entry_price", "exit_price", "initial_stop", "stop_price",
                 "take_profit_price", "opened_at", "closed_at", "duration_seconds", "close_reason", "reason",
                 "realized_pnl", "fees", "net_pnl", "r_multiple")


def trade_table(connection: sqlite3.Connection, chosen: TradeFilter) -> Iterator[tuple]:
    """Every closed trade matching `chosen`, newest close first, as a tuple in `TABLE_COLUMNS` order
    for a CSV: the journal's own text (decimal text, ISO-8601 UTC times; None for NULL), with
    `duration_seconds`, `net_pnl` and `r_multiple` (to 0.01, None without a risk) worked out as
    `TradeRow` does. Read as it is consumed; several times cheaper per row than `iter_trades`."""
    where, params = _trade_where(chosen)
    for row in connection.execute(f"{_TRADE_COLUMNS}{where} ORDER BY p.closed_at DESC, p.id DESC", params):
        (number, symbol, side, strategy, quantity, entry, exit_price, stop, target, opened, closed, close_reason,
         realized, fees, reason, first_stop) = row
        net = Decimal(realized) - Decimal(fees)
        risk = abs(Decimal(entry) - Decimal(first_stop or stop)) * Decimal(quantity)
        yield (number, symbol, side, strategy, quantity, entry, exit_price, first_stop or stop, stop, target, opened, closed,
               (epoch_ms(closed) - epoch_ms(opened)) // 1000, close_reason, reason, realized, fees, _plain(net),
               _plain((net / risk).quantize(R_PLACES)) if risk else None)


def _plain(value: Decimal) -> str:
    text = str(value)   # str is the fast one; a tiny or zero result (0E-8) needs format's plain digits
    return format(value, "f") if "E" in text else text


def _trade(row: sqlite3.Row) -> TradeRow:
    stop = Decimal(row["stop_price"])
    return TradeRow(row["id"], row["symbol"], row["side"], row["strategy"], Decimal(row["quantity"]),
                    Decimal(row["entry_price"]), decimal_or_none(row["exit_price"]),
                    Decimal(row["first_stop"]) if row["first_stop"] else stop, stop, Decimal(row["take_profit_price"]),
                    epoch_ms(row["opened_at"]), epoch_ms(row["closed_at"]), row["close_reason"], row["reason"],
                    Decimal(row["realized_pnl"]), Decimal(row["fees"]))


def _signal_where(chosen: SignalFilter) -> tuple[str, list]:
    clauses: list[str] = []
    params: list[str | int] = []
    for column, value in (("symbol = ?", chosen.symbol), ("strategy = ?", chosen.strategy)):
        if value:
            clauses.append(column)
            params.append(value)
    if chosen.accepted is not None and not (chosen.refusal_code and not chosen.accepted):   # a refusal implies refused
        clauses.append("accepted = ?")
        params.append(1 if chosen.accepted else 0)
    if chosen.refusal_code:
        # "CODE: words": the range of texts starting "CODE:" (";" sorts right after ":"), so the index serves it
        clauses.append("refusal >= ? AND refusal < ?")
        params.extend((chosen.refusal_code + ":", chosen.refusal_code + ";"))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def signals_page(connection: sqlite3.Connection, chosen: SignalFilter, number: int = 1,
                 size: int = PAGE_SIZE) -> Page[SignalRow]:
    """Page `number` (from 1) of the signals matching `chosen`, newest first."""
    where, params = _signal_where(chosen)
    total = connection.execute(f"SELECT COUNT(*) FROM signals{where}", params).fetchone()[0]
    rows = connection.execute(
        "SELECT id, at, candle_time, symbol, side, entry_type, entry_price, stop_price, take_profit_price, strategy,"
        " reason, accepted, refusal, position_id, basis FROM signals WHERE id IN ("
        # the page's ids first: read from an index alone when the filter has one (refusal codes), no row sorted
        f"  SELECT id FROM signals{where} ORDER BY id DESC LIMIT ? OFFSET ?) ORDER BY id DESC",
        (*params, size, (number - 1) * size))
    return Page(tuple(SignalRow(
        row[0], epoch_ms(row[1]), epoch_ms(row[2]), row[3], row[4], row[5], Decimal(row[6]), Decimal(row[7]), Decimal(row[8]),
        row[9], row[10], bool(row[11]), row[12], row[13],
        tuple(ref.strip() for ref in (row[14] or "").split(",") if ref.strip())) for row in rows), number, size, total)


def strategies(connection: sqlite3.Connection, symbol: str | None = None) -> tuple[str, ...]:
    """The strategies that emitted a signal (on `symbol`), sorted: the choices of the filters.

    Read by hopping along the strategy index (one lookup per name), not by a scan of every signal."""
    where, params = (" AND symbol = ?", (symbol,)) if symbol else ("", ())
    return tuple(row[0] for row in connection.execute(
        "WITH RECURSIVE found(name) AS ("
        f" SELECT (SELECT strategy FROM signals WHERE strategy > ''{where} ORDER BY strategy LIMIT 1)"
        f" UNION ALL SELECT (SELECT strategy FROM signals WHERE strategy > found.name{where} ORDER BY strategy LIMIT 1)"
        " FROM found WHERE found.name IS NOT NULL)"
        f" SELECT name FROM found WHERE name IS NOT NULL LIMIT {MAX_CHOICES}", params * 2))


def refusal_codes(connection: sqlite3.Connection, symbol: str | None = None) -> tuple[str, ...]:
    """The refusal codes journaled (on `symbol`), sorted, hopping along the refusal index from one
    code to the next ("CODE;" sorts after every "CODE: words")."""
    where, params = (" AND symbol = ?", (symbol,)) if symbol else ("", ())
    code = "CASE WHEN instr(refusal, ':') > 0 THEN substr(refusal, 1, instr(refusal, ':') - 1) ELSE refusal END"
    return tuple(row[0] for row in connection.execute(
        "WITH RECURSIVE found(code) AS ("
        f" SELECT (SELECT {code} FROM signals WHERE refusal IS NOT NULL{where} ORDER BY refusal LIMIT 1)"
        f" UNION ALL SELECT (SELECT {code} FROM signals WHERE refusal >= found.code || ';'{where} ORDER BY refusal LIMIT 1)"
        " FROM found WHERE found.code IS NOT NULL)"
        f" SELECT code FROM found WHERE code IS NOT NULL AND code != '' LIMIT {MAX_CHOICES}", params * 2))
