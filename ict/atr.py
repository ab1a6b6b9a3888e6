"""Wilder's average true range, updated one closed candle at a time.

The true range of a candle is the largest of high − low, |high − previous close| and
|low − previous close| (just high − low for the first candle). The ATR over N candles
starts as the plain mean of the first N true ranges and then moves by Wilder's
smoothing, `atr = (atr × (N − 1) + tr) / N`. Before N candles have closed it is the
mean of those seen so far, so every detector has a usable scale from the first candle
(a choice of ours: waiting N candles would leave the start of every replay blind).
"""
from __future__ import annotations

from ict.models import Candle


class WilderAtr:
    """ATR in price units. `value` includes the last candle; `previous` is the value before it.

    Both are 0.0 before the first candle (and `previous` stays 0.0 after it).
    """

    __slots__ = ("period", "value", "previous", "_count", "_sum", "_prev_close")

    def __init__(self, period: int = 14) -> None:
        if period < 1:
            raise ValueError(f"ATR period {period} must be at least 1")
        self.period = period
        self.value = 0.0
        self.previous = 0.0
        self._count = 0
        self._sum = 0.0
        self._prev_close: float | None = None

    def update(self, candle: Candle) -> float:
        """Take one closed candle; return the ATR including it."""
        high = candle.high
        low = candle.low
        prev_close = self._prev_close
        tr = high - low
        if prev_close is not None:
            if high - prev_close > tr:
                tr = high - prev_close
            if prev_close - low > tr:
                tr = prev_close - low
        self._prev_close = candle.close
        self.previous = self.value
        n = self.period
        if self._count < n:
            self._count += 1
            self._sum += tr
            self.value = self._sum / self._count
        else:
            self.value = (self.value * (n - 1) + tr) / n
        return self.value
