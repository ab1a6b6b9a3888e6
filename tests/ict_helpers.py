"""Helpers for the ICT tests: hand-made candles for edge cases, and the real files, loaded once."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ict.candle_file import load_candles
from ict.engine import Engine
from ict.events import Event, LifecycleRecord
from ict.models import Candle
from ict.settings import IctSettings

ROOT = Path(__file__).resolve().parent.parent
DAY_FILE = ROOT / "data" / "BTCUSDT-perp-1m-2022-05-06.csv"
"""1,440 one-minute BTCUSDT perpetual candles of 2022-05-06, a volatile day (−4 %)."""
LONG_FILE = ROOT / "data" / "BTCUSDT-perp-1m-2025-05-04.csv"
"""73,139 one-minute BTCUSDT perpetual candles, 2025-05-04 15:33 to 2025-06-24 10:31 UTC, no gaps."""
FIVE_MINUTE_FILE = ROOT / "data" / "BTCUSDT-perp-5m-2023-01-01.csv"
"""143,900 five-minute BTCUSDT perpetual candles, 2023-01-01 to 2024-05-14, three flat zero-volume bars."""

START = 1_700_006_400_000  # 2023-11-15 00:00 UTC, a Wednesday
MINUTE = 60_000


@lru_cache(maxsize=None)
def real_candles(path: Path) -> tuple[Candle, ...]:
    return tuple(load_candles(path))


def bar(i: int, high: float, low: float, open_: float | None = None, close: float | None = None,
        volume: float = 1.0, step: int = MINUTE, start: int = START) -> Candle:
    """Candle number `i` of a hand-made series; open and close default to the middle."""
    middle = (high + low) / 2
    return Candle(start + i * step, middle if open_ is None else open_, high, low,
                  middle if close is None else close, volume)


def bars(rows, step: int = MINUTE, start: int = START) -> list[Candle]:
    """Candles from rows of (high, low) or (high, low, open, close)."""
    return [bar(i, *row, step=step, start=start) for i, row in enumerate(rows)]


def t(i: int, step: int = MINUTE) -> int:
    """Open time of hand-made candle `i`."""
    return START + i * step


def events(reports, kind: str | None = None) -> list[Event]:
    return [r for r in reports if isinstance(r, Event) and (kind is None or r.kind == kind)]


def records(reports, state: str | None = None) -> list[LifecycleRecord]:
    return [r for r in reports if isinstance(r, LifecycleRecord) and (state is None or r.state == state)]


def run(candles, **settings) -> list:
    return Engine(IctSettings(**settings)).scan(candles)
