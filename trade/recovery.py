"""Start-up recovery: rebuild unfinished positions from the journal and square them with
the exchange before any new signal is acted on (design.md, "Journal and recovery").

1. every position not CLOSED is rebuilt from its rows (fills give its sizes and PnL)
   and its machine restored in the journaled state;
2. the trader reconciles: each unfinished order is looked up by client id, intents the
   exchange never saw are sent, an entry filled while we were down gets its stop and
   target, a position without a live stop gets one again (or is closed at market
   when the stop price is already crossed, through -2021);
3. open orders of ours that belong to no unfinished position are cancelled, and a
   position on the account that the journal does not know is reported and left alone.
"""
from __future__ import annotations

import logging
from decimal import Decimal

from ict.models import Side
from journal.journal import Journal, epoch_ms
from trade.models import ZERO, Order, OrderRequest, OrderRole, OrderSide, OrderStatus, OrderType
from trade.position import Position
from trade.position_machine import PositionState
from trade.trader import Trader

log = logging.getLogger(__name__)


def restore_positions(trader: Trader, journal: Journal) -> list[Position]:
    """Rebuild and adopt every unfinished position of the journal; return them."""
    restored = []
    for row in journal.unfinished_positions():
        position = Position(row["id"], row["symbol"], Side(row["side"]), row["strategy"], Decimal(row["quantity"]),
                            Decimal(row["stop_price"]), Decimal(row["take_profit_price"]), created_at=epoch_ms(row["created_at"]),
                            realized_pnl=Decimal(row["realized_pnl"]), fees=Decimal(row["fees"]),
                            opened_at=epoch_ms(row["opened_at"]) if row["opened_at"] else None, close_reason=row["close_reason"])
        _restore_signal(position, journal.signal_of(position.id), trader.interval_ms)
        fills = journal.rows("SELECT client_order_id, quantity, price, fee, realized_pnl FROM fills WHERE position_id = ?", position.id)
        for order_row in journal.orders_of(position.id):
            order = _order(order_row, position, trader.exchange.hedge_mode,
                           [f for f in fills if f["client_order_id"] == order_row["client_order_id"]])
            position.orders[order.role] = order  # later attempts replace earlier ones, as they did live
            attempt = int(order.client_order_id.rsplit("-", 1)[1][2:])
            position.attempts[order.role] = max(position.attempts.get(order.role, 0), attempt)
            filled_value = sum((Decimal(f["quantity"]) * Decimal(f["price"]) for f in fills if f["client_order_id"] == order.client_order_id), ZERO)
            if order.role is OrderRole.ENTRY:
                position.filled_entry_quantity += order.filled_quantity
                position.entry_value += filled_value
            else:
                position.filled_exit_quantity += order.filled_quantity
                position.exit_value += filled_value
        trader.adopt(position, PositionState(row["state"]))
        restored.append(position)
        log.warning("%s position %d restored from the journal in state %s (held %s)", position.symbol, position.id,
                    row["state"], position.open_quantity)
    return restored


def _restore_signal(position: Position, signal: dict | None, interval_ms: int | None) -> None:
    """What the strategy's signal gave the position: its candle, basis and own LIMIT expiry."""
    if signal is None:
        return
    position.candle_time = epoch_ms(signal["candle_time"])
    position.basis = tuple(signal["basis"].split(",")) if signal["basis"] else ()
    if signal["expiry_candles"] and interval_ms:
        position.entry_timeout_ms = signal["expiry_candles"] * interval_ms


def _order(row: dict, position: Position, hedge: bool, fills: list[dict]) -> Order:
    role = OrderRole(row["role"])
    type_ = OrderType(row["type"])
    closing = role is not OrderRole.ENTRY
    request = OrderRequest(
        row["client_order_id"], position.symbol, OrderSide(row["side"]), type_,
        quantity=Decimal(row["quantity"]) if row["quantity"] else None, price=Decimal(row["price"]) if row["price"] else None,
        trigger_price=Decimal(row["trigger_price"]) if row["trigger_price"] else None,
        close_position=role in (OrderRole.STOP, OrderRole.TAKE_PROFIT),
        reduce_only=closing and role is OrderRole.EXIT and not hedge, position_side=position.side.value if hedge else "BOTH")
    return Order(request, role, position.id, OrderStatus(row["status"]), Decimal(row["filled_quantity"]),
                 Decimal(row["avg_price"]) if row["avg_price"] else None, row["exchange_order_id"],
                 fees=sum((Decimal(f["fee"]) for f in fills), ZERO),
                 realized_pnl=sum((Decimal(f["realized_pnl"]) for f in fills), ZERO))


def recover(trader: Trader, journal: Journal, symbol: str) -> None:
    """Restore, reconcile, and clean up; see the module docstring."""
    restored = restore_positions(trader, journal)
    if restored:
        trader.reconcile()
    exchange = trader.exchange
    prefix = journal.id_prefix + "-"
    for order in exchange.open_orders_of_ours(symbol, prefix):
        if order.client_order_id not in trader.orders:
            log.warning("%s order %s is ours but belongs to no open position: cancelling it", symbol, order.client_order_id)
            exchange.cancel_order(order)
    held = {p.side.value for p in trader.positions.values() if p.symbol == symbol and p.open_quantity > 0}
    for account_position in exchange.account_positions(symbol):
        amount = Decimal(account_position["positionAmt"])
        side = account_position.get("positionSide", "BOTH")
        side = side if side != "BOTH" else ("LONG" if amount > 0 else "SHORT")
        if side not in held:
            log.error("%s: the account holds a %s position of %s that this journal does not know; the bot leaves it alone",
                      symbol, side, abs(amount))
    log.info("recovery done: %d position(s) still open after reconciling", len(trader.positions))
