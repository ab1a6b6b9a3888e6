"""Recovery rebuilds a position through the same fill book-keeping and order builder as the trader."""
from __future__ import annotations

from decimal import Decimal as D

from tests.test_trader import RISK, Harness, long_signal
from tests.test_trader_intents import resting_limit
from trade.models import OrderRole, OrderStatus, OrderUpdate
from trade.recovery import restore_positions
from trade.trader import Trader

TOTALS = ("requested_quantity", "filled_entry_quantity", "filled_exit_quantity", "entry_value", "exit_value",
          "realized_pnl", "fees", "opened_at", "stop_price", "take_profit_price", "close_reason")


def _restart(h: Harness):
    restarted = Trader(h.exchange, h.journal, RISK, h.clock, sleep=lambda seconds: None)
    position, = restore_positions(restarted, h.journal)
    return position


def test_recovery_open_position_restored_equals_the_live_one_field_by_field(memory_journal):
    h = Harness(memory_journal)
    live = h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)          # entry fills at 100, stop and target go out
    restored = _restart(h)
    assert {f: getattr(restored, f) for f in TOTALS} == {f: getattr(live, f) for f in TOTALS}
    assert restored.state is live.state and restored.attempts == live.attempts
    for role, order in live.orders.items():
        again = restored.orders[role]
        assert again.request == order.request   # one order builder for the trader and recovery
        assert (again.status, again.filled_quantity, again.average_price, again.fees, again.realized_pnl, again.trade_ids) == \
               (order.status, order.filled_quantity, order.average_price, order.fees, order.realized_pnl, order.trade_ids)


def test_recovery_partly_filled_entry_keeps_the_requested_size_apart_from_the_filled_one(memory_journal):
    h = Harness(memory_journal)
    live = resting_limit(h)
    entry = live.orders[OrderRole.ENTRY]
    half = live.requested_quantity / 2
    h.trader.on_order_update(OrderUpdate(entry.client_order_id, "BTCUSDT", OrderStatus.PARTIALLY_FILLED, 60_000, "1",
                                         cumulative_quantity=half, average_price=D("95"), last_quantity=half,
                                         last_price=D("95"), fee=D("0.5")))
    assert live.filled_entry_quantity == half and live.requested_quantity == 2 * half
    # the journal's quantity column holds the filled size once filled, as it always has
    assert D(h.journal.rows("SELECT quantity FROM positions")[0]["quantity"]) == half
    restored = _restart(h)
    assert restored.requested_quantity == live.requested_quantity      # not the journaled filled size
    assert (restored.filled_entry_quantity, restored.entry_price, restored.fees, restored.opened_at) == \
           (half, D("95"), D("0.5"), live.opened_at)
