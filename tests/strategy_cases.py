"""Hand-made candles for the ICT strategy tests, and a driver that runs a strategy over them.

The engine runs with short lengths (internal swings of 2, swings of 3) so that structure
forms in a dozen candles; previous day/week pools are off so only the drawn pools exist.
Candles are one minute apart from `NY_0949` (09:49 New York, a Wednesday in winter), so
the 12th candle opens at 10:00 New York, the start of the AM Silver Bullet hour.
"""
from __future__ import annotations

from ict.models import Candle
from ict.settings import IctSettings
from ict.strategies.runner import StrategyRunner

SETTINGS = IctSettings(internal_length=2, swing_length=3, previous_day_pools=False, previous_week_pools=False)
MINUTE = 60_000
NY_1000 = 1_704_898_800_000  # 2024-01-10 15:00 UTC = 10:00 New York (EST, UTC-5)
NY_0949 = NY_1000 - 11 * MINUTE

# A bullish break with its displacement leg (index: what it is, with the short lengths above)
BREAK_LEG = [
    (99, 100, 98, 99.5),
    (100, 101, 99, 100),
    (100, 102, 99.5, 101),
    (101, 105, 100, 104),        # 3: swing high 105 (confirmed at 6)
    (104, 104.5, 101, 102),
    (102, 103, 98, 99),
    (99, 100, 95, 96),
    (96, 97, 94, 95),            # 7: swing low 94 (confirmed at 10); last down-close candle: the order block [94, 97]
    (95, 98, 94.5, 97),
    (97, 100, 96, 99.5),
    (99.5, 104, 99, 103.5),      # 10: first candle of the gap [104, 106]
    (103.5, 110, 103, 109),      # 11: closes above 105: bullish BOS at both levels (displacement)
    (109, 112, 106, 111),        # 12: gap [104, 106] confirmed
    (111, 113, 108, 109),        # 13: internal swing high 113 (confirmed at 15)
    (109, 110, 105, 105.5),      # 14: retraces into the gap (and to its 50 % line, 105), closes inside
    (105.5, 108, 105.2, 107.5),  # 15: closes back above the gap's top
]

# Equal highs at 110, swept, then a bearish displacement leaving a gap
SWEEP = [
    (105, 106, 104, 105.5),
    (105.5, 108, 105, 107.5),
    (107.5, 110, 107, 108),      # 2: internal pivot high 110
    (108, 108.5, 106, 106.5),
    (106.5, 107, 105, 106),
    (106, 108, 105.5, 107.5),
    (107.5, 110, 107, 109),      # 6: second pivot high 110
    (109, 109.5, 107.5, 108),
    (108, 108.5, 106.5, 107),    # 8: equal highs at 110 confirmed: a buy-side pool
    (107, 111, 106.8, 109.5),    # 9: trades to 111, closes back below 110: the pool is swept
    (109.5, 109.8, 104, 104.5),  # 10: displacement down
    (104.5, 105, 102, 102.5),    # 11: bearish gap [105, 106.8] confirmed (first candle: the sweep)
]


def candles(rows, start: int = NY_0949) -> list[Candle]:
    """One-minute candles from (open, high, low, close) rows, the first opening at `start`."""
    return [Candle(start + index * MINUTE, o, h, l, c, 1.0) for index, (o, h, l, c) in enumerate(rows)]


def mirrored(rows, axis: float = 200.0) -> list[tuple]:
    """The same chart upside down (price p becomes axis − p): a bullish case turns bearish."""
    return [(axis - o, axis - l, axis - h, axis - c) for o, h, l, c in rows]


def drive(strategy, rows, start: int = NY_0949, feedback=None, settings: IctSettings = SETTINGS) -> list[tuple]:
    """Run `strategy` over the rows through a `StrategyRunner`; return [(index, intent)].

    `feedback(index)`, when given, returns the (positions, refusals) the trader publishes
    while candle `index` closes."""
    index = -1
    runner = StrategyRunner(strategy, "1m", settings, None if feedback is None else lambda: feedback(index))
    out = []
    for index, candle in enumerate(candles(rows, start)):
        out += [(index, intent) for intent in runner.on_candle(candle)]
    return out
