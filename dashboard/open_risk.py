"""What the open positions would lose at their stops: the overview's "open risk".

The same rule as `trade.risk.open_risk` (which needs the trader's live `Position` objects),
applied to the rows the journal returns (`journal.browse.OpenPositionRow`), so the page shows
the figure the risk check compares with `max_open_risk_percent`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from journal.browse import OpenPositionRow

ZERO = Decimal(0)


def open_risk(position: OpenPositionRow) -> Decimal:
    """USDT `position` loses if its stop fills now, fees left out, never below 0 (a stop moved past
    the entry locks in a gain): what it holds at its average entry, plus what its open entry order
    may still add at that order's price (the signal's planned price for a MARKET entry)."""
    long = position.side == "LONG"
    stop = position.stop_price
    loss = ZERO
    if position.held > 0 and position.entry_price is not None:
        loss += position.held * (position.entry_price - stop if long else stop - position.entry_price)
    order = position.entry_order
    if order is not None and order.is_open:
        price = order.price if order.price is not None else position.planned_entry
        pending = order.quantity - order.filled
        if price is not None and pending > 0:
            loss += pending * (price - stop if long else stop - price)
    return max(loss, ZERO)


def total_open_risk(positions: Iterable[OpenPositionRow]) -> Decimal:
    """The sum of `open_risk` over `positions`, USDT."""
    return sum((open_risk(position) for position in positions), ZERO)
