"""The replay's hot path skips work only where the skipped work provably changes nothing:
quiet trader ticks, the snapshot built when read, candles between the resting triggers, and
a replay batch's merged row updates."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from ict.models import Candle, EntryType
from journal.journal import Journal
from journal.records import PositionRecord
from tests.test_trader import RULES, Harness, long_signal
from trade.models import OrderRequest, OrderSide, OrderStatus, OrderType
from trade.simulated.exchange import SimulatedExchange
from trade.snapshot import EMPTY


def _count_guard_checks(h: Harness) -> list[int]:
    calls: list[int] = []
    check = h.trader.guard.check
    h.trader.guard.check = lambda now: calls.append(now) or check(now)
    return calls


def test_trader_tick_with_nothing_due_skips_the_guard_until_the_books_change(memory_journal):
    h = Harness(memory_journal)
    position = h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)          # entry fills, stop and target go out: OPEN
    assert position.state.value == "OPEN"
    calls = _count_guard_checks(h)
    for _ in range(5):
        h.candle(100, 101, 99, 100)          # between stop 98 and target 104: nothing happens
    assert len(calls) <= 1                   # the first quiet tick looks, the others know nothing changed
    h.candle(101, 104.5, 100.5, 104)         # the target fills: the books changed, the position closed
    assert h.rows("SELECT state, close_reason FROM positions")[0] == {"state": "CLOSED", "close_reason": "take_profit"}


def test_trader_limit_entry_timeout_fires_at_its_due_time_after_quiet_ticks(memory_journal):
    h = Harness(memory_journal, limit_entry_timeout_ms=3 * 60_000)
    h.trader.on_signal(long_signal(entry_type=EntryType.LIMIT, limit=99.0))   # at minute 1
    for _ in range(3):
        h.candle(100, 100.5, 99.5, 100)      # ticks at minutes 2, 3, 4; never reaches 99
    moves = h.rows("SELECT event, at FROM transitions WHERE event = 'cancel_entry'")
    assert moves == [{"event": "cancel_entry", "at": "1970-01-01T00:04:00.000Z"}]   # 3 minutes after the signal


def test_trader_snapshot_in_replay_is_built_only_when_read(memory_journal):
    h = Harness(memory_journal, publish_each_step=False)
    position = h.trader.on_signal(long_signal())
    assert h.trader.snapshot is EMPTY        # nobody read it yet
    published = h.trader.published()
    assert [item.view.id for item in published.positions] == [position.id]
    assert h.trader.published() is published   # nothing changed since: the same snapshot


def test_simulated_exchange_stop_touched_exactly_fills_between_quiet_candles():
    exchange = SimulatedExchange(RULES, D(10_000), leverage=10)
    updates = []
    exchange.connect(updates.append)
    exchange.on_candle(Candle(0, 100, 101, 99, 100, 1), "BTCUSDT")
    exchange.place_order(OrderRequest("en", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D(1), position_side="LONG"))
    exchange.on_candle(Candle(60_000, 100, 100.5, 99.5, 100, 1), "BTCUSDT")   # the entry fills at the open
    exchange.place_conditional(OrderRequest("sl", "BTCUSDT", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D(98),
                                            close_position=True, position_side="LONG"))
    exchange.on_candle(Candle(120_000, 100, 101, 98.1, 100, 1), "BTCUSDT")   # above the stop: nothing
    assert [u.client_order_id for u in updates if u.status is OrderStatus.FILLED] == ["en"]
    exchange.on_candle(Candle(180_000, 100, 101, 98, 99, 1), "BTCUSDT")      # the low touches 98 exactly
    assert [(u.client_order_id, u.average_price) for u in updates if u.status is OrderStatus.FILLED][-1] == ("sl", D(98))


def _position(journal: Journal) -> int:
    return journal.record_position(PositionRecord("BTCUSDT", "LONG", "s", "IDLE", D(1), D(98), D(104), 0))


def test_deferred_commits_updates_of_one_row_merge_and_reads_see_the_latest(journal_path):
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    with journal.deferred_commits(every_candles=100):
        with journal.transaction():
            position_id = _position(journal)
            journal.record_state(position_id, "ENTERING", None)
        with journal.transaction():
            journal.record_state(position_id, "CLOSING", "stop_loss")
            journal.record_stop_price(position_id, D("98.5"))
        assert journal.rows("SELECT state, close_reason, stop_price FROM positions") == [
            {"state": "CLOSING", "close_reason": "stop_loss", "stop_price": "98.5"}]
        with journal.transaction():
            journal.record_state(position_id, "CLOSED", "stop_loss")
        journal.candle_done()
    journal.close()
    again = Journal.open(journal_path, "replay", durable=False)
    assert again.rows("SELECT state, close_reason, stop_price FROM positions") == [
        {"state": "CLOSED", "close_reason": "stop_loss", "stop_price": "98.5"}]
    again.close()


def test_deferred_commits_step_broken_off_drops_its_merged_updates(journal_path):
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    with pytest.raises(KeyboardInterrupt):
        with journal.deferred_commits(every_candles=1):
            with journal.transaction():
                position_id = _position(journal)
            journal.candle_done()             # committed: IDLE
            with journal.transaction():
                journal.record_state(position_id, "ENTERING", None)
                raise KeyboardInterrupt       # the step stops halfway: its update must never be written
    assert journal.rows("SELECT state FROM positions") == [{"state": "IDLE"}]
    journal.close()
