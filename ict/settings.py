"""The `[ict]` settings: one frozen `IctSettings` with a default and a check for every parameter.

`ict_settings_from_table` turns the `[ict]` table of settings.toml into `IctSettings`
with the checker every settings table uses (`ict.settings_file.read_table`). A key it
does not know, a value of the wrong type or out of range is refused with one line naming
the key, the value and what is accepted; nothing is silently ignored.
The defaults detect every three-candle gap (size and displacement filters off);
strategies switch filters on through their own parameters.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ict.settings_file import SWITCH, SettingError, checks, either, number, read_table, setting, show, whole


@dataclass(frozen=True)
class IctSettings:
    """Parameters of `ict.engine.Engine`; get one from `ict_settings_from_table`.

    Lengths and ages count closed candles of the traded interval; ATR multiples use
    Wilder's ATR (`atr_period`). The comment beside each key in the `[ict]` block of
    settings.toml says the same thing in the same words.
    """

    internal_length: int = setting(whole(1, 100), 5)
    """Internal swings: a high above this many candles each side, known that many candles later."""

    swing_length: int = setting(whole(2, 200), 50)
    """Major swings: the same rule with more candles each side (must be above internal_length)."""

    pivot_both_sides: bool = setting(SWITCH, True)
    """A swing must also top (or bottom) the candles before it, not only those after."""

    atr_period: int = setting(whole(1, 1000), 14)
    """Wilder's ATR over this many candles: the yardstick for "big" and "equal"."""

    break_on: str = setting(either("close", "wick"), "close")
    """What breaks a swing (BOS/CHoCH): a "close" beyond it, or any "wick" beyond it."""

    fvg_min_size_atr: float = setting(number(0.0, 20.0), 0.0)
    """Ignore fair value gaps smaller than this many ATRs (0 = keep every gap)."""

    fvg_min_size_ticks: int = setting(whole(0, 1_000_000), 0)
    """Ignore fair value gaps smaller than this many price ticks (0 = off)."""

    tick_size: float = setting(number(1e-12, 1e9), 0.1)
    """The symbol's price tick, for fvg_min_size_ticks (BTCUSDT perpetual: 0.1)."""

    fvg_displacement_atr: float = setting(number(0.0, 20.0), 0.0)
    """Keep a gap only if its middle candle's body is at least this many ATRs (0 = off)."""

    fvg_max_age: int = setting(whole(3, 1_000_000), 500)
    """Stop watching a gap this many candles after it is confirmed."""

    fvg_max_active: int = setting(whole(1, 10_000), 50)
    """Watch at most this many gaps per direction (oldest dropped first)."""

    ob_zone: str = setting(either("full", "body"), "full")
    """Order-block zone: the candle's "full" range, wicks included, or its "body" only."""

    ob_volatile_atr: float = setting(number(0.0, 100.0), 2.0)
    """Skip order-block candles whose range is at least this many ATRs (0 = off)."""

    ob_invalidate_on: str = setting(either("close", "wick"), "close")
    """An order block fails on a "close" beyond its far edge, or on any "wick" beyond it."""

    ob_max_age: int = setting(whole(1, 1_000_000), 1000)
    """Stop watching an order block this many candles after the break that made it."""

    ob_max_active: int = setting(whole(1, 10_000), 30)
    """Watch at most this many order blocks per direction."""

    breaker_strict: bool = setting(SWITCH, False)
    """True: only OBs whose leg swept a prior swing and that fail with a break become breakers."""

    breaker_max_age: int = setting(whole(1, 1_000_000), 1000)
    """Stop watching a breaker block this many candles after it is confirmed."""

    breaker_max_active: int = setting(whole(1, 10_000), 30)
    """Watch at most this many breaker blocks per direction."""

    equal_tolerance_atr: float = setting(number(0.0, 5.0), 0.1)
    """Swing highs (lows) within this many ATRs of each other are equal: a liquidity pool."""

    pool_max_age: int = setting(whole(1, 1_000_000), 500)
    """Older swings do not pair into equal highs/lows; a pool is dropped this long after it forms."""

    pool_max_active: int = setting(whole(1, 10_000), 50)
    """Keep at most this many equal-high (and equal-low) pools."""

    previous_day_pools: bool = setting(SWITCH, True)
    """The previous UTC day's high and low are liquidity pools too."""

    previous_week_pools: bool = setting(SWITCH, True)
    """The previous week's high and low (weeks start Monday 00:00 UTC) are pools too."""


def _unknown_key(table: str, key: str, value: Any, known: list[str]) -> str:
    hint = difflib.get_close_matches(str(key), known, n=1)
    suggestion = f"did you mean {hint[0]!r}?" if hint else f"known settings: {', '.join(known)}"
    return f"[{table}] {key} = {show(value)} is not a setting of [{table}]; {suggestion}"


def ict_settings_from_table(table: Any) -> IctSettings:
    """Check the `[ict]` table of settings.toml and return `IctSettings`; missing keys keep defaults.

    Raises ValueError (`ict.settings_file.SettingError`) with one line, e.g.
    `[ict] swing_length = 0 is out of range; use a whole number from 2 to 200`.
    """
    settings = read_table(IctSettings, "ict", table, _unknown_key)
    if settings.swing_length <= settings.internal_length:
        raise SettingError(
            f"[ict] swing_length = {settings.swing_length} must be above internal_length = "
            f"{settings.internal_length}; use a longer swing_length or a shorter internal_length"
        )
    return settings


def settings_keys() -> tuple[str, ...]:
    """Every `[ict]` key, in the order of `IctSettings`."""
    return tuple(checks(IctSettings))
