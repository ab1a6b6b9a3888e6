"""The value types the ICT layer emits and consumes: `Candle`, and the intents a strategy
returns (`Signal`, `CancelEntry`, `ClosePosition`, `MoveStop`).

Prices here are floats: indicators compare and average them, and the float of a
Binance price string round-trips exactly (`repr` gives the string back). The trade
layer turns them into exchange-rounded `Decimal` once, at its boundary.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Union


class Side(str, Enum):
    """Direction of a position: LONG profits when price rises, SHORT when it falls."""

    LONG = "LONG"
    SHORT = "SHORT"


class EntryType(str, Enum):
    """How the entry is sent: MARKET takes the book at once, LIMIT rests at `limit_price`."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed kline.

    `open_time` is the candle's open time in epoch milliseconds UTC (Binance's kline
    key). Prices are in the quote asset (USDT for BTCUSDT); `volume` is in the base
    asset. A candle reaches the engine only after it has closed.
    """

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def is_bullish(self) -> bool:
        """Closed above its open (an up-close candle)."""
        return self.close > self.open

    @property
    def is_bearish(self) -> bool:
        """Closed below its open (a down-close candle)."""
        return self.close < self.open


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's request to open a position; risk and the trader decide the size.

    - `side`: LONG or SHORT.
    - `entry_type`: MARKET (filled at the next candle's open in replay) or LIMIT at
      `limit_price` (None for MARKET).
    - `stop_price`: where the idea is wrong; below the entry for LONG, above for SHORT.
    - `take_profit_price`: the target; above the entry for LONG, below for SHORT.
    - `reference_price`: the price the strategy saw when deciding (the signal candle's
      close for MARKET); risk sizes a MARKET entry from it.
    - `candle_time`: open time (epoch ms) of the closed candle the signal came from;
      the signal may only act after that candle.
    - `strategy` and `reason`: who asked and why, in words, for the journal.
    - `basis`: refs of the engine events it was built from (`Chart.ref`, e.g.
      `("fvg:812", "1h:choch:799")`), journaled comma-joined in `signals.basis`.
    - `expiry_candles`: LIMIT only: cancel the entry if unfilled after this many base
      candles (None: `[strategy] limit_entry_timeout_candles`).
    """

    symbol: str
    side: Side
    entry_type: EntryType
    stop_price: float
    take_profit_price: float
    reference_price: float
    candle_time: int
    strategy: str
    reason: str
    limit_price: float | None = None
    basis: tuple[str, ...] = ()
    expiry_candles: int | None = None

    @property
    def entry_price(self) -> float:
        """The price the strategy expects to enter at: the limit, or the reference for MARKET."""
        return self.limit_price if self.limit_price is not None else self.reference_price


@dataclass(frozen=True, slots=True)
class CancelEntry:
    """Cancel the resting (unfilled part of the) LIMIT entry of this strategy's position
    `position_id`; a position with no fill then ends, a partly filled one stays OPEN."""

    position_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Close this strategy's position `position_id` at market: an OPEN position is exited,
    an ENTERING one with no fill has its entry cancelled, a partly filled one both."""

    position_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class MoveStop:
    """Move the stop of this strategy's OPEN position `position_id` to `stop_price`.

    Only toward profit (up for LONG, down for SHORT) and still on the losing side of the
    last close; anything else is journaled as refused and the old stop stays."""

    position_id: int
    stop_price: float
    reason: str


Intent = Union[Signal, CancelEntry, ClosePosition, MoveStop]
"""What `Strategy.on_candle` may return: open, cancel an entry, close, or move a stop."""
