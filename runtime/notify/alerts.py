"""When to say something without being asked: errors from the log, and the daily summary's hour.

`ErrorAlerts` is a logging handler (level ERROR) that turns ERROR and CRITICAL records into
messages: the first one at once, the ones after it within `window_s` counted and sent as
one "N more errors" line when the window has passed (at the next error or `tick()`), so a
failure that repeats every few seconds costs one message per window, not hundreds. Attach
the bot's `RedactSecrets` to it like to every handler. Records of `runtime.notify` itself
are skipped: a failing Telegram must not report itself to Telegram.

`DailySummaryClock` says when `[notify] daily_summary_utc` has come round (once per UTC day).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from runtime.notify import messages

DAY_MS = 86_400_000


class ErrorAlerts(logging.Handler):
    """See the module doc. `notifier`: anything with `send(text)`; `clock`: seconds (monotonic)."""

    def __init__(self, notifier, window_s: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(logging.ERROR)
        self.notifier, self.window_s, self.clock = notifier, window_s, clock
        self.setFormatter(logging.Formatter("%(message)s"))
        self._window_start: float | None = None
        self._count, self._last = 0, ""
        self._state = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "runtime.notify" or record.name.startswith("runtime.notify."):
            return
        try:
            text = messages.error_alert(record.levelname, self.format(record).splitlines()[0])   # no traceback on a phone
        except Exception:
            self.handleError(record)
            return
        with self._state:
            now = self.clock()
            if self._window_start is not None and now - self._window_start < self.window_s:
                self._count, self._last = self._count + 1, text
                return
            summary = self._take_summary()
            self._window_start = now
        if summary:
            self.notifier.send(summary)
        self.notifier.send(text)

    def tick(self) -> None:
        """Send the count of errors held back, once their window has passed (call it now and then)."""
        with self._state:
            if self._window_start is None or self.clock() - self._window_start < self.window_s:
                return
            summary = self._take_summary()
            self._window_start = None
        if summary:
            self.notifier.send(summary)

    def _take_summary(self) -> str | None:
        if not self._count:
            return None
        summary = messages.repeated_errors(self._count, round(self.window_s / 60), self._last)
        self._count, self._last = 0, ""
        return summary


class DailySummaryClock:
    """Once per UTC day at `hhmm` ("HH:MM"): `due(now_ms)` returns the 24 hours just ended
    (start, end) in epoch ms, else None. The first is due at the first `hhmm` after `now_ms`."""

    def __init__(self, hhmm: str, now_ms: int) -> None:
        hours, minutes = (int(part) for part in hhmm.split(":"))
        offset = (hours * 60 + minutes) * 60_000
        self.next_ms = now_ms - (now_ms - offset) % DAY_MS + DAY_MS   # the last hhmm at or before now, plus a day

    def due(self, now_ms: int) -> tuple[int, int] | None:
        if now_ms < self.next_ms:
            return None
        while self.next_ms + DAY_MS <= now_ms:   # a machine asleep for days: one summary, of the last day
            self.next_ms += DAY_MS
        end, self.next_ms = self.next_ms, self.next_ms + DAY_MS
        return end - DAY_MS, end
