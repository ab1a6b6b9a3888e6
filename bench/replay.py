"""Benchmark: replay throughput and peak memory of the whole pipeline.

    python bench/replay.py [--file data/BTCUSDT-perp-1m-2025-05-04.csv] [--repeat 3] [--strategy NAME]

Replays the file with the shipped settings (Mock_ThreeCandles_v1, the strategy runner with
its ICT engine in the loop, simulated exchange, SQLite journal in a temporary file) and
prints candles per second for the pipeline (loading the file is timed apart), and the peak
memory of the process.
Target on a 2-core machine: at least 50,000 candles/s and under 150 MB.

Then, in a process of its own (so that its peak memory is its own), the same for
FVG_Market_Entry_v1 (the ICT engine in the loop) on the 143,900-candle 5m file, when that
strategy is registered. `--strategy NAME` runs only NAME, on its defaults, with `[strategy]
interval` set to the file's.
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENGINE_STRATEGY = "FVG_Market_Entry_v1"
ENGINE_FILE = ROOT / "data" / "BTCUSDT-perp-5m-2023-01-01.csv"

from bench.strategies import interval_of  # noqa: E402
from ict.candle_file import load_candles  # noqa: E402
from ict.strategies import strategy_names  # noqa: E402
from journal.journal import Journal  # noqa: E402
from runtime.replay import run_replay  # noqa: E402
from runtime.settings import load_settings  # noqa: E402


def peak_memory_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(ROOT / "data" / "BTCUSDT-perp-1m-2025-05-04.csv"))
    parser.add_argument("--settings", default=str(ROOT / "settings.toml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strategy", help="replay with this registered strategy on its defaults (default: settings.toml's)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the bench measures the pipeline, not the console
    settings = load_settings(args.settings)
    started = time.perf_counter()
    candles = load_candles(args.file)
    load_seconds = time.perf_counter() - started
    if args.strategy:
        settings = settings.with_strategy(strategy_name=args.strategy, params={}, interval=interval_of(candles))
    print(f"{settings.strategy.strategy_name} on {args.file} ({len(candles):,} candles, "
          f"{settings.strategy.interval}), loaded in {load_seconds:.3f} s")
    best = best_cpu = None
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.repeat):
            journal = Journal.open(Path(folder) / f"bench{run}.db", "replay", durable=False)
            started, cpu_started = time.perf_counter(), time.process_time()
            summary = run_replay(settings, candles, journal)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            journal.close()
            best = seconds if best is None else min(best, seconds)
            best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
            print(f"run {run + 1}: {seconds:.3f} s, {len(candles) / seconds:,.0f} candles/s "
                  f"({len(candles) / cpu:,.0f} per CPU second; {summary.signals} signals, {summary.trades} trades)")
    print(f"best: {len(candles) / best:,.0f} candles/s ({best / len(candles) * 1e6:.1f} µs per candle); "
          f"of CPU time (what a shared machine does not distort): {len(candles) / best_cpu:,.0f} candles/s")
    print(f"peak memory: {peak_memory_mb():.0f} MB")
    if not args.strategy:
        engine_in_the_loop(args.settings)


def engine_in_the_loop(settings: str) -> None:
    """The ICT strategy run, in a child process so that its peak memory is measured alone."""
    print()
    if ENGINE_STRATEGY not in strategy_names():
        print(f"{ENGINE_STRATEGY} is not registered: engine-in-the-loop run skipped")
        return
    subprocess.run([sys.executable, __file__, "--file", str(ENGINE_FILE), "--settings", settings, "--repeat", "1",
                    "--strategy", ENGINE_STRATEGY], check=True)


if __name__ == "__main__":
    main()
