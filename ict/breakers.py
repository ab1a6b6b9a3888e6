"""Breaker blocks: order blocks that failed, now acting the other way.

An order block invalidated at candle i becomes a breaker of the opposite direction
with the same zone and level, formed at the OB candle and confirmed at i: a failed
bullish OB is a bearish breaker (price is now below it) and the mirror. With
`strict=True` only the stricter form counts: the OB's leg had swept the prior swing
of its level and the invalidating candle itself broke structure the other way at
that level. The OB's own events are not touched.

Life cycle, checked from the candle after i; for a bearish breaker (mirror for bullish):
- `retested`: the first high at or above the bottom of the zone (price came back into
  it from below, the usual entry trigger);
- `invalidated`: a close above the top; the breaker leaves the active set.
Breakers are tracked for `max_age` candles and at most `max_active` per direction;
one dropped for either reason gets an `expired` record.
"""
from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterator

from ict.events import (BEARISH, BREAKER, BULLISH, EXPIRED, INVALIDATED, RETESTED, ActiveZone, BreakerEvent, Event,
                        LifecycleRecord)
from ict.models import Candle
from ict.order_blocks import OrderBlockDetector

_INF = float("inf")


class _Breaker:
    __slots__ = ("event", "index", "retested")

    def __init__(self, event: BreakerEvent, index: int) -> None:
        self.event = event
        self.index = index
        self.retested = False


class BreakerDetector:
    """Breakers from the failed blocks of `order_blocks`; update `order_blocks` first."""

    def __init__(self, order_blocks: OrderBlockDetector, strict: bool = False, max_age: int = 1000,
                 max_active: int = 30, ids: Iterator[int] | None = None) -> None:
        self.order_blocks = order_blocks
        self.strict = strict
        self.max_age = max_age
        self.max_active = max_active
        self._ids = ids if ids is not None else count(1)
        self._n = -1
        self._bull: deque[_Breaker] = deque()  # price above, support
        self._bear: deque[_Breaker] = deque()  # price below, resistance
        self._bull_trigger = -_INF  # a low at or below this reaches some bullish breaker
        self._bear_trigger = _INF

    def update(self, candle: Candle) -> list[Event | LifecycleRecord]:
        """Take one closed candle (after `order_blocks.update`); return breakers and records."""
        self._n = t = self._n + 1
        out: list[Event | LifecycleRecord] = []
        if candle.low <= self._bull_trigger:
            self._bull_trigger = self._step(self._bull, candle, True, out)
        if candle.high >= self._bear_trigger:
            self._bear_trigger = self._step(self._bear, candle, False, out)
        for block, strict_ok in self.order_blocks.failed:
            if self.strict and not strict_ok:
                continue
            direction = BEARISH if block.direction == BULLISH else BULLISH
            event = BreakerEvent(next(self._ids), BREAKER, direction, block.level, block.formed_at,
                                 candle.open_time, block.top, block.bottom, block.id)
            out.append(event)
            if direction == BULLISH:
                self._bull.append(_Breaker(event, t))
                self._bull_trigger = max(self._bull_trigger, block.top)
            else:
                self._bear.append(_Breaker(event, t))
                self._bear_trigger = min(self._bear_trigger, block.bottom)
        oldest = t - self.max_age
        for breakers in (self._bull, self._bear):
            while breakers and (breakers[0].index < oldest or len(breakers) > self.max_active):
                out.append(LifecycleRecord(breakers.popleft().event.id, EXPIRED, candle.open_time))
        return out

    @staticmethod
    def _step(breakers: deque[_Breaker], candle: Candle, bullish: bool, out: list) -> float:
        at = candle.open_time
        trigger = -_INF if bullish else _INF
        kept = []
        for breaker in breakers:
            event = breaker.event
            if not breaker.retested and (candle.low <= event.top if bullish else candle.high >= event.bottom):
                breaker.retested = True
                out.append(LifecycleRecord(event.id, RETESTED, at))
            if (candle.close < event.bottom) if bullish else (candle.close > event.top):
                out.append(LifecycleRecord(event.id, INVALIDATED, at))
                continue
            kept.append(breaker)
            if bullish:
                level = event.bottom if breaker.retested else event.top
                trigger = level if level > trigger else trigger
            else:
                level = event.top if breaker.retested else event.bottom
                trigger = level if level < trigger else trigger
        if len(kept) != len(breakers):
            breakers.clear()
            breakers.extend(kept)
        return trigger

    @property
    def active(self) -> list[ActiveZone]:
        """Breakers still tracked, oldest first, with state '' or 'retested'."""
        breakers = sorted(list(self._bull) + list(self._bear), key=lambda breaker: breaker.event.id)
        return [ActiveZone(breaker.event, RETESTED if breaker.retested else "") for breaker in breakers]
