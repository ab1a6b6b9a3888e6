"""Live candles of one symbol at several intervals reach the strategies and the simulated exchange in
a replay's order (runtime/candle_order.py), and strategies on one feed share one warm-up."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ict.models import Candle, EntryType, Side, Signal
from journal.journal import Journal
from runtime import live
from runtime.candle_order import FinestFirst
from runtime.settings import load_settings
from runtime.threaded_runner import Lane, ThreadedRunner
from trade.risk import RiskSettings
from trade.simulated.exchange import SimulatedExchange
from trade.strategy_slot import StrategySlot
from trade.symbol_rules import SymbolRules
from trade.trader import Trader

H, M = 3_600_000, 60_000


def candle(open_time: int, price: float = 100.0) -> Candle:
    return Candle(open_time, price, price, price, price, 1.0)


def test_finest_first_holds_a_coarser_candle_until_the_finest_one_closing_with_it():
    order = FinestFirst({"BTCUSDT": "1m"})
    hour = candle(10 * H)                                       # closes 11:00
    assert order.take("BTCUSDT", "1h", hour) == [] and order.waiting() == 1
    assert order.take("BTCUSDT", "1m", candle(10 * H + 58 * M)) == [("BTCUSDT", "1m", candle(10 * H + 58 * M))]
    last_minute = candle(10 * H + 59 * M)                       # closes 11:00 too
    assert order.take("BTCUSDT", "1m", last_minute) == [("BTCUSDT", "1m", last_minute), ("BTCUSDT", "1h", hour)]
    assert order.take("BTCUSDT", "1h", candle(9 * H)) == [("BTCUSDT", "1h", candle(9 * H))]   # closed before: at once
    assert order.take("ETHUSDT", "4h", candle(0)) == [("ETHUSDT", "4h", candle(0))]            # one interval: never waits


def test_finest_first_after_a_warm_up_does_not_wait_for_a_candle_already_had():
    order = FinestFirst({"BTCUSDT": "1m"}, filled_until={"BTCUSDT": 11 * H})
    assert order.take("BTCUSDT", "1h", candle(10 * H)) == [("BTCUSDT", "1h", candle(10 * H))]


def test_paper_entry_of_the_coarser_strategy_fills_after_its_signal_whatever_order_the_frames_came_in():
    exchange = SimulatedExchange(SymbolRules("BTCUSDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("5")),
                                 Decimal(10000), 10)
    journal = Journal.open(":memory:", "replay", durable=False)
    trader = Trader(exchange, journal, RiskSettings(leverage=10, max_positions=3, loss_per_trade_percent=Decimal(1)),
                    lambda: 11 * H)
    exchange.connect(trader.on_order_update)
    exchange.on_candle(candle(10 * H + 58 * M), "BTCUSDT")

    class Hourly:    # goes long at each 1h close
        def on_candle(self, bar):
            return [Signal("BTCUSDT", Side.LONG, EntryType.MARKET, 105.0, 130.0, bar.close, bar.open_time, "H", "x")]

    class Minutely:
        def on_candle(self, bar):
            return []

    lanes = [Lane(StrategySlot("H", "BTCUSDT", frozenset({Side.LONG})), Hourly(), "1h"),
             Lane(StrategySlot("M", "BTCUSDT", frozenset({Side.SHORT})), Minutely(), "1m")]
    runner = ThreadedRunner(lanes, trader, on_candle=exchange.on_candle, tick_seconds=60)
    runner.start()
    runner.put_candle(Candle(10 * H, 100.0, 111.0, 99.0, 110.0, 1.0), "BTCUSDT", "1h")          # the 1h frame first
    runner.put_candle(Candle(10 * H + 59 * M, 100.0, 110.0, 100.0, 110.0, 1.0), "BTCUSDT", "1m")  # opened 10:59 at 100
    runner.put_candle(Candle(11 * H, 110.5, 111.0, 110.0, 110.5, 1.0), "BTCUSDT", "1m")           # opened 11:00 at 110.5
    assert runner.wait_idle(timeout=10)
    runner.stop()
    assert runner.failure is None
    fills = journal.rows("SELECT o.role, f.price FROM fills f JOIN orders o ON o.client_order_id = f.client_order_id")
    assert fills == [{"role": "entry", "price": "110.5"}]       # the first open after the 11:00 signal, never 10:59's 100
    assert journal.rows("SELECT state FROM positions") == [{"state": "OPEN"}]


def test_strategies_on_one_symbol_and_interval_share_one_warm_up_fetch(monkeypatch):
    from ict.strategies.runner import StrategyRunner
    from tests.conftest import ROOT

    settings = load_settings(ROOT / "settings.toml")
    first = replace(settings.strategy, sides="long")
    settings = replace(settings, strategies=(first, replace(first, sides="short")))
    calls, warmed = [], []

    class Market:   # each fetch a minute later than the one before: a candle closes between two fetches
        def closed_klines(self, symbol, interval, interval_ms, start_ms=None, limit=1500):
            last = 10 * H + 58 * M + len(calls) * M
            calls.append((symbol, interval, limit))
            return [candle(last - (limit - 1 - i) * M) for i in range(limit)]

    class Beat:
        def note_candle(self, *args):
            pass

    monkeypatch.setattr(StrategyRunner, "warm_up", lambda self, history: warmed.append((len(history), history[-1].open_time)))
    lanes, warmups = live._lanes(settings, trader=None, market_data=Market(), heartbeat=Beat())
    assert calls == [("BTCUSDT", "1m", 300)]                     # one fetch for both strategies
    assert warmed == [(300, 10 * H + 58 * M)] * 2                # both end where the stream goes on from
    assert warmups[("BTCUSDT", "1m")][-1].open_time == 10 * H + 58 * M and len(lanes) == 2


def test_finest_intervals_picks_each_symbols_shortest_in_first_seen_order():
    from ict.intervals import finest_intervals

    pairs = [("ETHUSDT", "4h"), ("BTCUSDT", "1h"), ("ETHUSDT", "15m"), ("BTCUSDT", "1d"), ("ETHUSDT", "1h")]
    assert list(finest_intervals(pairs).items()) == [("ETHUSDT", "15m"), ("BTCUSDT", "1h")]
