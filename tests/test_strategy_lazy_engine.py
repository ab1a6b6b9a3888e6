"""The runner feeds its engines (and session clock) only when a strategy reads them: a strategy
that reads structure now and then must see exactly what it would have seen had the engines run
on every candle (same events and changes of the current close, same zones, same ids, same
sessions), and one that reads only the candle must not pay for the engines."""
from __future__ import annotations

import pytest

import ict.strategies.context as context_module
from ict.strategies.base import Strategy
from ict.strategies.runner import StrategyRunner


class Reader(Strategy):
    """Reads everything the engines compute on the candles `when(index)` allows, nothing else."""

    name = "Reader"
    defaults = {}

    def __init__(self, when, timeframes=()):
        self.timeframes = timeframes
        super().__init__("BTCUSDT")
        self.when = when
        self.index = -1
        self.seen = {}

    def on_candle(self, ctx):
        self.index += 1
        if self.when(self.index):
            sessions = (ctx.killzones, ctx.in_killzone(), ctx.day_open, ctx.week_open)
            self.seen[self.index] = [look(ctx) + sessions] + [look(ctx.tf(name)) for name in self.timeframes]
        return []


def look(chart):
    zones = [chart.ref(z) for z in chart.fvgs() + chart.order_blocks() + chart.breakers() + chart.pools()]
    swings = [chart.swing_high(level) for level in ("swing", "internal")] + [chart.swing_low("internal")]
    return (chart.candle, chart.closed, chart.events, [(chart.ref(c), c.record) for c in chart.changes], zones,
            chart.trend("swing"), chart.trend("internal"), chart.atr, swings)


def seen(candles, when, timeframes=()):
    strategy = Reader(when, timeframes)
    runner = StrategyRunner(strategy, "1m")
    for candle in candles:
        runner.on_candle(candle)
    return strategy.seen, runner


@pytest.mark.parametrize("every", [1, 7, 97])
def test_lazy_engine_read_now_and_then_sees_what_an_every_candle_reader_sees(day_candles, every):
    always, _ = seen(day_candles, lambda index: True, ("15m",))
    sometimes, _ = seen(day_candles, lambda index: index % every == 0, ("15m",))
    assert len(sometimes) == -(-len(day_candles) // every)
    assert sometimes == {index: always[index] for index in sometimes}
    changed = [index for index, (base, _) in sometimes.items() if base[3]]
    assert changed  # records of the current close are there, paired with their events


def test_lazy_engine_first_read_late_still_pairs_changes_with_older_events(day_candles):
    # the backlog's events must be remembered while catching up, or a later record finds no event
    always, _ = seen(day_candles, lambda index: True)
    late, _ = seen(day_candles, lambda index: index >= 1000)
    assert late == {index: always[index] for index in late}
    assert sum(len(views[0][3]) for views in late.values()) > 50


def test_lazy_engine_not_fed_while_the_strategy_reads_only_the_candle(day_candles):
    _, runner = seen(day_candles, lambda index: False, ("15m",))
    assert runner.context._engine.atr_indicator.value == 0.0 and runner.context.candle == day_candles[-1]
    assert runner.context.tf("15m")._engine.atr_indicator.value == 0.0 and runner.clock.day_open is None
    assert runner.context.atr > 0   # the first read catches up on the whole day
    assert runner.context.day_open == day_candles[240].open   # 00:00 New York is the 241st candle of the UTC day


def test_lazy_engine_catches_up_at_max_pending_with_the_same_results(day_candles, monkeypatch):
    always, _ = seen(day_candles, lambda index: True)
    monkeypatch.setattr(context_module, "MAX_PENDING", 50)
    rare, runner = seen(day_candles, lambda index: index % 500 == 499)
    assert len(runner.context._backlog) < 50 and len(runner.context._clock_backlog) < 50
    assert rare == {index: always[index] for index in rare}


def test_lazy_engine_refuses_an_out_of_order_candle_at_once(day_candles):
    runner = StrategyRunner(Reader(lambda index: False), "1m")
    runner.on_candle(day_candles[1])
    with pytest.raises(ValueError, match="is not after the previous one at .*; feed each closed candle once, in time order"):
        runner.on_candle(day_candles[0])


def test_lazy_engine_warm_up_feeds_the_engines_at_once(day_candles):
    # live start: the history must not wait for the first live candle's read
    runner = StrategyRunner(Reader(lambda index: False, ("15m",)), "1m")
    runner.warm_up(day_candles[:600])
    assert runner.context._engine.atr_indicator.value > 0 and runner.context.tf("15m")._engine.atr_indicator.value > 0
    assert not runner.context._backlog and not runner.context._clock_backlog and runner.clock.day_open is not None
