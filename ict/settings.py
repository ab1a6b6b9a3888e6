"""The `[ict]` settings: one frozen `IctSettings` with a default for every parameter, and its checker.

`ict_settings_from_table` turns the `[ict]` table of settings.toml into `IctSettings`.
A key it does not know, a value of the wrong type or out of range is refused with one
line naming the key, the value and what is accepted; nothing is silently ignored.
The defaults detect every three-candle gap (size and displacement filters off);
strategies switch filters on through their own parameters.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class IctSettings:
    """Parameters of `ict.engine.Engine`; get one from `ict_settings_from_table`.

    Lengths and ages count closed candles of the traded interval; ATR multiples use
    Wilder's ATR (`atr_period`). The comment beside each key in the `[ict]` block of
    settings.toml says the same thing in the same words.
    """

    internal_length: int = 5
    """Internal swings: a high above this many candles each side, known that many candles later."""

    swing_length: int = 50
    """Major swings: the same rule with more candles each side (must be above internal_length)."""

    pivot_both_sides: bool = True
    """A swing must also top (or bottom) the candles before it, not only those after."""

    atr_period: int = 14
    """Wilder's ATR over this many candles: the yardstick for "big" and "equal"."""

    break_on: str = "close"
    """What breaks a swing (BOS/CHoCH): a "close" beyond it, or any "wick" beyond it."""

    fvg_min_size_atr: float = 0.0
    """Ignore fair value gaps smaller than this many ATRs (0 = keep every gap)."""

    fvg_min_size_ticks: int = 0
    """Ignore fair value gaps smaller than this many price ticks (0 = off)."""

    tick_size: float = 0.1
    """The symbol's price tick, for fvg_min_size_ticks (BTCUSDT perpetual: 0.1)."""

    fvg_displacement_atr: float = 0.0
    """Keep a gap only if its middle candle's body is at least this many ATRs (0 = off)."""

    fvg_max_age: int = 500
    """Stop watching a gap this many candles after it is confirmed."""

    fvg_max_active: int = 50
    """Watch at most this many gaps per direction (oldest dropped first)."""

    ob_zone: str = "full"
    """Order-block zone: the candle's "full" range, wicks included, or its "body" only."""

    ob_volatile_atr: float = 2.0
    """Skip order-block candles whose range is at least this many ATRs (0 = off)."""

    ob_invalidate_on: str = "close"
    """An order block fails on a "close" beyond its far edge, or on any "wick" beyond it."""

    ob_max_age: int = 1000
    """Stop watching an order block this many candles after the break that made it."""

    ob_max_active: int = 30
    """Watch at most this many order blocks per direction."""

    breaker_strict: bool = False
    """True: only OBs whose leg swept a prior swing and that fail with a break become breakers."""

    breaker_max_age: int = 1000
    """Stop watching a breaker block this many candles after it is confirmed."""

    breaker_max_active: int = 30
    """Watch at most this many breaker blocks per direction."""

    equal_tolerance_atr: float = 0.1
    """Swing highs (lows) within this many ATRs of each other are equal: a liquidity pool."""

    pool_max_age: int = 500
    """Older swings do not pair into equal highs/lows; a pool is dropped this long after it forms."""

    pool_max_active: int = 50
    """Keep at most this many equal-high (and equal-low) pools."""

    previous_day_pools: bool = True
    """The previous UTC day's high and low are liquidity pools too."""

    previous_week_pools: bool = True
    """The previous week's high and low (weeks start Monday 00:00 UTC) are pools too."""


# key -> (type, low, high); type "choice" keeps its accepted values in `low`
_SPECS: dict[str, tuple[str, Any, Any]] = {
    "internal_length": ("int", 1, 100),
    "swing_length": ("int", 2, 200),
    "pivot_both_sides": ("bool", None, None),
    "atr_period": ("int", 1, 1000),
    "break_on": ("choice", ("close", "wick"), None),
    "fvg_min_size_atr": ("float", 0.0, 20.0),
    "fvg_min_size_ticks": ("int", 0, 1_000_000),
    "tick_size": ("float", 1e-12, 1e9),
    "fvg_displacement_atr": ("float", 0.0, 20.0),
    "fvg_max_age": ("int", 3, 1_000_000),
    "fvg_max_active": ("int", 1, 10_000),
    "ob_zone": ("choice", ("full", "body"), None),
    "ob_volatile_atr": ("float", 0.0, 100.0),
    "ob_invalidate_on": ("choice", ("close", "wick"), None),
    "ob_max_age": ("int", 1, 1_000_000),
    "ob_max_active": ("int", 1, 10_000),
    "breaker_strict": ("bool", None, None),
    "breaker_max_age": ("int", 1, 1_000_000),
    "breaker_max_active": ("int", 1, 10_000),
    "equal_tolerance_atr": ("float", 0.0, 5.0),
    "pool_max_age": ("int", 1, 1_000_000),
    "pool_max_active": ("int", 1, 10_000),
    "previous_day_pools": ("bool", None, None),
    "previous_week_pools": ("bool", None, None),
}


def _accepted(key: str) -> str:
    kind, low, high = _SPECS[key]
    if kind == "int":
        return f"use a whole number from {low} to {high}"
    if kind == "float":
        return f"use a number from {low:g} to {high:g}"
    if kind == "bool":
        return "use true or false"
    return "use " + " or ".join(f'"{choice}"' for choice in low)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _check(key: str, value: Any) -> Any:
    kind, low, high = _SPECS[key]
    shown = f"[ict] {key} = {_show(value)}"
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{shown} has the wrong type; {_accepted(key)}")
        return value
    if kind == "choice":
        if not isinstance(value, str) or value not in low:
            raise ValueError(f"{shown} is not accepted; {_accepted(key)}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and not isinstance(value, int)):
        raise ValueError(f"{shown} has the wrong type; {_accepted(key)}")
    if not low <= value <= high:  # also refuses nan
        raise ValueError(f"{shown} is out of range; {_accepted(key)}")
    return float(value) if kind == "float" else value


def ict_settings_from_table(table: dict) -> IctSettings:
    """Check the `[ict]` table of settings.toml and return `IctSettings`; missing keys keep defaults.

    Raises ValueError with one line, e.g.
    `[ict] swing_length = 0 is out of range; use a whole number from 2 to 200`.
    """
    if not isinstance(table, dict):
        raise ValueError(f"[ict] must be a table of settings, not {_show(table)}")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _SPECS:
            hint = difflib.get_close_matches(str(key), _SPECS, n=1)
            suggestion = f"did you mean {hint[0]!r}?" if hint else f"known settings: {', '.join(_SPECS)}"
            raise ValueError(f"[ict] {key} = {_show(value)} is not a setting of [ict]; {suggestion}")
        values[key] = _check(key, value)
    settings = IctSettings(**values)
    if settings.swing_length <= settings.internal_length:
        raise ValueError(
            f"[ict] swing_length = {settings.swing_length} must be above internal_length = "
            f"{settings.internal_length}; use a longer swing_length or a shorter internal_length"
        )
    return settings


def settings_keys() -> tuple[str, ...]:
    """Every `[ict]` key, in the order of `IctSettings`."""
    return tuple(f.name for f in fields(IctSettings))


if set(_SPECS) != set(settings_keys()):  # a new field without a check would be accepted unchecked
    raise RuntimeError("ict.settings: every IctSettings field needs an entry in _SPECS")
