"""Higher-timeframe candles: hidden until their period ends, equal to pandas resample on real
files, gaps counted, Binance alignment (Monday weeks, 3-day periods from the epoch)."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from ict.intervals import INTERVAL_MS, period_start
from ict.models import Candle
from ict.timeframes import HigherTimeframe
from tests.ict_helpers import DAY_FILE, FIVE_MINUTE_FILE, LONG_FILE, real_candles

FIVE = 300_000
HOUR = 3_600_000
JAN_1 = 1_672_531_200_000  # 2023-01-01 00:00 UTC, a Sunday


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def five(start: int, *lows: float) -> list[Candle]:
    """Hand-made 5m candles from `start`: candle i has low `lows[i]`, high low + 2, open low + 0.5,
    close low + 1.5 and volume i + 1."""
    return [Candle(start + i * FIVE, low + 0.5, low + 2, low, low + 1.5, i + 1.0) for i, low in enumerate(lows)]


def feed(frame: HigherTimeframe, candles) -> list[tuple[int, Candle]]:
    """(index of the base candle that emitted it, higher candle) for every higher candle."""
    return [(i, closed) for i, candle in enumerate(candles) for closed in frame.update_all(candle)]


def resampled(candles, interval: str) -> list[Candle]:
    """pandas' aggregation of `candles` into `interval` periods aligned like Binance, only periods
    seen from their start and complete by the last candle."""
    frame = pd.DataFrame([(c.open_time, c.open, c.high, c.low, c.close, c.volume) for c in candles],
                         columns=["open_time", "open", "high", "low", "close", "volume"])
    frame.index = pd.to_datetime(frame.pop("open_time"), unit="ms")
    if interval == "1w":  # weeks Monday to Monday, labelled by their Monday
        resampler = frame.resample("W-MON", label="left", closed="left")
    else:
        resampler = frame.resample(pd.Timedelta(milliseconds=INTERVAL_MS[interval]), origin="epoch")
    table = resampler.agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
    first, end = candles[0].open_time, candles[-1].open_time + (candles[1].open_time - candles[0].open_time)
    length = INTERVAL_MS[interval]
    rows = [(int(ts.value // 1_000_000), *row) for ts, row in zip(table.index, table.itertuples(index=False))]
    return [Candle(t, o, h, lo, c, v) for t, o, h, lo, c, v in rows if t >= first and t + length <= end]


def assert_same(emitted: list[tuple[int, Candle]], expected: list[Candle]) -> None:
    """Equal candle for candle; prices exactly, volumes up to float summation order."""
    assert len(emitted) == len(expected)
    for (_, got), want in zip(emitted, expected):
        assert (got.open_time, got.open, got.high, got.low, got.close) == (want.open_time, want.open, want.high, want.low, want.close)
        assert got.volume == pytest.approx(want.volume, rel=1e-12)


def test_higher_timeframe_hour_from_5m_hidden_until_twelfth_candle_exact_ohlcv():
    frame = HigherTimeframe("1h", FIVE)
    candles = real_candles(FIVE_MINUTE_FILE)[:13]
    for candle in candles[:11]:
        assert frame.update(candle) is None
    closed = frame.update(candles[11])
    assert (closed.open_time, closed.open, closed.high, closed.low, closed.close) == (JAN_1, 16537.5, 16540.9, 16504.0, 16527.0)
    assert closed.volume == pytest.approx(5381.399, abs=1e-9)
    assert frame.update(candles[12]) is None  # 01:00, the first of the next hour
    assert frame.missing == 0


@pytest.mark.parametrize("path, interval", [
    (FIVE_MINUTE_FILE, "1h"), (FIVE_MINUTE_FILE, "4h"), (FIVE_MINUTE_FILE, "1d"), (FIVE_MINUTE_FILE, "3d"),
    (FIVE_MINUTE_FILE, "1w"), (DAY_FILE, "15m"), (LONG_FILE, "15m"), (LONG_FILE, "1h")])
def test_higher_timeframe_real_file_equals_pandas_resample_candle_for_candle(path, interval):
    candles = real_candles(path)
    frame = HigherTimeframe(interval, candles[1].open_time - candles[0].open_time)
    emitted = feed(frame, candles)
    expected = resampled(candles, interval)
    assert len(expected) > 3
    assert_same(emitted, expected)
    assert frame.missing == 0


def test_higher_timeframe_real_file_with_holes_equals_pandas_on_what_exists_and_counts_them():
    # every 7th candle gone, and 02:30-04:10 of day 3 (crossing the 03:00 and 04:00 ends)
    candles = real_candles(FIVE_MINUTE_FILE)[:5000]
    hole = range(utc("2023-01-03T02:30"), utc("2023-01-03T04:15"), FIVE)
    kept = [c for i, c in enumerate(candles) if (i % 7 != 3 or i == len(candles) - 1) and c.open_time not in hole]
    frame = HigherTimeframe("1h", FIVE)
    emitted = feed(frame, kept)
    assert frame.missing == len(candles) - len(kept)
    expected = resampled(kept, "1h")
    assert_same(emitted, expected)


def test_higher_timeframe_real_file_emits_each_candle_at_the_last_base_candle_of_its_period():
    candles = real_candles(FIVE_MINUTE_FILE)[:2000]
    for i, closed in feed(HigherTimeframe("4h", FIVE), candles):
        assert candles[i].open_time + FIVE == closed.open_time + 4 * HOUR


def test_higher_timeframe_missing_middle_candle_counted_and_candle_built_from_the_rest():
    lows = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]
    candles = five(JAN_1, *lows)
    del candles[5]  # 00:25, low 15
    frame = HigherTimeframe("1h", FIVE)
    emitted = feed(frame, candles)
    assert frame.missing == 1
    assert emitted == [(10, Candle(JAN_1, 10.5, 23.0, 10.0, 22.5, sum(range(1, 13)) - 6.0))]


def test_higher_timeframe_missing_last_candle_emitted_at_next_period_first_candle_before_it_counts():
    candles = five(JAN_1, *range(10, 23))  # 00:00 .. 01:00; candle 12 opens the next hour
    del candles[11]  # 00:55, the last of the first hour
    frame = HigherTimeframe("1h", FIVE)
    assert [frame.update(c) for c in candles[:11]] == [None] * 11
    closed = frame.update(candles[11])  # 01:00, low 22: not part of the first hour
    assert closed == Candle(JAN_1, 10.5, 22.0, 10.0, 21.5, float(sum(range(1, 12))))
    assert frame.missing == 1


def test_higher_timeframe_gap_hiding_one_end_and_reaching_the_next_end_emits_both_in_order():
    # 00:00 .. 00:50 exist, then the data resumes at 01:55, the last 5m candle of the next hour
    candles = five(JAN_1, *range(10, 21)) + [Candle(JAN_1 + HOUR + 11 * FIVE, 50.5, 52.0, 50.0, 51.5, 7.0)]
    frame = HigherTimeframe("1h", FIVE)
    for candle in candles[:11]:
        frame.update(candle)
    both = frame.update_all(candles[11])
    assert [c.open_time for c in both] == [JAN_1, JAN_1 + HOUR]
    assert both[0] == Candle(JAN_1, 10.5, 22.0, 10.0, 21.5, float(sum(range(1, 12))))
    assert both[1] == Candle(JAN_1 + HOUR, 50.5, 52.0, 50.0, 51.5, 7.0)
    assert frame.missing == 12  # 00:55 and 01:00 .. 01:50


def test_higher_timeframe_update_on_double_close_returns_the_newer_candle():
    candles = five(JAN_1, *range(10, 21)) + [Candle(JAN_1 + HOUR + 11 * FIVE, 50.5, 52.0, 50.0, 51.5, 7.0)]
    frame = HigherTimeframe("1h", FIVE)
    assert [frame.update(c) for c in candles[:11]] == [None] * 11
    assert frame.update(candles[11]).open_time == JAN_1 + HOUR


def test_higher_timeframe_first_period_seen_in_part_not_emitted():
    candles = five(JAN_1 + 6 * FIVE, *range(10, 22))  # 00:30 .. 01:25
    frame = HigherTimeframe("1h", FIVE)
    assert feed(frame, candles) == []  # 00:55 closes an hour whose first half was never seen
    assert frame.missing == 0


def test_higher_timeframe_week_starts_monday_utc():
    start = utc("2023-01-01T00:00")  # Sunday
    candles = [Candle(start + i * HOUR, 1.0, 2.0, 0.5, 1.5, 1.0) for i in range(24 * 16)]
    emitted = feed(HigherTimeframe("1w", HOUR), candles)
    assert [(datetime.fromtimestamp(c.open_time / 1000, timezone.utc).strftime("%a %Y-%m-%d %H:%M"),
             datetime.fromtimestamp(candles[i].open_time / 1000, timezone.utc).strftime("%a %H:%M"))
            for i, c in emitted] == [("Mon 2023-01-02 00:00", "Sun 23:00"), ("Mon 2023-01-09 00:00", "Sun 23:00")]


def test_higher_timeframe_three_days_count_from_the_epoch():
    assert period_start(utc("2023-01-01T12:00"), "3d") == utc("2022-12-30T00:00")
    assert period_start(utc("2023-01-02T00:00"), "3d") == utc("2023-01-02T00:00")
    assert period_start(0, "3d") == 0


def test_higher_timeframe_equal_to_base_passes_each_candle_through():
    candles = five(JAN_1, 10, 11, 12)
    assert [c for _, c in feed(HigherTimeframe("5m", FIVE), candles)] == candles


def test_higher_timeframe_not_a_multiple_of_base_raises_one_line():
    with pytest.raises(ValueError) as error:
        HigherTimeframe("1w", INTERVAL_MS["3d"])
    assert str(error.value) == ("higher timeframe 1w (604800000 ms) is not a whole multiple of the base interval "
                                "(259200000 ms); choose a higher interval that the base interval divides")


def test_higher_timeframe_unknown_interval_raises_naming_accepted_ones():
    with pytest.raises(ValueError, match=r"^interval '1M' is not a Binance kline interval; use one of 1m, 3m, 5m, .*, 1w$"):
        HigherTimeframe("1M", FIVE)


def test_higher_timeframe_repeated_base_candle_raises():
    candles = five(JAN_1, 10, 11)
    frame = HigherTimeframe("1h", FIVE)
    frame.update(candles[0])
    frame.update(candles[1])
    with pytest.raises(ValueError, match="is not after the previous one"):
        frame.update(candles[1])


def test_interval_table_matches_trade_settings():
    from runtime.settings import INTERVALS
    assert INTERVALS is INTERVAL_MS   # one table, not two kept equal
