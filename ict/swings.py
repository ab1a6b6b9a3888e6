"""Swing highs and lows (pivots) of one length L, confirmed L candles after the pivot.

Candle p is a pivot high when its high is strictly greater than the highs of the L
candles after it and, with `both_sides` (the default), at least the highs of the L
candles before it; a pivot low mirrors this. So of two equal highs next to each other
the later one is the pivot, and a pivot needs L full candles on both sides: none is
invented at the start or the end of the data. The pivot is reported at the close of
candle p + L, the first moment a live bot can know it.

Highs and lows alternate. When a second pivot of the same kind is confirmed before an
opposite one, the more extreme one wins: a higher high is reported as a new
`swing_high` plus a `replaced` record for the old one; a lower or equal one is dropped
(the first of two equal tops keeps its place). When one candle is both a pivot high
and a pivot low (a wide outside bar), the one that alternates with the previous pivot
is taken first, so both are kept.

Cost: each candle enters and leaves a monotonic deque once per side, so an update is
O(1) amortised whatever L is.
"""
from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterator

from ict.events import BEARISH, BULLISH, REPLACED, SWING_HIGH, SWING_LOW, Event, Level, LifecycleRecord
from ict.models import Candle


class SwingDetector:
    """Pivots of length `length` at structure `level` ("internal" or "swing").

    After each `update`:
    - `new_pivots`: every pivot confirmed at this candle, before alternation, as
      `(is_high, index, price, formed_at)`; liquidity pools are built from these.
    - `new_swings`: the `(event, index)` pairs reported at this candle (kept pivots).
    - `last_high`, `last_low`: the latest kept swing events (None before the first).
    Indexes count candles from 0 in the order they were fed.
    """

    __slots__ = ("length", "level", "both_sides", "_ids", "_n", "_highs", "_lows", "_last_is_high",
                 "last_high", "last_low", "new_pivots", "new_swings")

    def __init__(self, length: int = 5, level: Level = Level.INTERNAL, both_sides: bool = True,
                 ids: Iterator[int] | None = None) -> None:
        if length < 1:
            raise ValueError(f"pivot length {length} must be at least 1")
        self.length = length
        self.level = level
        self.both_sides = both_sides
        self._ids = ids if ids is not None else count(1)
        self._n = -1
        # (index, price, qualifies on the left, open time); prices strictly decreasing
        # (highs) or increasing (lows) from front to back
        self._highs: deque[tuple[int, float, bool, int]] = deque()
        self._lows: deque[tuple[int, float, bool, int]] = deque()
        self._last_is_high: bool | None = None
        self.last_high: Event | None = None
        self.last_low: Event | None = None
        self.new_pivots: list[tuple[bool, int, float, int]] = []
        self.new_swings: list[tuple[Event, int]] = []

    def update(self, candle: Candle) -> list[Event | LifecycleRecord]:
        """Take one closed candle; return the swings (and replacements) it confirms."""
        self._n = t = self._n + 1
        if self.new_pivots:
            self.new_pivots = []
            self.new_swings = []
        start = t - self.length
        high = candle.high
        low = candle.low
        time = candle.open_time

        highs = self._highs
        while highs and highs[0][0] < start:
            highs.popleft()
        # the front is now the highest high of the L candles before this one
        left_ok = not self.both_sides or (start >= 0 and (not highs or high >= highs[0][1]))
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((t, high, left_ok, time))
        pivot_high = highs[0] if highs[0][0] == start and highs[0][2] else None

        lows = self._lows
        while lows and lows[0][0] < start:
            lows.popleft()
        left_ok = not self.both_sides or (start >= 0 and (not lows or low <= lows[0][1]))
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((t, low, left_ok, time))
        pivot_low = lows[0] if lows[0][0] == start and lows[0][2] else None

        if pivot_high is None and pivot_low is None:
            return []
        out: list[Event | LifecycleRecord] = []
        if pivot_high is not None and pivot_low is not None and self._last_is_high:
            self._pivot(False, pivot_low, time, out)
            self._pivot(True, pivot_high, time, out)
        else:
            if pivot_high is not None:
                self._pivot(True, pivot_high, time, out)
            if pivot_low is not None:
                self._pivot(False, pivot_low, time, out)
        return out

    def _pivot(self, is_high: bool, pivot: tuple[int, float, bool, int], now: int, out: list) -> None:
        index, price, _, formed_at = pivot
        self.new_pivots.append((is_high, index, price, formed_at))
        previous = self.last_high if is_high else self.last_low
        if self._last_is_high is is_high and previous is not None:
            more_extreme = price > previous.top if is_high else price < previous.bottom
            if not more_extreme:
                return
            out.append(LifecycleRecord(previous.id, REPLACED, now))
        event = Event(next(self._ids), SWING_HIGH if is_high else SWING_LOW, BEARISH if is_high else BULLISH,
                      self.level, formed_at, now, price, price)
        out.append(event)
        self.new_swings.append((event, index))
        self._last_is_high = is_high
        if is_high:
            self.last_high = event
        else:
            self.last_low = event
