"""Entry point: `python bot.py` reads settings.toml and trades.

    python bot.py                               # the mode in settings.toml (replay of the bundled day by default)
    python bot.py --replay data/FILE.csv        # a replay of another candle file
    python bot.py --replay                      # a replay of settings.toml's candle files, whatever the mode
    python bot.py --settings other.toml --journal run.db --summary-json summary.json
    python bot.py --replay data/FILE.csv --report reports/   # + reports/summary.json and reports/report.png
    python bot.py --replay --report reports/    # several symbols: + reports/report-SYMBOL.png each
    python bot.py status                        # the bot's health from its journal: exit 0 healthy, 1 stale
    python bot.py backup [PATH]                 # a consistent copy of the journal, also while the bot runs

Expected problems (settings, candle files, keys, the journal) end with one line on
stderr and exit code 2; Ctrl+C or SIGTERM stops cleanly with the journal committed.
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from decimal import Decimal
from pathlib import Path

from ict.candle_file import CandleFileError, fit_to_interval, load_candles
from journal.journal import Journal, JournalError
from journal.lock import JournalLock
from ict.intervals import format_time
from runtime.replay import ReplaySummary, StrategyError, run_replay
from runtime.report import CHART_FILE, SUMMARY_FILE, ReportError, check_report_dir, write_report, write_symbols_report
from runtime.logs import setup_logging  # noqa: F401  (tests call bot.setup_logging)
from runtime.output_paths import OutputPathError, check_distinct, check_output_file
from runtime.settings import (Settings, SettingsError, check_replay_file, check_replay_files, load_settings,
                              unused_replay_tables)

log = logging.getLogger("bot")
EXIT_BAD_INPUT = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="ICT auto-trading bot for Binance USDⓈ-M perpetual futures.",
                                     epilog="other commands: 'python bot.py status' (the bot's health from its journal; "
                                     "exit 0 healthy, 1 stale) and 'python bot.py backup [PATH]' (a consistent copy of "
                                     "the journal); each takes --help")
    parser.add_argument("--settings", default="settings.toml", help="settings file (default: settings.toml)")
    parser.add_argument("--replay", metavar="FILE", nargs="?", const="",
                        help="replay this candle file with the simulated exchange, whatever the mode; without FILE: "
                        "the files settings.toml names ([replay] file, [replay.SYMBOL] file)")
    parser.add_argument("--journal", metavar="PATH", help="journal file (default: [bot] journal)")
    parser.add_argument("--summary-json", metavar="PATH", help="write the replay summary as JSON to PATH")
    parser.add_argument("--report", metavar="DIR", help="replay only: write summary.json (with win rate, drawdown %%, "
                        "profit factor, expectancy in R...) and report.png (price with trades, equity, drawdown) into DIR, "
                        "an existing directory; with several symbols also report-SYMBOL.png for each")
    return parser.parse_args(argv)


def check_outputs(settings: Settings, args: argparse.Namespace) -> None:
    """Every file this run will write can be written, and is none of the others nor a file it reads, before any
    work starts (OutputPathError: one line naming the file and the setting or option to change)."""
    outputs = [("log file", settings.resolve(settings.bot.log_file), "change [bot] log_file in settings.toml"),
               ("journal", Path(args.journal or settings.resolve(settings.bot.journal)),
                "pass --journal with another path, or change [bot] journal in settings.toml")]
    if args.summary_json:
        outputs.append(("--summary-json", Path(args.summary_json), "pass a file of its own in a folder you can write to"))
    for what, path, fix in outputs:
        check_output_file(path, what, fix)
    inputs = {"settings file": Path(args.settings)}
    if replaying(settings, args):   # the candle files the replay reads
        files = replay_files(settings, args)
        for symbol, file in files.items():
            inputs["candle file" if len(files) == 1 else f"candle file of {symbol}"] = file
    check_distinct(outputs, inputs)


def replaying(settings: Settings, args: argparse.Namespace) -> bool:
    return args.replay is not None or settings.mode == "replay"


def replay_files(settings: Settings, args: argparse.Namespace) -> dict[str, Path]:
    """Each symbol's candle file: `--replay FILE` (one symbol only), else settings.toml's
    (SettingsError: one line naming what is missing)."""
    if not args.replay:
        return check_replay_files(settings)
    if len(settings.symbols) > 1:
        raise SettingsError(f"--replay {args.replay} names one candle file and {settings.path.name} trades "
                            f"{', '.join(settings.symbols)}; run 'python bot.py --replay' (no file) to replay each "
                            "symbol's file from [replay] file and the [replay.SYMBOL] tables")
    return {settings.strategy.symbol: check_replay_file(settings, args.replay, "--replay")}


def install_stop_handlers(stop: threading.Event) -> None:
    """Ctrl+C and SIGTERM ask the running loop to stop at the next safe point."""

    def ask_to_stop(signum, frame) -> None:
        log.warning("stop requested (signal %s): finishing the current step", signum)
        stop.set()

    signal.signal(signal.SIGINT, ask_to_stop)
    if hasattr(signal, "SIGTERM"):  # Windows has no real SIGTERM delivery; Ctrl+C still works
        signal.signal(signal.SIGTERM, ask_to_stop)


def replay(settings: Settings, args: argparse.Namespace, stop: threading.Event) -> int:
    report_dir = check_report_dir(args.report) if args.report else None  # before the journal is replaced
    journal_path = args.journal or settings.resolve(settings.bot.journal)
    with JournalLock(journal_path):   # a running bot's journal is never replaced (journal/lock.py)
        return _replay(settings, args, stop, journal_path, report_dir)


def load_feeds(settings: Settings, files: dict[str, Path]) -> dict[tuple[str, str], list]:
    """Each strategy's candles: its symbol's file, at its interval (CandleFileError: one line)."""
    loaded = {symbol: load_candles(file) for symbol, file in files.items()}
    feeds = {}
    for number, block in enumerate(settings.strategies, 1):
        where = "[strategy] interval" if len(settings.strategies) == 1 else f"[[strategies]] #{number} interval"
        key = (block.symbol, block.interval)
        if key not in feeds:
            feeds[key] = fit_to_interval(files[block.symbol], loaded[block.symbol], block.interval_ms, where)
    return feeds


def _replay(settings: Settings, args: argparse.Namespace, stop: threading.Event, journal_path, report_dir) -> int:
    files = replay_files(settings, args)
    for symbol in unused_replay_tables(settings):
        log.warning("[replay.%s]: no strategy trades %s, so its candle file is not replayed", symbol, symbol)
    feeds = load_feeds(settings, files)
    if stop.is_set():  # Ctrl+C while the candles loaded: nothing ran, so the journal stays as it was
        log.warning("stopped before the replay began; %s is unchanged", journal_path)
        return 0
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    for block in settings.strategies:
        log.info("replay of %s: %d candles, %s %s, strategy %s, journal %s", files[block.symbol],
                 len(feeds[(block.symbol, block.interval)]), block.symbol, block.interval, block.strategy_name, journal_path)
    try:
        summary = run_replay(settings, feeds, journal, stop)
    finally:
        journal.close()
    candles = feeds[(settings.strategy.symbol, settings.strategy.interval)]
    print_summary(summary, _replayed_span(feeds, summary.candles))
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.as_json(), indent=2) + "\n", encoding="utf-8")
    if report_dir is not None:
        journal = Journal.open(journal_path, "replay", durable=False)
        try:
            if len(settings.symbols) == 1:
                title = f"{settings.strategy.symbol} {settings.strategy.interval} {settings.strategy.strategy_name}"
                content = write_report(report_dir, summary, journal, candles, settings.ict, title)
                written = [report_dir / SUMMARY_FILE, report_dir / CHART_FILE]
            else:
                content, written = write_symbols_report(report_dir, summary, journal, feeds, settings.ict,
                                                        report_titles(settings))
        finally:
            journal.close()
        print_metrics(content)
        print(f"  report: {', '.join(map(str, written[:-1]))} and {written[-1]}")
    return 0


def report_titles(settings: Settings) -> dict[str, str]:
    """Each symbol's chart title: its strategies' intervals, names and sides when not both, e.g.
    "ETHUSDT 1h FVG_Market_Entry_v1 long"."""
    titles: dict[str, list[str]] = {}
    for block in settings.strategies:
        side = "" if block.sides == "both" else f" {block.sides}"
        titles.setdefault(block.symbol, []).append(f"{block.interval} {block.strategy_name}{side}")
    return {symbol: f"{symbol} {', '.join(names)}" for symbol, names in titles.items()}


def _replayed_span(feeds: dict, replayed: int) -> tuple[int, int] | None:
    """(first, last) open time of the candles the replay went through (`replayed` of them, in time
    order across the feeds), or None when it went through none."""
    if replayed <= 0:
        return None
    if len(feeds) == 1:
        candles = next(iter(feeds.values()))[:replayed]
        return candles[0].open_time, candles[-1].open_time
    ordered = sorted(candle.open_time for candles in feeds.values() for candle in candles)[:replayed]
    return ordered[0], ordered[-1]


def print_summary(summary: ReplaySummary, span: tuple[int, int] | None) -> None:
    """The summary on stdout, money with its unit, the candles' date range in UTC, and with several
    symbols a line per symbol."""
    rows = summary.as_json()
    rows.pop("per_symbol", None)
    width = max(len(key) for key in rows)
    print("\nreplay summary")
    if span:
        print(f"  {'dates':<{width}}  {format_time(span[0])} to {format_time(span[1])} UTC (candle open times)")
    for key, value in rows.items():
        unit = " USDT" if isinstance(getattr(summary, key), Decimal) else ""
        print(f"  {key:<{width}}  {value}{unit}")
    if summary.per_symbol:
        print("  per symbol:")
        for share in summary.per_symbol:
            print(f"    {share.symbol:<10}  {share.trades} trades ({share.wins} won, {share.losses} lost), "
                  f"{share.signals} signals ({share.rejected_signals} refused), net {format(share.net_pnl, 'f')} USDT "
                  f"(fees {format(share.fees, 'f')})")


def print_metrics(content: dict) -> None:
    for key in ("win_rate_percent", "return_percent", "max_drawdown_percent", "profit_factor", "expectancy_r",
                "average_trade_minutes"):
        value = content[key]
        print(f"  {key:<22}  {'n/a' if value is None else value}")


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["status"]:  # python bot.py status: runtime/status.py
        from runtime.status import main as status

        return status(words[1:])
    if words[:1] == ["backup"]:  # python bot.py backup [PATH]: runtime/backup.py
        from runtime.backup import main as backup

        return backup(words[1:])
    args = parse_args(argv)
    stop = threading.Event()
    try:
        settings = load_settings(args.settings)
        check_outputs(settings, args)
        redact = setup_logging(settings)
        install_stop_handlers(stop)
        if replaying(settings, args):
            return replay(settings, args, stop)
        if args.report:
            raise ReportError(f"--report works with a replay only; add --replay FILE or set [bot] mode = \"replay\"")
        if args.journal:
            settings = settings.with_bot(journal=args.journal)
        from runtime.live import run_live  # live modes need the exchange code only when used

        return run_live(settings, stop, redact)
    except (SettingsError, CandleFileError, JournalError, StrategyError, ReportError, OutputPathError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
