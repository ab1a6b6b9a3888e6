"""`python bot.py status`: the bot's health from its journal alone, for a person or a check.

Prints the mode, whether the bot is running (its heartbeat), the last candle's time and
age, the open positions with entry, stop, target and unrealized PnL at the last price,
today's realized PnL and fees (UTC day), and the last errors. Exit status 0 when the
heartbeat is fresh, 1 when it is stale or the bot stopped, so cron or a monitor can act.
"""
from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

from ict.intervals import utc_text
from journal.health import MISSED_BEATS, Status, read_status
from journal.journal import JournalError
from runtime.settings import SettingsError, journal_of

HEALTHY, STALE, EXIT_BAD_INPUT = 0, 1, 2


def _money(value: Decimal | None) -> str:
    if value is None:
        return "n/a"
    return f"{value.quantize(Decimal('0.01')):+}"


def _age(ms: int) -> str:
    seconds = max(0, ms // 1000)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def status_lines(status: Status, now_ms: int) -> list[str]:
    """The report as lines of text (no trailing newlines)."""
    beat = status.heartbeat
    lines = [f"mode: {status.mode or 'none yet'}"]
    if beat is None:
        lines.append("bot: no heartbeat in this journal (no live run wrote it yet)")
    elif beat.state.startswith("stopped"):
        lines.append(f"bot: {beat.state} at {utc_text(beat.at_ms)} (pid {beat.pid})")
    elif status.is_stale(now_ms):
        lines.append(f"bot: NOT RUNNING? last heartbeat {_age(now_ms - beat.at_ms)} ago at {utc_text(beat.at_ms)} "
                     f"(expected every {beat.interval_seconds} s; stale after {MISSED_BEATS} missed)")
    else:
        lines.append(f"bot: running (pid {beat.pid}, {beat.symbol}, heartbeat {_age(now_ms - beat.at_ms)} ago, "
                     f"up since {utc_text(beat.started_at_ms)})")
    if beat is not None and beat.last_candle_ms is not None:
        lines.append(f"last candle: {utc_text(beat.last_candle_ms)} (opened {_age(now_ms - beat.last_candle_ms)} ago), "
                     f"close {beat.last_price}")
    price = beat.last_price if beat is not None else None
    lines.append(f"open positions: {len(status.positions)}")
    for p in status.positions:
        entry = p.entry_price if p.entry_price is not None else "not filled"
        lines.append(f"  #{p.id} {p.symbol} {p.side} {p.state} qty {p.quantity} entry {entry} stop {p.stop_price} "
                     f"target {p.take_profit_price} unrealized {_money(p.unrealized_pnl(price))} USDT")
    lines.append(f"today (UTC): realized {_money(status.realized_today)} USDT, fees {_money(-status.fees_today)} USDT")
    if status.errors:
        lines.append(f"last {len(status.errors)} error(s), newest first:")
        lines.extend(f"  {utc_text(e.at_ms)} {e.source}: {e.message}" for e in status.errors)
    else:
        lines.append("errors: none recorded")
    return lines


def exit_status(status: Status, now_ms: int) -> int:
    return STALE if status.is_stale(now_ms) else HEALTHY


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bot.py status", description="The bot's health from its journal "
                                     "(read-only; works while the bot runs). Exit 0 healthy, 1 stale or stopped.")
    parser.add_argument("--settings", default="settings.toml", help="settings file naming the journal (default: settings.toml)")
    parser.add_argument("--journal", metavar="PATH", help="the journal to read (default: [bot] journal)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """The `status` command: the report on stdout; 0 healthy, 1 stale, 2 (one line on stderr) for
    bad settings or a missing or foreign journal."""
    args = parse_args(argv)
    now_ms = int(time.time() * 1000)
    try:
        journal = journal_of(args.journal, args.settings)
        status = read_status(journal, now_ms)
    except (SettingsError, JournalError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"journal: {journal}")
    print("\n".join(status_lines(status, now_ms)))
    return exit_status(status, now_ms)
