"""OB_Limit_Entry_v1: a limit order resting in the order block that a break of structure left behind.

ICT's order-block entry (PRD strategy B). Definition, for a LONG (SHORT mirrors it):

1. A bullish BOS or CHoCH at `level` (swing structure by default) makes the engine report a
   bullish order block at the same level, at the breaking candle's close: the last
   down-close candle before the up move (see `ict.order_blocks`).
2. At that close: a LIMIT buy at the block's proximal edge, its top (`entry_at =
   "proximal"`), or at its 50% line (`"half"`), unless the close is already at or below that
   price (the order would be marketable).
3. Stop: `stop_buffer_atr` × ATR below the block's distal edge (its bottom).
4. Target: the draw on liquidity from the limit price (`ict.strategies.common.draw_on_liquidity`):
   the nearest buy-side pool or swing high above it; skipped when that gives less than
   `min_reward_risk`; `reward_risk` × risk when there is none.
5. The strategy cancels its resting entry (`CancelEntry`) when the block is invalidated
   (a close through its distal edge) or expires, when structure at `level` flips (a
   bearish break), and when a newer block replaces it (one resting entry at a time). An
   entry not filled within `expiry_candles` candles is cancelled by the trader
   (`Signal.expiry_candles`).

basis: the order block, then the break that made it, then the pool or swing used as target.

Params: `level` ("swing" | "internal"), `entry_at` ("proximal" | "half"), `stop_buffer_atr`
(ATRs beyond the distal edge, 0-5), `reward_risk` (fallback target in R, 0.5-20, at least
`min_reward_risk`), `min_reward_risk` (0-20), `expiry_candles` (1-10000 base candles).
"""
from __future__ import annotations

from typing import cast

from ict.events import Direction, Kind, OrderBlockEvent, State
from ict.models import CancelEntry, Intent, Side
from ict.strategies.base import Strategy, register
from ict.strategies.common import check_choice, check_range, draw_on_liquidity
from ict.strategies.context import Context

_GONE = (State.INVALIDATED, State.EXPIRED)


@register("OB_Limit_Entry_v1")
class ObLimitEntry(Strategy):
    """See the module docstring for the definition and every parameter."""

    defaults = {"level": "swing", "entry_at": "proximal", "stop_buffer_atr": 0.1, "reward_risk": 2.0,
                "min_reward_risk": 1.0, "expiry_candles": 50}

    def check(self) -> None:
        p, name = self.params, self.name
        check_choice(name, p, "level", ("swing", "internal"))
        check_choice(name, p, "entry_at", ("proximal", "half"))
        check_range(name, p, "stop_buffer_atr", 0.0, 5.0)
        check_range(name, p, "min_reward_risk", 0.0, 20.0)
        check_range(name, p, "reward_risk", max(0.5, p["min_reward_risk"]), 20.0)
        check_range(name, p, "expiry_candles", 1, 10_000)

    def on_candle(self, ctx: Context) -> list[Intent]:
        level = self.params["level"]
        blocks = [e for e in ctx.events if e.kind == Kind.ORDER_BLOCK and e.level == level]
        flips = {e.direction for e in ctx.events if e.kind in (Kind.BOS, Kind.CHOCH) and e.level == level}
        gone = {ctx.ref(c.event): c.state for c in ctx.changes
                if c.event.kind == Kind.ORDER_BLOCK and c.state in _GONE}
        cancels: dict[int, CancelEntry] = {}
        for entry in ctx.entries:
            against = Direction.BEARISH if entry.side is Side.LONG else Direction.BULLISH
            failed = [gone[ref] for ref in entry.basis if ref in gone]
            if failed:
                why = f"order block {entry.basis[0]} {failed[0]}"
            elif against in flips:
                why = f"structure flipped {against.value} at {level} level"
            elif blocks:
                why = f"replaced by the newer order block {ctx.ref(blocks[-1])}"
            else:
                continue
            cancels[entry.id] = CancelEntry(entry.id, why)
        intents: list = list(cancels.values())
        if blocks:
            intents += self._place(ctx, cast(OrderBlockEvent, blocks[-1]))  # the detector reports them as this subclass
        return intents

    def _place(self, ctx: Context, block: OrderBlockEvent) -> list[Intent]:
        p = self.params
        side = Side.LONG if block.direction == Direction.BULLISH else Side.SHORT
        half = (block.top + block.bottom) / 2
        candle = ctx.candle
        assert candle is not None  # a strategy runs at a closed base candle
        if side is Side.LONG:
            limit = block.top if p["entry_at"] == "proximal" else half
            stop = block.bottom - p["stop_buffer_atr"] * ctx.atr
            marketable = candle.close <= limit
        else:
            limit = block.bottom if p["entry_at"] == "proximal" else half
            stop = block.top + p["stop_buffer_atr"] * ctx.atr
            marketable = candle.close >= limit
        if marketable:
            return []
        found = draw_on_liquidity(ctx, side, limit, stop, p["reward_risk"], p["min_reward_risk"])
        if found is None:
            return []
        target, liquidity = found
        brk = next((e for e in ctx.events if e.id == block.break_id), None)
        basis = (ctx.ref(block),) + ((ctx.ref(brk),) if brk is not None else ()) \
            + ((ctx.ref(liquidity),) if liquidity is not None else ())
        drawn = f"{liquidity.kind} {liquidity.id}" if liquidity is not None else f"{p['reward_risk']} R"
        reason = (f"{block.direction} order block {block.id} after {brk.kind if brk else 'break'}; "
                  f"limit at its {p['entry_at']} edge {limit}, target {drawn}")
        return [self.signal(ctx, side, stop, target, limit=limit, basis=basis, reason=reason,
                            expiry_candles=p["expiry_candles"])]
