"""FVG_Market_Entry_v1: a fair value gap left by the break of structure, retraced, then a market entry.

ICT's continuation entry (PRD strategy A). Definition, for a LONG (SHORT mirrors it):

1. Bias: a bullish BOS or CHoCH at `level` (swing structure by default) sets the bias and
   starts a setup; a bearish break ends it (the bias flipped). With `htf`, the higher
   timeframe's trend at the same level must also be bullish when entering.
2. The displacement leg runs from the protective swing low (the latest `level` swing low
   known at the break) to the breaking candle. At the close of the candle after the break
   the setup takes its gap: the most recent bullish FVG whose first candle lies in that leg
   before the breaking candle (so a gap whose middle candle is the breaking candle counts,
   confirmed one candle later) and that price has not touched yet: a fresh gap. No such
   gap, no setup.
3. Retracement: price reaches the gap: its top edge (`entry_depth = "touch"`) or its 50%
   line, consequent encroachment (`"half"`), as the engine's life-cycle states say.
4. Trigger: the first candle, from the one that reached the gap on, that closes above the
   gap's top → LONG at market (reference price: that close). A gap inverted or expired
   first ends the setup; one entry per setup.
5. Stop: `stop_buffer_atr` × ATR below the gap's bottom (`stop_at = "fvg"`) or below the
   protective swing low (`"swing"`).
6. Target: the draw on liquidity (`ict.strategies.common.draw_on_liquidity`): the nearest
   buy-side pool or swing high above the entry; skipped when that gives less than
   `min_reward_risk`; `reward_risk` × risk when there is none.
7. `killzones`: when set, the trigger candle must open inside one of them (New York time).

basis: the gap, the break, and the pool or swing used as target (when there is one).

Params: `level` ("swing" | "internal"), `htf` ("" = off, or an interval such as "1h", declared
as this strategy's timeframe), `entry_depth` ("touch" | "half"), `stop_at` ("fvg" | "swing"),
`stop_buffer_atr` (ATRs beyond the stop level, 0-5), `reward_risk` (fallback target in R,
0.5-20, at least `min_reward_risk`), `min_reward_risk` (0-20), `killzones` (comma-separated
`Killzone` names, e.g. "london,new_york_am"; "" = any time).
"""
from __future__ import annotations

from ict.events import Direction, Event, Kind, State
from ict.intervals import INTERVAL_MS
from ict.models import Intent, Side
from ict.strategies.base import Strategy, register
from ict.strategies.common import check_choice, check_range, draw_on_liquidity, parse_killzones
from ict.strategies.context import Context

_REACHED = {"touch": (State.TOUCHED, State.HALF_FILLED, State.FILLED), "half": (State.HALF_FILLED, State.FILLED)}


class _Setup:
    """One break waiting for its gap, then for the retracement and the trigger."""

    __slots__ = ("direction", "brk", "protective", "fvg", "reached")

    def __init__(self, direction: str, brk: Event, protective: Event | None) -> None:
        self.direction = direction
        self.brk = brk                # the BOS/CHoCH event
        self.protective = protective  # swing event where the leg started (None when unknown)
        self.fvg: Event | None = None  # the gap, once found
        self.reached = False          # price came into the gap


@register("FVG_Market_Entry_v1")
class FvgMarketEntry(Strategy):
    """See the module docstring for the definition and every parameter."""

    defaults = {"level": "swing", "htf": "", "entry_depth": "touch", "stop_at": "fvg", "stop_buffer_atr": 0.1,
                "reward_risk": 2.0, "min_reward_risk": 1.0, "killzones": ""}

    def __init__(self, symbol: str, params: dict | None = None) -> None:
        super().__init__(symbol, params)
        # a param-driven higher timeframe: declared on the instance, read by the runner
        self.timeframes = (self.params["htf"],) if self.params["htf"] else ()
        self._zones = parse_killzones(self.name, "killzones", self.params["killzones"])
        self._setup: _Setup | None = None

    def check(self) -> None:
        p, name = self.params, self.name
        check_choice(name, p, "level", ("swing", "internal"))
        check_choice(name, p, "htf", ("",) + tuple(INTERVAL_MS))
        check_choice(name, p, "entry_depth", tuple(_REACHED))
        check_choice(name, p, "stop_at", ("fvg", "swing"))
        check_range(name, p, "stop_buffer_atr", 0.0, 5.0)
        check_range(name, p, "min_reward_risk", 0.0, 20.0)
        check_range(name, p, "reward_risk", max(0.5, p["min_reward_risk"]), 20.0)
        parse_killzones(name, "killzones", p["killzones"])

    def on_candle(self, ctx: Context) -> list[Intent]:
        level = self.params["level"]
        for event in ctx.events:
            if event.kind in (Kind.BOS, Kind.CHOCH) and event.level == level:
                swing = ctx.swing_low(level) if event.direction == Direction.BULLISH else ctx.swing_high(level)
                self._setup = _Setup(event.direction, event, swing)
        setup = self._setup
        if setup is None:
            return []
        if setup.fvg is None:
            setup.fvg = self._find_gap(ctx, setup)
            if setup.fvg is None:
                return []
        zone = next((z for z in ctx.fvgs(setup.direction) if z.event.id == setup.fvg.id), None)
        if zone is None:  # inverted or expired
            self._setup = None
            return []
        setup.reached = setup.reached or zone.state in _REACHED[self.params["entry_depth"]]
        candle = ctx.candle
        assert candle is not None  # a strategy runs at a closed base candle
        close, fvg = candle.close, setup.fvg
        bullish = setup.direction == Direction.BULLISH
        if not setup.reached or not (close > fvg.top if bullish else close < fvg.bottom):
            return []
        self._setup = None  # one entry per setup, taken or skipped
        if self._zones and not ctx.in_killzone(*self._zones):
            return []
        if self.params["htf"] and ctx.tf(self.params["htf"]).trend(level) != setup.direction:
            return []
        return self._enter(ctx, setup)

    def _find_gap(self, ctx: Context, setup: _Setup) -> Event | None:
        candle = ctx.candle
        assert candle is not None  # a strategy runs at a closed base candle
        if candle.open_time == setup.brk.confirmed_at:
            return None  # a gap around the breaking candle is only known at the next close
        start = setup.protective.formed_at if setup.protective is not None else setup.brk.formed_at
        leg = [z.event for z in ctx.fvgs(setup.direction)
               if start <= z.event.formed_at < setup.brk.confirmed_at and z.state == ""]
        if not leg:
            self._setup = None  # the leg left no fresh gap: nothing to retrace into
        return leg[-1] if leg else None

    def _enter(self, ctx: Context, setup: _Setup) -> list[Intent]:
        p, fvg, candle = self.params, setup.fvg, ctx.candle
        assert candle is not None and fvg is not None  # at a closed candle, with the setup's gap found (on_candle)
        close = candle.close
        side = Side.LONG if setup.direction == Direction.BULLISH else Side.SHORT
        if p["stop_at"] == "swing" and setup.protective is not None:
            edge = setup.protective.bottom if side is Side.LONG else setup.protective.top
        else:
            edge = fvg.bottom if side is Side.LONG else fvg.top
        buffer = p["stop_buffer_atr"] * ctx.atr
        stop = edge - buffer if side is Side.LONG else edge + buffer
        found = draw_on_liquidity(ctx, side, close, stop, p["reward_risk"], p["min_reward_risk"])
        if found is None:
            return []
        target, liquidity = found
        basis = (ctx.ref(fvg), ctx.ref(setup.brk)) + ((ctx.ref(liquidity),) if liquidity is not None else ())
        drawn = f"{liquidity.kind} {liquidity.id}" if liquidity is not None else f"{p['reward_risk']} R"
        reason = (f"{setup.direction} FVG {fvg.id} from {setup.brk.kind} {setup.brk.id} retraced, close {close} "
                  f"back out; stop beyond {p['stop_at']}, target {drawn}")
        return [self.signal(ctx, side, stop, target, basis=basis, reason=reason)]
