"""Live candles of one symbol at several intervals, handed on in the order a replay takes them.

A replay fills every symbol's closed candle before any strategy sees that close time
(runtime/replay.py). Live, the 1h candle and the 1m candle that close together arrive in
either order on the combined stream, and a backfill after a reconnect brings one interval
after the other. Were the 1h candle handed on first, its strategy's MARKET entry would
rest in a simulated exchange (paper mode) before the 1m candle that opened a minute
earlier fills, at a price from before the signal. So a coarser candle waits here until the
symbol's finest-interval candle closing at the same time (or later) has gone on.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Mapping

from ict.intervals import INTERVAL_MS
from ict.models import Candle


class FinestFirst:
    """`take(symbol, interval, candle)` returns the candles that may go on now, in order.

    - `finest`: each symbol's finest interval (its prices and simulated fills follow it).
    - `filled_until`: per symbol, the close time (epoch ms) of the last finest-interval candle
      already had (the warm-up's), so the first coarser candle does not wait for nothing.
    A symbol with one interval never waits.
    """

    def __init__(self, finest: Mapping[str, str], filled_until: Mapping[str, int] | None = None) -> None:
        self.finest = dict(finest)
        self.filled_until: dict[str, int] = dict(filled_until or {})
        self._waiting: dict[str, list[tuple[int, int, str, Candle]]] = {}   # symbol -> heap of (close, n, interval, candle)
        self._count = itertools.count()

    def take(self, symbol: str, interval: str, candle: Candle) -> list[tuple[str, str, Candle]]:
        close = candle.open_time + INTERVAL_MS.get(interval, 0)   # "": a lone strategy without one (tests)
        if interval == self.finest.get(symbol, interval):
            self.filled_until[symbol] = max(self.filled_until.get(symbol, close), close)
            ready = [(symbol, interval, candle)]
            waiting = self._waiting.get(symbol)
            while waiting and waiting[0][0] <= self.filled_until[symbol]:
                _, _, held_interval, held = heapq.heappop(waiting)
                ready.append((symbol, held_interval, held))
            return ready
        if close <= self.filled_until.get(symbol, close - 1):
            return [(symbol, interval, candle)]
        heapq.heappush(self._waiting.setdefault(symbol, []), (close, next(self._count), interval, candle))
        return []

    def waiting(self) -> int:
        """How many coarser candles wait for their symbol's finest one."""
        return sum(len(heap) for heap in self._waiting.values())
