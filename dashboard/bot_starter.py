"""The Start button's work (POST /api/bot/start): run `config.start_command` as a detached child
process that outlives the dashboard, but only when no bot holds the journal.

The foreground use case: a desktop user who runs only `python -m dashboard --start-bot`
starts the bot from the page. Under systemd there is no button (the bot is a service of its
own: `sudo systemctl start ict-bot`), and a replay is started from the command line.

The bot writes its own log.txt; its console lines go nowhere (stdout and stderr to the null
device). It runs in its own session (POSIX) or process group (Windows), so a Ctrl+C in the
dashboard's terminal does not reach it and stopping the dashboard leaves it running.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

from dashboard.config import DashboardConfig
from dashboard.pages.bot_state import bot_state, how_to_start
from journal.journal import JournalError
from journal.lock import JournalLock
from runtime.settings import SettingsError, load_settings

log = logging.getLogger(__name__)
STARTING_SECONDS = 60   # a bot started from here this recently may not hold its lock yet


class StartRefused(ValueError):
    """The bot is not started; the message is one line for the page."""


class BotStarter:
    """Starts the bot at most once at a time; remembers the child it started (one per dashboard)."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._child: subprocess.Popen | None = None
        self._started_at = 0.0
        self._lock = threading.Lock()

    def start(self, config: DashboardConfig) -> int:
        """Start the bot; return its process id. Raises StartRefused (one line) when there is no
        start command, under systemd, for a replay, or when a bot already runs."""
        if config.start_command is None or config.under_systemd:
            raise StartRefused(f"this dashboard has no Start button; start the bot with: {how_to_start(config)}")
        try:
            mode = load_settings(config.settings_path).mode
        except SettingsError as problem:
            raise StartRefused(str(problem)) from None
        if mode == "replay":
            raise StartRefused(f"the settings say mode = \"replay\": a backtest runs from the command line "
                               f"({how_to_start(config)}); set a live mode to start a bot from here")
        state = bot_state(config, int(time.time() * 1000))
        if state.state in ("running", "paused"):   # its heartbeat is fresh, whatever the lock says
            raise StartRefused(f"a bot is already {state.state} on this journal ({state.line}); stop it first")
        with self._lock:
            if self._child is not None and self._child.poll() is None and self.clock() - self._started_at < STARTING_SECONDS:
                raise StartRefused(f"the bot started from here (pid {self._child.pid}) is still starting; wait for its heartbeat")
            _check_free(config)
            self._child = subprocess.Popen(list(config.start_command), cwd=str(config.settings_path.resolve().parent),
                                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, **_detached())
            self._started_at = self.clock()
        log.info("bot started from the dashboard: pid %d", self._child.pid)
        return self._child.pid


def _check_free(config: DashboardConfig) -> None:
    """StartRefused when a bot holds the journal's lock (taken and let go at once: the bot's own
    start takes it for its whole run)."""
    try:
        with JournalLock(config.journal_path):
            pass
    except JournalError as problem:
        raise StartRefused(str(problem)) from None   # "journal … is in use by another bot …", or why no lock


def _detached() -> dict:
    if sys.platform == "win32":   # no console of its own: closing the dashboard's window must not stop the bot
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}
    return {"start_new_session": True}
