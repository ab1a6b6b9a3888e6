"""Which fills of an order an update brings that the trader has not booked yet.

Binance numbers every fill (ORDER_TRADE_UPDATE `t`, userTrades `id`). Stream events can
arrive out of order, twice, or after a REST query has already reported the same trades,
so fees, quantities and realized PnL are summed over distinct trade ids, never taken from
"the last event" or from differences of cumulative totals. Only an exchange that gives no
trade ids (the simulated one, whose events come once and in order) is booked by the growth
of the cumulative quantity.
"""
from __future__ import annotations

from decimal import Decimal

from trade.models import ZERO, Order, OrderRole, OrderUpdate, TradeFill
from trade.position import Position


def new_fills(order: Order, update: OrderUpdate) -> list[TradeFill]:
    """The fills in `update` not yet booked on `order`, oldest first (see the module doc)."""
    if update.trades or update.totals:  # a query that read the order's trades: those, and only those
        fresh: dict[str, TradeFill] = {}
        for fill in update.trades:
            if fill.trade_id not in order.trade_ids:
                fresh.setdefault(fill.trade_id, fill)
        return sorted(fresh.values(), key=lambda f: (f.at, f.trade_id))
    if update.trade_id is not None:
        if update.last_quantity <= 0 or update.trade_id in order.trade_ids:
            return []
        return [TradeFill(update.trade_id, update.last_quantity, update.last_price or update.average_price or ZERO,
                          update.fee, update.realized_pnl, update.at)]
    filled = update.cumulative_quantity - order.filled_quantity
    if filled <= 0 or update.last_quantity <= 0:  # no fill in this event (a status change that carries the total)
        return []
    if update.last_quantity == filled and update.last_price:
        price = update.last_price
    else:  # the new part's price from the averages
        booked = order.filled_quantity * (order.average_price or ZERO)
        price = (update.cumulative_quantity * (update.average_price or ZERO) - booked) / filled
    return [TradeFill("", filled, price, update.fee, update.realized_pnl, update.at)]


def add_fill(order: Order, fill: TradeFill) -> None:
    """Count `fill` on `order`: quantity, average price, fees, PnL, and its trade id."""
    value = order.filled_quantity * (order.average_price or ZERO) + fill.quantity * fill.price
    order.filled_quantity += fill.quantity
    order.average_price = value / order.filled_quantity if order.filled_quantity else None
    order.fees += fill.fee
    order.realized_pnl += fill.realized_pnl
    if fill.trade_id:
        order.trade_ids.add(fill.trade_id)


def book_fill(position: Position, order: Order, fill: TradeFill, at: int) -> None:
    """Count `fill` (made at `at`, epoch ms) on `order` and on its `position`: the one place a
    position's sizes, values, PnL, fees and open time come from its fills, live and at restart."""
    add_fill(order, fill)
    if order.role is OrderRole.ENTRY:
        position.filled_entry_quantity += fill.quantity
        position.entry_value += fill.quantity * fill.price
        position.opened_at = position.opened_at or at
    else:
        position.filled_exit_quantity += fill.quantity
        position.exit_value += fill.quantity * fill.price
    position.realized_pnl += fill.realized_pnl
    position.fees += fill.fee


def quantity_of(fills: list[TradeFill]) -> Decimal:
    return sum((f.quantity for f in fills), ZERO)
