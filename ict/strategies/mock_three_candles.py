"""Mock_ThreeCandles_v1: a deliberately simple strategy that exercises the whole pipeline.

Three consecutive bullish closes → LONG at market, stop at the lowest low of the
three, take-profit at `reward_risk` × the risk above the signal close. Three bearish
closes → the mirror SHORT. It knows nothing of ICT; it exists so that replay, risk,
orders and the journal can be tested on real candles with a predictable trigger.
"""
from __future__ import annotations

from collections import deque

from ict.models import Candle, Intent, Side, Signal
from ict.strategies.base import Strategy, register


@register("Mock_ThreeCandles_v1")
class ThreeCandles(Strategy):
    """Params: `reward_risk` (take-profit distance as a multiple of the stop distance)."""

    defaults = {"reward_risk": 2.0}

    def __init__(self, symbol, params=None) -> None:
        super().__init__(symbol, params)
        self._recent: deque[Candle] = deque(maxlen=3)

    def check(self) -> None:
        if self.params["reward_risk"] <= 0:
            raise ValueError(f"[strategy.params] reward_risk = {self.params['reward_risk']:g} must be above 0; try 2.0")

    def on_candle(self, ctx) -> list[Intent]:
        candle = ctx.candle
        recent = self._recent
        recent.append(candle)
        if len(recent) < 3:
            return []
        first, second, third = recent
        if first.close > first.open and second.close > second.open and third.close > third.open:
            side, stop = Side.LONG, min(first.low, second.low, third.low)
        elif first.close < first.open and second.close < second.open and third.close < third.open:
            side, stop = Side.SHORT, max(first.high, second.high, third.high)
        else:
            return []
        entry = candle.close
        risk = entry - stop if side is Side.LONG else stop - entry
        if risk <= 0:
            return []
        target = entry + self.params["reward_risk"] * risk if side is Side.LONG else entry - self.params["reward_risk"] * risk
        recent.clear()  # the next signal needs three fresh candles
        word = "bullish" if side is Side.LONG else "bearish"
        return [self.signal(ctx, side, stop, target, reason=f"three {word} closes ending at {entry}")]
