"""Swing highs and lows: confirmation delay, ties, alternation and replacement, edge candles."""
from __future__ import annotations

from ict.events import REPLACED, SWING_HIGH, SWING_LOW, Event, LifecycleRecord
from ict.swings import SwingDetector
from tests.ict_helpers import DAY_FILE, bars, real_candles, t


def feed(candles, length=2, both_sides=True):
    detector = SwingDetector(length, "internal", both_sides)
    reports, raw = [], []
    for candle in candles:
        reports += detector.update(candle)
        raw += detector.new_pivots
    return reports, raw


def highs_only(highs):
    # lows all equal: never strictly below the next ones, so no pivot low can form
    return bars([(h, 0.5) for h in highs])


def test_swing_high_is_reported_length_candles_after_the_pivot():
    reports, _ = feed(highs_only([1, 2, 5, 3, 2]))
    assert reports == [Event(1, SWING_HIGH, "bearish", "internal", t(2), t(4), 5, 5)]


def test_swing_high_at_the_end_of_the_data_is_not_invented():
    reports, _ = feed(highs_only([1, 2, 5, 3]))
    assert reports == []


def test_swing_high_with_too_few_candles_before_it_is_not_a_pivot():
    reports, _ = feed(highs_only([5, 3, 2, 1]))
    assert reports == []


def test_swing_equal_highs_side_by_side_make_the_later_one_the_pivot():
    reports, _ = feed(highs_only([1, 2, 5, 5, 3, 2]))
    assert [(r.formed_at, r.confirmed_at) for r in reports] == [(t(3), t(5))]


def test_swing_one_sided_option_accepts_a_pivot_lower_than_the_candles_before():
    reports, _ = feed(highs_only([9, 9, 5, 3, 2]), both_sides=False)
    assert [r.formed_at for r in reports] == [t(1)]


def test_swing_higher_pivot_before_a_low_replaces_the_earlier_one_with_a_record():
    reports, _ = feed(highs_only([1, 2, 5, 3, 2, 4, 7, 3, 2]))
    assert reports == [
        Event(1, SWING_HIGH, "bearish", "internal", t(2), t(4), 5, 5),
        LifecycleRecord(1, REPLACED, t(8)),
        Event(2, SWING_HIGH, "bearish", "internal", t(6), t(8), 7, 7),
    ]


def test_swing_lower_pivot_before_a_low_is_dropped_but_listed_as_raw_pivot():
    reports, raw = feed(highs_only([1, 2, 7, 3, 2, 4, 5, 3, 2]))
    assert [r.top for r in reports] == [7]
    assert [(is_high, price) for is_high, _, price, _ in raw] == [(True, 7), (True, 5)]


def test_swing_equal_second_top_does_not_replace_the_first():
    reports, raw = feed(highs_only([1, 2, 5, 3, 2, 4, 5, 3, 2]))
    assert [r.formed_at for r in reports] == [t(2)]
    assert len(raw) == 2


def test_swing_flat_zero_volume_candles_make_no_pivot():
    candles = bars([(100.0, 100.0, 100.0, 100.0)] * 12)
    candles = [c.__class__(c.open_time, c.open, c.high, c.low, c.close, 0.0) for c in candles]
    reports, raw = feed(candles)
    assert reports == [] and raw == []


def test_swing_inside_bars_after_a_wide_bar_confirm_it_as_high_and_low():
    # candle 2 is wider than everything around it: both a pivot high and a pivot low
    candles = bars([(5, 4), (5.5, 4.5), (10, 1), (9, 2), (8, 3)])
    reports, _ = feed(candles)
    assert sorted(r.kind for r in reports) == [SWING_HIGH, SWING_LOW]
    assert {r.formed_at for r in reports} == {t(2)}


def test_swing_outside_bar_after_a_high_takes_the_low_first_so_both_are_kept():
    # pivot high at 2 (confirmed 4), then candle 5 is both the highest and lowest around
    candles = bars([(5, 4), (6, 4.2), (8, 4.5), (7, 4.6), (6.5, 4.4), (9, 1), (8.5, 2), (8, 3)])
    reports, _ = feed(candles)
    kinds = [(r.kind, r.formed_at) for r in reports if isinstance(r, Event)]
    assert kinds == [(SWING_HIGH, t(2)), (SWING_LOW, t(5)), (SWING_HIGH, t(5))]
    assert [r.state for r in reports if isinstance(r, LifecycleRecord)] == []


def test_swing_raw_pivots_equal_the_brute_force_definition_on_a_real_day():
    candles = real_candles(DAY_FILE)
    length = 5
    _, raw = feed(candles, length=length)
    highs = [c.high for c in candles]
    lows = [c.low for c in candles]
    expected = set()
    for p in range(length, len(candles) - length):
        if highs[p] >= max(highs[p - length:p]) and highs[p] > max(highs[p + 1:p + length + 1]):
            expected.add((True, p))
        if lows[p] <= min(lows[p - length:p]) and lows[p] < min(lows[p + 1:p + length + 1]):
            expected.add((False, p))
    assert {(is_high, index) for is_high, index, _, _ in raw} == expected
    assert len(expected) > 100  # the day really has pivots to compare


def test_swing_kept_pivots_alternate_high_and_low_on_a_real_day():
    reports, _ = feed(real_candles(DAY_FILE), length=5)
    kept = []
    replaced = {r.ref for r in reports if isinstance(r, LifecycleRecord)}
    for report in reports:
        if isinstance(report, Event) and report.id not in replaced:
            kept.append(report.kind)
    assert all(a != b for a, b in zip(kept, kept[1:]))
    assert replaced  # the real day has replacements, so the check above is not vacuous
