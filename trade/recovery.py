"""Start-up recovery: rebuild unfinished positions from the journal and square them with
the exchange before any new signal is acted on (design.md, "Journal and recovery").

1. every position not CLOSED is rebuilt from its rows (fills give its sizes and PnL)
   and its machine restored in the journaled state;
2. the trader reconciles: each unfinished order is looked up by client id, intents the
   exchange never saw are sent, an entry filled while we were down gets its stop and
   target, a position without a live stop gets one again (or is closed at market
   when the stop price is already crossed, through -2021);
   Part of that reconcile is squaring each position with the account (`trade.account_truth`):
   one closed by hand, liquidated or auto-deleveraged while the bot was down is closed
   with the account's exit trades and `close_reason` closed_outside_bot / liquidation / adl;
3. open orders of ours that belong to no unfinished position are cancelled, and a
   position on the account that the journal does not know is reported and left alone.
"""
from __future__ import annotations

import logging
from typing import Sequence

from ict.models import Side
from journal.journal import Journal
from journal.records import JournaledOrder, JournaledPosition, JournaledSignal
from trade.fills import book_fill
from trade.models import Order, OrderRole, OrderStatus, OrderType, TradeFill
from trade.position import Position, order_request
from trade.position_machine import PositionState
from trade.trader import Trader

log = logging.getLogger(__name__)


def restore_positions(trader: Trader, journal: Journal) -> list[Position]:
    """Rebuild and adopt every unfinished position of the journal; return them.

    Sizes, prices, PnL, fees and the open time come from the journaled fills, booked through
    `trade.fills.book_fill` as the trader booked them live; the requested size is the first
    entry order's (the position row's `quantity` is the filled size once filled)."""
    restored = []
    for row in journal.unfinished_positions():
        orders = journal.orders_of(row.id)
        requested = next((o.quantity for o in orders if o.role == OrderRole.ENTRY.value and o.quantity), row.quantity)
        position = Position(row.id, row.symbol, Side(row.side), row.strategy, requested, row.stop_price, row.take_profit_price,
                            created_at=row.created_at, close_reason=row.close_reason)
        _restore_signal(position, journal.signal_of(position.id), trader)
        fills = journal.fills_of(position.id)
        for order_row in orders:
            order = _order(order_row, position, trader.exchange.hedge_mode)
            for fill in fills:
                if fill.client_order_id == order.client_order_id:
                    book_fill(position, order, TradeFill(fill.trade_id or "", fill.quantity, fill.price, fill.fee,
                                                         fill.realized_pnl, fill.at), fill.at)
            position.orders[order.role] = order  # later attempts replace earlier ones, as they did live
            attempt = int(order.client_order_id.rsplit("-", 1)[1][2:])
            position.attempts[order.role] = max(position.attempts.get(order.role, 0), attempt)
        _check_totals(position, row)
        trader.adopt(position, PositionState(row.state))
        restored.append(position)
        log.warning("%s position %d restored from the journal in state %s (held %s)", position.symbol, position.id,
                    row.state, position.open_quantity)
    return restored


def _restore_signal(position: Position, signal: JournaledSignal | None, trader: Trader) -> None:
    """What the strategy's signal gave the position: its candle, basis and LIMIT timeout (its own
    expiry, else its strategy's timeout, as `Trader.on_signal` set it)."""
    position.entry_timeout_ms = trader.entry_timeout(signal.expiry_candles if signal else None, trader.slot_of(position))
    if signal is None:
        return
    position.candle_time = signal.candle_time
    position.basis = signal.basis
    position.planned_entry = signal.entry_price   # an unfilled MARKET entry's risk (`trade.risk.open_risk`)


def _order(row: JournaledOrder, position: Position, hedge: bool) -> Order:
    """An order as journaled, with no fill counted yet (its fills are booked on it next)."""
    role = OrderRole(row.role)
    request = order_request(position, row.client_order_id, role, OrderType(row.type), hedge, row.quantity, row.price,
                            row.trigger_price)
    return Order(request, role, position.id, OrderStatus(row.status), exchange_order_id=row.exchange_order_id)


def _check_totals(position: Position, row: JournaledPosition) -> None:
    """The fills and the position row were written in the same commits, so they agree; say so loudly if not."""
    if (position.realized_pnl, position.fees) != (row.realized_pnl, row.fees) or (
            position.filled_entry_quantity and position.filled_entry_quantity != row.quantity):
        log.error("%s position %d: its journaled totals (qty %s, pnl %s, fees %s) differ from its fills (qty %s, pnl %s, "
                  "fees %s); the fills are used. Check the journal", position.symbol, position.id, row.quantity,
                  row.realized_pnl, row.fees, position.filled_entry_quantity, position.realized_pnl, position.fees)


def recover(trader: Trader, journal: Journal, symbols: str | Sequence[str]) -> None:
    """Restore, reconcile, and clean up on every symbol of `symbols` and of the restored
    positions (a symbol taken out of settings.toml still has its positions seen to); see the
    module docstring."""
    restored = restore_positions(trader, journal)
    if restored:
        trader.reconcile()
    for symbol in dict.fromkeys([*([symbols] if isinstance(symbols, str) else symbols), *(p.symbol for p in restored)]):
        _clean_up(trader, journal, symbol)
    log.info("recovery done: %d position(s) still open after reconciling", len(trader.positions))


def _clean_up(trader: Trader, journal: Journal, symbol: str) -> None:
    """Cancel our orders on `symbol` that belong to no open position; name any position the journal does not know."""
    exchange = trader.exchange
    prefix = journal.id_prefix + "-"
    for order in exchange.open_orders_of_ours(symbol, prefix):
        if order.client_order_id not in trader.orders:
            log.warning("%s order %s is ours but belongs to no open position: cancelling it", symbol, order.client_order_id)
            exchange.cancel_order(order)
    held = {p.side.value for p in trader.positions.values() if p.symbol == symbol and p.open_quantity > 0}
    for leg in exchange.account_positions(symbol):
        if leg.side not in held:
            log.error("%s: the account holds a %s position of %s that this journal does not know; the bot leaves it alone",
                      symbol, leg.side, abs(leg.amount))
