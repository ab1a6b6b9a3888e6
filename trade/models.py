"""Order-side value types shared by the trader and the exchanges.

Money and quantities are `Decimal` here: what an exchange reports is parsed once into
these types at its edge, and what we send is rendered from them with `trade.symbol_rules.wire`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)


class OrderRole(str, Enum):
    """What an order does for its position."""

    ENTRY = "entry"
    STOP = "stop"
    TAKE_PROFIT = "take_profit"
    EXIT = "exit"
    OUTSIDE = "outside"   # a close the bot did not send (by hand, liquidation, ADL), booked from the account's trades


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
class TradeFill:
    """One trade (execution) of an order, as the exchange numbers it.

    `trade_id` is the exchange's id (ORDER_TRADE_UPDATE `t`, userTrades `id`): an order's
    fills are counted once per id, whatever order or how often they are reported.
    `quantity` base asset; `price`, `fee` (paid, positive) and `realized_pnl` in USDT; `at` epoch ms.
    """

    trade_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    at: int = 0


@dataclass(frozen=True, slots=True)
class AccountPosition:
    """One position leg as the exchange's account shows it (positionRisk, ACCOUNT_UPDATE).

    `amount` is in the base asset, signed in one-way mode (`position_side` BOTH, negative =
    short) and per leg in hedge mode (`position_side` LONG or SHORT). `side` is the held
    direction, LONG or SHORT (None when flat in one-way mode)."""

    symbol: str
    position_side: str
    amount: Decimal

    @property
    def side(self) -> str | None:
        if self.position_side != "BOTH":
            return self.position_side
        return "LONG" if self.amount > 0 else "SHORT" if self.amount < 0 else None


@dataclass(frozen=True, slots=True)
class AccountTrade:
    """One trade of the account on a symbol (GET /fapi/v1/userTrades), whoever placed the order:
    `order_id` the exchange's order, `side` BUY/SELL, `position_side` BOTH/LONG/SHORT."""

    order_id: str
    side: OrderSide
    position_side: str
    fill: TradeFill


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What an exchange says about one of our orders: an answer or a stream event.

    Fill fields describe the latest trade (`last_quantity` at `last_price`, with its
    `fee` and `realized_pnl` in the quote asset); `cumulative_quantity` is the total
    filled so far, which lets the trader ignore an update it has already counted.
    A reconciliation query reports totals instead (`totals=True`), and the order's
    trades one by one in `trades` when it read them. With trade ids (`trade_id`, `trades`)
    the trader books each fill once by its id; without (the simulated exchange), by the
    growth of `cumulative_quantity`.
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
    trade_id: str | None = None        # the exchange's id of the fill this event reports (stream)
    trades: tuple[TradeFill, ...] = ()  # every fill of the order so far (a query that read them)

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
    trade_ids: set = field(default_factory=set)   # ids of the fills booked so far

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def is_open(self) -> bool:
        return not self.status.is_final
