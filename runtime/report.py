"""The backtest report of `python bot.py --replay FILE --report DIR`: DIR/summary.json and DIR/report.png.

`summary.json` holds the replay summary (`ReplaySummary.as_json()`), the replay's first and
last candle (open times, UTC), and the metrics of `runtime.metrics` computed from the journal.
`report.png` is drawn by `runtime.report_chart`. The directory is checked before the replay
runs (`check_report_dir`), so a typo costs nothing.
"""
from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from ict.models import Candle
from ict.intervals import format_time
from journal.journal import Journal, iso_time
from runtime.metrics import ClosedTrade, drawdowns, equity_curve, max_drawdown, trade_metrics, trades_from_rows
from runtime.replay import ReplaySummary

SUMMARY_FILE = "summary.json"
CHART_FILE = "report.png"


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
    out["first_candle"] = iso_time(candles[0].open_time) if candles else None
    out["last_candle"] = iso_time(candles[-1].open_time) if candles else None
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
        heading = (f"{title} · {format_time(candles[0].open_time)} to {format_time(candles[-1].open_time)} UTC · "
                   f"{summary.trades} trades · net {format(summary.net_pnl, 'f')} USDT after fees")
        if skipped:
            heading += f" · {skipped} higher-timeframe zone ref(s) not drawn"
        draw_report(str(directory / CHART_FILE), candles, trades, [float(e) for e in curve],
                    drawdowns(curve, summary.starting_balance), zones, heading)
    return content
