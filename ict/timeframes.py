"""Higher-timeframe candles built from closed base candles, without lookahead.

A 1h candle made of 5m candles is complete only when the last 5m candle of its hour has
closed; before that no strategy may see its high, low or close (ict.md "Higher timeframes
without lookahead"). The usual leak is merging higher rows by their open time, which
shows the 10:00 hourly candle at 10:00 with the prices of 10:55.

Periods align like Binance klines (see `ict.intervals`): UTC, a week from Monday 00:00
UTC, 3 days from the epoch (unverified against Binance, see there). The rules for a
missing base candle are the ones `ict.sessions.PeriodTracker` uses for days and weeks:
the period's candle is built from the base candles that exist, and when the period's
last base candle is missing the period is emitted at the first base candle of a later
period, before that candle counts.
"""
from __future__ import annotations

from ict.intervals import interval_ms, period_offset_ms
from ict.models import Candle

_NONE: tuple = ()


class HigherTimeframe:
    """Aggregates closed base candles into closed `interval` candles.

    `HigherTimeframe("1h", 300_000)` turns 5m candles into 1h candles. Feed every closed
    base candle, in time order, to `update`; it returns the higher candle at the close of
    the base candle that ends its period (open_time + base_interval_ms >= period end),
    never earlier, else None. The higher candle has open_time = period start (epoch ms
    UTC), the open of the period's first base candle, the highest high, the lowest low,
    the close of its last base candle and the sum of the volumes.

    A period that began before the first base candle fed is never emitted: its open and
    range are unknown, as for `PeriodTracker`. A period without any base candle has no
    higher candle at all.

    Attributes: `interval` ("1h"), `length_ms` (3_600_000), `base_ms`, and `missing`,
    the number of base candles missing so far between the first candle fed and the last
    (gaps in the data; whole empty periods included).

    Raises ValueError (one line) for an unknown interval, a base length that does not
    divide the higher one, and in `update` for a candle that is not after the previous.
    """

    __slots__ = ("interval", "length_ms", "base_ms", "offset_ms", "missing", "_next", "_start", "_end",
                 "_emit", "_open", "_high", "_low", "_close", "_volume")

    def __init__(self, interval: str, base_interval_ms: int) -> None:
        length = interval_ms(interval)
        if base_interval_ms <= 0 or length % base_interval_ms:
            raise ValueError(f"higher timeframe {interval} ({length} ms) is not a whole multiple of the base interval "
                             f"({base_interval_ms} ms); choose a higher interval that the base interval divides")
        self.interval = interval
        self.length_ms = length
        self.base_ms = base_interval_ms
        self.offset_ms = period_offset_ms(interval)
        self.missing = 0
        self._next = -1     # the open time the next base candle should have; -1 before the first
        self._start = 0
        self._end = -1      # the current period runs over [_start, _end)
        self._emit = False  # the current period has base candles, is seen from its start, and is not emitted yet
        self._open = self._high = self._low = self._close = self._volume = 0.0

    def update(self, candle: Candle) -> Candle | None:
        """Take one closed base candle; return the higher candle that closed with it, else None.

        In the rare case that two higher candles close at once (a gap hid the end of one
        period and this base candle is the last of the next), this returns only the newer
        one and the older is lost to the caller; a runner that must see every higher
        candle calls `update_all` instead, which returns both, oldest first.
        """
        now = candle.open_time
        if now < self._end:  # the fast path: a base candle inside the running period
            if now != self._next:
                self._count_gap(now)
            if candle.high > self._high:
                self._high = candle.high
            if candle.low < self._low:
                self._low = candle.low
            self._close = candle.close
            self._volume += candle.volume
            self._next = now + self.base_ms
            if self._next >= self._end and self._emit:
                self._emit = False
                return Candle(self._start, self._open, self._high, self._low, self._close, self._volume)
            return None
        closed = self._new_period(candle)
        return closed[-1] if closed else None

    def update_all(self, candle: Candle) -> tuple[Candle, ...]:
        """Like `update`, but every higher candle that closed with this base candle, oldest first
        (usually none or one; two when a gap hid the end of the previous period)."""
        if candle.open_time < self._end:
            closed = self.update(candle)
            return (closed,) if closed is not None else _NONE
        return self._new_period(candle)

    def _count_gap(self, now: int) -> None:
        if now < self._next:
            raise ValueError(f"base candle at {now} is not after the previous one ({self._next - self.base_ms}); "
                             "feed closed candles once each, in time order")
        self.missing += (now - self._next) // self.base_ms

    def _new_period(self, candle: Candle) -> tuple[Candle, ...]:
        """The first base candle of a new period: emit the previous one if its end was missing."""
        now = candle.open_time
        first = self._next < 0
        if not first and now != self._next:
            self._count_gap(now)
        # the previous period's last base candle never came: emit it now, before this candle counts
        stale = (Candle(self._start, self._open, self._high, self._low, self._close, self._volume),) if self._emit else _NONE
        self._start = now - (now - self.offset_ms) % self.length_ms
        self._end = self._start + self.length_ms
        # a period is emitted only when seen from its start: only the first period can begin before the data
        self._emit = not first or now == self._start
        self._open, self._high, self._low = candle.open, candle.high, candle.low
        self._close, self._volume = candle.close, candle.volume
        self._next = now + self.base_ms
        if self._next >= self._end and self._emit:
            self._emit = False
            return (*stale, Candle(self._start, self._open, self._high, self._low, self._close, self._volume))
        return stale
