"""Benchmark of the ICT engine: speed per detector and for the whole engine, and memory.

Run from the repository root:

    python bench/indicators.py [FILE]

FILE defaults to data/BTCUSDT-perp-5m-2023-01-01.csv (143,900 five-minute candles).
Prints candles per second for each detector (fed together with the detectors it reads
from, as noted), for the whole engine, the engine's time per closed candle (mean, p50,
p99, max) and its memory: the peak while streaming, and what the engine holds after a
quarter, half and all of the file (flat means bounded active sets). Candles are loaded
before any timing; reports are discarded as they come, as a live bot would.
"""
from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ict.atr import WilderAtr  # noqa: E402
from ict.breakers import BreakerDetector  # noqa: E402
from ict.candle_file import load_candles  # noqa: E402
from ict.engine import Engine  # noqa: E402
from ict.fair_value_gaps import FairValueGapDetector  # noqa: E402
from ict.liquidity import LiquidityDetector  # noqa: E402
from ict.order_blocks import OrderBlockDetector  # noqa: E402
from ict.settings import IctSettings  # noqa: E402
from ict.structure import StructureDetector  # noqa: E402
from ict.swings import SwingDetector  # noqa: E402

DEFAULT_FILE = ROOT / "data" / "BTCUSDT-perp-5m-2023-01-01.csv"


def chains(settings: IctSettings) -> dict[str, list]:
    """name -> list of objects to update in order; the last one is the detector measured."""
    def swings(length, level="internal"):
        return SwingDetector(length, level, settings.pivot_both_sides)

    atr = WilderAtr(settings.atr_period)
    internal, swing = swings(settings.internal_length), swings(settings.swing_length, "swing")
    structures = [StructureDetector(internal, settings.break_on), StructureDetector(swing, settings.break_on)]
    fvgs = FairValueGapDetector(atr, max_age=settings.fvg_max_age, max_active=settings.fvg_max_active)
    blocks = OrderBlockDetector(structures, atr, fvgs, settings.ob_zone, settings.ob_volatile_atr)
    atr2 = WilderAtr(settings.atr_period)
    internal2 = swings(settings.internal_length)
    return {
        "atr (Wilder, 14)": [WilderAtr(settings.atr_period)],
        f"swings internal (L={settings.internal_length})": [swings(settings.internal_length)],
        f"swings swing (L={settings.swing_length})": [swings(settings.swing_length, "swing")],
        "structure internal (+ its swings)": [internal3 := swings(settings.internal_length),
                                              StructureDetector(internal3, settings.break_on)],
        "fair value gaps (+ atr)": [FairValueGapDetector(max_age=settings.fvg_max_age)],
        "order blocks + breakers (+ atr, swings, structure, fvgs)":
            [atr, internal, swing, *structures, fvgs, blocks, BreakerDetector(blocks)],
        "liquidity (+ atr, internal swings)": [atr2, internal2, LiquidityDetector(internal2, atr2)],
    }


def rate(objects: list, candles) -> float:
    updates = [obj.update for obj in objects]
    gc.collect()
    started = time.perf_counter()
    for candle in candles:
        for update in updates:
            update(candle)
    return len(candles) / (time.perf_counter() - started)


def engine_timings(candles) -> list[int]:
    engine = Engine()
    update = engine.update
    clock = time.perf_counter_ns
    spent = []
    gc.collect()
    for candle in candles:
        started = clock()
        update(candle)
        spent.append(clock() - started)
    return spent


def engine_memory(candles) -> tuple[int, list[tuple[int, int]]]:
    tracemalloc.start()
    engine = Engine()
    held = []
    marks = {len(candles) // 4, len(candles) // 2, len(candles)}
    for count, candle in enumerate(candles, 1):
        engine.update(candle)
        if count in marks:
            gc.collect()
            held.append((count, tracemalloc.get_traced_memory()[0]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, held


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE
    candles = load_candles(path)
    print(f"{path.name}: {len(candles):,} candles, Python {sys.version.split()[0]}")
    print("\ncandles per second, incremental (one update per closed candle):")
    for name, objects in chains(IctSettings()).items():
        print(f"  {name:<58} {rate(objects, candles):>10,.0f}")
    whole = rate([Engine()], candles)
    print(f"  {'whole engine':<58} {whole:>10,.0f}")
    spent = sorted(engine_timings(candles))
    p = lambda q: spent[min(int(q * len(spent)), len(spent) - 1)] / 1000  # noqa: E731
    print(f"\nwhole engine, time per closed candle: mean {statistics.fmean(spent) / 1000:.1f} µs, "
          f"p50 {p(0.50):.1f} µs, p99 {p(0.99):.1f} µs, max {spent[-1] / 1000:.0f} µs")
    peak, held = engine_memory(candles)
    print(f"\nengine memory (tracemalloc, candles list excluded): peak {peak / 1024:.0f} KiB while streaming")
    for count, size in held:
        print(f"  held after {count:>7,} candles: {size / 1024:>6.0f} KiB")


if __name__ == "__main__":
    main()
