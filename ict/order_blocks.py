"""Order blocks: the last opposite candle before a break of structure, and their life cycle.

A BOS or CHoCH at breaking candle b against pivot p creates an order block, confirmed
at b, at the same structure level. For a bullish break the OB candle is the last
down-close candle (close < open) in p..b-1; when there is none, the candle with the
lowest low in that range (the latest of equal lows). A bearish break mirrors this
(last up-close candle, else the highest high). Candles whose range is at least
`volatile_atr` × ATR are skipped as too volatile, the ATR being the one known before
that candle opened (so a candle is not judged by an average that includes itself).
The fallback search looks back at most `LOOKBACK` candles.

The zone is the OB candle's full range, or its body (`zone="body"`). Each OB carries a
displacement score (the breaking candle's body in ATRs, and whether a gap in the
break's direction formed from the OB candle on); it is information, never a gate.

Life cycle, checked from the candle after b (mirror for bearish):
- `mitigated`: the first low at or below the top of a bullish zone;
- `invalidated`: a close below the bottom (`invalidate_on="wick"`: a low below it).
An invalidated OB leaves the active set and is handed to `ict.breakers` through
`failed`; its events stay as reported. OBs are tracked for `max_age` candles and at
most `max_active` per direction; one dropped for either reason gets an `expired` record.
"""
from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterator, Sequence

from ict.atr import WilderAtr
from ict.events import (BEARISH, BULLISH, EXPIRED, INVALIDATED, MITIGATED, ORDER_BLOCK, ActiveZone, Event,
                        Level, LifecycleRecord, OrderBlockEvent)
from ict.fair_value_gaps import FairValueGapDetector
from ict.models import Candle
from ict.structure import StructureDetector

LOOKBACK = 1000  # candles kept for the lowest-low / highest-high fallback
_INF = float("inf")


class _Block:
    __slots__ = ("event", "index", "mitigated", "swept")

    def __init__(self, event: OrderBlockEvent, index: int, swept: bool) -> None:
        self.event = event
        self.index = index
        self.mitigated = False
        self.swept = swept  # its leg took out the prior swing (strict breaker form)


class OrderBlockDetector:
    """Order blocks from the breaks of `structures`; update structures and `fvgs` first.

    After each `update`, `failed` lists `(order_block_event, strict_ok)` for the blocks
    invalidated at this candle; `strict_ok` says whether the stricter breaker form holds
    (the OB's leg swept a prior swing and the invalidating candle broke structure at
    the same level).
    """

    def __init__(self, structures: Sequence[StructureDetector], atr: WilderAtr, fvgs: FairValueGapDetector,
                 zone: str = "full", volatile_atr: float = 2.0, invalidate_on: str = "close",
                 max_age: int = 1000, max_active: int = 30, ids: Iterator[int] | None = None) -> None:
        self.structures = tuple(structures)
        self._by_level: dict[Level | None, StructureDetector] = {structure.level: structure for structure in self.structures}
        self.atr = atr
        self.fvgs = fvgs
        self.body = zone == "body"
        self.volatile_atr = volatile_atr
        self.wick = invalidate_on == "wick"
        self.max_age = max_age
        self.max_active = max_active
        self._ids = ids if ids is not None else count(1)
        self._n = -1
        self._recent: deque[tuple[Candle, bool]] = deque(maxlen=LOOKBACK)  # (candle, too volatile)
        self._last_down = -1  # index of the last usable down-close candle
        self._last_up = -1
        self._down_candle: Candle | None = None
        self._up_candle: Candle | None = None
        self._bull: deque[_Block] = deque()
        self._bear: deque[_Block] = deque()
        self._bull_trigger = -_INF
        self._bear_trigger = _INF
        self.failed: list[tuple[OrderBlockEvent, bool]] = []

    def update(self, candle: Candle) -> list[Event | LifecycleRecord]:
        """Take one closed candle; return new order blocks and life-cycle records."""
        self._n = t = self._n + 1
        if self.failed:
            self.failed = []
        out: list[Event | LifecycleRecord] = []
        if candle.low <= self._bull_trigger:
            self._bull_trigger = self._step(self._bull, candle, True, out)
        if candle.high >= self._bear_trigger:
            self._bear_trigger = self._step(self._bear, candle, False, out)
        for structure in self.structures:
            for event, pivot_index in structure.breaks:
                self._create(structure, event, pivot_index, candle, t, out)
        oldest = t - self.max_age
        for blocks in (self._bull, self._bear):
            while blocks and (blocks[0].index < oldest or len(blocks) > self.max_active):
                out.append(LifecycleRecord(blocks.popleft().event.id, EXPIRED, candle.open_time))
        previous_atr = self.atr.previous
        volatile = 0 < previous_atr and 0 < self.volatile_atr and \
            candle.high - candle.low >= self.volatile_atr * previous_atr
        self._recent.append((candle, volatile))
        if not volatile:
            if candle.close < candle.open:
                self._last_down = t
                self._down_candle = candle
            elif candle.close > candle.open:
                self._last_up = t
                self._up_candle = candle
        return out

    def _create(self, structure: StructureDetector, brk: Event, pivot_index: int, candle: Candle, t: int,
                out: list) -> None:
        bullish = brk.direction == BULLISH
        if bullish and self._last_down >= pivot_index:
            index, source = self._last_down, self._down_candle
        elif not bullish and self._last_up >= pivot_index:
            index, source = self._last_up, self._up_candle
        else:
            index, source = self._extreme(pivot_index, t, bullish)
        if source is None:  # no candle to mark (the down/up candle is always set with its index)
            return
        if self.body:
            top, bottom = max(source.open, source.close), min(source.open, source.close)
        else:
            top, bottom = source.high, source.low
        atr = self.atr.value
        displacement = abs(candle.close - candle.open) / atr if atr > 0 else 0.0
        gap_first = self.fvgs.last_bullish_first_index if bullish else self.fvgs.last_bearish_first_index
        event = OrderBlockEvent(next(self._ids), ORDER_BLOCK, brk.direction, brk.level, source.open_time,
                                candle.open_time, top, bottom, displacement, gap_first >= index, brk.id)
        out.append(event)
        swept = self._swept_prior_swing(structure, index, source, bullish)
        if bullish:
            self._bull.append(_Block(event, t, swept))
            if top > self._bull_trigger:
                self._bull_trigger = top
        else:
            self._bear.append(_Block(event, t, swept))
            if bottom < self._bear_trigger:
                self._bear_trigger = bottom

    def _extreme(self, pivot_index: int, t: int, bullish: bool) -> tuple[int, Candle | None]:
        # candles p..t-1 that are still in the window; the latest of equal extremes wins
        recent = self._recent
        first = t - len(recent)
        best_index, best = -1, None
        for offset in range(max(pivot_index - first, 0), len(recent)):
            candidate, volatile = recent[offset]
            if volatile:
                continue
            if best is None or (candidate.low <= best.low if bullish else candidate.high >= best.high):
                best_index, best = first + offset, candidate
        return best_index, best

    @staticmethod
    def _swept_prior_swing(structure: StructureDetector, index: int, source: Candle, bullish: bool) -> bool:
        length = structure.swings.length
        pivots = structure.recent_lows if bullish else structure.recent_highs
        for pivot, pivot_index in reversed(pivots):
            if pivot_index + length <= index:  # known before the OB candle
                return source.low < pivot.bottom if bullish else source.high > pivot.top
        return False

    def _step(self, blocks: deque[_Block], candle: Candle, bullish: bool, out: list) -> float:
        at = candle.open_time
        beyond = (candle.low if self.wick else candle.close) if bullish else (candle.high if self.wick else candle.close)
        trigger = -_INF if bullish else _INF
        kept = []
        for block in blocks:
            event = block.event
            if not block.mitigated and (candle.low <= event.top if bullish else candle.high >= event.bottom):
                block.mitigated = True
                out.append(LifecycleRecord(event.id, MITIGATED, at))
            if (beyond < event.bottom) if bullish else (beyond > event.top):
                out.append(LifecycleRecord(event.id, INVALIDATED, at))
                self.failed.append((event, block.swept and self._broke_against(event)))
                continue
            kept.append(block)
            if bullish:
                level = event.bottom if block.mitigated else event.top
                if level > trigger:
                    trigger = level
            else:
                level = event.top if block.mitigated else event.bottom
                if level < trigger:
                    trigger = level
        if len(kept) != len(blocks):
            blocks.clear()
            blocks.extend(kept)
        return trigger

    def _broke_against(self, event: Event) -> bool:
        structure = self._by_level.get(event.level)
        return structure is not None and any(brk.direction != event.direction for brk, _ in structure.breaks)

    @property
    def active(self) -> list[ActiveZone]:
        """Order blocks still tracked, oldest first, with state '' or 'mitigated'."""
        blocks = sorted(list(self._bull) + list(self._bear), key=lambda block: block.event.id)
        return [ActiveZone(block.event, MITIGATED if block.mitigated else "") for block in blocks]
