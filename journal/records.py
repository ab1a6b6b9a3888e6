"""The values the journal's named writes take and its reads return.

Plain fields only (str, int, Decimal, None): the journal imports neither the trading core
nor the ICT layer, so the trader converts its own types (enums to their text values, floats
to the decimal text they were parsed from) before it records them. Times are epoch
milliseconds, UTC; the journal stores them as ISO-8601 text and reads them back as ints.
Prices, quantities and money are Decimal (or, for a signal's float prices, their text) in
the quote asset (USDT) or the base asset as named.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


# ----- writes -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A strategy's signal as the trader handled it at `at`; prices as the strategy gave them (text)."""

    at: int
    candle_time: int
    symbol: str
    side: str                    # LONG | SHORT
    entry_type: str              # MARKET | LIMIT
    entry_price: str
    stop_price: str
    take_profit_price: str
    strategy: str
    reason: str
    basis: tuple[str, ...] = ()
    expiry_candles: int | None = None


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A new position in its first state; `quantity` is the size risk asked for (base asset)."""

    symbol: str
    side: str
    strategy: str
    state: str
    quantity: Decimal
    stop_price: Decimal
    take_profit_price: Decimal
    created_at: int


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order the trader means to send, recorded before it is sent (status INTENT)."""

    client_order_id: str
    position_id: int
    role: str                    # entry | stop | take_profit | exit | outside
    type: str                    # MARKET | LIMIT | STOP_MARKET | TAKE_PROFIT_MARKET
    side: str                    # BUY | SELL
    quantity: Decimal | None     # None for a closePosition stop or target
    price: Decimal | None
    trigger_price: Decimal | None
    status: str
    updated_at: int


@dataclass(frozen=True, slots=True)
class OrderUpdateRecord:
    """What the exchange now says about an order: its status and fill totals so far."""

    client_order_id: str
    status: str
    filled_quantity: Decimal
    avg_price: Decimal | None
    exchange_order_id: str | None
    detail: str | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One fill (trade) of an order, as written and as read back (`Journal.fills_of`); `fee` paid
    (positive) and `realized_pnl` before fees, USDT."""

    client_order_id: str
    position_id: int
    at: int
    quantity: Decimal
    price: Decimal
    fee: Decimal
    realized_pnl: Decimal
    trade_id: str | None


@dataclass(frozen=True, slots=True)
class PositionTotals:
    """A position's totals after a fill: filled entry size, average entry price, first fill time, PnL and fees."""

    position_id: int
    quantity: Decimal
    entry_price: Decimal | None
    opened_at: int | None
    realized_pnl: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One move of a position's machine (or a step that keeps its state, e.g. place_protection)."""

    position_id: int
    from_state: str
    to_state: str
    event: str
    at: int
    client_order_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CloseRecord:
    """A position's result when it reaches CLOSED."""

    position_id: int
    closed_at: int
    exit_price: Decimal | None
    realized_pnl: Decimal
    fees: Decimal
    close_reason: str | None


# ----- reads --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JournaledPosition:
    """A position row. `quantity` is the column as journaled: the requested size until the
    first entry fill, the filled entry size after (the trader derives sizes from fills)."""

    id: int
    symbol: str
    side: str
    strategy: str
    state: str
    quantity: Decimal
    entry_price: Decimal | None
    stop_price: Decimal
    take_profit_price: Decimal
    created_at: int
    opened_at: int | None
    realized_pnl: Decimal
    fees: Decimal
    close_reason: str | None


@dataclass(frozen=True, slots=True)
class JournaledSignal:
    """What the accepted signal behind a position gave it: its candle, basis, LIMIT expiry and the
    entry price it named (the LIMIT price, or the price seen for a MARKET entry)."""

    candle_time: int
    basis: tuple[str, ...]
    expiry_candles: int | None
    entry_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class JournaledOrder:
    """An order row; `symbol` and `position_side` (LONG/SHORT) are its position's."""

    client_order_id: str
    position_id: int
    symbol: str
    position_side: str
    role: str
    type: str
    side: str
    quantity: Decimal | None
    price: Decimal | None
    trigger_price: Decimal | None
    status: str
    filled_quantity: Decimal
    avg_price: Decimal | None
    exchange_order_id: str | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class PositionResult:
    """A position's result for a run's summary: `closed` (state CLOSED), `entered` (had an entry fill)."""

    closed: bool
    entered: bool
    realized_pnl: Decimal
    fees: Decimal
    symbol: str = ""


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """An unfinished position's base quantities summed from its fills: `entered` by entry fills, `exited` by the rest."""

    id: int
    symbol: str
    side: str
    entry_price: Decimal
    entered: Decimal
    exited: Decimal


@dataclass(frozen=True, slots=True)
class JournaledTrade:
    """A closed position that was entered, with the plan of its accepted signal (`planned_*`,
    `signal_candle_time`, `basis`; None / () when it has none). Prices and money Decimal (USDT),
    `quantity` the filled size (base asset), times epoch ms."""

    id: int
    symbol: str
    side: str
    strategy: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    opened_at: int
    closed_at: int
    close_reason: str | None
    realized_pnl: Decimal
    fees: Decimal
    planned_entry: Decimal | None
    planned_stop: Decimal | None
    planned_target: Decimal | None
    signal_candle_time: int | None
    basis: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimelineFill:
    """A fill in booking order with what an equity curve needs: its position's `side` (LONG/SHORT)
    and `symbol` ("" when not read), and its order's `role` (entry, stop, take_profit, exit, outside)."""

    at: int
    position_id: int
    side: str
    role: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    realized_pnl: Decimal
    symbol: str = ""
