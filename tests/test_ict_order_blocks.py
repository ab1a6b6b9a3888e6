"""Order blocks and breaker blocks: which candle, which zone, and what happens to them."""
from __future__ import annotations

from ict.atr import WilderAtr
from ict.events import (BOS, BREAKER, CHOCH, INVALIDATED, MITIGATED, ORDER_BLOCK, RETESTED, Event,
                        LifecycleRecord)
from tests.ict_helpers import DAY_FILE, bars, events, real_candles, run, t

# L = 2: pivot high 10 at candle 2 (confirmed 4); candle 6 closes at 10.4, a bullish BOS.
# Candle 3 is the last down-close candle before the break; candle 4 is a wide down candle.
ROWS = [(9, 8, 8.5, 8.5), (9.5, 8.6), (10, 9), (9.6, 8.8, 9.5, 8.9), (9.4, 6.5, 9.3, 6.6),
        (9.8, 8.7, 8.8, 9.7), (10.5, 9.5, 9.7, 10.4)]
AFTER = [(10.2, 9.5, 10.1, 9.9),   # 7: low 9.5 reaches the OB top 9.6: mitigated
         (9.7, 8.6, 9.6, 8.7),     # 8: close 8.7 below the OB bottom 8.8: invalidated, bearish breaker
         (9.0, 8.5, 8.7, 8.6),     # 9: high 9.0 back into the breaker from below: retested
         (9.8, 8.6, 8.7, 9.7)]     # 10: close 9.7 above the top 9.6: breaker invalidated
OPTIONS = dict(internal_length=2, previous_day_pools=False, previous_week_pools=False)


def order_block(reports):
    return [e for e in events(reports, ORDER_BLOCK) if e.confirmed_at == t(6)][0]


def test_order_block_of_a_bullish_bos_is_the_last_down_close_candle_skipping_a_volatile_one():
    reports = run(bars(ROWS), **OPTIONS)
    [brk] = [e for e in events(reports) if e.kind in (BOS, CHOCH)]
    block = order_block(reports)
    assert (block.direction, block.level, block.formed_at, block.top, block.bottom, block.break_id) == \
        ("bullish", "internal", t(3), 9.6, 8.8, brk.id)


def test_order_block_includes_a_volatile_candle_when_the_filter_is_off():
    reports = run(bars(ROWS), ob_volatile_atr=0.0, **OPTIONS)
    assert order_block(reports).formed_at == t(4)


def test_order_block_without_a_down_candle_is_the_lowest_low_candle():
    rows = [(9, 8, 8.5, 8.5), (9.5, 8.6), (10, 9), (9.6, 8.8), (9.4, 8.5), (9.8, 8.7, 8.8, 9.7),
            (10.5, 9.5, 9.7, 10.4)]
    block = order_block(run(bars(rows), **OPTIONS))
    assert (block.formed_at, block.bottom, block.top) == (t(4), 8.5, 9.4)


def test_order_block_body_option_uses_open_and_close():
    block = order_block(run(bars(ROWS), ob_zone="body", **OPTIONS))
    assert (block.top, block.bottom) == (9.5, 8.9)


def test_order_block_score_is_the_breaking_body_in_atr_and_whether_a_gap_was_left():
    candles = bars(ROWS)
    atr = WilderAtr(14)
    for candle in candles:
        atr.update(candle)
    block = order_block(run(candles, **OPTIONS))
    assert block.displacement == abs(10.4 - 9.7) / atr.value
    assert block.left_fvg is True  # candle 4 high 9.4 < candle 6 low 9.5


def test_order_block_without_a_gap_in_the_move_says_so():
    rows = ROWS[:6] + [(10.5, 9.3, 9.7, 10.4)]  # candle 6 low 9.3 overlaps candle 4 high 9.4
    assert order_block(run(bars(rows), **OPTIONS)).left_fvg is False


def test_order_block_is_mitigated_then_invalidated_and_becomes_a_bearish_breaker():
    reports = run(bars(ROWS + AFTER), **OPTIONS)
    block = order_block(reports)
    assert [(r.state, r.at) for r in reports if isinstance(r, LifecycleRecord) and r.ref == block.id] == \
        [(MITIGATED, t(7)), (INVALIDATED, t(8))]
    [breaker] = events(reports, BREAKER)
    assert (breaker.direction, breaker.level, breaker.formed_at, breaker.confirmed_at, breaker.top,
            breaker.bottom, breaker.order_block_id) == ("bearish", "internal", t(3), t(8), 9.6, 8.8, block.id)
    assert block in reports  # the order block is not deleted


def test_breaker_is_retested_from_below_then_invalidated_by_a_close_above():
    reports = run(bars(ROWS + AFTER), **OPTIONS)
    [breaker] = events(reports, BREAKER)
    assert [(r.state, r.at) for r in reports if isinstance(r, LifecycleRecord) and r.ref == breaker.id] == \
        [(RETESTED, t(9)), (INVALIDATED, t(10))]


def test_order_block_wick_option_invalidates_on_a_low_below_the_zone():
    rows = ROWS + [(10.2, 8.7, 10.1, 9.9)]  # wick to 8.7 below 8.8, close back inside
    close_mode = run(bars(rows), **OPTIONS)
    wick_mode = run(bars(rows), ob_invalidate_on="wick", **OPTIONS)
    block_id = order_block(close_mode).id
    assert [r.state for r in close_mode if isinstance(r, LifecycleRecord) and r.ref == block_id] == [MITIGATED]
    assert [r.state for r in wick_mode if isinstance(r, LifecycleRecord) and r.ref == block_id] == \
        [MITIGATED, INVALIDATED]


def test_breaker_strict_option_refuses_an_ob_that_swept_nothing():
    reports = run(bars(ROWS + AFTER), breaker_strict=True, **OPTIONS)
    assert events(reports, BREAKER) == []


def test_order_block_sits_between_its_pivot_and_its_break_on_a_real_day():
    reports = run(real_candles(DAY_FILE))
    by_id = {e.id: e for e in events(reports)}
    blocks = events(reports, ORDER_BLOCK)
    assert len(blocks) > 20
    for block in blocks:
        brk = by_id[block.break_id]
        assert brk.formed_at <= block.formed_at < brk.confirmed_at == block.confirmed_at
        assert block.level == brk.level and block.direction == brk.direction


def test_breakers_come_only_from_invalidated_order_blocks_on_a_real_day():
    reports = run(real_candles(DAY_FILE))
    invalidated = {(r.ref, r.at) for r in reports if isinstance(r, LifecycleRecord) and r.state == INVALIDATED}
    breakers = events(reports, BREAKER)
    assert breakers
    for breaker in breakers:
        assert (breaker.order_block_id, breaker.confirmed_at) in invalidated
    assert all(isinstance(b, Event) for b in breakers)


def test_breaker_strict_option_keeps_a_subset_that_also_broke_structure_on_a_real_day():
    def key(event):
        return event.direction, event.level, event.formed_at, event.confirmed_at, event.top, event.bottom

    loose = run(real_candles(DAY_FILE))
    strict = run(real_candles(DAY_FILE), breaker_strict=True)
    loose_breakers = {key(e) for e in events(loose, BREAKER)}
    strict_breakers = events(strict, BREAKER)
    assert 0 < len(strict_breakers) < len(loose_breakers)
    assert {key(e) for e in strict_breakers} <= loose_breakers
    breaks = {(e.level, e.confirmed_at, e.direction) for e in events(strict) if e.kind in (BOS, CHOCH)}
    for breaker in strict_breakers:
        # the invalidating candle broke structure the breaker's way, at the same level
        assert (breaker.level, breaker.confirmed_at, breaker.direction) in breaks
