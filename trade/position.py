"""The trader's record of one position: sizes, prices, running PnL, and its orders.

Its `state` and trigger methods come from `trade.position_machine.PositionModel` (the Trader's
`PositionMachine` sets the state); everything else here is book-keeping from fills.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ict.models import Side
from trade.models import ZERO, Order, OrderRequest, OrderRole, OrderSide, OrderType
from trade.position_machine import PositionModel

ROLE_CODES = {OrderRole.ENTRY: "en", OrderRole.STOP: "sl", OrderRole.TAKE_PROFIT: "tp", OrderRole.EXIT: "ex",
              OrderRole.OUTSIDE: "ox"}


def client_order_id(prefix: str, position_id: int, role: OrderRole, attempt: int) -> str:
    """Deterministic client id: journal prefix, position, role and attempt, e.g. `k3x9qa-42-sl1`.

    Only letters, digits and `-` (Binance allows `[.A-Z:/a-z0-9_-]{1,36}`; `:` and `/` are
    avoided because a form body percent-encodes them and the signature would differ).
    """
    return f"{prefix}-{position_id}-{ROLE_CODES[role]}{attempt}"


def order_request(position: "Position", client_id: str, role: OrderRole, type_: OrderType, hedge: bool,
                  quantity: Decimal | None = None, price: Decimal | None = None,
                  trigger: Decimal | None = None) -> OrderRequest:
    """The one way an order of `position` is built, by the trader and by recovery alike.

    An entry buys a LONG (sells a SHORT); every other role goes the other way. A stop or
    target closes the whole position (closePosition, no quantity); an exit is reduce-only in
    one-way mode (Binance refuses the flag in hedge mode, where `position_side` says it)."""
    closing = role is not OrderRole.ENTRY
    close_position = role in (OrderRole.STOP, OrderRole.TAKE_PROFIT)
    return OrderRequest(
        client_order_id=client_id, symbol=position.symbol, side=position.exit_side if closing else position.entry_side,
        type=type_, quantity=None if close_position else quantity, price=price, trigger_price=trigger,
        close_position=close_position, reduce_only=closing and not close_position and not hedge,
        position_side=position.side.value if hedge else "BOTH")


@dataclass(eq=False)
class Position(PositionModel):
    """One position from signal to close.

    - `side`: LONG or SHORT; quantities are in the base asset and always positive.
    - `requested_quantity`: the size risk asked for (the entry order's), in memory and after a restart alike.
    - `filled_entry_quantity`, `filled_exit_quantity`, `entry_value`, `exit_value`, `realized_pnl`,
      `fees`, `opened_at`: totals of the booked fills, kept by `trade.fills.book_fill` only
      (the trader as fills arrive, recovery from the journaled fills).
    - `open_quantity`: what is held now (filled entry minus filled exit).
    - `entry_price` / `exit_price`: average fill prices (None until filled).
    - `realized_pnl`: USDT, before fees, as the exchange reports per fill; `fees`: USDT.
    """

    id: int
    symbol: str
    side: Side
    strategy: str
    requested_quantity: Decimal
    stop_price: Decimal
    take_profit_price: Decimal
    created_at: int
    filled_entry_quantity: Decimal = ZERO
    entry_value: Decimal = ZERO
    filled_exit_quantity: Decimal = ZERO
    exit_value: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    opened_at: int | None = None
    close_reason: str | None = None
    candle_time: int | None = None          # open time of the signal's candle (epoch ms)
    basis: tuple[str, ...] = ()             # the signal's engine event refs
    entry_timeout_ms: int | None = None     # the signal's own LIMIT expiry; None: the trader's default
    planned_entry: Decimal | None = None    # the price risk sized a MARKET entry at (`trade.risk.open_risk`)
    orders: dict[OrderRole, Order] = field(default_factory=dict)
    attempts: dict[OrderRole, int] = field(default_factory=dict)

    @property
    def open_quantity(self) -> Decimal:
        return self.filled_entry_quantity - self.filled_exit_quantity

    @property
    def entry_price(self) -> Decimal | None:
        return self.entry_value / self.filled_entry_quantity if self.filled_entry_quantity else None

    @property
    def exit_price(self) -> Decimal | None:
        return self.exit_value / self.filled_exit_quantity if self.filled_exit_quantity else None

    @property
    def entry_side(self) -> OrderSide:
        return OrderSide.BUY if self.side is Side.LONG else OrderSide.SELL

    @property
    def exit_side(self) -> OrderSide:
        return OrderSide.SELL if self.side is Side.LONG else OrderSide.BUY

    def open_orders(self) -> list[Order]:
        return [order for order in self.orders.values() if order.is_open]

    def next_attempt(self, role: OrderRole) -> int:
        self.attempts[role] = self.attempts.get(role, 0) + 1
        return self.attempts[role]
