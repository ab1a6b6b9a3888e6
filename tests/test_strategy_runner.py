"""The strategy runner and its context: typed reports, changes with their events, higher
timeframes without lookahead, sessions, warm-up, and the trader's feedback."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ict.engine import Engine
from ict.events import FVG, Direction, Event, Kind, LifecycleRecord, Level, State
from ict.killzones import killzones_at
from ict.models import CancelEntry, Candle, EntryType, Side
from ict.strategies.base import Strategy
from ict.strategies.context import ID_BLOCK
from ict.strategies.runner import StrategyRunner, warmup_candles_needed
from ict.timeframes import HigherTimeframe
from tests.test_trader import Harness


class Recorder(Strategy):
    """Keeps what it saw at each call; returns whatever `answer(ctx)` gives."""

    name = "Recorder"
    defaults = {}

    def __init__(self, symbol="BTCUSDT", timeframes=(), answer=None):
        self.timeframes = timeframes
        super().__init__(symbol)
        self.seen = []
        self.answer = answer

    def on_candle(self, ctx):
        self.seen.append(self.look(ctx))
        return self.answer(ctx) if self.answer else []

    def look(self, ctx):
        return ctx.candle, ctx.events, ctx.changes


def run(candles, **kwargs):
    strategy = Recorder(**kwargs)
    runner = StrategyRunner(strategy, "1m")
    for candle in candles:
        runner.on_candle(candle)
    return strategy, runner


def test_events_typed_kinds_compare_format_and_hash_as_their_strings(day_candles):
    assert Kind.FVG == "fvg" and f"{Kind.CHOCH}" == "choch" and {"fvg": 1}[Kind.FVG] == 1
    assert State.INVALIDATED == "invalidated" and Direction.BULLISH == "bullish" and Level.SWING == "swing"
    reports = Engine().scan(day_candles[:300])
    assert reports and all(isinstance(r.kind, Kind) and isinstance(r.direction, Direction)
                           for r in reports if isinstance(r, Event))
    assert all(isinstance(r.state, State) for r in reports if isinstance(r, LifecycleRecord))


def test_runner_changes_carry_the_event_they_are_about(day_candles):
    strategy, _ = run(day_candles)
    scanned = Engine().scan(day_candles)
    by_id = {r.id: r for r in scanned if isinstance(r, Event)}
    records = [r for r in scanned if isinstance(r, LifecycleRecord)]
    changes = [change for _, _, seen in strategy.seen for change in seen]
    assert len(records) > 100 and [c.record for c in changes] == records
    assert all(c.event is not None and c.event == by_id[c.record.ref] and c.state == c.record.state for c in changes)
    events = [event for _, seen, _ in strategy.seen for event in seen]
    assert events == [r for r in scanned if isinstance(r, Event)]


def test_runner_higher_timeframe_candle_and_reports_appear_only_at_the_period_end(day_candles):
    class HigherRecorder(Recorder):
        def look(self, ctx):
            chart = ctx.tf("15m")
            return ctx.candle, chart.closed, chart.candle, chart.events, [chart.ref(e) for e in chart.events]

    strategy = HigherRecorder(timeframes=("15m",))
    runner = StrategyRunner(strategy, "1m")
    for candle in day_candles:
        runner.on_candle(candle)
    aggregator, expected_events = HigherTimeframe("15m", 60_000), []
    higher = [c for c in (aggregator.update(c) for c in day_candles) if c is not None]
    engine = Engine(first_id=ID_BLOCK + 1)   # the first higher timeframe's block of ids
    expected_events = [[r for r in engine.update(c) if isinstance(r, Event)] for c in higher]
    closes = [(base, candle, events, refs) for base, closed, candle, events, refs in strategy.seen if closed]
    assert len(closes) == len(higher) == 96
    for index, (base, candle, events, refs) in enumerate(closes):
        assert (base.open_time + 60_000) % 900_000 == 0            # the base candle that ends the period
        assert candle == higher[index] and candle.open_time == base.open_time + 60_000 - 900_000
        assert list(events) == expected_events[index]
        assert refs == [f"15m:{e.kind}:{e.id - ID_BLOCK}" for e in events]
    first_close = next(i for i, seen in enumerate(strategy.seen) if seen[1])
    assert all(seen[2] is None for seen in strategy.seen[:first_close])  # nothing before the first period ends
    between = [seen for seen in strategy.seen[first_close:] if not seen[1]]
    assert between and all(events == () for _, _, _, events, _ in between)
    # between closes the chart keeps the last closed candle, never a forming one
    assert all(candle.open_time + 900_000 <= base.open_time + 60_000 for base, _, candle, _, _ in between)


def test_context_swing_high_and_low_are_the_latest_swing_events(day_candles):
    latest = {}

    def check(ctx):
        for event in ctx.events:
            if event.kind in (Kind.SWING_HIGH, Kind.SWING_LOW):
                latest[(event.kind, event.level)] = event
        for level in (Level.SWING, Level.INTERNAL):
            assert ctx.swing_high(level) is latest.get((Kind.SWING_HIGH, level))
            assert ctx.swing_low(level) is latest.get((Kind.SWING_LOW, level))
        return []

    run(day_candles, answer=check)
    assert (Kind.SWING_HIGH, Level.SWING) in latest and (Kind.SWING_LOW, Level.INTERNAL) in latest


def test_context_zones_trend_atr_and_refs_read_the_engine(day_candles):
    engine = Engine()
    checked = []

    def check(ctx):
        engine.update(ctx.candle)
        assert [z.event.id for z in ctx.fvgs()] == [z.event.id for z in engine.active_fvgs]
        assert all(z.event.direction == "bullish" for z in ctx.fvgs(Direction.BULLISH))
        assert len(ctx.order_blocks("bullish")) + len(ctx.order_blocks("bearish")) == len(engine.active_order_blocks)
        assert [z.event.id for z in ctx.pools("bearish")] == [z.event.id for z in engine.active_pools
                                                             if z.event.direction == "bearish"]
        assert len(ctx.breakers()) == len(engine.active_breakers)
        assert ctx.trend(Level.SWING) == engine.trend("swing") and ctx.trend(Level.INTERNAL) == engine.trend("internal")
        assert ctx.atr == engine.atr
        checked.extend(ctx.ref(z) for z in ctx.fvgs())
        return []

    run(day_candles[:600], answer=check)
    assert checked and all(ref.startswith("fvg:") for ref in checked)


def test_context_killzones_and_day_open_come_from_the_session_clock(day_candles):
    seen = []
    run(day_candles, answer=lambda ctx: seen.append((ctx.candle, ctx.killzones, ctx.in_killzone(), ctx.day_open)) or [])
    assert all(zones == killzones_at(candle.open_time) and inside == bool(zones) for candle, zones, inside, _ in seen)
    # 2022-05-06 00:00 New York is 04:00 UTC: the 241st candle of the UTC day opens the New York day
    assert all(day_open is None for _, _, _, day_open in seen[:240])
    assert all(day_open == day_candles[240].open for _, _, _, day_open in seen[240:])


def test_runner_warm_up_feeds_the_engines_without_calling_the_strategy(day_candles):
    strategy = Recorder()
    runner = StrategyRunner(strategy, "1m")
    assert runner.warm_up(day_candles[:1000]) == 1000 and strategy.seen == []
    for candle in day_candles[1000:]:
        runner.on_candle(candle)
    full, _ = run(day_candles)
    assert strategy.seen == full.seen[1000:]     # same state, same ids, as if it had traded all along


def test_runner_refuses_a_return_that_is_not_an_intent(day_candles):
    runner = StrategyRunner(Recorder(answer=lambda ctx: ["buy"]), "1m")
    with pytest.raises(TypeError, match="returned 'buy'; return a list of Signal, CancelEntry, ClosePosition or MoveStop"):
        runner.on_candle(day_candles[0])


def test_runner_refuses_a_return_that_is_not_a_list(day_candles):
    runner = StrategyRunner(Recorder(answer=lambda ctx: {"side": "LONG"}), "1m")
    with pytest.raises(TypeError, match="returned a dict, not a list; return a list of Signal"):
        runner.on_candle(day_candles[0])


@pytest.mark.parametrize("change, problem", [
    ({"strategy": "Other"}, "strategy='Other', symbol='BTCUSDT'; build it with self.signal(...)"),
    ({"limit_price": None, "entry_type": EntryType.LIMIT}, "entry_type LIMIT with limit_price None"),
    ({"expiry_candles": 3}, "expiry_candles = 3: only for LIMIT entries, 1 or more"),
])
def test_runner_refuses_a_signal_the_trader_would_misfile(day_candles, change, problem):
    def answer(ctx):
        return [replace(strategy.signal(ctx, Side.LONG, 1.0, 1e9), **change)]

    strategy = Recorder(answer=answer)
    with pytest.raises(ValueError) as error:
        StrategyRunner(strategy, "1m").on_candle(day_candles[0])
    assert str(error.value).startswith(f"Recorder.on_candle returned a bad Signal: {problem}")


def test_context_tf_of_an_undeclared_timeframe_names_the_declared_ones(day_candles):
    runner = StrategyRunner(Recorder(timeframes=("5m", "1h")), "1m")
    runner.on_candle(day_candles[0])
    with pytest.raises(KeyError, match=r'timeframe "4h" is not declared .* \(declared: "5m", "1h"\)'):
        runner.context.tf("4h")


def test_strategy_timeframes_must_be_whole_multiples_above_the_base():
    Recorder.timeframes = ("1h", "4h")
    try:
        Recorder.check_timeframes("5m")
        for bad, base in (("3m", "5m"), ("1m", "5m"), ("1w", "3d")):
            Recorder.timeframes = (bad,)
            with pytest.raises(ValueError, match=f'"{bad}" is not a whole multiple above \\[strategy\\] interval = "{base}"'):
                Recorder.check_timeframes(base)
    finally:
        Recorder.timeframes = ()


@pytest.mark.parametrize("declared, base, fix", [
    (("1m",), "5m", 'use one of "15m", "30m", "1h", "2h", "4h", "6h", ... or a finer [strategy] interval'),
    (("5m",), "5m", 'use one of "15m", "30m", "1h", "2h", "4h", "6h", ... or a finer [strategy] interval'),
    (("1w",), "3d", 'use a finer [strategy] interval'),
    (("7m",), "1m", '"7m" is not a Binance interval; use one of 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w'),
    ("1h", "5m", 'timeframes must be a tuple of intervals, e.g. timeframes = ("1h",) with the comma'),
])
def test_strategy_timeframes_refusal_names_a_fix_that_works(declared, base, fix):
    Recorder.timeframes = declared
    try:
        with pytest.raises(ValueError) as error:
            Recorder.check_timeframes(base)
    finally:
        Recorder.timeframes = ()
    assert str(error.value).endswith(fix) and "\n" not in str(error.value)


def test_warmup_candles_needed_covers_the_largest_timeframe():
    assert warmup_candles_needed(Recorder(), "1m", 300) == 300
    assert warmup_candles_needed(Recorder(timeframes=("15m", "1h")), "1m", 300) == 18_000
    assert warmup_candles_needed(Recorder(timeframes=("4h",)), "5m", 100) == 4_800


def test_context_feedback_shows_positions_entries_ages_and_refusals(memory_journal):
    h = Harness(memory_journal, interval_ms=60_000)
    views = []

    def act(ctx):
        views.append((ctx.positions, ctx.entries, ctx.refusals))
        if len(views) == 1:   # a resting LIMIT far below, and a SHORT whose stop is on the wrong side
            return [strategy.signal(ctx, Side.LONG, 90.0, 110.0, limit=95.0, basis=("fvg:1",)),
                    strategy.signal(ctx, Side.SHORT, 90.0, 80.0, reason="wrong side")]
        if len(views) == 4:
            return [CancelEntry(ctx.entries[0].id, "done waiting")]
        return []

    strategy = Recorder(answer=act)
    runner = StrategyRunner(strategy, "1m", feedback=lambda: h.trader.snapshot.for_strategy("Recorder"))
    for minute in range(1, 7):
        h.candle(100, 101, 99, 100)
        for intent in runner.on_candle(Candle(minute * 60_000, 100, 101, 99, 100, 1)):
            h.trader.on_intent(intent, "Recorder")
    assert views[0] == ((), (), ())
    positions, entries, refusals = views[1]
    assert [(p.id, p.state, p.entry_price, p.age_candles, p.basis) for p in positions] == [(1, "ENTERING", 95.0, 1, ("fvg:1",))]
    assert entries == positions and [(r.code, r.side) for r in refusals] == [("STOP_WRONG_SIDE", Side.SHORT)]
    assert views[3][0][0].age_candles == 3
    assert views[4][0] == () and views[4][1] == ()     # cancelled at the 4th call: gone at the 5th


def test_live_warm_up_loads_enough_base_candles_for_the_largest_timeframe(write_settings, monkeypatch):
    from runtime import live
    from runtime.settings import load_settings

    class MarketData:
        def __init__(self):
            self.calls = []

        def closed_klines(self, symbol, interval, interval_ms, start_ms=None, limit=1500):
            self.calls.append((start_ms, limit))
            first = start_ms if start_ms is not None else 0
            count = 20_000 if start_ms is not None else limit
            return [Candle(first + i * interval_ms, 1.0, 1.0, 1.0, 1.0, 1.0) for i in range(count)]

    monkeypatch.setattr(live, "wall_ms", lambda: 1_000_000 * 60_000 + 30_000)
    settings = load_settings(write_settings({"exchange.warmup_candles": "300"}))
    market = MarketData()
    block = settings.strategy
    candles = live._closed_candles(market, "BTCUSDT", "1m", live._warmup_count(block, Recorder(timeframes=("15m", "1h")), 300))
    assert market.calls == [((1_000_000 - 18_000) * 60_000, 1500)] and len(candles) == 18_000
    market = MarketData()
    assert len(live._closed_candles(market, "BTCUSDT", "1m", live._warmup_count(block, Recorder(), 300))) == 300
    assert market.calls == [(None, 300)]


def test_signal_basis_names_a_higher_timeframe_event_by_its_timeframe(day_candles):
    # a 15m event handed to signal() as an object must not be journaled as a base-chart ref
    def answer(ctx):
        higher = ctx.tf("15m").events
        if not (higher and ctx.events):
            return []
        return [strategy.signal(ctx, "LONG", ctx.candle.low - 50, ctx.candle.close + 100,
                                basis=[higher[0], ctx.events[0]])]

    strategy = Recorder(timeframes=("15m",), answer=answer)
    runner = StrategyRunner(strategy, "1m")
    signals = [intent for candle in day_candles for intent in runner.on_candle(candle)]
    assert signals
    aggregator, engine = HigherTimeframe("15m", 60_000), Engine()
    higher_ids = {r.id for c in (aggregator.update(c) for c in day_candles) if c is not None
                  for r in engine.update(c) if isinstance(r, Event)}
    for signal in signals:
        higher_ref, base_ref = signal.basis
        kind, number = higher_ref.removeprefix("15m:").rsplit(":", 1)
        assert higher_ref.startswith("15m:") and int(number) in higher_ids   # the id `ict scan` gives on 15m
        assert not base_ref.startswith("15m:") and int(base_ref.rsplit(":", 1)[1]) < ID_BLOCK
