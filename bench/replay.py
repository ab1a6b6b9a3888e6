"""Benchmark: replay throughput, in-process and as a whole process, beside backtesting.py.

    python bench/replay.py [--file data/BTCUSDT-perp-5m-2023-01-01.csv] [--repeat 2] [--strategy NAME]

With the shipped settings (Mock_ThreeCandles_v1, 1 % risk, max 1 position; `[strategy]
interval` set to the file's), on the 143,900-candle 5m file by default, it prints:
1. in-process: `run_replay` (strategy runner, trader, simulated exchange, SQLite journal in
   a temporary file) in candles per second, loading the file timed apart, best of `--repeat`,
   and the peak memory of the process;
2. whole process: `python bot.py --settings <copy> --replay FILE` in a subprocess, wall time
   from start to exit (imports, settings, loading, replay, summary, logging to its file),
   best of `--repeat`;
3. when backtesting.py is installed (`pip install backtesting`; a bench-only dependency,
   not in requirements.txt): the same three-candle rule in backtesting.py on the same
   candles in this process, and how our in-process figure compares.
Targets (issue #9, 2-core machine): in-process at least backtesting.py's, whole process at
least 32,000 candles/s (2× the 16,000 before #9).

The backtesting.py strategy (`ThreeCandlesBt`) follows `Mock_ThreeCandles_v1`: three
bullish closes → long at the next open, stop at the lowest low of the three, target at
2 × the risk above the signal close (mirror for shorts); the three candles start afresh
after every signal, taken or not; at most one position; the size risks 1 % of the equity
(floored to 0.001 BTC); a trade whose margin at 5× would exceed the equity is skipped; 0.05 %
commission on entry and exit. What differs: backtesting.py trades whole units, so prices are
given per 0.001 BTC; it has no tick size (stops and targets are not rounded to 0.1), no
slippage tick, no minimum notional; its stop-or-target order inside one candle is its own.
Its trades therefore differ slightly from ours: the figure compares the work per candle.

Then, unless `--strategy` is given, FVG_Market_Entry_v1 (the ICT engine read every candle)
on the same file in a child process of its own, so that its peak memory is its own.
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENGINE_STRATEGY = "FVG_Market_Entry_v1"
DEFAULT_FILE = ROOT / "data" / "BTCUSDT-perp-5m-2023-01-01.csv"

from bench.strategies import interval_of  # noqa: E402
from ict.candle_file import load_candles  # noqa: E402
from ict.strategies import strategy_names  # noqa: E402
from journal.journal import Journal  # noqa: E402
from runtime.replay import run_replay  # noqa: E402
from runtime.settings import load_settings  # noqa: E402
from tests.conftest import _set  # noqa: E402  (one TOML line changed, as the tests do)


def peak_memory_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM first: `ru_maxrss` of a child process
    started by `subprocess` can show its parent's peak at the fork, not its own."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(DEFAULT_FILE))
    parser.add_argument("--settings", default=str(ROOT / "settings.toml"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--strategy", help="replay with this registered strategy on its defaults (default: settings.toml's)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the in-process figure measures the pipeline, not the console
    settings = load_settings(args.settings)
    started = time.perf_counter()
    candles = load_candles(args.file)
    load_seconds = time.perf_counter() - started
    settings = settings.with_strategy(interval=interval_of(candles))
    if args.strategy:
        settings = settings.with_strategy(strategy_name=args.strategy, params={})
    print(f"{settings.strategy.strategy_name} on {args.file} ({len(candles):,} candles, "
          f"{settings.strategy.interval}), loaded in {load_seconds:.3f} s")
    ours = in_process(settings, candles, args.repeat)
    print(f"peak memory: {peak_memory_mb():.0f} MB")
    if args.strategy:
        return
    whole_process(args.settings, args.file, settings.strategy.interval, len(candles), args.repeat)
    theirs = backtesting_py(candles, settings)
    if theirs:
        print(f"ours in-process / backtesting.py: {ours[0] / theirs[0]:.2f} (of CPU time: {ours[1] / theirs[1]:.2f})")
    engine_in_the_loop(args.settings, args.file)


def in_process(settings, candles, repeat: int) -> tuple[float, float]:
    """Best candles per second of `run_replay` over `repeat` runs (of wall time, of CPU time)."""
    best = best_cpu = None
    with tempfile.TemporaryDirectory() as folder:
        for run in range(repeat):
            journal = Journal.open(Path(folder) / f"bench{run}.db", "replay", durable=False)
            started, cpu_started = time.perf_counter(), time.process_time()
            summary = run_replay(settings, candles, journal)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            journal.close()
            best = seconds if best is None else min(best, seconds)
            best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
            print(f"in-process run {run + 1}: {seconds:.3f} s, {len(candles) / seconds:,.0f} candles/s "
                  f"({len(candles) / cpu:,.0f} per CPU second; {summary.signals} signals, {summary.trades} trades)")
    print(f"in-process best: {len(candles) / best:,.0f} candles/s ({best / len(candles) * 1e6:.1f} µs per candle); "
          f"of CPU time (what a shared machine does not distort): {len(candles) / best_cpu:,.0f} candles/s")
    return len(candles) / best, len(candles) / best_cpu


def whole_process(settings_path: str, file: str, interval: str, count: int, repeat: int) -> None:
    """`python bot.py --replay FILE` timed from start to exit, with the settings' interval set to the file's."""
    with tempfile.TemporaryDirectory() as folder:
        text = Path(settings_path).read_text(encoding="utf-8")
        text = _set(text, "strategy", "interval", f'"{interval}"')
        text = _set(text, "bot", "log_file", f'"{(Path(folder) / "log.txt").as_posix()}"')
        text = _set(text, "replay", "file", f'"{Path(file).resolve().as_posix()}"')
        settings = Path(folder) / "settings.toml"
        settings.write_text(text, encoding="utf-8")
        command = [sys.executable, str(ROOT / "bot.py"), "--settings", str(settings), "--replay", file,
                   "--journal", str(Path(folder) / "journal.db")]
        best = best_cpu = None
        for run in range(repeat):
            cpu_started = children_cpu_seconds()
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            seconds = time.perf_counter() - started
            cpu = children_cpu_seconds() - cpu_started
            if done.returncode:
                print(f"whole process failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
                return
            best = seconds if best is None else min(best, seconds)
            best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
            print(f"whole-process run {run + 1}: {seconds:.3f} s, {count / seconds:,.0f} candles/s"
                  + (f" ({count / cpu:,.0f} per CPU second)" if cpu else ""))
    print(f"whole-process best: {count / best:,.0f} candles/s (python bot.py --replay {Path(file).name}, "
          "start-up and summary included)" + (f"; of CPU time: {count / best_cpu:,.0f} candles/s" if best_cpu else ""))


def children_cpu_seconds() -> float:
    """User plus system CPU time of the finished child processes (0.0 where unknown, e.g. Windows)."""
    try:
        import resource
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def backtesting_py(candles, settings) -> tuple[float, float] | None:
    """Candles per second (of wall time, of CPU time) of backtesting.py running the three-candle
    rule on `candles`, or None when it is not installed."""
    try:
        import pandas as pd
        from backtesting import Backtest
    except ImportError:
        print("backtesting.py is not installed (pip install backtesting): comparison skipped")
        return None
    strategy = three_candles_bt(float(settings.risk.loss_per_trade_percent) / 100, settings.risk.leverage,
                                float(settings.strategy.params.get("reward_risk", 2.0)))
    unit = 1000  # backtesting.py trades whole units: one unit is 0.001 BTC
    frame = pd.DataFrame({"Open": [c.open / unit for c in candles], "High": [c.high / unit for c in candles],
                          "Low": [c.low / unit for c in candles], "Close": [c.close / unit for c in candles],
                          "Volume": [c.volume for c in candles]},
                         index=pd.to_datetime([c.open_time for c in candles], unit="ms"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = Backtest(frame, strategy, cash=float(settings.replay.starting_balance_usdt),
                        commission=float(settings.replay.taker_fee), margin=1 / settings.risk.leverage,
                        finalize_trades=True)
        started, cpu_started = time.perf_counter(), time.process_time()
        stats = test.run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"backtesting.py, same rule, same candles: {seconds:.3f} s, {len(candles) / seconds:,.0f} candles/s "
          f"({len(candles) / cpu:,.0f} per CPU second; {stats['# Trades']} trades)")
    return len(candles) / seconds, len(candles) / cpu


def three_candles_bt(risk_fraction: float, leverage: int, reward_risk: float):
    """Mock_ThreeCandles_v1 as a backtesting.py Strategy (see the module doc for what differs)."""
    from backtesting import Strategy

    class ThreeCandlesBt(Strategy):
        def init(self) -> None:
            self.recent = 0   # how many of the last candles count towards three (0 to 3)

        def next(self) -> None:
            data = self.data
            self.recent = min(self.recent + 1, 3)
            if self.recent < 3:
                return
            opens, closes = data.Open[-3:], data.Close[-3:]
            if all(closes > opens):
                long, stop = True, data.Low[-3:].min()
            elif all(closes < opens):
                long, stop = False, data.High[-3:].max()
            else:
                return
            entry = closes[-1]
            risk = entry - stop if long else stop - entry
            if risk <= 0:
                return
            self.recent = 0   # the next signal needs three fresh candles, taken or not
            if self.position:
                return        # max 1 position
            size = int(self.equity * risk_fraction / risk)
            if size < 1 or size * entry / leverage > self.equity:
                return        # below the step, or margin above the balance: refused
            target = entry + reward_risk * risk if long else entry - reward_risk * risk
            (self.buy if long else self.sell)(size=size, sl=stop, tp=target)

    return ThreeCandlesBt


def engine_in_the_loop(settings: str, file: str) -> None:
    """The ICT strategy run, in a child process so that its peak memory is measured alone."""
    print()
    if ENGINE_STRATEGY not in strategy_names():
        print(f"{ENGINE_STRATEGY} is not registered: engine-in-the-loop run skipped")
        return
    subprocess.run([sys.executable, __file__, "--file", file, "--settings", settings, "--repeat", "1",
                    "--strategy", ENGINE_STRATEGY], check=True)


if __name__ == "__main__":
    main()
