"""The live bot's pulse, sent from the trader thread after each housekeeping tick:
the journal heartbeat (`python bot.py status`) and systemd's watchdog.

Both come from the trader loop on purpose: a beat proves that the thread which places
orders and protects positions is turning, not merely that the process exists. The
watchdog ping is also held back while the market stream is stale, so under systemd
(`WatchdogSec` in deploy/ict-bot.service) a hung trader or a dead stream gets the bot
restarted; recovery at the next start protects whatever it finds.
"""
from __future__ import annotations

import logging
from typing import Callable

from ict.models import Candle
from runtime import systemd_notify
from runtime.heartbeat import HeartbeatWriter
from trade.symbol_rules import to_decimal

log = logging.getLogger(__name__)


class Pulse:
    """Call `note_candle` for each closed candle (of any symbol) and `tick` after each housekeeping pass,
    both on the trader thread.

    - `market_fresh()`: True while the market stream delivers frames.
    - `watchdog_seconds`: systemd's watchdog interval (`systemd_notify.watchdog_interval_seconds()`),
      None when there is none; WATCHDOG=1 goes out at half of it, as sd_watchdog_enabled(3) advises.
    - `clock_ms()`: wall-clock epoch ms.
    - `daily`: anything with `tick(now_ms)` that must run on the trader thread now and then (the
      daily summary message, which reads the journal), or None.
    - `commands`: the dashboard's commands (runtime/commands.py `CommandDesk`), answered at every
      tick before the beat; a beat follows at once when one was applied. None: no commands.
    """

    def __init__(self, heartbeat: HeartbeatWriter, market_fresh: Callable[[], bool], watchdog_seconds: float | None,
                 clock_ms: Callable[[], int], send: Callable[..., bool] = systemd_notify.notify, daily=None,
                 commands=None) -> None:
        self.heartbeat = heartbeat
        self.market_fresh = market_fresh
        self.watchdog_every_ms = None if watchdog_seconds is None else max(1, int(watchdog_seconds * 500))
        self.clock_ms = clock_ms
        self.send = send
        self.daily = daily
        self.commands = commands
        self._last_ping_ms: int | None = None
        self._stale_logged = False

    def note_candle(self, symbol: str, interval: str, candle: Candle) -> None:
        """Keep `candle`, a closed candle of `symbol` and `interval` ("1m"), for the next heartbeat."""
        self.heartbeat.note_candle(symbol, interval, candle.open_time, to_decimal(candle.close))

    def tick(self) -> None:
        now = self.clock_ms()
        applied = False
        if self.commands is not None:
            try:
                applied = self.commands.tick(now)
            except Exception:   # a command that fails must not stop the trader; it stays pending and is logged
                log.error("dashboard commands: could not be read or answered", exc_info=True)
        try:
            self.heartbeat.beat(now, force=applied)
        except Exception:   # a failed beat must not stop the trader; `status` will call the bot stale
            log.error("heartbeat: could not write to the journal", exc_info=True)
        if self.daily is not None:
            try:
                self.daily.tick(now)
            except Exception:   # a summary that fails must not stop the trader
                log.error("daily summary failed", exc_info=True)
        if self.watchdog_every_ms is None:
            return
        if self._last_ping_ms is not None and now - self._last_ping_ms < self.watchdog_every_ms:
            return
        if not self.market_fresh():
            if not self._stale_logged:
                log.error("market stream stale: systemd's watchdog is no longer fed, so a stream that stays dead "
                          "gets the bot restarted")
                self._stale_logged = True
            return
        self._stale_logged = False
        self.send(watchdog=True)
        self._last_ping_ms = now
