"""GET /api/bot: is the bot running, paused, stopped or gone, from its heartbeat
(journal/health.py), and how to start it. Every page shows it in its header."""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Blueprint, jsonify

from dashboard.app import dashboard_config
from dashboard.config import DashboardConfig
from journal.health import Status, read_status
from journal.journal import JournalError

bp = Blueprint("bot_state", __name__)
SYSTEMD_START = "sudo systemctl start ict-bot"


@dataclass(frozen=True)
class BotState:
    """`state`: running | paused | stopped | stale (no beat for three intervals: crashed or
    killed) | none (no live run ever wrote this journal: a replay, or no journal yet);
    `line`: one sentence for people; `beat_age_seconds`: None without a beat."""

    state: str
    mode: str | None
    symbols: tuple[str, ...]
    beat_age_seconds: float | None
    line: str


def bot_state(config: DashboardConfig, now_ms: int) -> BotState:
    """The bot's state from the journal at `config.journal_path`, read without writing a byte."""
    try:
        status = read_status(config.journal_path, now_ms, errors=0)
    except JournalError as problem:
        return BotState("none", None, config.settings.symbols, None, str(problem))
    return _from_status(status, config, now_ms)


def _from_status(status: Status, config: DashboardConfig, now_ms: int) -> BotState:
    beat = status.heartbeat
    if beat is None:
        line = ("a replay journal: nothing trades, this is a backtest viewer" if status.mode == "replay"
                else "no live bot has written this journal yet")
        return BotState("none", status.mode, config.settings.symbols, None, line)
    age = round((now_ms - beat.at_ms) / 1000, 1)
    symbols = tuple(beat.symbol.split(","))
    if beat.state.startswith("stopped"):
        return BotState("stopped", beat.mode, symbols, age, beat.state)
    if status.is_stale(now_ms):
        return BotState("stale", beat.mode, symbols, age,
                        f"no heartbeat for {age:.0f} s (pid {beat.pid}): the bot crashed or was killed")
    state = "paused" if beat.state.startswith("paused") else "running"
    return BotState(state, beat.mode, symbols, age, beat.state)


def how_to_start(config: DashboardConfig) -> str:
    """One line: the command that starts the bot with this dashboard's settings."""
    if config.under_systemd:
        return SYSTEMD_START
    return f"python bot.py --settings {config.settings_path}"


@bp.get("/api/bot")
def api_bot():
    config = dashboard_config()
    state = bot_state(config, int(time.time() * 1000))
    return jsonify(state=state.state, mode=state.mode, symbols=list(state.symbols), beat_age_seconds=state.beat_age_seconds,
                   line=state.line, how_to_start=how_to_start(config),
                   can_start=config.start_command is not None and state.state in ("stopped", "stale", "none"))
