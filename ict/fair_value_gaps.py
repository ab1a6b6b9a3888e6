"""Fair value gaps (three-candle imbalances) and their life cycle.

At the close of candle t: bullish when `low[t] > high[t-2]`, zone `[high[t-2], low[t]]`;
bearish when `high[t] < low[t-2]`, zone `[high[t], low[t-2]]`. Formed at t-2, confirmed
at t. Optional filters (off by default): a minimum height in ATRs or in ticks, and a
displacement filter asking the middle candle's body to be at least so many ATRs. The
ATR used is the one known at the close of t.

Life cycle of a bullish gap, checked from the candle after t (mirror for bearish):
- `touched`: a low reaches the top edge (`low <= top`; a limit order there fills);
- `half_filled`: a low reaches the 50% line (consequent encroachment);
- `filled`: a low reaches the bottom edge;
- `inverted`: a close below the bottom; from here it is an inverse FVG, left to the
  strategy: the engine stops tracking it.
One candle may pass several steps; each is its own record, in that order. A gap is
tracked for `max_age` candles after its confirmation, and at most `max_active` per
direction; a gap dropped for either reason gets an `expired` record.

Cost: per candle, the active gaps are only walked when the candle reaches the nearest
pending threshold, which is kept as one number per direction.
"""
from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterator

from ict.atr import WilderAtr
from ict.events import (BEARISH, BULLISH, EXPIRED, FILLED, FVG, HALF_FILLED, INVERTED, TOUCHED, ActiveZone, Direction,
                        Event, LifecycleRecord)
from ict.models import Candle

_STATES = ("", TOUCHED, HALF_FILLED, FILLED)   # a gap's stage, 0 to 3, as a state ('' before the first touch)
_NEXT = (TOUCHED, HALF_FILLED, FILLED)          # the state a gap reaches when it leaves stage 0, 1 or 2
_INF = float("inf")


class _Gap:
    __slots__ = ("event", "index", "stage", "levels")

    def __init__(self, event: Event, index: int, levels: tuple[float, float, float]) -> None:
        self.event = event
        self.index = index  # candle index of confirmation
        self.stage = 0      # index into _STATES
        self.levels = levels  # touch, half, fill thresholds in the order price meets them


class FairValueGapDetector:
    """Every three-candle gap that passes the filters, with touched/half/filled/inverted records.

    `last_bullish_first_index` / `last_bearish_first_index`: candle index of the first
    candle of the latest reported gap of each direction (-1 before any); order blocks use
    them to tell whether a break left a gap.
    """

    def __init__(self, atr: WilderAtr | None = None, min_size_atr: float = 0.0, min_size_ticks: int = 0,
                 tick_size: float = 0.1, displacement_atr: float = 0.0, max_age: int = 500,
                 max_active: int = 50, ids: Iterator[int] | None = None) -> None:
        self.atr = atr if atr is not None else WilderAtr()
        self._own_atr = atr is None
        self.min_size_atr = min_size_atr
        self.min_size = min_size_ticks * tick_size * (1 - 1e-9)  # tolerate float noise at the limit
        self.displacement_atr = displacement_atr
        self._filtered = min_size_atr > 0 or self.min_size > 0 or displacement_atr > 0
        self.max_age = max_age
        self.max_active = max_active
        self._ids = ids if ids is not None else count(1)
        self._n = -1
        self._c2: Candle | None = None
        self._c1: Candle | None = None
        self._bull: deque[_Gap] = deque()
        self._bear: deque[_Gap] = deque()
        self._bull_trigger = -_INF  # a low at or below this moves some bullish gap
        self._bear_trigger = _INF   # a high at or above this moves some bearish gap
        self.last_bullish_first_index = -1
        self.last_bearish_first_index = -1

    def update(self, candle: Candle) -> list[Event | LifecycleRecord]:
        """Take one closed candle; return new gaps and life-cycle records."""
        if self._own_atr:
            self.atr.update(candle)
        self._n = t = self._n + 1
        out: list[Event | LifecycleRecord] = []
        if candle.low <= self._bull_trigger:
            self._step_bullish(candle, out)
        if candle.high >= self._bear_trigger:
            self._step_bearish(candle, out)
        oldest = t - self.max_age
        if self._bull and self._bull[0].index < oldest:
            self._expire(self._bull, oldest, candle.open_time, out)
        if self._bear and self._bear[0].index < oldest:
            self._expire(self._bear, oldest, candle.open_time, out)
        first = self._c2
        middle = self._c1
        self._c2 = middle
        self._c1 = candle
        if first is None or middle is None:  # the two are set together, at the second candle and the third
            return out
        if candle.low > first.high:
            self._add(BULLISH, first, middle, candle, first.high, candle.low, t, out)
        elif candle.high < first.low:
            self._add(BEARISH, first, middle, candle, candle.high, first.low, t, out)
        return out

    def _add(self, direction: Direction, first: Candle, middle: Candle, candle: Candle, bottom: float, top: float,
             t: int, out: list) -> None:
        if self._filtered:
            atr = self.atr.value
            size = top - bottom
            if size < self.min_size_atr * atr or size < self.min_size:
                return
            if abs(middle.close - middle.open) < self.displacement_atr * atr:
                return
        event = Event(next(self._ids), FVG, direction, None, first.open_time, candle.open_time, top, bottom)
        out.append(event)
        half = (top + bottom) / 2
        if direction == BULLISH:
            gaps = self._bull
            gaps.append(_Gap(event, t, (top, half, bottom)))
            if top > self._bull_trigger:
                self._bull_trigger = top
            self.last_bullish_first_index = t - 2
        else:
            gaps = self._bear
            gaps.append(_Gap(event, t, (bottom, half, top)))
            if bottom < self._bear_trigger:
                self._bear_trigger = bottom
            self.last_bearish_first_index = t - 2
        if len(gaps) > self.max_active:
            self._expire(gaps, -1, candle.open_time, out)

    def _expire(self, gaps: deque[_Gap], oldest: int, at: int, out: list) -> None:
        while gaps and (gaps[0].index < oldest or len(gaps) > self.max_active):
            out.append(LifecycleRecord(gaps.popleft().event.id, EXPIRED, at))

    def _step_bullish(self, candle: Candle, out: list) -> None:
        low = candle.low
        at = candle.open_time
        trigger = -_INF
        kept = []
        for gap in self._bull:
            stage = gap.stage
            levels = gap.levels
            while stage < 3 and low <= levels[stage]:
                out.append(LifecycleRecord(gap.event.id, _NEXT[stage], at))
                stage += 1
            if stage == 3 and candle.close < levels[2]:
                out.append(LifecycleRecord(gap.event.id, INVERTED, at))
                continue
            gap.stage = stage
            kept.append(gap)
            level = levels[stage if stage < 3 else 2]
            if level > trigger:
                trigger = level
        self._bull_trigger = trigger
        if len(kept) != len(self._bull):
            self._bull = deque(kept)

    def _step_bearish(self, candle: Candle, out: list) -> None:
        high = candle.high
        at = candle.open_time
        trigger = _INF
        kept = []
        for gap in self._bear:
            stage = gap.stage
            levels = gap.levels
            while stage < 3 and high >= levels[stage]:
                out.append(LifecycleRecord(gap.event.id, _NEXT[stage], at))
                stage += 1
            if stage == 3 and candle.close > levels[2]:
                out.append(LifecycleRecord(gap.event.id, INVERTED, at))
                continue
            gap.stage = stage
            kept.append(gap)
            level = levels[stage if stage < 3 else 2]
            if level < trigger:
                trigger = level
        self._bear_trigger = trigger
        if len(kept) != len(self._bear):
            self._bear = deque(kept)

    @property
    def active(self) -> list[ActiveZone]:
        """Gaps still tracked (not inverted, not expired), oldest first, with their last state."""
        gaps = sorted(list(self._bull) + list(self._bear), key=lambda gap: gap.event.id)
        return [ActiveZone(gap.event, _STATES[gap.stage]) for gap in gaps]
