"""Liquidity pools: equal highs/lows, previous day and week, sweeps and runs."""
from __future__ import annotations

from ict.events import CONSUMED, EXPIRED, LIQUIDITY_POOL, RUN, SWEEP, LifecycleRecord
from ict.models import Candle
from tests.ict_helpers import DAY_FILE, LONG_FILE, ROOT, bars, events, real_candles, records, run, t

HOUR = 3_600_000
MONDAY = 1_699_833_600_000  # 2023-11-13 00:00 UTC
OPTIONS = dict(internal_length=2, previous_day_pools=False, previous_week_pools=False)
# pivot highs 5 (candle 2, confirmed 4) and 5.02 (candle 6, confirmed 8): equal within 0.1 ATR
EQUAL_HIGHS = [(1, 0.5), (2, 1), (5, 4), (3, 2), (2, 1), (4, 3), (5.02, 4), (3, 2), (2, 1)]


def pools(reports):
    return events(reports, LIQUIDITY_POOL)


def test_pool_equal_highs_level_is_the_highest_member_confirmed_with_the_second():
    [pool] = pools(run(bars(EQUAL_HIGHS), **OPTIONS))
    assert (pool.direction, pool.level, pool.formed_at, pool.confirmed_at, pool.top, pool.bottom) == \
        ("bullish", "internal", t(2), t(8), 5.02, 5.02)


def test_pool_highs_further_apart_than_the_tolerance_make_no_pool():
    rows = EQUAL_HIGHS[:6] + [(5.6, 4)] + EQUAL_HIGHS[7:]
    assert pools(run(bars(rows), **OPTIONS)) == []


def test_pool_high_already_traded_through_does_not_pair():
    rows = [(1, 0.5), (2, 1), (5, 4), (3, 2), (2, 1), (6, 3), (4, 3), (3, 2), (4, 3), (5.02, 4), (3, 2), (2, 1)]
    assert pools(run(bars(rows), **OPTIONS)) == []


def test_pool_third_and_fourth_equal_highs_join_quietly_instead_of_making_a_second_pool():
    rows = EQUAL_HIGHS + [(4, 3), (5.01, 4), (3, 2), (2, 1), (4, 3), (5.015, 4), (3, 2), (2, 1)]
    buy_side = [p for p in pools(run(bars(rows), **OPTIONS)) if p.direction == "bullish"]
    assert [(p.top, p.confirmed_at) for p in buy_side] == [(5.02, t(8))]


def test_sweep_wick_above_and_close_below_consumes_the_buy_side_pool():
    reports = run(bars(EQUAL_HIGHS + [(5.1, 4.5, 4.6, 4.9)]), **OPTIONS)
    [pool] = pools(reports)
    [sweep] = events(reports, SWEEP)
    assert (sweep.direction, sweep.level, sweep.confirmed_at, sweep.bottom, sweep.top, sweep.pool_id) == \
        ("bearish", "internal", t(9), 5.02, 5.1, pool.id)
    assert LifecycleRecord(pool.id, CONSUMED, t(9)) in reports
    assert events(reports, RUN) == []


def test_run_close_above_the_pool_is_a_run_not_a_sweep():
    reports = run(bars(EQUAL_HIGHS + [(5.3, 4.5, 4.6, 5.2)]), **OPTIONS)
    assert [(e.direction, e.confirmed_at) for e in events(reports, RUN)] == [("bullish", t(9))]
    assert events(reports, SWEEP) == []


def test_sweep_pool_is_consumed_once():
    reports = run(bars(EQUAL_HIGHS + [(5.1, 4.5, 4.6, 4.9), (5.2, 4.5, 4.6, 4.9)]), **OPTIONS)
    assert len(events(reports, SWEEP)) == 1


def test_pool_equal_lows_mirror_equal_highs():
    mirrored = [(10 - low, 10 - high) for high, low in EQUAL_HIGHS]
    [pool] = pools(run(bars(mirrored), **OPTIONS))
    assert (pool.direction, pool.top, pool.formed_at, pool.confirmed_at) == ("bearish", 4.98, t(2), t(8))


def hourly(start, count, peak_at=None):
    candles = []
    for i in range(count):
        high = 110.0 if i == peak_at else 101.0 + (i % 3)
        candles.append(Candle(start + i * HOUR, 100.0, high, 99.0 - (i % 2), 100.5, 1.0))
    return candles


def test_pool_previous_day_high_and_low_are_confirmed_at_the_last_candle_of_the_day():
    candles = hourly(MONDAY, 30, peak_at=7)
    reports = run(candles, previous_week_pools=False)
    day = [p for p in pools(reports) if p.level == "day"]
    assert [(p.direction, p.top, p.formed_at, p.confirmed_at) for p in day] == [
        ("bullish", 110.0, MONDAY + 7 * HOUR, MONDAY + 23 * HOUR),
        ("bearish", 98.0, MONDAY + 1 * HOUR, MONDAY + 23 * HOUR)]


def test_pool_previous_day_of_a_day_seen_only_in_part_is_not_drawn():
    candles = hourly(MONDAY + 5 * HOUR, 30)
    day = [p for p in pools(run(candles, previous_week_pools=False)) if p.level == "day"]
    assert [p.confirmed_at for p in day] == []  # the first full day ends after the data


def test_pool_new_previous_day_high_retires_the_old_one_with_a_record():
    candles = hourly(MONDAY, 48)
    reports = run(candles, previous_week_pools=False, equal_tolerance_atr=0.0)
    first_day_high = [p for p in pools(reports) if p.level == "day"][0]
    assert LifecycleRecord(first_day_high.id, EXPIRED, MONDAY + 47 * HOUR) in reports


def test_pool_previous_week_starts_on_monday_utc():
    step = 4 * HOUR
    candles = [Candle(MONDAY - 6 * step + i * step, 100.0, 101.0 + (i == 10), 99.0, 100.0, 1.0) for i in range(60)]
    week = [p for p in pools(run(candles, previous_day_pools=False)) if p.level == "week"]
    last_of_week = MONDAY + 41 * step  # Sunday 20:00 UTC
    assert [(p.direction, p.top, p.confirmed_at) for p in week] == \
        [("bullish", 102.0, last_of_week), ("bearish", 99.0, last_of_week)]


def test_sweeps_on_real_data_wick_beyond_the_pool_and_close_back_inside():
    reports = run(real_candles(LONG_FILE)[:20_000])
    by_id = {e.id: e for e in events(reports)}
    closes = {c.open_time: c for c in real_candles(LONG_FILE)[:20_000]}
    sweeps = events(reports, SWEEP) + events(reports, RUN)
    assert len(events(reports, SWEEP)) > 20
    for take in sweeps:
        pool = by_id[take.pool_id]
        candle = closes[take.confirmed_at]
        level = pool.top
        assert take.confirmed_at > pool.confirmed_at
        if pool.direction == "bullish":
            assert candle.high > level
            assert (candle.close <= level) == (take.kind == SWEEP)
        else:
            assert candle.low < level
            assert (candle.close >= level) == (take.kind == SWEEP)
        assert LifecycleRecord(pool.id, CONSUMED, take.confirmed_at) in records(reports, CONSUMED)


def test_pool_day_pools_appear_once_a_day_on_a_real_file():
    reports = run(real_candles(DAY_FILE))
    day = [p for p in pools(reports) if p.level == "day"]
    assert [p.confirmed_at for p in day] == [real_candles(DAY_FILE)[-1].open_time] * 2


def test_pool_previous_day_with_its_last_candle_missing_is_reported_at_the_next_candle():
    candles = [c for c in hourly(MONDAY, 30, peak_at=7) if c.open_time != MONDAY + 23 * HOUR]
    day = [p for p in pools(run(candles, previous_week_pools=False)) if p.level == "day"]
    assert [(p.top, p.confirmed_at) for p in day if p.direction == "bullish"] == [(110.0, MONDAY + 24 * HOUR)]


def test_pool_previous_day_on_a_spot_file_with_missing_hours_closes_every_day_at_23_utc():
    # 2021 Q1 spot, 1h: two hours missing (maintenance) and one flat zero-volume candle
    candles = real_candles(ROOT / "data" / "BTCUSDT-spot-1h-2021-01-01-native12.csv")
    assert len(candles) == 2158
    day = [p for p in pools(run(candles)) if p.level == "day"]
    confirmations = sorted({p.confirmed_at for p in day})
    assert len(confirmations) == 90 and len(day) == 180
    assert all(at % 86_400_000 == 23 * HOUR for at in confirmations)
