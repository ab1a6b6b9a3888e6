"""Order-side value types shared by the trader and the exchanges.

Money and quantities are `Decimal` here: what an exchange reports is parsed once into
these types at its edge, and what we send is rendered from them with `format(x, "f")`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)


class OrderRole(str, Enum):
    """What an order does for its position."""

    ENTRY = "entry"
    STOP = "stop"
    TAKE_PROFIT = "take_profit"
    EXIT = "exit"


class OrderSide(str, Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(str, Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"            # a conditional order: sent through the algo-order API
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"

    @property
    def is_conditional(self) -> bool:
        return self in _CONDITIONAL


_CONDITIONAL = frozenset({OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET})


class OrderStatus(str, Enum):
    """Binance's order statuses, plus INTENT: journaled, not yet answered by the exchange."""

    INTENT = "INTENT"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as we mean to send it.

    - `quantity`: base asset, positive; None for a `close_position` stop or target,
      which closes whatever the position holds when it triggers.
    - `price`: LIMIT price; `trigger_price`: STOP_MARKET / TAKE_PROFIT_MARKET trigger.
    - `position_side`: "BOTH" in one-way mode, "LONG"/"SHORT" in hedge mode.
    - `reduce_only`: never sent in hedge mode (Binance refuses it there).
    """

    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    close_position: bool = False
    reduce_only: bool = False
    position_side: str = "BOTH"


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What an exchange says about one of our orders: an answer or a stream event.

    Fill fields describe the latest trade (`last_quantity` at `last_price`, with its
    `fee` and `realized_pnl` in the quote asset); `cumulative_quantity` is the total
    filled so far, which lets the trader ignore an update it has already counted.
    A reconciliation query reports totals instead (`totals=True`).
    `at` is the exchange's time in epoch ms.
    """

    client_order_id: str
    symbol: str
    status: OrderStatus
    at: int
    exchange_order_id: str | None = None
    cumulative_quantity: Decimal = ZERO
    average_price: Decimal | None = None
    last_quantity: Decimal = ZERO
    last_price: Decimal | None = None
    fee: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    reason: str | None = None
    totals: bool = False   # fee and realized_pnl are the order's totals so far (a query), not one fill's

    @property
    def is_fill(self) -> bool:
        return self.last_quantity > 0


@dataclass(slots=True)
class Order:
    """The trader's record of one order it sent (or is about to send)."""

    request: OrderRequest
    role: OrderRole
    position_id: int
    status: OrderStatus = OrderStatus.INTENT
    filled_quantity: Decimal = ZERO
    average_price: Decimal | None = None
    exchange_order_id: str | None = None
    fees: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def is_open(self) -> bool:
        return not self.status.is_final
