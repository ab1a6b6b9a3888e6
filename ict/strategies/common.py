"""What the shipped ICT strategies share: the draw on liquidity (target), parameter ranges, killzone names.

Kept here so that each strategy file reads as its own definition; nothing here keeps state.
"""
from __future__ import annotations

from typing import Any

from ict.events import Direction, Event, Level
from ict.killzones import Killzone
from ict.models import Side
from ict.strategies.context import Context


def check_range(name: str, params: dict[str, Any], key: str, low: float, high: float) -> None:
    """Raise ValueError naming `key` when `params[key]` is outside [low, high] (also refuses nan)."""
    value = params[key]
    if not low <= value <= high:
        raise ValueError(f"[strategy.params] {key} = {value!r} is out of range for {name}; use a value from {low} to {high}")


def check_choice(name: str, params: dict[str, Any], key: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming `key` when `params[key]` is not one of `choices`."""
    if params[key] not in choices:
        accepted = " or ".join(f'"{choice}"' for choice in choices)
        raise ValueError(f"[strategy.params] {key} = {params[key]!r} is not accepted by {name}; use {accepted}")


def parse_killzones(name: str, key: str, text: str, aliases: dict[str, Killzone] | None = None) -> frozenset[Killzone]:
    """Killzones from a comma-separated list of names ("london, new_york_am"); empty text → none.

    A name is a `Killzone` member name in any case, or a key of `aliases`. Raises ValueError
    naming the unknown word and the accepted names.
    """
    table = {zone.name.lower(): zone for zone in Killzone}
    table.update(aliases or {})
    zones = set()
    for word in (part.strip().lower() for part in text.split(",")):
        if not word:
            continue
        if word not in table:
            raise ValueError(f"[strategy.params] {key} = {text!r}: {word!r} is not a killzone of {name}; "
                             f"use names from {', '.join(table)} separated by commas")
        zones.add(table[word])
    return frozenset(zones)


def draw_on_liquidity(ctx: Context, side: Side, entry: float, stop: float, reward_risk: float, min_reward_risk: float,
                      swings: bool = True) -> tuple[float, Event | None] | None:
    """The target of a trade entered at `entry` with `stop`: `(price, event it sits on or None)`, or None to skip.

    The draw on liquidity is the nearest opposing liquidity still resting beyond both the
    entry and the current candle: for a LONG the lowest of the buy-side pools
    (`ctx.pools("bullish")`: equal highs, previous day/week highs) and, with `swings`, of the
    most recent internal and swing-level swing highs, that lies above `entry` and above
    `ctx.candle.high` (a high price already traded through holds no stops); the mirror for
    a SHORT. When there is one, it is the target, and a trade
    whose draw gives less than `min_reward_risk` × the risk is skipped (the liquidity in
    the way leaves no room). When there is none, the target is `reward_risk` × the risk.
    Returns None when the risk is not positive.
    """
    long = side is Side.LONG
    risk = entry - stop if long else stop - entry
    if risk <= 0:
        return None
    candle = ctx.candle
    assert candle is not None  # a strategy runs at a closed base candle
    candidates: list[Event | None]
    if long:
        candidates = [zone.event for zone in ctx.pools(Direction.BULLISH)]
        if swings:
            candidates += [ctx.swing_high(Level.INTERNAL), ctx.swing_high(Level.SWING)]
        floor = max(entry, candle.high)
        beyond = [event for event in candidates if event is not None and event.top > floor]
        nearest = min(beyond, key=lambda event: (event.top, event.id), default=None)
    else:
        candidates = [zone.event for zone in ctx.pools(Direction.BEARISH)]
        if swings:
            candidates += [ctx.swing_low(Level.INTERNAL), ctx.swing_low(Level.SWING)]
        ceiling = min(entry, candle.low)
        beyond = [event for event in candidates if event is not None and event.bottom < ceiling]
        nearest = max(beyond, key=lambda event: (event.bottom, -event.id), default=None)
    if nearest is None:
        return (entry + reward_risk * risk if long else entry - reward_risk * risk), None
    target = nearest.top if long else nearest.bottom
    if abs(target - entry) < min_reward_risk * risk:
        return None
    return target, nearest
