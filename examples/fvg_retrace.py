"""FVG_Retrace_Example_v1: the README's tutorial strategy (a test replays it).

Bias: the direction of the last swing-level break (BOS or CHoCH). Entry: at market when a
candle first touches a fair value gap of the bias direction and closes back out of it.
Stop: beyond the gap's far edge plus `stop_buffer_atr` ATRs. Target: the nearest opposing
liquidity pool if it pays `min_reward_risk`, else `reward_risk` times the risk.
"""
from ict.events import Direction, Kind, Level, State
from ict.models import Side
from ict.strategies import Strategy, register


@register("FVG_Retrace_Example_v1")
class FvgRetrace(Strategy):
    defaults = {"stop_buffer_atr": 0.1, "reward_risk": 2.0, "min_reward_risk": 1.5}
    last_break = None                                   # the swing BOS/CHoCH that sets the bias

    def check(self):
        for key in ("reward_risk", "min_reward_risk"):
            if self.params[key] <= 0:
                raise ValueError(f"[strategy.params] {key} = {self.params[key]:g} must be above 0; try 2.0")

    def on_candle(self, ctx):
        for event in ctx.events:                        # 1. bias from swing structure
            if event.kind in (Kind.BOS, Kind.CHOCH) and event.level == Level.SWING:
                self.last_break = event
        if self.last_break is None or ctx.positions:
            return []
        bias, close = self.last_break.direction, ctx.candle.close
        long = bias == Direction.BULLISH
        for change in ctx.changes:                      # 2. a gap of the bias direction touched now...
            gap = change.event
            if gap.kind != Kind.FVG or gap.direction != bias or change.state != State.TOUCHED:
                continue
            if (close <= gap.top) if long else (close >= gap.bottom):
                continue                                # ...and the candle closed back out of it
            buffer = self.params["stop_buffer_atr"] * ctx.atr   # 3. stop beyond the far edge
            stop = gap.bottom - buffer if long else gap.top + buffer
            risk = abs(close - stop)
            basis = [gap, self.last_break]
            pools = [p.event for p in ctx.pools(bias) if (p.event.top > close if long else p.event.top < close)]
            pool = min(pools, key=lambda p: abs(p.top - close), default=None)
            if pool is not None and abs(pool.top - close) >= self.params["min_reward_risk"] * risk:
                target = pool.top                       # 4. target: the opposing liquidity...
                basis.append(pool)
            else:                                       # ...or a fixed multiple of the risk
                target = close + self.params["reward_risk"] * risk * (1 if long else -1)
            side = Side.LONG if long else Side.SHORT
            return [self.signal(ctx, side, stop, target, basis=basis, reason=f"{bias} FVG retrace")]
        return []
