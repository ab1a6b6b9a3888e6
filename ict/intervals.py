"""Binance kline intervals in milliseconds and where their periods start.

Binance aligns klines in UTC: an interval of up to a day starts at a multiple of its
length since the epoch, and a week starts on Monday 00:00 UTC (docs/ict.md, as
`ict.sessions` uses). 3-day periods are counted from the epoch too (1970-01-01, so
2023-01-02 00:00 UTC starts one, and 2022-12-30 the one before), the `t - t % length`
rule generic exchange libraries apply to every fixed interval. Binance's docs do not
state the 3d anchor and no recorded Binance 3d kline is bundled, so this is unverified:
`test_higher_timeframe_three_days_count_from_the_epoch` pins the rule, it does not prove
it; check one 3d kline's open time before relying on 3d periods. The month (`1M`) is
left out: it has no fixed length, and the bot does not trade it.

`INTERVAL_MS` is the one interval table: `runtime.settings.INTERVALS` is this same dict.
`format_time` and `utc_text` write a candle time for people, in UTC; `finest_intervals` picks each
symbol's shortest interval.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; 1970-01-05 a Monday

INTERVAL_MS: dict[str, int] = {
    "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
    "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
    "12h": 43_200_000, "1d": DAY_MS, "3d": 3 * DAY_MS, "1w": WEEK_MS,
}


def interval_ms(interval: str) -> int:
    """The length of `interval` ("5m", "1h", "1w") in ms; ValueError naming the accepted ones."""
    try:
        return INTERVAL_MS[interval]
    except KeyError:
        raise ValueError(f"interval {interval!r} is not a Binance kline interval; use one of "
                         + ", ".join(INTERVAL_MS)) from None


def finest_intervals(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each symbol's shortest interval among (symbol, interval) pairs, symbols in first-seen order:
    the candles a symbol read at several intervals takes its prices and simulated fills from. An
    interval this table does not know counts as 0 ms (a test's stand-in strategy)."""
    finest: dict[str, str] = {}
    for symbol, interval in pairs:
        known = finest.get(symbol)
        if known is None or INTERVAL_MS.get(interval, 0) < INTERVAL_MS.get(known, 0):
            finest[symbol] = interval
    return finest


def period_offset_ms(interval: str) -> int:
    """How far past the epoch the periods of `interval` are counted from: Monday for `1w`, else 0."""
    return MONDAY_OFFSET_MS if interval == "1w" else 0


def period_start(open_time_ms: int, interval: str) -> int:
    """The open time (epoch ms UTC) of the `interval` period holding `open_time_ms`."""
    offset = period_offset_ms(interval)
    return open_time_ms - (open_time_ms - offset) % interval_ms(interval)


def format_time(ms: int) -> str:
    """UTC `YYYY-MM-DD HH:MM` for an epoch-ms time (a candle's open time)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def utc_text(ms: int) -> str:
    """Epoch milliseconds as "2022-05-06 00:00 UTC", for log and error lines."""
    return format_time(ms) + " UTC"
