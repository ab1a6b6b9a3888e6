"""Every registered strategy on every bundled perpetual candle file, with the shipped costs.

    python bench/strategies.py [--settings settings.toml] [--data data] [--strategy NAME ...]

Each run is a replay with `settings.toml` as shipped (starting balance, fees, slippage, risk,
`[ict]`), except: the strategy is swapped in with its own defaults (no `[strategy.params]`),
and `[strategy] interval` is set to the file's candle interval. Prints one markdown row per
(strategy, file): trades, win rate, net PnL after fees, profit factor and max drawdown, as
measured, with the signals emitted and how many of them risk refused (journal `signals.refusal`
says why); metrics are those of `runtime.metrics` (README "Backtest report").
Skipped, with the reason printed: spot files (the bot trades the USDⓈ-M perpetual; spot prices
and volumes are another market) and a file whose candles repeat an earlier file's.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ict.candle_file import load_candles  # noqa: E402
from ict.strategies import strategy_names  # noqa: E402
from journal.journal import Journal  # noqa: E402
from runtime.metrics import equity_curve, max_drawdown, trade_metrics, trades_from_rows  # noqa: E402
from runtime.replay import run_replay  # noqa: E402
from runtime.settings import INTERVALS, load_settings  # noqa: E402

HEADER = ("| strategy | file | candles | signals (refused) | trades | win rate | net PnL after fees (USDT) | profit factor "
          "| max drawdown |\n|---|---|---:|---:|---:|---:|---:|---:|---:|")


def interval_of(candles) -> str:
    """The settings name of the files' candle spacing (the smallest gap among the first candles)."""
    step = min(b.open_time - a.open_time for a, b in zip(candles[:100], candles[1:101]))
    names = {ms: name for name, ms in INTERVALS.items()}
    if step not in names:
        raise ValueError(f"candles {step} ms apart match no Binance interval")
    return names[step]


def bundled_files(data: Path) -> list[tuple[Path, list | None, str]]:
    """(file, candles or None, why skipped) for every CSV in `data`, in name order."""
    seen: dict[tuple, str] = {}
    out = []
    # the 6-column files first, so a 12-column copy of the same candles is the one skipped
    for file in sorted(data.glob("*.csv"), key=lambda f: ("native12" in f.name, f.name)):
        if "-spot-" in file.name:
            out.append((file, None, "spot market candles; the bot trades the USDⓈ-M perpetual"))
            continue
        candles = load_candles(file)
        key = (candles[0], candles[-1], len(candles))
        if key in seen:
            out.append((file, None, f"same candles as {seen[key]} (another file format)"))
            continue
        seen[key] = file.name
        out.append((file, candles, ""))
    return out


def run_one(settings, name: str, candles) -> dict:
    """Replay `candles` with strategy `name` on its defaults; return the row's figures."""
    settings = settings.with_strategy(strategy_name=name, params={}, interval=interval_of(candles))
    journal = Journal.open(":memory:", "replay", durable=False)
    started = time.perf_counter()
    summary = run_replay(settings, candles, journal)
    seconds = time.perf_counter() - started
    trades = trades_from_rows(journal.closed_trades())
    metrics = trade_metrics(trades, summary.starting_balance)
    curve = equity_curve(journal.fill_timeline(), candles[:summary.candles], summary.starting_balance)
    worst, worst_percent = max_drawdown(curve, summary.starting_balance)
    journal.close()
    return {"candles": summary.candles, "signals": summary.signals, "refused": summary.rejected_signals,
            "trades": summary.trades, "win_rate": metrics["win_rate_percent"],
            "net": summary.net_pnl, "profit_factor": metrics["profit_factor"], "drawdown": worst,
            "drawdown_percent": worst_percent, "seconds": seconds}


def row(name: str, file: Path, figures: dict) -> str:
    win = "n/a" if figures["win_rate"] is None else f"{figures['win_rate']:.1f} %"
    factor = "n/a" if figures["profit_factor"] is None else f"{figures['profit_factor']:.2f}"
    net = figures["net"].quantize(Decimal("0.01"))
    drawdown = f"{figures['drawdown'].quantize(Decimal('0.01'))} ({figures['drawdown_percent']:.1f} %)"
    return (f"| {name} | {file.name} | {figures['candles']:,} | {figures['signals']:,} ({figures['refused']:,}) | "
            f"{figures['trades']:,} | {win} | {net} | {factor} | "
            f"{drawdown} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default=str(ROOT / "settings.toml"))
    parser.add_argument("--data", default=str(ROOT / "data"))
    parser.add_argument("--strategy", action="append", help="only this strategy (repeatable); default: all registered")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the table is the output
    names = args.strategy or strategy_names()
    files = bundled_files(Path(args.data))
    rows = []
    for file, candles, skipped in files:
        if candles is None:
            print(f"skipped {file.name}: {skipped}", file=sys.stderr)
            continue
        for name in names:
            figures = run_one(load_settings(args.settings), name, candles)
            print(f"{name} on {file.name}: {figures['seconds']:.1f} s", file=sys.stderr)
            rows.append(row(name, file, figures))
    print(HEADER)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
