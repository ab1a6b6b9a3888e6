"""The positions page ("/positions") and GET /api/positions: every position not CLOSED with its
entry, stop, target, quantity, unrealized PnL at the last price and age; resting LIMIT entries
apart. Its Close buttons post `close_position` / `close_all` commands to /api/commands.
"""
from __future__ import annotations

import time
from decimal import Decimal

from flask import Blueprint, jsonify, render_template

from dashboard.open_risk import open_risk, total_open_risk
from dashboard.query import dec, journal_connection, symbol_arg, when
from journal.browse import OpenPositionRow, last_prices, open_positions

bp = Blueprint("positions", __name__)


@bp.get("/positions")
def page():
    return render_template("positions.html")


@bp.get("/api/positions")
def api_positions():
    """`positions`: held or being entered or closed, by symbol then id; `resting_entries`: ENTERING
    positions whose LIMIT entry rests on the book (a partly filled one is in both lists). Prices,
    quantities and money are decimal text (USDT; quantities base asset); `quantity` is what is held,
    or for a position not yet filled, what its entry asks for; `unrealized_pnl` is before fees at
    `last_price` (the last closed candle the bot handled: null for a replay journal);
    `age_seconds` counts from the first entry fill, or from the position's creation before one."""
    symbol = symbol_arg()
    now_ms = int(time.time() * 1000)
    with journal_connection() as connection:
        rows = open_positions(connection, symbol)
        prices = last_prices(connection)
    held = [row for row in rows if not row.is_resting_entry or row.held > 0]
    resting = [row for row in rows if row.is_resting_entry]
    return jsonify(positions=[_position(row, prices.get(row.symbol), now_ms) for row in held],
                   resting_entries=[_resting(row, now_ms) for row in resting],
                   open_risk=dec(total_open_risk(rows)), last_prices={name: dec(price) for name, price in prices.items()})


def _common(row: OpenPositionRow, now_ms: int) -> dict:
    since = row.opened_at_ms if row.opened_at_ms is not None else row.created_at_ms
    return {"id": row.id, "symbol": row.symbol, "side": row.side, "state": row.state, "strategy": row.strategy,
            "stop_price": dec(row.stop_price), "take_profit_price": dec(row.take_profit_price),
            "created_at": when(row.created_at_ms), "opened_at": when(row.opened_at_ms),
            "age_seconds": max(0, (now_ms - since) // 1000), "open_risk": dec(open_risk(row)), "reason": row.reason}


def _position(row: OpenPositionRow, price: Decimal | None, now_ms: int) -> dict:
    order = row.entry_order
    quantity = row.held if row.held > 0 or order is None else order.quantity - order.filled
    return {**_common(row, now_ms), "quantity": dec(quantity),
            "entry_price": dec(row.entry_price if row.entry_price is not None else row.planned_entry),
            "entry_filled": row.entry_price is not None, "last_price": dec(price),
            "unrealized_pnl": dec(row.unrealized_pnl(price))}


def _resting(row: OpenPositionRow, now_ms: int) -> dict:
    order = row.entry_order
    assert order is not None   # a resting entry has its LIMIT order
    return {**_common(row, now_ms), "quantity": dec(order.quantity - order.filled), "filled": dec(order.filled),
            "entry_price": dec(order.price), "order_status": order.status, "client_order_id": order.client_order_id}
