"""The engine as a whole: causal, the same live and in batch, prefix-invariant, and cheap per candle."""
from __future__ import annotations

import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from ict.engine import Engine, scan
from ict.events import BOS, CHOCH, KINDS, STATES, SWING_HIGH, SWING_LOW, Event, LifecycleRecord
from ict.settings import IctSettings
from tests.ict_helpers import DAY_FILE, FIVE_MINUTE_FILE, LONG_FILE, events, real_candles

CUTS = 50
SEED = 20250504


@pytest.fixture(scope="module")
def long_run():
    """The full run over the 73k-candle file, computed once for the module."""
    return scan(real_candles(LONG_FILE))


def test_engine_candle_by_candle_equals_whole_file_scan():
    candles = real_candles(DAY_FILE)
    engine = Engine()
    one_by_one = []
    for candle in candles:
        one_by_one.extend(engine.update(candle))
    assert one_by_one == scan(candles)
    assert len(one_by_one) > 1000


def _prefix_matches(job: tuple[int, int]) -> tuple[int, bool]:
    cut, end = job
    candles, full = _SHARED["candles"], _SHARED["full"]
    return cut, scan(candles[:cut]) == full[:end]


_SHARED: dict = {}


def test_engine_prefix_runs_report_exactly_what_the_full_run_reported_up_to_the_cut(long_run):
    # Each prefix is a genuine new run on the truncated input. Every report is stamped with
    # the candle at whose close it was made, so the full run's reports up to the cut must
    # equal the prefix run's reports, ids included. The 50 runs (1.8 million candle
    # updates) are shared between two forked processes where the platform allows it.
    candles = real_candles(LONG_FILE)
    times = [r.time for r in long_run]
    cuts = sorted(random.Random(SEED).sample(range(1, len(candles)), CUTS))
    jobs, end = [], 0
    for cut in cuts:
        last_time = candles[cut - 1].open_time
        while end < len(times) and times[end] <= last_time:
            end += 1
        jobs.append((cut, end))
    _SHARED.update(candles=candles, full=long_run)
    jobs.sort(key=lambda job: -job[0])  # longest first balances the two workers
    if "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_prefix_matches, jobs))
    else:
        results = [_prefix_matches(job) for job in jobs]
    assert [cut for cut, same in results if not same] == []
    assert len(results) == CUTS


def test_engine_reports_are_in_time_order_with_increasing_ids(long_run):
    times = [r.time for r in long_run]
    assert times == sorted(times)
    ids = [r.id for r in long_run if isinstance(r, Event)]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_engine_records_follow_their_event_and_use_known_states(long_run):
    confirmed = {}
    for report in long_run:
        if isinstance(report, Event):
            assert report.kind in KINDS and report.top >= report.bottom
            assert report.formed_at <= report.confirmed_at
            confirmed[report.id] = report.confirmed_at
        else:
            assert report.state in STATES
            # life-cycle steps start at the candle after the confirmation; a replacement
            # comes later still
            assert report.at > confirmed[report.ref]


def test_engine_every_break_closes_beyond_a_pivot_confirmed_before_it(long_run):
    closes = {c.open_time: c.close for c in real_candles(LONG_FILE)}
    pivots = {}
    checked = 0
    for report in long_run:
        if isinstance(report, Event) and report.kind in (SWING_HIGH, SWING_LOW):
            pivots[(report.level, report.formed_at, report.top)] = report.confirmed_at
        elif isinstance(report, Event) and report.kind in (BOS, CHOCH):
            assert pivots[(report.level, report.formed_at, report.top)] < report.confirmed_at
            close = closes[report.confirmed_at]
            assert close > report.top if report.direction == "bullish" else close < report.bottom
            checked += 1
    assert checked > 1000


def test_engine_break_kinds_follow_the_trend_per_level(long_run):
    trend = {"internal": None, "swing": None}
    for brk in (e for e in events(long_run) if e.kind in (BOS, CHOCH)):
        opposite = "bearish" if brk.direction == "bullish" else "bullish"
        assert brk.kind == (CHOCH if trend[brk.level] == opposite else BOS)
        trend[brk.level] = brk.direction


def test_engine_out_of_order_candle_is_refused():
    candles = real_candles(DAY_FILE)
    engine = Engine()
    engine.update(candles[1])
    with pytest.raises(ValueError, match="not after the previous one"):
        engine.update(candles[0])


def test_engine_exposes_active_zones_and_trend_after_a_day():
    candles = real_candles(DAY_FILE)
    engine = Engine()
    engine.scan(candles)
    assert engine.trend("internal") in ("bullish", "bearish")
    assert 0 < len(engine.active_fvgs) <= 2 * engine.settings.fvg_max_active
    assert all(zone.event.kind == "order_block" for zone in engine.active_order_blocks)
    assert engine.atr > 0
    with pytest.raises(ValueError, match="use"):
        engine.trend("daily")


def test_engine_flat_zero_volume_candles_follow_the_same_rules_as_any_other():
    # the 5m file has three flat zero-volume candles at 2023-09-12 08:35-08:45 UTC
    candles = real_candles(FIVE_MINUTE_FILE)
    flat = [i for i, c in enumerate(candles) if c.volume == 0 and c.high == c.low]
    assert len(flat) == 3
    window = candles[flat[0] - 300:flat[-1] + 300]
    gaps = [(e.formed_at, e.bottom, e.top) for e in events(scan(window)) if e.kind == "fvg"]
    expected = []
    for first, last in zip(window, window[2:]):
        if last.low > first.high:
            expected.append((first.open_time, first.high, last.low))
        elif last.high < first.low:
            expected.append((first.open_time, last.high, first.low))
    assert gaps == expected
    flat_times = {candles[i].open_time for i in flat}
    assert any(formed in flat_times for formed, _, _ in gaps)  # a gap does start at a flat candle


def test_engine_update_costs_microseconds_not_milliseconds():
    candles = real_candles(FIVE_MINUTE_FILE)[:20_000]
    engine = Engine(IctSettings())
    started = time.perf_counter()
    for candle in candles:
        engine.update(candle)
    per_candle = (time.perf_counter() - started) / len(candles)
    assert per_candle < 500e-6  # generous for slow CI; the bench measures the real figure
