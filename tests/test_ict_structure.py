"""BOS and CHoCH: first break, change of trend, close versus wick, one break per pivot."""
from __future__ import annotations

from ict.events import BOS, CHOCH, Event
from ict.structure import StructureDetector
from ict.swings import SwingDetector
from tests.ict_helpers import bars, t

# L = 2. Pivot high 10 at candle 2 (confirmed 4), pivot low 8.5 at 4 (confirmed 6),
# candle 6 closes 10.4 above 10, candle 6 is a pivot high 10.5 (confirmed 8),
# candle 8 closes 8.2 below 8.5.
ROWS = [(9, 8, 8.5, 8.5), (9.5, 8.6), (10, 9), (9.6, 8.8), (9.4, 8.5), (9.8, 8.7, 8.8, 9.7),
        (10.5, 9.5, 9.7, 10.4), (10.2, 9.0, 10.1, 9.0), (9.0, 8.0, 9.0, 8.2)]


def feed(candles, break_on="close"):
    swings = SwingDetector(2, "internal")
    structure = StructureDetector(swings, break_on, swings._ids)
    reports = []
    for candle in candles:
        reports += swings.update(candle)
        reports += structure.update(candle)
    return reports, structure


def breaks(reports):
    return [r for r in reports if isinstance(r, Event) and r.kind in (BOS, CHOCH)]


def test_structure_first_close_above_a_swing_high_is_a_bullish_bos():
    reports, structure = feed(bars(ROWS[:7]))
    [brk] = breaks(reports)
    assert (brk.kind, brk.direction, brk.level, brk.formed_at, brk.confirmed_at, brk.top) == \
        (BOS, "bullish", "internal", t(2), t(6), 10)
    assert structure.trend == "bullish"


def test_structure_close_below_the_low_after_a_bullish_break_is_a_bearish_choch():
    reports, structure = feed(bars(ROWS))
    assert [(b.kind, b.direction, b.top, b.confirmed_at) for b in breaks(reports)] == \
        [(BOS, "bullish", 10, t(6)), (CHOCH, "bearish", 8.5, t(8))]
    assert structure.trend == "bearish"


def test_structure_pivot_is_broken_only_once():
    rows = ROWS[:7] + [(10.6, 10.1, 10.4, 10.5), (10.7, 10.2, 10.5, 10.6)]
    reports, _ = feed(bars(rows))
    assert len([b for b in breaks(reports) if b.direction == "bullish"]) == 1


def test_structure_wick_above_without_close_is_no_break_in_close_mode():
    rows = ROWS[:6] + [(10.5, 9.5, 9.7, 9.9)]
    reports, _ = feed(bars(rows))
    assert breaks(reports) == []


def test_structure_wick_above_breaks_in_wick_mode():
    rows = ROWS[:6] + [(10.5, 9.5, 9.7, 9.9)]
    reports, _ = feed(bars(rows), break_on="wick")
    assert [(b.kind, b.confirmed_at) for b in breaks(reports)] == [(BOS, t(6))]


def test_structure_close_exactly_at_the_pivot_is_no_break():
    rows = ROWS[:6] + [(10.5, 9.5, 9.7, 10.0)]
    reports, _ = feed(bars(rows))
    assert breaks(reports) == []


def test_structure_break_refers_to_a_pivot_confirmed_before_the_breaking_candle():
    reports, _ = feed(bars(ROWS))
    swings = {(r.formed_at, r.top): r.confirmed_at for r in reports if r.kind in ("swing_high", "swing_low")}
    for brk in breaks(reports):
        assert swings[(brk.formed_at, brk.top)] < brk.confirmed_at
