"""Silver_Bullet_v1: in a Silver Bullet hour, liquidity swept, then a limit order in the first reversal FVG.

ICT's Silver Bullet model. The hours are New York time (daylight saving included, see
`ict.killzones`): London 03:00-04:00, AM 10:00-11:00, PM 14:00-15:00. Definition, for a
SHORT after buy-side liquidity is taken (the LONG after a sell-side sweep mirrors it):

1. Sweep: a candle trades above a buy-side pool (equal highs, previous day or week high)
   and closes back at or below it: the engine's `sweep` event, bearish. The latest sweep
   sets the reversal direction; it stays usable for `sweep_max_age` candles.
2. The first bearish FVG whose first candle is at or after the sweep candle is the
   displacement's gap. When it is confirmed at a candle that opens inside one of the
   `windows`, a LIMIT sell rests at its proximal edge (its bottom). Confirmed outside the
   windows, it uses the sweep up without a trade.
3. Stop: `stop_buffer_atr` × ATR above the sweep's extreme (the sweeping candle's high).
4. Target: the nearest sell-side pool below the limit
   (`ict.strategies.common.draw_on_liquidity`, pools only); skipped when that gives less
   than `min_reward_risk`; `reward_risk` × risk when there is none.
5. An entry not filled within `expiry_candles` candles is cancelled by the trader
   (`Signal.expiry_candles`).

basis: the FVG, the sweep, and the pool used as target (when there is one).

Params: `windows` (comma-separated "london", "am", "pm"), `sweep_max_age` (1-1000 candles),
`stop_buffer_atr` (0-5), `reward_risk` (0.5-20, at least `min_reward_risk`),
`min_reward_risk` (0-20), `expiry_candles` (1-10000).
"""
from __future__ import annotations

from ict.events import Direction, Event, Kind
from ict.killzones import Killzone
from ict.models import Intent, Side
from ict.strategies.base import Strategy, register
from ict.strategies.common import check_range, draw_on_liquidity, parse_killzones
from ict.strategies.context import Context

WINDOWS = {"london": Killzone.SILVER_BULLET_LONDON, "am": Killzone.SILVER_BULLET_AM, "pm": Killzone.SILVER_BULLET_PM}


@register("Silver_Bullet_v1")
class SilverBullet(Strategy):
    """See the module docstring for the definition and every parameter."""

    defaults = {"windows": "london,am,pm", "sweep_max_age": 12, "stop_buffer_atr": 0.1, "reward_risk": 2.0,
                "min_reward_risk": 1.0, "expiry_candles": 12}

    def __init__(self, symbol: str, params: dict | None = None) -> None:
        super().__init__(symbol, params)
        self._windows = parse_killzones(self.name, "windows", self.params["windows"], WINDOWS)
        self._sweep: Event | None = None    # the latest usable sweep event
        self._sweep_age = 0   # base candles since it

    def check(self) -> None:
        p, name = self.params, self.name
        if not parse_killzones(name, "windows", p["windows"], WINDOWS) <= set(WINDOWS.values()):
            raise ValueError(f"[strategy.params] windows = {p['windows']!r}: {name} trades only in "
                             f"Silver Bullet hours; use names from london, am, pm separated by commas")
        if not p["windows"].strip():
            raise ValueError(f'[strategy.params] windows = {p["windows"]!r} leaves {name} no hour to trade; use "london,am,pm"')
        check_range(name, p, "sweep_max_age", 1, 1000)
        check_range(name, p, "stop_buffer_atr", 0.0, 5.0)
        check_range(name, p, "min_reward_risk", 0.0, 20.0)
        check_range(name, p, "reward_risk", max(0.5, p["min_reward_risk"]), 20.0)
        check_range(name, p, "expiry_candles", 1, 10_000)

    def on_candle(self, ctx: Context) -> list[Intent]:
        self._sweep_age += 1
        for event in ctx.events:
            if event.kind == Kind.SWEEP:
                self._sweep, self._sweep_age = event, 0
        sweep = self._sweep
        if sweep is None:
            return []
        if self._sweep_age > self.params["sweep_max_age"]:
            self._sweep = None
            return []
        gap = next((e for e in ctx.events if e.kind == Kind.FVG and e.direction == sweep.direction
                    and e.formed_at >= sweep.confirmed_at), None)
        if gap is None:
            return []
        self._sweep = None  # only the first gap after the sweep counts
        if not ctx.in_killzone(*self._windows):
            return []
        return self._place(ctx, sweep, gap)

    def _place(self, ctx: Context, sweep: Event, gap: Event) -> list[Intent]:
        p = self.params
        buffer = p["stop_buffer_atr"] * ctx.atr
        if sweep.direction == Direction.BEARISH:
            side, limit, stop = Side.SHORT, gap.bottom, sweep.top + buffer
        else:
            side, limit, stop = Side.LONG, gap.top, sweep.bottom - buffer
        found = draw_on_liquidity(ctx, side, limit, stop, p["reward_risk"], p["min_reward_risk"], swings=False)
        if found is None:
            return []
        target, pool = found
        basis = (ctx.ref(gap), ctx.ref(sweep)) + ((ctx.ref(pool),) if pool is not None else ())
        drawn = f"pool {pool.id}" if pool is not None else f"{p['reward_risk']} R"
        reason = (f"Silver Bullet: {sweep.level} pool swept (sweep {sweep.id}), first {sweep.direction} FVG {gap.id}; "
                  f"limit at its proximal edge {limit}, target {drawn}")
        return [self.signal(ctx, side, stop, target, limit=limit, basis=basis, reason=reason,
                            expiry_candles=p["expiry_candles"])]
