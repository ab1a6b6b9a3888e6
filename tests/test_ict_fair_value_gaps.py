"""Fair value gaps: the three-candle rule, filters, life cycle, expiry, flat candles."""
from __future__ import annotations

from ict.atr import WilderAtr
from ict.events import EXPIRED, FILLED, FVG, HALF_FILLED, INVERTED, TOUCHED, Event, LifecycleRecord
from ict.fair_value_gaps import FairValueGapDetector
from ict.models import Candle
from tests.ict_helpers import DAY_FILE, FIVE_MINUTE_FILE, bars, real_candles, t

# a bullish gap between candle 0 (high 10) and candle 2 (low 11): zone [10, 11], half 10.5
GAP = [(10, 9), (12, 9.5, 9.6, 11.9), (13, 11)]


def feed(candles, **options):
    detector = FairValueGapDetector(**options)
    reports = []
    for candle in candles:
        reports += detector.update(candle)
    return reports, detector


def test_fvg_bullish_gap_is_formed_at_the_first_candle_and_confirmed_at_the_third():
    reports, _ = feed(bars(GAP))
    assert reports == [Event(1, FVG, "bullish", None, t(0), t(2), 11, 10)]


def test_fvg_bearish_gap_zone_runs_from_the_third_high_to_the_first_low():
    reports, _ = feed(bars([(13, 11), (11.5, 9, 11.4, 9.1), (10, 8)]))
    assert reports == [Event(1, FVG, "bearish", None, t(0), t(2), 11, 10)]


def test_fvg_candles_that_only_meet_make_no_gap():
    reports, _ = feed(bars([(10, 9), (12, 9.5), (13, 10)]))
    assert reports == []


def test_fvg_life_cycle_steps_are_recorded_in_order_at_their_candles():
    rows = GAP + [(12, 10.8), (12, 10.5), (11, 10.0, 10.5, 10.2), (10.5, 9.5, 10.2, 9.9)]
    reports, detector = feed(bars(rows))
    assert [r for r in reports if isinstance(r, LifecycleRecord)] == [
        LifecycleRecord(1, TOUCHED, t(3)), LifecycleRecord(1, HALF_FILLED, t(4)),
        LifecycleRecord(1, FILLED, t(5)), LifecycleRecord(1, INVERTED, t(6))]
    assert detector.active == []  # an inverted gap is no longer tracked


def test_fvg_one_candle_through_the_whole_gap_makes_all_four_records():
    reports, _ = feed(bars(GAP + [(12, 9, 11.5, 9.5)]))
    assert [r.state for r in reports if isinstance(r, LifecycleRecord)] == [TOUCHED, HALF_FILLED, FILLED, INVERTED]


def test_fvg_the_confirming_candle_does_not_touch_its_own_gap():
    reports, detector = feed(bars(GAP))
    assert [z.state for z in detector.active] == [""]


def test_fvg_filled_but_closing_inside_is_not_inverted():
    reports, detector = feed(bars(GAP + [(12, 9.5, 11, 10.0)]))
    assert [r.state for r in reports if isinstance(r, LifecycleRecord)] == [TOUCHED, HALF_FILLED, FILLED]
    assert [z.state for z in detector.active] == [FILLED]


def test_fvg_gap_expires_after_max_age_candles_with_a_record():
    rows = GAP + [(13, 11.5)] * 5  # above the gap, and no new gap
    reports, detector = feed(bars(rows), max_age=4)
    assert records_of(reports) == [LifecycleRecord(1, EXPIRED, t(7))]
    assert detector.active == []


def records_of(reports):
    return [r for r in reports if isinstance(r, LifecycleRecord)]


def test_fvg_size_filter_drops_gaps_smaller_than_the_atr_multiple():
    atr = WilderAtr(14)
    candles = bars(GAP)
    detector = FairValueGapDetector(atr, min_size_atr=1.0)
    found = []
    for candle in candles:
        atr.update(candle)
        found += detector.update(candle)
    assert found == []  # gap height 1 is below one ATR (about 2.7 here)


def test_fvg_tick_filter_keeps_a_gap_of_exactly_the_minimum_ticks():
    reports, _ = feed(bars(GAP), min_size_ticks=10, tick_size=0.1)
    assert len(reports) == 1
    reports, _ = feed(bars(GAP), min_size_ticks=11, tick_size=0.1)
    assert reports == []


def test_fvg_displacement_filter_needs_a_large_middle_body():
    flat_middle = [(10, 9), (12, 9.5, 10.7, 10.8), (13, 11)]
    reports, _ = feed(bars(flat_middle), displacement_atr=0.5)
    assert reports == []
    reports, _ = feed(bars(GAP), displacement_atr=0.5)
    assert len(reports) == 1


def test_fvg_flat_zero_volume_candles_make_no_gap_but_can_sit_inside_one():
    flat = [Candle(t(i), 100.0, 100.0, 100.0, 100.0, 0.0) for i in range(3)]
    reports, _ = feed(flat)
    assert reports == []
    gap_around_flat = [Candle(t(0), 99, 99.5, 98, 99.4, 5.0), Candle(t(1), 100, 100, 100, 100, 0.0),
                       Candle(t(2), 100.6, 101, 100.5, 100.9, 3.0)]
    reports, _ = feed(gap_around_flat)
    assert [(r.bottom, r.top) for r in reports] == [(99.5, 100.5)]


def test_fvg_detection_equals_the_three_candle_rule_on_real_data_with_filters_off():
    for path in (DAY_FILE, FIVE_MINUTE_FILE):
        candles = real_candles(path)[:30_000]
        reports, _ = feed(candles, max_age=500)
        found = [(r.formed_at, r.direction, r.bottom, r.top) for r in reports if isinstance(r, Event)]
        expected = []
        for i in range(2, len(candles)):
            first, last = candles[i - 2], candles[i]
            if last.low > first.high:
                expected.append((first.open_time, "bullish", first.high, last.low))
            elif last.high < first.low:
                expected.append((first.open_time, "bearish", last.high, first.low))
        assert found == expected and len(expected) > 100
