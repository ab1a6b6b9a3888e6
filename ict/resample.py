"""Candle series arithmetic: the interval of a series, its gaps, and aggregation to a coarser interval.

Pure functions over lists of `Candle` (times in epoch milliseconds UTC), for whole
files at once (numpy); `ict.timeframes.HigherTimeframe` is the candle-by-candle
counterpart the runner uses, and both give the same candles. Periods are aligned as
`ict.intervals` says Binance aligns its klines: multiples of the interval since the
epoch (1h on the hour, 1d at midnight UTC), weeks from Monday 00:00 UTC, 3d from the
epoch (unverified, see there).
"""
from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ict.intervals import DAY_MS, INTERVAL_MS, MONDAY_OFFSET_MS, WEEK_MS
from ict.models import Candle

_NAMES = {length: name for name, length in INTERVAL_MS.items()}
_UNITS = (("w", WEEK_MS), ("d", DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


@dataclass(frozen=True)
class Gaps:
    """Holes in a candle series longer than the allowed number of missing candles.

    - `count`: how many holes; `missing`: candles missing in all of them;
    - `largest_from` / `largest_to`: the largest hole as epoch ms UTC, from the open time of
      its first missing candle to the open time of the candle that ends it (0, 0 when none);
    - `largest_missing`: candles missing in the largest hole.
    """

    count: int
    missing: int
    largest_from: int
    largest_to: int
    largest_missing: int


def interval_name(interval_ms: int) -> str:
    """Binance's spelling of an interval ("1m", "4h", "1w"); other lengths in the largest
    whole unit ("7m", "90s"), and "?" for zero or less."""
    if interval_ms in _NAMES:
        return _NAMES[interval_ms]
    if interval_ms <= 0:
        return "?"
    for unit, size in _UNITS:
        if interval_ms % size == 0:
            return f"{interval_ms // size}{unit}"
    return f"{interval_ms}ms"  # unreachable: every whole number is a multiple of 1 ms


def detect_interval(open_times: Sequence[int]) -> int | None:
    """The series' interval in ms: the most common step between consecutive open times
    (gaps do not change it). None with fewer than two candles. Times must be increasing."""
    if len(open_times) < 2:
        return None
    steps = Counter(map(operator.sub, open_times[1:], open_times[:-1]))
    return steps.most_common(1)[0][0]


def find_gaps(open_times: Sequence[int], interval_ms: int, longer_than: int = 3) -> Gaps:
    """The holes of more than `longer_than` missing candles in a series of `interval_ms`."""
    limit = (longer_than + 1) * interval_ms  # a step above this leaves more than `longer_than` missing
    holes = [((after - before) // interval_ms - 1, before, after)
             for before, after in zip(open_times, open_times[1:]) if after - before > limit]
    if not holes:
        return Gaps(0, 0, 0, 0, 0)
    missing, before, after = max(holes, key=lambda hole: hole[0])  # the first of the largest
    return Gaps(len(holes), sum(hole[0] for hole in holes), before + interval_ms, after, missing)


def period_start(open_time, interval_ms: int):
    """The open time of the `interval_ms` period holding `open_time` (an int, or a numpy
    int64 array of them), aligned as Binance does."""
    origin = MONDAY_OFFSET_MS if interval_ms == WEEK_MS else 0
    return (open_time - origin) // interval_ms * interval_ms + origin


def aggregate(candles: Sequence[Candle], step_ms: int, interval_ms: int) -> tuple[list[Candle], int]:
    """Candles of `interval_ms` built from a series of `step_ms` candles (`interval_ms` a whole
    multiple of `step_ms`): first open, highest high, lowest low, last close, summed volume,
    each stamped with its period's open time.

    A period at either end that the series does not cover from its start or to its end is
    left out (its open or close would be wrong); holes inside a period are kept, as Binance
    builds a kline from whatever trades there were. Returns the candles and how many input
    candles were left out. Raises ValueError when `interval_ms` is not a multiple of `step_ms`.
    """
    if step_ms <= 0 or interval_ms % step_ms:
        raise ValueError(f"cannot aggregate {interval_name(step_ms)} candles to {interval_name(interval_ms)}")
    if not candles:
        return [], 0
    import numpy as np  # here, not at the top: a replay at the file's own interval never pays its ~12 MB

    times = np.fromiter((c.open_time for c in candles), np.int64, len(candles))
    periods = period_start(times, interval_ms)
    first, last = 0, len(candles)
    if times[0] != periods[0]:                               # starts inside its period
        first = int(np.searchsorted(periods, periods[0], side="right"))
    if times[-1] + step_ms != periods[-1] + interval_ms:     # ends inside its period
        last = int(np.searchsorted(periods, periods[-1], side="left"))
    if first >= last:
        return [], len(candles)
    kept = candles[first:last]
    periods = periods[first:last]
    values = np.array([(c.open, c.high, c.low, c.close, c.volume) for c in kept], dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, periods[1:] != periods[:-1]])
    ends = np.r_[starts[1:], len(kept)] - 1
    highs = np.maximum.reduceat(values[:, 1], starts)
    lows = np.minimum.reduceat(values[:, 2], starts)
    volumes = np.round(np.add.reduceat(values[:, 4], starts), 8)  # Binance volumes have at most 8 decimals
    out = [Candle(int(t), float(o), float(h), float(lo), float(c), float(v)) for t, o, h, lo, c, v in
           zip(periods[starts], values[starts, 0], highs, lows, values[ends, 3], volumes)]
    return out, len(candles) - len(kept)
