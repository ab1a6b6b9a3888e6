"""The ICT engine: one object that owns every detector and feeds them each closed candle.

The same `Engine.update` serves live trading (one call per closed kline), replay and
a whole-file `scan`, so a backtest sees exactly what the live bot would have seen.
Each call returns what became known at the close of that candle, in this order:
swings (internal, then swing level), breaks, fair value gaps, order blocks, breakers,
liquidity; within a detector, life-cycle records of older zones come before new
events. Nothing reported is ever changed: an event's later life is a new record.

Everything is causal: a result at candle t depends on candles 0..t only, so cutting
the input at t leaves every earlier report unchanged, ids included.
"""
from __future__ import annotations

from itertools import count
from typing import Iterable

from ict.atr import WilderAtr
from ict.breakers import BreakerDetector
from ict.events import INTERNAL, SWING, ActiveZone, Report
from ict.fair_value_gaps import FairValueGapDetector
from ict.liquidity import LiquidityDetector
from ict.models import Candle
from ict.order_blocks import OrderBlockDetector
from ict.settings import IctSettings
from ict.structure import StructureDetector
from ict.swings import SwingDetector


class Engine:
    """All ICT detectors for one symbol and interval. Feed it closed candles in time order.

    Use `update(candle)` per closed candle, or `scan(candles)` for a whole file. Between
    calls, strategies may read the current state: `atr`, `trend(level)`,
    `active_fvgs`, `active_order_blocks`, `active_breakers`, `active_pools`, and the
    detectors themselves (`internal_swings`, `swings`, `internal_structure`,
    `structure`, `fvgs`, `order_blocks`, `breakers`, `liquidity`).
    """

    def __init__(self, settings: IctSettings = IctSettings(), first_id: int = 1) -> None:
        """`first_id`: the id of the first event; a runner gives each higher-timeframe engine
        its own block of ids so that events of different timeframes never share one."""
        self.settings = settings
        ids = count(first_id)
        self.atr_indicator = WilderAtr(settings.atr_period)
        both = settings.pivot_both_sides
        self.internal_swings = SwingDetector(settings.internal_length, INTERNAL, both, ids)
        self.swings = SwingDetector(settings.swing_length, SWING, both, ids)
        self.internal_structure = StructureDetector(self.internal_swings, settings.break_on, ids)
        self.structure = StructureDetector(self.swings, settings.break_on, ids)
        self.fvgs = FairValueGapDetector(
            self.atr_indicator, settings.fvg_min_size_atr, settings.fvg_min_size_ticks, settings.tick_size,
            settings.fvg_displacement_atr, settings.fvg_max_age, settings.fvg_max_active, ids)
        self.order_blocks = OrderBlockDetector(
            (self.internal_structure, self.structure), self.atr_indicator, self.fvgs, settings.ob_zone,
            settings.ob_volatile_atr, settings.ob_invalidate_on, settings.ob_max_age, settings.ob_max_active, ids)
        self.breakers = BreakerDetector(self.order_blocks, settings.breaker_strict, settings.breaker_max_age,
                                        settings.breaker_max_active, ids)
        self.liquidity = LiquidityDetector(
            self.internal_swings, self.atr_indicator, settings.equal_tolerance_atr, settings.pool_max_age,
            settings.pool_max_active, settings.previous_day_pools, settings.previous_week_pools, ids)
        self._last_open_time: int | None = None

    def update(self, candle: Candle) -> list[Report]:
        """Take one closed candle; return the events and life-cycle records known at its close.

        Raises ValueError when the candle is not later than the previous one (a repeated
        or out-of-order kline would corrupt every detector).
        """
        last = self._last_open_time
        if last is not None and candle.open_time <= last:
            raise ValueError(f"candle at {candle.open_time} is not after the previous one at {last}; "
                             "feed each closed candle once, in time order")
        self._last_open_time = candle.open_time
        self.atr_indicator.update(candle)
        out = self.internal_swings.update(candle)
        out += self.swings.update(candle)
        out += self.internal_structure.update(candle)
        out += self.structure.update(candle)
        out += self.fvgs.update(candle)
        out += self.order_blocks.update(candle)
        out += self.breakers.update(candle)
        out += self.liquidity.update(candle)
        return out

    def scan(self, candles: Iterable[Candle]) -> list[Report]:
        """Feed every candle through `update`; return all reports in time order."""
        reports: list[Report] = []
        update = self.update
        for candle in candles:
            reports += update(candle)
        return reports

    @property
    def atr(self) -> float:
        """Wilder's ATR at the last closed candle, in price units (0.0 before any candle)."""
        return self.atr_indicator.value

    def trend(self, level: str = INTERNAL) -> str | None:
        """"bullish", "bearish" or None (no break yet) for structure `level` ("internal" or "swing")."""
        if level not in (INTERNAL, SWING):
            raise ValueError(f'structure level {level!r}; use "internal" or "swing"')
        return (self.internal_structure if level == INTERNAL else self.structure).trend

    @property
    def active_fvgs(self) -> list[ActiveZone]:
        """Fair value gaps still tracked, oldest first, with their last state."""
        return self.fvgs.active

    @property
    def active_order_blocks(self) -> list[ActiveZone]:
        """Order blocks not yet invalidated or expired, oldest first."""
        return self.order_blocks.active

    @property
    def active_breakers(self) -> list[ActiveZone]:
        """Breaker blocks not yet invalidated or expired, oldest first."""
        return self.breakers.active

    @property
    def active_pools(self) -> list[ActiveZone]:
        """Liquidity pools not yet swept, run or expired, oldest first."""
        return self.liquidity.active


def scan(candles: Iterable[Candle], settings: IctSettings = IctSettings()) -> list[Report]:
    """Run a fresh `Engine` over `candles`; the whole-file form of `Engine.update`."""
    return Engine(settings).scan(candles)
