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
from typing import Callable

from journal.health import Heartbeat, LoggedError, write_heartbeat
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

    `beat(now_ms)` is cheap when it is not yet time; call it from every trader tick. The
    candle and price are whatever was last given to `note_candle`."""

    def __init__(self, journal: Journal, mode: str, symbol: str, interval_seconds: int, started_at_ms: int,
                 errors: ErrorCollector) -> None:
        self.journal, self.mode, self.symbol = journal, mode, symbol
        self.interval_ms = interval_seconds * 1000
        self.interval_seconds = interval_seconds
        self.started_at_ms = started_at_ms
        self.errors = errors
        self.last_candle_ms: int | None = None
        self.last_price: Decimal | None = None
        self._last_beat_ms: int | None = None

    def note_candle(self, open_time_ms: int, close: Decimal) -> None:
        self.last_candle_ms, self.last_price = open_time_ms, close

    def beat(self, now_ms: int, state: str = "running", force: bool = False) -> bool:
        """Write a beat when one is due (or `force`); return True when one was written."""
        if not force and self._last_beat_ms is not None and now_ms - self._last_beat_ms < self.interval_ms:
            return False
        beat = Heartbeat(now_ms, self.started_at_ms, os.getpid(), self.mode, self.symbol, self.interval_seconds,
                         self.last_candle_ms, self.last_price, state)
        write_heartbeat(self.journal, beat, self.errors.take())
        self._last_beat_ms = now_ms
        return True

    def stopped(self, now_ms: int, why: str) -> None:
        """The last beat of a run: `status` then reports the bot stopped, not silently stale."""
        self.beat(now_ms, f"stopped: {why}", force=True)
