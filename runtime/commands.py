"""The dashboard's commands, applied by the live bot: read from the journal's `commands` table
on the trader thread's idle tick (`Pulse.tick`, about every second), checked, carried out, and
answered in the same row (`applied`, `rejected` or `expired`, with one line).

- pause / resume: new entries stop (signals refused as `PAUSED`) or start again; kept across a
  restart (the last applied one counts, `journal.commands.paused_since`);
- close_position (target: the position id) / close_all: at market, close reason `manual_close`;
- stop: the bot stops as on Ctrl+C (exit 0: systemd's Restart=on-failure leaves it stopped);
- set_risk (target: a key of runtime.settings_writer.RISK_KEYS, value: as typed): checked with
  settings.toml's own rules, written back into settings.toml with its comments, then used for
  the next signal (a new leverage is set on the exchange first).

A command older than `EXPIRE_MS` when the bot first sees it was sent while no bot ran: it is
answered `expired` and not carried out, so a "close all" from yesterday never fires at a start.
A command is marked `taken` (its own commit) before it is carried out; one found `taken` at the
next start was interrupted by a crash and is answered `interrupted`, never carried out twice.
At most `PER_TICK` commands are carried out per tick; the rest wait for the next one.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from journal.commands import CommandRow, finish_command, interrupt_taken, paused_since, pending_commands, take_command
from journal.journal import Journal
from runtime.settings import SettingsError
from runtime.settings_writer import changed_risk, checked_value, write_risk_setting
from trade.errors import ExchangeError
from trade.manual_control import ManualRefusal
from trade.trader import Trader

log = logging.getLogger(__name__)
EXPIRE_MS = 60_000
PER_TICK = 5   # commands carried out per tick at most: a burst never holds the trader thread (and its guard) for long


class CommandDesk:
    """Applies pending commands for `trader` (call `tick(now_ms)` on the trader thread).

    `settings_path`: the settings.toml a risk change is written back to; `request_stop(why)`: asks
    the bot to stop as Ctrl+C does. On construction the trader takes the journal's pause state."""

    def __init__(self, journal: Journal, trader: Trader, settings_path: Path, request_stop: Callable[[str], None]) -> None:
        self.journal, self.trader = journal, trader
        self.settings_path = settings_path
        # where settings.toml's old text is kept while it is rewritten in place (the unit's writable var/)
        self.spare_folder = Path(journal.path).resolve().parent if journal.path != ":memory:" else settings_path.parent
        self.request_stop = request_stop
        trader.paused_since = paused_since(journal)
        interrupted = interrupt_taken(journal, trader.clock())
        if interrupted:
            log.warning("%d dashboard command(s) were being carried out when the bot stopped: answered interrupted, "
                        "not carried out again; check the positions and settings.toml", interrupted)
        if trader.paused:
            log.warning("entries are PAUSED (from the dashboard): signals are refused until you resume there")

    def tick(self, now_ms: int) -> bool:
        """Answer every pending command; True when one was applied (the heartbeat then beats at once)."""
        applied = False
        for command in pending_commands(self.journal)[:PER_TICK]:
            if now_ms - command.created_at_ms > EXPIRE_MS:
                status, line = "expired", "not read by the bot within a minute of being sent (no bot was running, or it " \
                                          "was busy); not carried out: send it again"
            else:
                take_command(self.journal, command.id, now_ms)
                try:
                    status, line = self._apply(command, now_ms)
                except Exception as failure:   # a bug: answered once, never retried at every tick
                    log.error("dashboard command %d %s failed", command.id, command.kind, exc_info=True)
                    status, line = "rejected", f"failed inside the bot ({type(failure).__name__}); see log.txt"
            finish_command(self.journal, command.id, status, line, now_ms)
            (log.info if status == "applied" else log.warning)("dashboard command %d %s %s %s: %s, %s", command.id,
                                                                 command.kind, command.target, command.value, status, line)
            applied = applied or status == "applied"
        return applied

    def _apply(self, command: CommandRow, now_ms: int) -> tuple[str, str]:
        trader = self.trader
        try:
            if command.kind == "pause":
                return "applied", trader.pause(now_ms)
            if command.kind == "resume":
                return "applied", trader.resume()
            if command.kind == "close_position":
                if not command.target.isdigit():
                    return "rejected", f"position {command.target!r} is not a position id"
                return "applied", trader.close_by_hand(int(command.target))
            if command.kind == "close_all":
                return "applied", trader.close_all_by_hand()
            if command.kind == "stop":
                self.request_stop("from the dashboard")
                return "applied", "stopping: streams closed, queued work finished; open positions keep their stop"
            if command.kind == "set_risk":
                return "applied", self._set_risk(command.target, command.value)
            return "rejected", f"unknown command {command.kind!r}"
        except (ManualRefusal, SettingsError) as refusal:
            return "rejected", str(refusal)
        except ExchangeError as problem:
            return "rejected", f"the exchange refused it: {problem.message}"

    def _set_risk(self, key: str, text: str) -> str:
        value = checked_value(key, text)
        before = self.trader.risk
        self.trader.take_risk(changed_risk(before, key, value))   # a new leverage goes to the exchange first
        try:
            write_risk_setting(self.settings_path, key, value, self.spare_folder)
        except SettingsError as refusal:
            try:
                self.trader.take_risk(before)   # as it was, the exchange's leverage too: the command is refused whole
            except ExchangeError as problem:    # the new leverage stays in force: say so, never "rejected"
                log.error("[risk] %s = %s is in force but not in %s (%s), and putting back %s failed (%s)", key, value,
                          self.settings_path.name, refusal, getattr(before, key), problem.message)
                return (f"[risk] {key} = {value} is in force on the exchange and in the bot, but NOT kept in "
                        f"{self.settings_path.name} ({refusal}); set it there by hand before the next start")
            raise
        return f"[risk] {key} = {value}: used from the next signal on, and kept in {self.settings_path.name}"
