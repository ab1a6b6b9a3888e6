"""The strategy runner: owns the engines, the session clock and the context, and calls the strategy.

Per closed base candle (replay and live alike, same code):
1. the base engine takes the candle; each declared higher timeframe's aggregator takes
   it too, and only when that base candle ends the higher period does the higher candle
   reach its engine, so a strategy never sees a higher candle before it has closed;
2. the session clock (killzones, day and week open) takes it (both 1 and 2 when the strategy
   first reads them: see `ict.strategies.context`);
3. the strategy gets the `Context` and returns intents, which are checked here.
`warm_up` does 1 and 2 only: history that builds state but must not trade.
"""
from __future__ import annotations

from typing import Callable, Iterable

from ict.engine import Engine
from ict.intervals import INTERVAL_MS
from ict.killzones import SessionClock
from ict.models import CancelEntry, Candle, ClosePosition, EntryType, MoveStop, Signal
from ict.settings import IctSettings
from ict.strategies.base import Strategy
from ict.strategies.context import ID_BLOCK, Chart, Context
from ict.timeframes import HigherTimeframe

INTENT_TYPES = (Signal, CancelEntry, ClosePosition, MoveStop)


class StrategyRunner:
    """Feeds one strategy: `on_candle(candle) -> intents`, `warm_up(candles)`.

    - `strategy`: a `Strategy` whose `timeframes` were checked against `interval`.
    - `interval`: the base interval ("1m"); candles must be of it, closed, in time order.
    - `ict_settings`: the `[ict]` table for every engine (lengths count candles of each
      engine's own timeframe).
    - `feedback`: returns (positions, refusals) of this strategy as the trader last
      published them (immutable tuples), or None in tests without a trader.
    """

    def __init__(self, strategy: Strategy, interval: str, ict_settings: IctSettings | None = None,
                 feedback: Callable[[], tuple] | None = None) -> None:
        settings = ict_settings if ict_settings is not None else IctSettings()
        base_ms = INTERVAL_MS[interval]
        self.strategy = strategy
        self.higher: list[tuple[HigherTimeframe, Chart]] = []
        charts: dict[str, Chart] = {}
        prefixes = ("",) + tuple(f"{name}:" for name in strategy.timeframes)
        for block, name in enumerate(strategy.timeframes, start=1):
            chart = Chart(name, Engine(settings, first_id=block * ID_BLOCK + 1), prefixes)
            charts[name] = chart
            self.higher.append((HigherTimeframe(name, base_ms), chart))
        self.clock = SessionClock()
        self.context = Context(strategy.symbol, interval, base_ms, Engine(settings), charts, self.clock, feedback, prefixes)

    def warm_up(self, candles: Iterable[Candle]) -> int:
        """Feed history (engines, higher timeframes, sessions) without calling the strategy;
        return how many candles were fed. The engines take it all now, not at the first read,
        so the first live candle is not held up by the history."""
        fed = 0
        for candle in candles:
            self._advance(candle)
            fed += 1
        for chart in [chart for _, chart in self.higher] + [self.context]:
            chart._catch_up()
        self.context._sessions()
        return fed

    def on_candle(self, candle: Candle) -> list:
        """Take one closed base candle; return the strategy's intents (checked)."""
        self._advance(candle)
        intents = self.strategy.on_candle(self.context)
        if not intents:
            return []
        if not isinstance(intents, (list, tuple)):  # a dict or a lone Signal would be iterated field by field
            raise TypeError(f"{self.strategy.name}.on_candle returned a {type(intents).__name__}, not a list; "
                            "return a list of Signal, CancelEntry, ClosePosition or MoveStop")
        for intent in intents:
            if not isinstance(intent, INTENT_TYPES):
                raise TypeError(f"{self.strategy.name}.on_candle returned {intent!r}; return a list of Signal, "
                                "CancelEntry, ClosePosition or MoveStop")
            if isinstance(intent, Signal):
                self._check_signal(intent)
        return list(intents)

    def _check_signal(self, signal: Signal) -> None:
        """A signal the trader could misfile is a bug in the strategy: say so at once."""
        name = self.strategy.name
        problem = None
        if signal.strategy != name or signal.symbol != self.strategy.symbol:
            problem = f"strategy={signal.strategy!r}, symbol={signal.symbol!r}; build it with self.signal(...)"
        elif (signal.limit_price is None) == (signal.entry_type is EntryType.LIMIT):
            problem = f"entry_type {signal.entry_type.value} with limit_price {signal.limit_price}; a LIMIT needs a price, a MARKET none"
        elif signal.expiry_candles is not None and (signal.entry_type is EntryType.MARKET or signal.expiry_candles < 1):
            problem = f"expiry_candles = {signal.expiry_candles}: only for LIMIT entries, 1 or more"
        if problem:
            raise ValueError(f"{name}.on_candle returned a bad Signal: {problem}")

    def _advance(self, candle: Candle) -> None:
        for aggregator, chart in self.higher:
            closed = aggregator.update_all(candle)
            if closed:
                chart._close(*closed)
            else:
                chart._idle()
        self.context._close(candle)   # the base engine and the session clock take it when first read


def warmup_candles_needed(strategy: Strategy, interval: str, wanted: int) -> int:
    """Base candles to load at live start so every engine (base and higher) gets `wanted`
    candles of its own timeframe: `wanted` × the largest declared timeframe / the base."""
    base = INTERVAL_MS[interval]
    largest = max((INTERVAL_MS[name] for name in strategy.timeframes), default=base)
    return wanted * (largest // base)
