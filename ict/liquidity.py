"""Liquidity pools (equal highs/lows, previous day and week high/low) and their sweeps and runs.

Equal highs: at least two confirmed internal pivot highs (all of them, also those the
swing alternation dropped: a double top is two highs in a row) within `tolerance_atr`
× ATR of each other, the ATR being the one at the close of the candle that confirms the
second. Its level is the highest member, because the stops sit above it; it is formed
at the first member and confirmed with the second. A pivot only pairs while it is at
most `max_age` candles old and price has not traded more than the tolerance above it
since it was confirmed (then its stops are gone). A third equal high that arrives
while its pool is still active joins it quietly, since the pool is already reported.
Equal lows mirror all of this.

Previous day and week high/low (see `ict.sessions`) are pools too, with level `day` or
`week`; a new one replaces the previous pool of the same period and side, which gets
an `expired` record.

A candle with `high > P` sweeps a buy-side pool at P when its close is at or below P
(the wick took the stops and price came back) and runs it when it closes above. Either
is a `sweep` or `run` event plus a `consumed` record for the pool, from the candle after
the pool's confirmation. Sell-side mirrors this. Equal-high pools expire (an `expired`
record) `max_age` candles after their confirmation, and at most `max_active` are kept
per side.
"""
from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterator

from ict.atr import WilderAtr
from ict.events import (BEARISH, BULLISH, CONSUMED, DAY, EXPIRED, INTERNAL, LIQUIDITY_POOL, RUN, SWEEP, WEEK, ActiveZone,
                        Direction, Event, LifecycleRecord, Level, PoolTakeEvent)
from ict.models import Candle
from ict.sessions import DAY_MS, MONDAY_OFFSET_MS, WEEK_MS, PeriodTracker
from ict.swings import SwingDetector

_INF = float("inf")


class _Pool:
    __slots__ = ("event", "index", "price", "buy_side")

    def __init__(self, event: Event, index: int) -> None:
        self.event = event
        self.index = index
        self.price = event.top
        self.buy_side = event.direction == BULLISH


class LiquidityDetector:
    """Pools from the pivots of `swings` (update it and `atr` first) and from closed days and weeks."""

    def __init__(self, swings: SwingDetector, atr: WilderAtr, tolerance_atr: float = 0.1, max_age: int = 500,
                 max_active: int = 50, day_pools: bool = True, week_pools: bool = True,
                 ids: Iterator[int] | None = None) -> None:
        self.swings = swings
        self.atr = atr
        self.tolerance_atr = tolerance_atr
        self.max_age = max_age
        self.max_active = max_active
        self._ids = ids if ids is not None else count(1)
        self._n = -1
        self._periods = []
        if day_pools:
            self._periods.append((DAY, PeriodTracker(DAY_MS, 0)))
        if week_pools:
            self._periods.append((WEEK, PeriodTracker(WEEK_MS, MONDAY_OFFSET_MS)))
        # pivots waiting for a partner: [price, index, formed_at, limit beyond which they are gone]
        self._free_highs: deque[list] = deque()
        self._free_lows: deque[list] = deque()
        self._free_high_limit = _INF  # a high above this removes some free pivot high
        self._free_low_limit = -_INF
        self._buy: deque[_Pool] = deque()   # equal-high pools, oldest first
        self._sell: deque[_Pool] = deque()
        self._buy_periods: list[_Pool] = []  # at most one per period kind
        self._sell_periods: list[_Pool] = []
        self._buy_trigger = _INF      # a high above this takes some buy-side pool
        self._sell_trigger = -_INF

    def update(self, candle: Candle) -> list[Event | LifecycleRecord]:
        """Take one closed candle; return new pools, sweeps, runs and `consumed` records."""
        self._n = t = self._n + 1
        out: list[Event | LifecycleRecord] = []
        if candle.high > self._buy_trigger:
            self._buy_trigger = min(self._take(self._buy_periods, candle, True, out),
                                    self._take(self._buy, candle, True, out))
        if candle.low < self._sell_trigger:
            self._sell_trigger = max(self._take(self._sell_periods, candle, False, out),
                                     self._take(self._sell, candle, False, out))
        for level, tracker in self._periods:
            for period in tracker.update(candle):
                self._add_period_pool(level, BULLISH, period.high, period.high_at, candle, t, out)
                self._add_period_pool(level, BEARISH, period.low, period.low_at, candle, t, out)
        if candle.high > self._free_high_limit:
            self._free_high_limit = self._drop_taken(self._free_highs, candle.high, True)
        if candle.low < self._free_low_limit:
            self._free_low_limit = self._drop_taken(self._free_lows, candle.low, False)
        for is_high, index, price, formed_at in self.swings.new_pivots:
            self._pivot(is_high, index, price, formed_at, candle, t, out)
        oldest = t - self.max_age
        for free in (self._free_highs, self._free_lows):
            while free and (free[0][1] < oldest or len(free) > self.max_active):
                free.popleft()
        for pools in (self._buy, self._sell):
            while pools and (pools[0].index < oldest or len(pools) > self.max_active):
                out.append(LifecycleRecord(pools.popleft().event.id, EXPIRED, candle.open_time))
        return out

    def _take(self, pools: list[_Pool] | deque[_Pool], candle: Candle, buy_side: bool, out: list) -> float:
        at = candle.open_time
        kept = []
        trigger = _INF if buy_side else -_INF
        for pool in pools:
            price = pool.price
            if buy_side and candle.high > price:
                kind = SWEEP if candle.close <= price else RUN
                direction = BEARISH if kind == SWEEP else BULLISH
                top, bottom = candle.high, price
            elif not buy_side and candle.low < price:
                kind = SWEEP if candle.close >= price else RUN
                direction = BULLISH if kind == SWEEP else BEARISH
                top, bottom = price, candle.low
            else:
                kept.append(pool)
                trigger = (price if price < trigger else trigger) if buy_side else (price if price > trigger else trigger)
                continue
            out.append(PoolTakeEvent(next(self._ids), kind, direction, pool.event.level, at, at, top, bottom,
                                     pool.event.id))
            out.append(LifecycleRecord(pool.event.id, CONSUMED, at))
        if len(kept) != len(pools):
            pools.clear()
            pools.extend(kept)
        return trigger

    def _add_period_pool(self, level: Level, direction: Direction, price: float, formed_at: int, candle: Candle, t: int,
                         out: list) -> None:
        pools = self._buy_periods if direction == BULLISH else self._sell_periods
        for pool in [pool for pool in pools if pool.event.level == level]:
            pools.remove(pool)  # the day before yesterday is no longer the previous day
            out.append(LifecycleRecord(pool.event.id, EXPIRED, candle.open_time))
        event = Event(next(self._ids), LIQUIDITY_POOL, direction, level, formed_at, candle.open_time, price, price)
        out.append(event)
        self._insert(pools, _Pool(event, t))

    def _insert(self, pools: list[_Pool] | deque[_Pool], pool: _Pool) -> None:
        pools.append(pool)
        if pool.buy_side:
            self._buy_trigger = min(self._buy_trigger, pool.price)
        else:
            self._sell_trigger = max(self._sell_trigger, pool.price)

    @staticmethod
    def _drop_taken(free: deque[list], extreme: float, highs: bool) -> float:
        kept = [entry for entry in free if (entry[3] >= extreme if highs else entry[3] <= extreme)]
        free.clear()
        free.extend(kept)
        if not kept:
            return _INF if highs else -_INF
        return min(entry[3] for entry in kept) if highs else max(entry[3] for entry in kept)

    def _pivot(self, is_high: bool, index: int, price: float, formed_at: int, candle: Candle, t: int,
               out: list) -> None:
        tolerance = self.tolerance_atr * self.atr.value
        pools = self._buy if is_high else self._sell
        for pool in pools:
            if pool.event.level == INTERNAL and abs(pool.price - price) <= tolerance and \
                    (price <= pool.price if is_high else price >= pool.price):
                return  # a third equal high: the pool is already reported
        free = self._free_highs if is_high else self._free_lows
        partners = [entry for entry in free if abs(entry[0] - price) <= tolerance]
        if not partners:
            limit = price + tolerance if is_high else price - tolerance
            free.append([price, index, formed_at, limit])
            if is_high:
                self._free_high_limit = min(self._free_high_limit, limit)
            else:
                self._free_low_limit = max(self._free_low_limit, limit)
            return
        for entry in partners:
            free.remove(entry)
        prices = [entry[0] for entry in partners] + [price]
        level = max(prices) if is_high else min(prices)
        first = min(min(entry[2] for entry in partners), formed_at)
        event = Event(next(self._ids), LIQUIDITY_POOL, BULLISH if is_high else BEARISH, INTERNAL, first,
                      candle.open_time, level, level)
        out.append(event)
        self._insert(pools, _Pool(event, t))

    @property
    def active(self) -> list[ActiveZone]:
        """Pools not yet swept, run or expired, oldest first."""
        pools = sorted([*self._buy, *self._sell, *self._buy_periods, *self._sell_periods],
                       key=lambda pool: pool.event.id)
        return [ActiveZone(pool.event, "") for pool in pools]
