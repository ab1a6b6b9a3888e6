"""The backtest report of `python bot.py --replay FILE --report DIR`: DIR/summary.json and DIR/report.png.

`summary.json` holds the replay summary (`ReplaySummary.as_json()`), the replay's first and
last candle (open times, UTC), and the metrics of `runtime.metrics` computed from the journal.
`report.png` is drawn by `runtime.report_chart`. The directory is checked before the replay
runs (`check_report_dir`), so a typo costs nothing.

A replay of several symbols (`write_symbols_report`) writes the same total, for the account,
plus in `per_symbol` each symbol's share with its trade metrics, and a chart per symbol,
DIR/report-SYMBOL.png (`chart_file`).
"""
from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Mapping, Sequence

from ict.models import Candle
from ict.intervals import INTERVAL_MS, format_time
from journal.journal import Journal, iso_time
from runtime.metrics import (ClosedTrade, account_equity_curve, drawdowns, equity_curve, max_drawdown, trade_metrics,
                             trades_from_rows)
from runtime.replay import ReplaySummary
from trade.models import ZERO

SUMMARY_FILE = "summary.json"
CHART_FILE = "report.png"
ACCOUNT_ONLY = ("return_percent",)   # trade metrics of the account alone: a symbol's share has no balance of its own


class ReportError(ValueError):
    """The report directory cannot be used; the message names it and the fix."""


def check_report_dir(directory: str | Path) -> Path:
    """Return `directory` as a Path when it exists, is a directory and takes a new file.

    Raises ReportError otherwise (one line: the directory and what to do)."""
    path = Path(directory)
    if not path.exists():
        raise ReportError(f"--report {directory}: the directory does not exist; create it or pass another directory")
    if not path.is_dir():
        raise ReportError(f"--report {directory} is a file, not a directory; pass a directory")
    try:  # os.access does not answer truthfully on Windows or for read-only mounts: try it
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ReportError(f"--report {directory}: cannot write in this directory ({exc.strerror}); "
                          "pass a directory you can write to") from None
    return path


def report_summary(summary: ReplaySummary, trades: Sequence[ClosedTrade], curve: Sequence[Decimal],
                   candles: Sequence[Candle]) -> dict:
    """summary.json's content: the replay summary, its date range and the metrics (see runtime.metrics)."""
    worst, worst_percent = max_drawdown(curve, summary.starting_balance)
    out = summary.as_json()
    out.update(_span(candles))
    out["max_drawdown_percent"] = worst_percent
    out.update(trade_metrics(trades, summary.starting_balance))
    return out


def write_report(directory: Path, summary: ReplaySummary, journal: Journal, candles: Sequence[Candle],
                 ict_settings, title: str) -> dict:
    """Write summary.json and report.png into `directory`; return the summary dict.

    `candles` are the candles the replay went through (cut where it stopped)."""
    import json

    from runtime.report_chart import draw_report, find_zones

    candles = candles[:summary.candles]
    trades = trades_from_rows(journal.closed_trades())
    curve = equity_curve(journal.fill_timeline(), candles, summary.starting_balance)
    content = report_summary(summary, trades, curve, candles)
    (directory / SUMMARY_FILE).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    if candles:
        zones, skipped = find_zones(trades, candles, ict_settings)
        heading = _heading(title, candles, summary.trades, summary.net_pnl, skipped)
        draw_report(str(directory / CHART_FILE), candles, trades, [float(e) for e in curve],
                    drawdowns(curve, summary.starting_balance), zones, heading)
    return content


def chart_file(symbol: str) -> str:
    """The chart of one symbol in a report of several: report-SYMBOL.png."""
    return f"report-{symbol}.png"


def symbol_metrics(trades: Sequence[ClosedTrade], candles: Sequence[Candle]) -> dict:
    """One symbol's entry additions in summary.json's `per_symbol`: its date range and the trade
    metrics of `runtime.metrics` over its trades alone. The account's figures (max drawdown and
    its percent, return percent, balances) are left to the total: the symbols share one wallet."""
    out = _span(candles)
    out.update((key, value) for key, value in trade_metrics(trades, ZERO).items() if key not in ACCOUNT_ONLY)
    return out


def write_symbols_report(directory: Path, summary: ReplaySummary, journal: Journal, feeds: Mapping[tuple[str, str],
                         Sequence[Candle]], ict_settings, titles: Mapping[str, str]) -> tuple[dict, list[Path]]:
    """The report of a replay of several symbols; returns (summary.json's content, the files written:
    summary.json, then report.png and each report-SYMBOL.png unless no candle was replayed).

    `feeds` are the replay's candles per (symbol, interval), each symbol's first one in `feeds`
    being its charts' (and its trades' zones'); `titles` name each symbol's strategy. summary.json
    holds the total as `write_report` computes it, over the account (the equity of every symbol:
    `account_equity_curve`), and its `per_symbol` entries gain `symbol_metrics`. report.png draws the
    account's equity and drawdown under the first symbol's price and trades; report-SYMBOL.png each
    symbol's price, trades and zones over its own net PnL (realized plus open, after fees)."""
    import json

    from runtime.report_chart import draw_report, find_zones

    charts = charted_candles(feeds, summary.candles)
    trades = trades_from_rows(journal.closed_trades())
    fills = journal.fill_timeline()
    times, curve = account_equity_curve(fills, charts, summary.starting_balance)
    ends = sorted((series[i] for _, series in charts.values() if series for i in (0, -1)), key=lambda c: c.open_time)
    content = report_summary(summary, trades, curve, ends)
    for symbol, entry in content["per_symbol"].items():
        entry.update(symbol_metrics([t for t in trades if t.symbol == symbol], charts[symbol][1]))
    written = [directory / SUMMARY_FILE]
    written[0].write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    first = next(iter(charts))
    for symbol, (_, candles) in charts.items():
        if not candles:
            continue
        own = [t for t in trades if t.symbol == symbol]
        zones, skipped = find_zones(own, candles, ict_settings)
        if symbol == first:   # the account: its equity and drawdown at every close time, under the first symbol's price
            title = _heading(" + ".join(titles[s] for s in charts), candles, summary.trades, summary.net_pnl, skipped,
                             f" · price: {first} (each symbol: {chart_file('SYMBOL')})")
            draw_report(str(directory / CHART_FILE), candles, own, [float(e) for e in curve],
                        drawdowns(curve, summary.starting_balance), zones, title, equity_times=times)
            written.append(directory / CHART_FILE)
        pnl = equity_curve([f for f in fills if f.symbol == symbol], candles, ZERO)   # from 0: the symbol's net PnL
        title = _heading(titles[symbol], candles, len(own), sum((t.net_pnl for t in own), ZERO), skipped)
        draw_report(str(directory / chart_file(symbol)), candles, own, [float(e) for e in pnl], None, zones, title,
                    equity_label=f"{symbol} net PnL (USDT)")
        written.append(directory / chart_file(symbol))
    return content, written


def charted_candles(feeds: Mapping[tuple[str, str], Sequence[Candle]],
                    replayed: int) -> dict[str, tuple[int, Sequence[Candle]]]:
    """Each symbol's first feed as (interval ms, candles), cut where the replay stopped: its steps
    take whole close times, so the `replayed` first candles in close-time order over every feed
    end at a close time, and each feed keeps the candles closing by then."""
    closes = sorted(candle.open_time + INTERVAL_MS[interval] for (_, interval), series in feeds.items()
                    for candle in series)
    last = closes[replayed - 1] if replayed > 0 else None
    charts: dict[str, tuple[int, Sequence[Candle]]] = {}
    for (symbol, interval), series in feeds.items():
        if symbol not in charts:
            step = INTERVAL_MS[interval]
            kept = [] if last is None else [candle for candle in series if candle.open_time + step <= last]
            charts[symbol] = (step, kept)
    return charts


def _heading(title: str, candles: Sequence[Candle], trades: int, net: Decimal, skipped: int, tail: str = "") -> str:
    """A chart's title: `title`, the candles' dates, the trades and net PnL, and the zone refs not drawn."""
    heading = (f"{title} · {format_time(candles[0].open_time)} to {format_time(candles[-1].open_time)} UTC · "
               f"{trades} trades · net {format(net, 'f')} USDT after fees{tail}")
    if skipped:
        heading += f" · {skipped} higher-timeframe zone ref(s) not drawn"
    return heading


def _span(candles: Sequence[Candle]) -> dict:
    """first_candle and last_candle: the open times (UTC) of the first and last of `candles`, None without any."""
    return {"first_candle": iso_time(candles[0].open_time) if candles else None,
            "last_candle": iso_time(candles[-1].open_time) if candles else None}
