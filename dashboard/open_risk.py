"""What the open positions would lose at their stops: the overview's "open risk".

The rule of `trade.risk.open_risk` (which reads the trader's live `Position` objects, both call
`trade.risk.loss_at_stop`), applied to the rows the journal returns (`journal.browse.OpenPositionRow`), so the page shows
the figure the risk check compares with `max_open_risk_percent`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from journal.browse import OpenPositionRow
from trade.risk import loss_at_stop

ZERO = Decimal(0)


def open_risk(position: OpenPositionRow) -> Decimal:
    """USDT `position` loses if its stop fills now (`trade.risk.loss_at_stop`): what it holds at its
    average entry, plus what its open entry order may still add at that order's price (the signal's
    planned price for a MARKET entry)."""
    order = position.entry_order
    pending, price = ZERO, None
    if order is not None and order.is_open:
        price = order.price if order.price is not None else position.planned_entry
        pending = order.quantity - order.filled
    return loss_at_stop(position.side == "LONG", position.stop_price, position.held, position.entry_price, pending, price)


def total_open_risk(positions: Iterable[OpenPositionRow]) -> Decimal:
    """The sum of `open_risk` over `positions`, USDT."""
    return sum((open_risk(position) for position in positions), ZERO)
