"""Live mode's thread pumps give the same result as replay on the same candles."""
from __future__ import annotations

from decimal import Decimal

from ict.models import Candle
from journal.journal import Journal
from runtime.replay import ReplayClock, build_simulated_exchange, run_replay
from runtime.settings import load_settings
from runtime.threaded_runner import ThreadedRunner
from trade.trader import Trader

COLUMNS = "symbol, side, state, quantity, entry_price, exit_price, realized_pnl, fees, close_reason, opened_at"


def test_threaded_runner_matches_replay_on_the_same_candles(write_settings, day_candles):
    settings = load_settings(write_settings({"risk.max_positions": "2"}))
    candles = day_candles[:600]
    replayed = Journal.open(":memory:", "replay", durable=False)
    run_replay(settings, candles, replayed)

    threaded = Journal.open(":memory:", "replay", durable=False)
    clock = ReplayClock()
    exchange = build_simulated_exchange(settings)
    trader = Trader(exchange, threaded, settings.risk, clock,
                    limit_entry_timeout_ms=settings.strategy.limit_entry_timeout_candles * settings.interval_ms,
                    interval_ms=settings.interval_ms)
    exchange.connect(trader.on_order_update)  # called on the trader thread, from the candle hook

    def fill_on_candle(candle, symbol):
        clock.now_ms = candle.open_time
        exchange.on_candle(candle, symbol)
        clock.now_ms = candle.open_time + settings.interval_ms

    strategy = settings.build_runner(lambda: trader.snapshot.for_strategy("Mock_ThreeCandles_v1"))
    runner = ThreadedRunner(strategy, trader, on_candle=fill_on_candle, tick_seconds=60)
    runner.start()
    runner.feed(candles)
    assert runner.wait_idle(timeout=30)
    runner.stop()
    assert runner.failure is None
    # replay closes what is open at the end; the live runner keeps it open: compare closed trades
    query = f"SELECT {COLUMNS} FROM positions WHERE state = 'CLOSED' AND close_reason != 'end_of_replay' ORDER BY id"
    expected = replayed.rows(query)
    assert len(expected) > 5
    assert threaded.rows(query) == expected
    assert threaded.rows("SELECT COUNT(*) AS n FROM signals")[0]["n"] == replayed.rows("SELECT COUNT(*) AS n FROM signals")[0]["n"]


def test_threaded_runner_crash_in_a_stage_is_reported_not_swallowed():

    class Broken:
        def on_candle(self, candle):
            raise RuntimeError("strategy bug")

    class IdleTrader:
        def on_tick(self):
            pass

        def note_price(self, symbol, price):
            pass

    runner = ThreadedRunner(Broken(), IdleTrader(), tick_seconds=0.01)
    runner.start()
    runner.put_candle(Candle(0, 1.0, 1.0, 1.0, 1.0, 0.0))
    assert runner.stopping.wait(5)
    assert isinstance(runner.failure, RuntimeError)


def test_threaded_runner_busy_trader_queue_still_gets_housekeeping_every_tick():
    # the protection guard and the account check live in on_tick: a stream of order events
    # that never leaves the queue empty for a whole tick must not starve them
    import time as _time
    from trade.models import OrderStatus, OrderUpdate

    class BusyTrader:
        ticks = 0

        def on_tick(self):
            BusyTrader.ticks += 1

        def on_order_update(self, update):
            _time.sleep(0.002)

    class Quiet:
        def on_candle(self, candle):
            return []

    runner = ThreadedRunner(Quiet(), BusyTrader(), tick_seconds=0.05)
    runner.start()
    started = _time.monotonic()
    while _time.monotonic() - started < 0.5:   # faster than the queue's tick timeout ever fires
        runner.put_order_update(OrderUpdate("x", "BTCUSDT", OrderStatus.NEW, 0))
        _time.sleep(0.001)
    assert runner.wait_idle(timeout=10)
    runner.stop()
    assert runner.failure is None
    assert BusyTrader.ticks >= 5
