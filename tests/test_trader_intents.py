"""Intents beyond "open" through the trader and the journal: cancel an entry, close, move the
stop; refused ones journaled and fed back; a signal's basis and own expiry; the snapshot."""
from __future__ import annotations

import time
from decimal import Decimal as D

from ict.models import CancelEntry, ClosePosition, EntryType, MoveStop, Side, Signal
from journal.journal import Journal
from tests.fake_exchange import DEFAULT_API_KEY, DEFAULT_API_SECRET, FakeBinance
from tests.test_trader import RISK, Harness, long_signal
from trade.binance.exchange import BinanceExchange
from trade.binance.rest import BinanceRest
from trade.models import OrderStatus, OrderUpdate
from trade.recovery import restore_positions
from trade.symbol_rules import wire
from trade.trader import Trader


def moves(h, position_id=1):
    return [(r["from_state"], r["to_state"], r["event"], r["detail"])
            for r in h.rows("SELECT * FROM transitions WHERE position_id = ? ORDER BY id", position_id)]


def resting_limit(h, **signal_fields):
    signal = Signal("BTCUSDT", Side.LONG, EntryType.LIMIT, 90.0, 110.0, 100.0, 0, "test", "ob retest", 95.0, **signal_fields)
    return h.trader.on_intent(signal, "test") or h.trader.positions[1]


def open_long(h):
    position = h.trader.on_signal(long_signal())   # stop 98, target 104
    h.candle(100, 100.5, 99.5, 100)                # entry fills at 100; stop and target go out
    assert position.state.value == "OPEN"
    return position


def test_intent_cancel_entry_cancels_the_resting_limit_and_closes_unfilled(memory_journal):
    h = Harness(memory_journal)
    resting_limit(h)
    h.candle(100, 101, 99, 100)
    h.trader.on_intent(CancelEntry(1, "order block invalidated"), "test")
    assert h.rows("SELECT state, close_reason FROM positions") == [{"state": "CLOSED", "close_reason": "entry_canceled"}]
    assert ("ENTERING", "ENTERING", "cancel_entry", "strategy: order block invalidated") in moves(h)
    assert h.rows("SELECT status FROM orders WHERE role = 'entry'") == [{"status": "CANCELED"}]


def test_intent_close_position_when_open_exits_at_market_with_its_reason(memory_journal):
    h = Harness(memory_journal)
    open_long(h)
    h.trader.note_price("BTCUSDT", 100.0)
    h.trader.on_intent(ClosePosition(1, "structure flipped"), "test")
    assert ("OPEN", "CLOSING", "close_requested", "strategy: structure flipped") in moves(h)
    h.candle(101, 101.5, 100.5, 101)                # the exit fills at this open
    row = h.rows("SELECT state, close_reason, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "strategy_close", "exit_price": "101"}
    statuses = {r["role"]: r["status"] for r in h.rows("SELECT role, status FROM orders")}
    assert statuses == {"entry": "FILLED", "stop": "CANCELED", "take_profit": "CANCELED", "exit": "FILLED"}


def test_intent_close_position_when_entering_unfilled_cancels_the_entry(memory_journal):
    h = Harness(memory_journal)
    resting_limit(h)
    h.trader.on_intent(ClosePosition(1, "no longer valid"), "test")
    assert ("ENTERING", "ENTERING", "cancel_entry", "strategy: no longer valid") in moves(h)
    assert h.rows("SELECT state FROM positions") == [{"state": "CLOSED"}]
    assert h.rows("SELECT COUNT(*) AS n FROM orders WHERE role = 'exit'") == [{"n": 0}]


def test_intent_close_position_partly_filled_cancels_the_rest_then_exits(memory_journal):
    h = Harness(memory_journal)
    position = resting_limit(h)
    entry = position.orders[next(iter(position.orders))]
    half = position.requested_quantity / 2
    h.trader.on_order_update(OrderUpdate(entry.client_order_id, "BTCUSDT", OrderStatus.PARTIALLY_FILLED, 60_000,
                                         cumulative_quantity=half, average_price=D(95), last_quantity=half,
                                         last_price=D(95)))
    # the filled half is protected at once (OPEN) while the other half still rests
    assert position.state.value == "OPEN" and position.open_quantity == half
    h.trader.on_intent(ClosePosition(1, "killzone over"), "test")
    last = moves(h)[-1]
    assert last[:3] == ("OPEN", "CLOSING", "close_requested") and "the rest of entry" in last[3]
    assert h.rows("SELECT status FROM orders WHERE role = 'entry'") == [{"status": "CANCELED"}]
    exit_row = h.rows("SELECT quantity, type FROM orders WHERE role = 'exit'")
    assert exit_row == [{"quantity": wire(half), "type": "MARKET"}]


def test_intent_move_stop_toward_profit_cancels_old_then_places_new(memory_journal):
    h = Harness(memory_journal)
    open_long(h)
    h.trader.note_price("BTCUSDT", 101.0)
    h.trader.on_intent(MoveStop(1, 99.55, "break of structure up"), "test")
    stops = h.rows("SELECT client_order_id, status, trigger_price FROM orders WHERE role = 'stop' ORDER BY rowid")
    assert [(s["status"], s["trigger_price"]) for s in stops] == [("CANCELED", "98"), ("NEW", "99.5")]
    assert h.rows("SELECT stop_price FROM positions") == [{"stop_price": "99.5"}]
    move = [m for m in moves(h) if m[2] == "stop_moved"]
    assert move and move[0][:2] == ("OPEN", "OPEN") and "98 -> 99.5" in move[0][3] and "break of structure up" in move[0][3]
    h.candle(100, 100.2, 99.4, 99.8)                # the new stop triggers at 99.5
    assert h.rows("SELECT close_reason, exit_price FROM positions") == [{"close_reason": "stop_loss", "exit_price": "99.5"}]


def test_intent_move_stop_away_from_profit_is_refused_journaled_and_fed_back(memory_journal):
    h = Harness(memory_journal)
    open_long(h)
    h.trader.note_price("BTCUSDT", 100.0)
    h.trader.on_intent(MoveStop(1, 97.0, "wider"), "test")
    h.trader.on_intent(MoveStop(1, 100.5, "above the market"), "test")
    refused = [m for m in moves(h) if m[2] == "intent_refused"]
    assert [m[:2] for m in refused] == [("OPEN", "OPEN"), ("OPEN", "OPEN")]
    assert "STOP_NOT_TOWARD_PROFIT" in refused[0][3] and "asked: wider" in refused[0][3]
    assert "STOP_WRONG_SIDE" in refused[1][3] and "last price 100" in refused[1][3]
    assert h.rows("SELECT stop_price FROM positions") == [{"stop_price": "98"}]
    assert h.rows("SELECT COUNT(*) AS n FROM orders WHERE role = 'stop'") == [{"n": 1}]
    _, refusals = h.trader.snapshot.for_strategy("test")
    assert [r.code for r in refusals] == ["STOP_NOT_TOWARD_PROFIT", "STOP_WRONG_SIDE"]
    assert refusals[0].side is Side.LONG


def test_intent_for_a_position_of_another_strategy_or_unknown_is_refused_not_raised(memory_journal):
    h = Harness(memory_journal)
    open_long(h)
    h.trader.on_intent(ClosePosition(1, "not mine"), "other")
    h.trader.on_intent(CancelEntry(42, "nothing there"), "other")
    assert h.rows("SELECT state FROM positions") == [{"state": "OPEN"}]
    refused = [m for m in moves(h) if m[2] == "intent_refused"]
    assert len(refused) == 1 and "NOT_YOURS" in refused[0][3] and "a position of test" in refused[0][3]
    _, refusals = h.trader.snapshot.for_strategy("other")
    assert [(r.code, r.side) for r in refusals] == [("NOT_YOURS", Side.LONG), ("NOT_YOURS", None)]
    assert h.trader.snapshot.for_strategy("test")[1] == ()


def test_intent_cancel_entry_without_resting_entry_is_refused(memory_journal):
    h = Harness(memory_journal)
    open_long(h)
    h.trader.on_intent(CancelEntry(1, "too late"), "test")
    assert [m for m in moves(h) if m[2] == "intent_refused"][0][3].startswith("CancelEntry from test refused, NO_RESTING_ENTRY")


def test_signal_basis_and_expiry_candles_are_journaled_and_expiry_overrides_the_default(memory_journal):
    h = Harness(memory_journal, limit_entry_timeout_ms=10 * 60_000, interval_ms=60_000)
    resting_limit(h, basis=("fvg:812", "1h:choch:799"), expiry_candles=2)
    assert h.rows("SELECT basis, expiry_candles FROM signals") == [{"basis": "fvg:812,1h:choch:799", "expiry_candles": 2}]
    h.candle(100, 101, 99, 100)                      # one candle: still resting
    assert h.rows("SELECT state FROM positions") == [{"state": "ENTERING"}]
    h.candle(100, 101, 99, 100)                      # two candles: its own expiry, not the default ten
    assert h.rows("SELECT state, close_reason FROM positions") == [{"state": "CLOSED", "close_reason": "entry_canceled"}]


def test_snapshot_shows_positions_and_refused_signals_of_each_strategy(memory_journal):
    h = Harness(memory_journal)
    first = h.trader.snapshot
    resting_limit(h, basis=("ob:7",))
    view, = h.trader.snapshot.for_strategy("test")[0]
    assert (view.id, view.side, view.state, view.entry_type, view.entry_price, view.stop_price) == \
        (1, Side.LONG, "ENTERING", EntryType.LIMIT, 95.0, 90.0)
    assert (view.filled_quantity, view.basis, view.candle_time) == (0.0, ("ob:7",), 0)
    bad = Signal("BTCUSDT", Side.SHORT, EntryType.MARKET, 90.0, 80.0, 100.0, 60_000, "test", "stop below a short")
    h.trader.on_intent(bad, "test")
    refusal, = h.trader.snapshot.for_strategy("test")[1]
    assert (refusal.candle_time, refusal.side, refusal.code) == (60_000, Side.SHORT, "STOP_WRONG_SIDE")
    assert first.positions == () and h.trader.snapshot is not first   # published anew, never changed in place


def test_restart_restores_the_signal_basis_candle_and_own_expiry(journal_path):
    journal = Journal.open(journal_path, "demo")
    h = Harness(journal, interval_ms=60_000)
    resting_limit(h, basis=("ob:7", "choch:5"), expiry_candles=3)
    restarted = Trader(h.exchange, journal, RISK, h.clock, interval_ms=60_000)
    position, = restore_positions(restarted, journal)
    assert (position.candle_time, position.basis, position.entry_timeout_ms) == (0, ("ob:7", "choch:5"), 180_000)
    assert restarted.snapshot.positions == ()           # published only once the trader handles something
    restarted.on_tick(60_000)
    assert restarted.snapshot.for_strategy("test")[0][0].basis == ("ob:7", "choch:5")
    journal.close()


def test_move_stop_on_binance_leaves_one_close_position_stop_at_the_new_price(tmp_path):
    # through the real BinanceExchange against the fake: a second closePosition stop would be refused (-4130)
    with FakeBinance(ws_ping_interval=None) as fake:
        fake.set_price("30000")
        exchange = BinanceExchange(BinanceRest(fake.rest_url, DEFAULT_API_KEY, DEFAULT_API_SECRET))
        exchange.prepare("BTCUSDT", 10, "ISOLATED")
        journal = Journal.open(tmp_path / "journal.db", "demo")
        trader = Trader(exchange, journal, RISK, lambda: int(time.time() * 1000), sleep=lambda seconds: None)
        trader.on_signal(Signal("BTCUSDT", Side.LONG, EntryType.MARKET, 29700.0, 30600.0, 30000.0, 0, "test", "go"))
        trader.reconcile()                     # no user stream here: learn the entry's fill by asking
        assert trader.positions[1].state.value == "OPEN"
        trader.note_price("BTCUSDT", 30000.0)
        trader.on_intent(MoveStop(1, 29850.0, "swing low confirmed"), "test")
        stops = [(a.client_algo_id, a.trigger_price, a.status) for a in fake.algo_orders if a.type == "STOP_MARKET"]
        assert [(s[1], s[2]) for s in stops] == [(D("29700"), "CANCELED"), (D("29850"), "NEW")]
        assert journal.rows("SELECT status FROM orders WHERE role = 'stop' ORDER BY rowid") == [
            {"status": "CANCELED"}, {"status": "NEW"}]
        fake.set_price("29800")                # below the new stop: it closes the position
        trader.reconcile()
        assert journal.rows("SELECT state, close_reason FROM positions") == [{"state": "CLOSED", "close_reason": "stop_loss"}]
        journal.close()


def test_move_stop_whose_old_stop_cannot_be_cancelled_keeps_the_old_stop(memory_journal):
    h = Harness(memory_journal)
    open_long(h)
    h.trader.note_price("BTCUSDT", 101.0)
    real_cancel = h.exchange.cancel_order
    h.exchange.cancel_order = lambda request: OrderUpdate(request.client_order_id, "BTCUSDT", OrderStatus.NEW, 0)
    h.trader.on_intent(MoveStop(1, 99.5, "tighter"), "test")     # the old stop's cancel does not take
    h.exchange.cancel_order = real_cancel
    stops = h.rows("SELECT status, trigger_price, detail FROM orders WHERE role = 'stop' ORDER BY rowid")
    assert [(s["status"], s["trigger_price"]) for s in stops] == [("NEW", "98"), ("CANCELED", "99.5")]
    assert stops[1]["detail"].startswith("not sent: the old stop")
    assert h.rows("SELECT state, stop_price FROM positions") == [{"state": "OPEN", "stop_price": "98"}]
    assert [r.code for r in h.trader.snapshot.for_strategy("test")[1]] == ["STOP_NOT_MOVED"]
    h.candle(100, 100.2, 97.5, 98)                  # the old stop still protects the position
    assert h.rows("SELECT close_reason, exit_price FROM positions") == [{"close_reason": "stop_loss", "exit_price": "98"}]


def test_intent_of_the_same_strategy_on_another_symbol_or_side_is_not_yours(memory_journal):
    from trade.strategy_slot import StrategySlot

    h = Harness(memory_journal)
    open_long(h)                                            # a BTCUSDT LONG of "test"
    h.trader.note_price("BTCUSDT", 100.0)
    on_eth = StrategySlot("test", "ETHUSDT")
    short_only = StrategySlot("test", "BTCUSDT", frozenset((Side.SHORT,)))
    h.trader.on_intent(ClosePosition(1, "from the ETHUSDT block"), on_eth)
    h.trader.on_intent(MoveStop(1, 99.0, "from the short block"), short_only)
    assert h.rows("SELECT state, stop_price FROM positions") == [{"state": "OPEN", "stop_price": "98"}]
    refused = [m[3] for m in moves(h) if m[2] == "intent_refused"]
    assert len(refused) == 2 and all("NOT_YOURS" in r and "a position of test on BTCUSDT LONG" in r for r in refused)
    assert [r.code for r in h.trader.snapshot.for_strategy("test", on_eth)[1]] == ["NOT_YOURS"]
    h.trader.on_intent(ClosePosition(1, "from its own block"), StrategySlot("test", "BTCUSDT"))
    assert ("OPEN", "CLOSING", "close_requested", "strategy: from its own block") in moves(h)
