"""The live bot's heartbeat: every `[bot] heartbeat_seconds` the trader thread writes one
row (and the ERROR lines logged since) to the journal, for `python bot.py status`.

Written from the trader loop on purpose: a beat proves the thread that places orders is
alive, not merely the process. ERROR records from any thread are collected by a logging
handler into a bounded deque and written by the next beat, so only the trader thread
ever writes the journal.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import deque
from decimal import Decimal
from typing import Callable, Sequence

from journal.health import Heartbeat, LoggedError, MarketMark, write_heartbeat
from journal.journal import Journal

log = logging.getLogger(__name__)
KEPT_ERRORS = 100   # errors waiting for the next beat; older ones are dropped (the log file keeps them all)


class ErrorCollector(logging.Handler):
    """Keeps ERROR records (message only, after the handler's filters, e.g. secret masking)."""

    def __init__(self, clock_ms: Callable[[], int]) -> None:
        super().__init__(logging.ERROR)
        self._clock_ms = clock_ms
        self._kept: deque[LoggedError] = deque(maxlen=KEPT_ERRORS)
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = (record.getMessage().splitlines() or [""])[0]
        except Exception:   # a bad format string must not break logging
            message = str(record.msg)
        with self._lock:
            self._kept.append(LoggedError(self._clock_ms(), record.name, message))

    def take(self) -> list[LoggedError]:
        with self._lock:
            taken = list(self._kept)
            self._kept.clear()
        return taken


class HeartbeatWriter:
    """Writes a beat when `beat()` is called at least `interval_seconds` after the last one.

    `symbols`: the symbols this run trades (a list, not one string), written joined with ","
    in the heartbeat row. `beat(now_ms)` is cheap when it is not yet time; call it from every
    trader tick. Each beat writes the last candle given to `note_candle` for every (symbol,
    interval), seen at the beat that first wrote it, and the most recent of them as the
    heartbeat's own last candle. Raises TypeError when `symbols` is a single string."""

    def __init__(self, journal: Journal, mode: str, symbols: Sequence[str], interval_seconds: int, started_at_ms: int,
                 errors: ErrorCollector) -> None:
        if isinstance(symbols, str):   # a str is a Sequence[str] too: "BTCUSDT" would become "B,T,C,..."
            raise TypeError(f"HeartbeatWriter takes a list of symbols, not the string {symbols!r}")
        self.journal, self.mode = journal, mode
        self.symbol = ",".join(dict.fromkeys(symbols))   # once each, in the order given
        self.interval_ms = interval_seconds * 1000
        self.interval_seconds = interval_seconds
        self.started_at_ms = started_at_ms
        self.errors = errors
        self.last_candle_ms: int | None = None
        self.last_price: Decimal | None = None
        self._candles: dict[tuple[str, str], tuple[int, Decimal]] = {}   # (symbol, interval) -> (open time, close)
        self._marks: dict[tuple[str, str], MarketMark] = {}               # as last written
        self._last_beat_ms: int | None = None
        self.state_of: Callable[[], str] = lambda: "running"          # the trader's: "running" or "paused"
        self.balance_of: Callable[[], Decimal | None] = lambda: None   # the wallet balance (USDT), None when unknown
        self._balance: Decimal | None = None                             # as the last beat wrote it

    def note_candle(self, symbol: str, interval: str, open_time_ms: int, close: Decimal) -> None:
        """Keep the closed candle of `symbol` and `interval` ("1m") that opened at `open_time_ms`
        (epoch ms UTC) and closed at `close` (quote asset), for the next beat; an older candle
        than the one kept for that pair (a late backfill) is ignored."""
        kept = self._candles.get((symbol, interval))
        if kept is None or open_time_ms >= kept[0]:
            self._candles[(symbol, interval)] = (open_time_ms, close)
        if self.last_candle_ms is None or open_time_ms >= self.last_candle_ms:
            self.last_candle_ms, self.last_price = open_time_ms, close

    def marks(self, now_ms: int) -> list[MarketMark]:
        """The marks a beat at `now_ms` writes: a candle new since the last beat is seen now."""
        for (symbol, interval), (open_time_ms, close) in self._candles.items():
            known = self._marks.get((symbol, interval))
            if known is None or (known.open_time_ms, known.close) != (open_time_ms, close):
                self._marks[(symbol, interval)] = MarketMark(symbol, interval, open_time_ms, close, now_ms)
        return list(self._marks.values())

    def beat(self, now_ms: int, state: str | None = None, force: bool = False) -> bool:
        """Write a beat when one is due (or `force`); return True when one was written. `state`
        None: `state_of()` ("running" or "paused")."""
        if not force and self._last_beat_ms is not None and now_ms - self._last_beat_ms < self.interval_ms:
            return False
        self._balance = self.balance_of()
        self._write(now_ms, state or self.state_of())
        return True

    def stopped(self, now_ms: int, why: str) -> None:
        """The last beat of a run: `status` then reports the bot stopped, not silently stale. It
        carries the balance of the beat before (no exchange call while the bot shuts down)."""
        self._write(now_ms, f"stopped: {why}")

    def _write(self, now_ms: int, state: str) -> None:
        beat = Heartbeat(now_ms, self.started_at_ms, os.getpid(), self.mode, self.symbol, self.interval_seconds,
                         self.last_candle_ms, self.last_price, state, self._balance)
        write_heartbeat(self.journal, beat, self.errors.take(), self.marks(now_ms))
        self._last_beat_ms = now_ms
