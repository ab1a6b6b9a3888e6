"""What the ICT engine reports: `Event`s (a structure appears) and `LifecycleRecord`s (it moves on).

An event is created once, at the close of the candle where a live bot could first
know it (`confirmed_at`), and never changes afterwards. Everything that happens to
it later is a new `LifecycleRecord` naming the event by `ref`, with its own time.
Both are frozen, so a strategy can keep them without copying.

Times are candle open times in epoch milliseconds UTC; prices are exchange prices
(floats that print back as the file's text). See `ict.engine.Engine` for where
events come from, and docs in the module of each detector for the exact rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Union, final


class _Text(str, Enum):
    """A str Enum that prints, formats and hashes as its value: `Kind.FVG == "fvg"`,
    `f"{Kind.FVG}" == "fvg"`, and either works as the same dict key."""

    __str__ = str.__str__
    __hash__ = str.__hash__

    def __format__(self, format_spec: str) -> str:  # Enum's own would format the member's name
        return str.__format__(self, format_spec)


class Kind(_Text):
    """What an `Event` is (`Event.kind`)."""

    SWING_HIGH = "swing_high"          # a confirmed pivot high (a top)
    SWING_LOW = "swing_low"            # a confirmed pivot low (a bottom)
    BOS = "bos"                        # break of structure: a close beyond a swing, with the trend
    CHOCH = "choch"                    # change of character: the first break against the trend
    FVG = "fvg"                        # fair value gap (three-candle imbalance)
    ORDER_BLOCK = "order_block"        # last opposite candle before the break that made a BOS/CHoCH
    BREAKER = "breaker"                # an order block that failed, now acting from the other side
    LIQUIDITY_POOL = "liquidity_pool"  # equal highs/lows, previous day/week high/low
    SWEEP = "sweep"                    # a wick beyond a pool that closed back inside
    RUN = "run"                        # a close beyond a pool


class State(_Text):
    """What happened to an event later (`LifecycleRecord.state`), in the order it can happen."""

    TOUCHED = "touched"          # fvg: a wick reached the zone
    HALF_FILLED = "half_filled"  # fvg: the 50% line (consequent encroachment) was reached
    FILLED = "filled"            # fvg: the far edge was reached
    INVERTED = "inverted"        # fvg: a close beyond the far edge; now an inverse FVG
    MITIGATED = "mitigated"      # order_block: first touch of the zone
    INVALIDATED = "invalidated"  # order_block, breaker: a close (or wick, by option) through the far side
    RETESTED = "retested"        # breaker: price came back into the zone from the other side
    CONSUMED = "consumed"        # liquidity_pool: swept or run; no longer a pool
    REPLACED = "replaced"        # swing_high/low: a more extreme pivot of the same kind took its place
    EXPIRED = "expired"          # fvg, order_block, breaker, liquidity_pool: no longer tracked (age, count,
                                 # or a newer previous-day/week pool); nothing further will be reported for it


class Direction(_Text):
    """`Event.direction`: see `Event` for what it means per kind."""

    BULLISH = "bullish"
    BEARISH = "bearish"


class Level(_Text):
    """`Event.level`: structure levels, and the period of a previous-day/week pool."""

    INTERNAL = "internal"
    SWING = "swing"
    DAY = "day"
    WEEK = "week"


# the module constants of earlier releases, kept as aliases of the members above
SWING_HIGH, SWING_LOW, BOS, CHOCH, FVG = Kind.SWING_HIGH, Kind.SWING_LOW, Kind.BOS, Kind.CHOCH, Kind.FVG
ORDER_BLOCK, BREAKER, LIQUIDITY_POOL, SWEEP, RUN = Kind.ORDER_BLOCK, Kind.BREAKER, Kind.LIQUIDITY_POOL, Kind.SWEEP, Kind.RUN
KINDS = tuple(Kind)
BULLISH, BEARISH = Direction.BULLISH, Direction.BEARISH
INTERNAL, SWING, DAY, WEEK = Level.INTERNAL, Level.SWING, Level.DAY, Level.WEEK
TOUCHED, HALF_FILLED, FILLED, INVERTED, MITIGATED = State.TOUCHED, State.HALF_FILLED, State.FILLED, State.INVERTED, State.MITIGATED
INVALIDATED, RETESTED, CONSUMED, REPLACED, EXPIRED = State.INVALIDATED, State.RETESTED, State.CONSUMED, State.REPLACED, State.EXPIRED
STATES = tuple(State)
# states after which an event is never reported again
FINAL_STATES = frozenset((INVERTED, INVALIDATED, CONSUMED, REPLACED, EXPIRED))


@dataclass(frozen=True, slots=True)
class Event:
    """One structure, as known at the close of candle `confirmed_at`.

    - `id`: unique within one engine run, increasing in the order events are reported.
    - `kind`: a `Kind` (compares equal to its string, e.g. "fvg").
    - `direction`: `bullish` or `bearish`. Swing highs are `bearish` (a top) and swing
      lows `bullish`; a liquidity pool is `bullish` when it rests above the highs
      (buy-side, reached by an up move) and `bearish` below the lows (sell-side).
      A sweep's direction is the expected move after it (a buy-side sweep is bearish);
      a run's is the move that broke through.
    - `level`: `internal` or `swing` for swings, breaks, order blocks and breakers; for
      liquidity pools and their sweeps/runs `internal` (equal highs/lows built from
      internal pivots), `day` or `week` (previous day/week high or low); None for FVGs.
    - `formed_at`: open time (epoch ms) of the candle where the pattern sits: the
      pivot, the first candle of a gap, the order-block candle, the first pool member.
    - `confirmed_at`: open time of the candle at whose close it became known; act only
      after this candle.
    - `top`, `bottom`: the zone in exchange prices, `top >= bottom`; equal for a level.
    """

    id: int
    kind: Kind
    direction: Direction
    level: Level | None
    formed_at: int
    confirmed_at: int
    top: float
    bottom: float

    @property
    def time(self) -> int:
        """When this was reported (`confirmed_at`), for sorting with life-cycle records."""
        return self.confirmed_at


@dataclass(frozen=True, slots=True)
class OrderBlockEvent(Event):
    """An order block, plus a displacement score for strategies (never used as a gate).

    - `displacement`: body of the breaking candle in ATRs (always >= 0).
    - `left_fvg`: a fair value gap in the break's direction formed between the order-block
      candle and the break (inclusive).
    - `break_id`: id of the BOS/CHoCH that created it.
    """

    displacement: float = 0.0
    left_fvg: bool = False
    break_id: int = 0


@dataclass(frozen=True, slots=True)
class BreakerEvent(Event):
    """A breaker block; `order_block_id` is the failed order block it came from."""

    order_block_id: int = 0


@dataclass(frozen=True, slots=True)
class PoolTakeEvent(Event):
    """A sweep or run of a liquidity pool; `pool_id` is the pool it consumed.

    The zone is the part of the candle beyond the pool level: from the level to the high
    for a buy-side pool, from the low to the level for a sell-side pool.
    """

    pool_id: int = 0


@final  # nothing subclasses it, so mypy reads `type(report) is LifecycleRecord` (hot loops) as telling it from an Event
@dataclass(frozen=True, slots=True)
class LifecycleRecord:
    """Event `ref` reached `state` at the close of candle `at` (open time, epoch ms)."""

    ref: int
    state: State
    at: int

    @property
    def time(self) -> int:
        """When this was reported (`at`)."""
        return self.at


Report = Union[Event, LifecycleRecord]

_EVENT_FIELDS = ("id", "kind", "direction", "level", "formed_at", "confirmed_at", "top", "bottom")


def _price(value: float) -> float | int:
    # 16538.0 came from the text "16538": print it back the way the file wrote it
    return int(value) if value.is_integer() else value


def to_dict(report: Report) -> dict:
    """The public fields of an event or record, for JSON lines (extras of subclasses left out)."""
    if isinstance(report, LifecycleRecord):
        return {"ref": report.ref, "state": report.state, "at": report.at}
    data = {name: getattr(report, name) for name in _EVENT_FIELDS}
    data["top"] = _price(report.top)
    data["bottom"] = _price(report.bottom)
    return data


@dataclass(frozen=True, slots=True)
class ActiveZone:
    """A zone the engine still tracks, with the last life-cycle state it reached ('' if none)."""

    event: Event
    state: str
