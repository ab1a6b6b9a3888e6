"""Closed UTC periods (days, weeks) and their high and low, for previous-day/week liquidity pools.

Periods are aligned the way Binance aligns its candles: a day starts at 00:00 UTC and a
week on Monday 00:00 UTC. A period is reported at the close of its last candle, known
as the candle whose open time plus the candle interval reaches the period's end. The
interval is the smallest step between open times seen so far, so from the second
candle on. When that candle is missing (a gap in the data, or the very first candle),
the period is reported at the first candle of a later period, before that candle's
own range counts.

Only periods seen from their start are reported: a file that begins mid-day has no
honest previous-day high for that first day, and a trader would not draw one.
"""
from __future__ import annotations

from ict.intervals import DAY_MS, MONDAY_OFFSET_MS, WEEK_MS  # noqa: F401 (re-exported for ict.liquidity)
from ict.models import Candle


class ClosedPeriod:
    """One finished period: its high and low, each with the open time of the candle that made it first."""

    __slots__ = ("start", "high", "high_at", "low", "low_at")

    def __init__(self, start: int, high: float, high_at: int, low: float, low_at: int) -> None:
        self.start = start
        self.high = high
        self.high_at = high_at
        self.low = low
        self.low_at = low_at


_NOTHING: tuple = ()


class PeriodTracker:
    """Follows one kind of period (`length_ms` long, starting at `offset_ms` past the epoch)."""

    __slots__ = ("length", "offset", "_first_open", "_last_open", "_interval", "_start", "_end", "_open",
                 "_high", "_high_at", "_low", "_low_at")

    def __init__(self, length_ms: int = DAY_MS, offset_ms: int = 0) -> None:
        self.length = length_ms
        self.offset = offset_ms
        self._first_open = -1
        self._last_open = -1
        self._interval = 0
        self._start = 0
        self._end = -1     # the current period runs over [_start, _end)
        self._open = False  # some candle of the current period has been seen and it is not reported yet
        self._high = self._low = 0.0
        self._high_at = self._low_at = 0

    def update(self, candle: Candle) -> tuple[ClosedPeriod, ...] | list[ClosedPeriod]:
        """Take one closed candle; return the periods that closed by its close (usually none)."""
        now = candle.open_time
        closed: list[ClosedPeriod] | tuple = _NOTHING
        if self._first_open < 0:
            self._first_open = now
        elif self._interval == 0 or now - self._last_open < self._interval:
            self._interval = now - self._last_open
        self._last_open = now
        if now >= self._end:
            if self._open:
                closed = self._report(closed)
            self._start = now - (now - self.offset) % self.length
            self._end = self._start + self.length
            self._open = True
            self._high, self._high_at, self._low, self._low_at = candle.high, now, candle.low, now
        else:
            if candle.high > self._high:
                self._high, self._high_at = candle.high, now
            if candle.low < self._low:
                self._low, self._low_at = candle.low, now
        if self._interval and now + self._interval >= self._end and self._open:
            closed = self._report(closed)
        return closed

    def _report(self, closed: list[ClosedPeriod] | tuple) -> list[ClosedPeriod] | tuple:
        self._open = False
        if self._first_open > self._start:  # seen only in part
            return closed
        return [*closed, ClosedPeriod(self._start, self._high, self._high_at, self._low, self._low_at)]
