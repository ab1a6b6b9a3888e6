"""Market structure of one level: break of structure (BOS) and change of character (CHoCH).

The detector keeps the last unbroken swing high, the last unbroken swing low (from a
`SwingDetector`, after alternation: the latest kept pivot of each kind) and a trend.
When a candle closes above the unbroken high (or trades above it, `break_on="wick"`),
that is a break: a CHoCH if the trend was bearish, otherwise a BOS (also the very first
break, when there is no trend yet). The trend becomes bullish and the high is broken:
it cannot be broken twice. Bearish is the mirror. The event's `formed_at`, `top` and
`bottom` are the pivot's; `confirmed_at` is the breaking candle. A break never waits
for a later swing.

A candle is checked against the pivots known before it: pivots confirmed at this very
candle are taken in after the check (they cannot be broken by it anyway, since the L
candles after a pivot stay strictly inside it). If one candle breaks both the high and
the low (a wick-mode outside bar), the high is taken first, so the trend ends bearish.
"""
from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterator

from ict.events import BEARISH, BOS, BULLISH, CHOCH, SWING_HIGH, Event
from ict.models import Candle
from ict.swings import SwingDetector

_HISTORY = 8  # kept pivots remembered per kind, for the strict breaker check


class StructureDetector:
    """BOS/CHoCH for the pivots of `swings`; update `swings` first with the same candle.

    After each `update`, `breaks` lists `(event, pivot_index)` for the breaks at this
    candle. `trend` is "bullish", "bearish" or None; `high`/`low` are the unbroken
    swing events (None once broken). `recent_highs`/`recent_lows` keep the last few
    kept pivots as `(event, index)`.
    """

    __slots__ = ("swings", "level", "wick", "_ids", "trend", "high", "low", "_high_index", "_low_index",
                 "breaks", "recent_highs", "recent_lows")

    def __init__(self, swings: SwingDetector, break_on: str = "close", ids: Iterator[int] | None = None) -> None:
        if break_on not in ("close", "wick"):
            raise ValueError(f'break_on = {break_on!r}; use "close" or "wick"')
        self.swings = swings
        self.level = swings.level
        self.wick = break_on == "wick"
        self._ids = ids if ids is not None else count(1)
        self.trend: str | None = None
        self.high: Event | None = None
        self.low: Event | None = None
        self._high_index = -1
        self._low_index = -1
        self.breaks: list[tuple[Event, int]] = []
        self.recent_highs: deque[tuple[Event, int]] = deque(maxlen=_HISTORY)
        self.recent_lows: deque[tuple[Event, int]] = deque(maxlen=_HISTORY)

    def update(self, candle: Candle) -> list[Event]:
        """Take one closed candle (after `swings.update`); return the breaks it makes."""
        if self.breaks:
            self.breaks = []
        out: list[Event] = []
        high = self.high
        if high is not None and (candle.high if self.wick else candle.close) > high.top:
            kind = CHOCH if self.trend == BEARISH else BOS
            event = Event(next(self._ids), kind, BULLISH, self.level, high.formed_at, candle.open_time,
                          high.top, high.bottom)
            out.append(event)
            self.breaks.append((event, self._high_index))
            self.trend = BULLISH
            self.high = None
        low = self.low
        if low is not None and (candle.low if self.wick else candle.close) < low.bottom:
            kind = CHOCH if self.trend == BULLISH else BOS
            event = Event(next(self._ids), kind, BEARISH, self.level, low.formed_at, candle.open_time,
                          low.top, low.bottom)
            out.append(event)
            self.breaks.append((event, self._low_index))
            self.trend = BEARISH
            self.low = None
        for swing, index in self.swings.new_swings:
            if swing.kind == SWING_HIGH:
                self.high = swing
                self._high_index = index
                self.recent_highs.append((swing, index))
            else:
                self.low = swing
                self._low_index = index
                self.recent_lows.append((swing, index))
        return out
