"""`python bot.py status`: the bot's health from its journal alone, for a person or a check.

Prints the mode, whether the bot is running (its heartbeat), one line per symbol and interval
with its last candle's time, close and age (STALE when that symbol's stream has gone quiet
while the bot runs), the open positions by symbol with entry, stop, target and unrealized PnL
at their symbol's last close, today's realized PnL and fees (UTC day; per symbol too when more
than one symbol traded), and the last errors. Exit status 0 when the heartbeat is fresh and
every symbol's candles are, 1 when the heartbeat is stale, the bot stopped, or one symbol of
a running bot is stale, so cron or a monitor can act.
"""
from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal

from ict.intervals import INTERVAL_MS, utc_text
from journal.health import MISSED_BEATS, MarketMark, OpenPosition, Status, read_status
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
        doing = "PAUSED (no new entries; resume in the dashboard)" if beat.state == "paused" else "running"
        lines.append(f"bot: {doing} (pid {beat.pid}, {' '.join(beat.symbol.split(','))}, heartbeat "
                     f"{_age(now_ms - beat.at_ms)} ago, up since {utc_text(beat.started_at_ms)})")
    if beat is not None and beat.balance is not None:
        lines.append(f"wallet balance: {beat.balance} USDT (at the last heartbeat)")
    if status.marks:
        stale = stale_marks(status, now_ms)
        lines.extend(_mark_line(mark, mark in stale, now_ms) for mark in _by_symbol(status.marks))
    elif beat is not None and beat.last_candle_ms is not None:   # a journal older than version 4
        lines.append(f"last candle: {utc_text(beat.last_candle_ms)} (opened {_age(now_ms - beat.last_candle_ms)} ago), "
                     f"close {beat.last_price}")
    lines.append(f"open positions: {len(status.positions)}")
    for p in status.positions:
        entry = p.entry_price if p.entry_price is not None else "not filled"
        lines.append(f"  #{p.id} {p.symbol} {p.side} {p.state} qty {p.quantity} entry {entry} stop {p.stop_price} "
                     f"target {p.take_profit_price} unrealized {_money(p.unrealized_pnl(_last_close(status, p)))} USDT")
    lines.append(f"today (UTC): realized {_money(status.realized_today)} USDT, fees {_money(-status.fees_today)} USDT")
    if len(status.today_by_symbol) > 1:
        lines.extend(f"  {day.symbol}: realized {_money(day.realized)} USDT, fees {_money(-day.fees)} USDT"
                     for day in status.today_by_symbol)
    if status.errors:
        lines.append(f"last {len(status.errors)} error(s), newest first:")
        lines.extend(f"  {utc_text(e.at_ms)} {e.source}: {e.message}" for e in status.errors)
    else:
        lines.append("errors: none recorded")
    return lines


def _by_symbol(marks: tuple[MarketMark, ...]) -> list[MarketMark]:
    return sorted(marks, key=lambda mark: (mark.symbol, INTERVAL_MS.get(mark.interval, 0), mark.interval))


def _mark_line(mark: MarketMark, stale: bool, now_ms: int) -> str:
    flag = f"STALE (no new candle for {MISSED_BEATS} intervals), " if stale else ""
    return (f"{mark.symbol} {mark.interval}: {flag}last candle {utc_text(mark.open_time_ms)} "
            f"(opened {_age(now_ms - mark.open_time_ms)} ago), close {mark.close}")


def stale_marks(status: Status, now_ms: int) -> list[MarketMark]:
    """The marks of a running bot with no newer candle for more than `MISSED_BEATS` of their
    interval plus the heartbeat's own tolerance (`MISSED_BEATS` beats: a mark is seen at a beat)
    before `now_ms`: that symbol's stream has gone quiet while the others may flow. Counted
    from when the bot had the candle (`seen_at_ms`), not from its open time, so history that
    arrives late (a backfill) does not count as a dead stream. Empty when the bot is not
    running (its heartbeat already says so) or for an interval this bot does not know."""
    beat = status.heartbeat
    if beat is None or status.is_stale(now_ms):
        return []
    tolerance_ms = MISSED_BEATS * beat.interval_seconds * 1000
    return [mark for mark in status.marks if mark.interval in INTERVAL_MS
            and now_ms - mark.seen_at_ms > MISSED_BEATS * INTERVAL_MS[mark.interval] + tolerance_ms]


def _last_close(status: Status, position: OpenPosition) -> Decimal | None:
    """The last close seen of the position's symbol: the mark that closed last among its
    intervals; from a journal older than version 4, the heartbeat's last candle."""
    closes = [(mark.open_time_ms + INTERVAL_MS.get(mark.interval, 0), mark.close)
              for mark in status.marks if mark.symbol == position.symbol]
    if closes:
        return max(closes, key=lambda item: item[0])[1]
    beat = status.heartbeat
    if not status.marks and beat is not None and position.symbol in beat.symbol.split(","):
        return beat.last_price
    return None


def exit_status(status: Status, now_ms: int) -> int:
    """1 (STALE) when the heartbeat is stale or stopped, or a symbol of the running bot is
    stale (`stale_marks`); else 0 (HEALTHY)."""
    return STALE if status.is_stale(now_ms) or stale_marks(status, now_ms) else HEALTHY


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bot.py status", description="The bot's health from its journal "
                                     "(read-only; works while the bot runs). Exit 0 healthy, 1 stale or stopped, "
                                     "or one symbol's candles stale.")
    parser.add_argument("--settings", default="settings.toml", help="settings file naming the journal (default: settings.toml)")
    parser.add_argument("--journal", metavar="PATH", help="the journal to read (default: [bot] journal)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """The `status` command: the report on stdout; 0 healthy, 1 stale (the bot, or one symbol of a
    running bot), 2 (one line on stderr) for bad settings or a missing or foreign journal."""
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
