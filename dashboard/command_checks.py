"""What the dashboard checks before it appends a command for the bot (POST /api/commands):
the kind, its target and value, and that a bot runs to read it. The bot checks again when it
applies the command (it alone knows its state at that moment); these checks give the person
at the page the answer at once, in the same words.

A `set_risk` value is checked by the function the bot applies it with
(`runtime.settings_writer.checked_value`: the `Check` that `trade.risk.RiskSettings` declares for
the key, through `ict.settings_file.check_value`), so the refusal reads exactly like settings.toml's,
e.g. `[risk] leverage = 200 is out of range; use a whole number from 1 to 125`.
"""
from __future__ import annotations

from dataclasses import dataclass

from dashboard.config import DashboardConfig
from dashboard.pages.bot_state import BotState, how_to_start
from journal.commands import KINDS
from journal.health import read_status
from journal.journal import JournalError
from runtime.settings import SettingsError, load_settings
from runtime.settings_writer import checked_value
from trade.risk import RiskSettings

NO_TARGET = ("pause", "resume", "close_all", "stop")
MAX_VALUE_LENGTH = 40   # a risk value is a short number; anything longer is refused before any parsing


class CommandRefused(ValueError):
    """The command is not sent; the message is one line for the page. `status` is the HTTP code."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Command:
    """A command that passed the checks, as it goes into the journal (target and value as text)."""

    kind: str
    target: str = ""
    value: str = ""


def check_command(config: DashboardConfig, state: BotState, now_ms: int, kind: str, target: str, value: str) -> Command:
    """The command to append, or CommandRefused (one line). `state` is the bot's (bot_state):
    only a running or paused bot reads commands."""
    kind, target, value = kind.strip(), target.strip(), value.strip()
    if kind not in KINDS:
        raise CommandRefused(f"kind {kind!r} is not a command; use one of {', '.join(KINDS)}")
    if state.state not in ("running", "paused"):
        raise CommandRefused(f"no bot is running to read it ({state.line}); start it with: {how_to_start(config)}", 409)
    if kind in NO_TARGET:
        if target or value:
            raise CommandRefused(f"{kind} takes no target and no value; send the kind alone")
        return Command(kind)
    if kind == "close_position":
        if value:
            raise CommandRefused("close_position takes a target (the position id) and no value")
        return Command(kind, str(_open_position_id(config, now_ms, target)))
    return Command(kind, target, check_risk_value(target, value))


def _open_position_id(config: DashboardConfig, now_ms: int, target: str) -> int:
    if not target.isdigit() or not target.isascii():
        raise CommandRefused(f"close_position target {target!r} is not a position id; send the number shown in the positions table")
    try:
        positions = read_status(config.journal_path, now_ms, errors=0).positions
    except JournalError as problem:
        raise CommandRefused(str(problem), 409) from None
    if int(target) not in {position.id for position in positions}:
        raise CommandRefused(f"position {int(target)} is not open; reload the positions page", 409)
    return int(target)


def check_risk_value(key: str, text: str) -> str:
    """`text` as typed, if the bot will take it for `[risk] key` (runtime.settings_writer.checked_value,
    the very check the bot applies: settings.toml's rule for that key); else CommandRefused with the
    settings loader's words. Setting one way of sizing (percent or fixed USDT) replaces the other."""
    if len(text) > MAX_VALUE_LENGTH or not text.isprintable():
        raise CommandRefused(f"[risk] {key} = {text[:MAX_VALUE_LENGTH]!r} is not a number; type a number such as 1.5")
    try:
        checked_value(key, text)
    except SettingsError as problem:
        raise CommandRefused(str(problem)) from None
    return text


def current_risk(config: DashboardConfig) -> RiskSettings:
    """The `[risk]` table as settings.toml says now (the bot writes a change back there).
    CommandRefused (409) with the loader's line when the file cannot be read as settings."""
    try:
        return load_settings(config.settings_path).risk
    except SettingsError as problem:
        raise CommandRefused(str(problem), 409) from None
