"""What a strategy is: an object that reads a `Context` at each closed candle and returns intents.

To add a strategy, write one module with a subclass of `Strategy` decorated with
`@register("YourName_v1")`: in `ict/strategies/` (listed in `ict/strategies/__init__.py`),
or in your own file named by `[strategy] strategy_file`. Its `defaults` dict names every
parameter it accepts; `[strategy.params]` in settings.toml overrides them, and an unknown,
mistyped or out-of-range parameter is refused at start-up, before anything is written.
The runner (`ict.strategies.runner`) owns the ICT engines; a strategy never builds one.
"""
from __future__ import annotations

import difflib
from typing import Any, ClassVar, Iterable

from ict.intervals import INTERVAL_MS
from ict.models import EntryType, Intent, Side, Signal
from ict.strategies.context import Context



class Strategy:
    """Base class. Subclasses set `name` (via `@register`), `defaults`, optionally `timeframes`,
    and override `on_candle` (and `check` for parameter ranges).

    - `symbol`: the symbol traded, upper case (`BTCUSDT`).
    - `params`: the defaults merged with `[strategy.params]`, same types as the defaults.
    - `timeframes`: higher intervals the strategy reads with `ctx.tf("1h")`; each must be
      above the base interval and a whole multiple of it.
    Raises ValueError (one line naming the parameter) for a bad parameter.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    timeframes: tuple[str, ...] = ()   # not a ClassVar: a strategy may set its own from its params

    def __init__(self, symbol: str, params: dict[str, Any] | None = None) -> None:
        self.symbol = symbol
        self.params = self.check_params(params or {})
        self.check()

    @classmethod
    def check_params(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Merge `given` over `defaults`; raise ValueError naming an unknown or mistyped key."""
        merged = dict(cls.defaults)
        for key, value in given.items():
            if key not in cls.defaults:
                hint = difflib.get_close_matches(key, cls.defaults, n=1)
                accepted = ", ".join(sorted(cls.defaults)) or "none"
                suggestion = f"did you mean {hint[0]!r}? " if hint else ""
                raise ValueError(f"[strategy.params] {key} is not a parameter of {cls.name}; {suggestion}accepted: {accepted}")
            default = cls.defaults[key]
            if not _same_kind(default, value):
                raise ValueError(f"[strategy.params] {key} = {value!r} has the wrong type; {cls.name} expects {type(default).__name__} like {default!r}")
            merged[key] = float(value) if isinstance(default, float) else value
        return merged

    @classmethod
    def check_timeframes(cls, interval: str, timeframes: tuple[str, ...] | None = None) -> None:
        """Raise ValueError (one line) unless every declared timeframe is a known interval
        above `interval` and a whole multiple of it. `timeframes`: an instance's own, when a
        parameter chose them (default: the class's)."""
        base = INTERVAL_MS[interval]
        given = cls.timeframes if timeframes is None else timeframes
        if isinstance(given, str):  # ("1h") without the comma is a string, read letter by letter
            raise ValueError(f'{cls.name} declares timeframes = {given!r}; timeframes must be a tuple of intervals, '
                             f'e.g. timeframes = ("1h",) with the comma')
        declared = tuple(given)
        for name in declared:
            length = INTERVAL_MS.get(name)
            if length is None or length <= base or length % base:
                raise ValueError(f'{cls.name} declares timeframes = {declared!r}, but "{name}" is not a whole multiple '
                                 f'above [strategy] interval = "{interval}"; {_timeframe_fix(name, base)}')

    def check(self) -> None:
        """Check parameter ranges (types are already checked); raise ValueError with one line
        such as `[strategy.params] reward_risk = 0 must be above 0; try 2.0`. Default: none."""

    def on_candle(self, ctx: Context) -> list[Intent]:
        """Take the context of one closed base candle (`ict.strategies.context.Context`);
        return intents: `Signal`, `CancelEntry`, `ClosePosition`, `MoveStop` (usually none)."""
        raise NotImplementedError

    def signal(self, ctx: Context, side: Side, stop: float, target: float, *, limit: float | None = None,
               basis: Iterable = (), reason: str = "", expiry_candles: int | None = None) -> Signal:
        """A `Signal` from this candle: MARKET at the close, or LIMIT at `limit` when given.

        `basis` takes refs ("fvg:812") or events / zones / changes of any timeframe, turned into
        refs with `ctx.ref` ("1h:choch:12" for an event of the "1h" chart).
        `expiry_candles` (LIMIT only) overrides `limit_entry_timeout_candles`."""
        candle, side = ctx.candle, Side(side)
        assert candle is not None  # a strategy runs at a closed base candle
        refs = tuple(item if isinstance(item, str) else ctx.ref(item) for item in basis)
        kind = EntryType.LIMIT if limit is not None else EntryType.MARKET
        return Signal(symbol=self.symbol, side=side, entry_type=kind, stop_price=float(stop), take_profit_price=float(target),
                      reference_price=candle.close, candle_time=candle.open_time, strategy=self.name,
                      reason=reason or f"{self.name} {side.value}", limit_price=None if limit is None else float(limit),
                      basis=refs, expiry_candles=expiry_candles)


def _timeframe_fix(name: str, base: int) -> str:
    """The fix for a refused higher timeframe: a real interval, one that fits the base, or a finer base."""
    if name not in INTERVAL_MS:
        return f'"{name}" is not a Binance interval; use one of {", ".join(INTERVAL_MS)}'
    fits = [f'"{other}"' for other, length in INTERVAL_MS.items() if length > base and length % base == 0]
    if not fits:
        return "use a finer [strategy] interval"
    return f"use one of {', '.join(fits[:6])}{', ...' if len(fits) > 6 else ''} or a finer [strategy] interval"


def _same_kind(default: Any, value: Any) -> bool:
    # bool is an int subclass in Python; a float parameter also takes a whole number
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


_REGISTRY: dict[str, type[Strategy]] = {}


def register(name: str):
    """Class decorator: make a strategy available as `strategy_name = name` in settings.toml."""

    def add(cls: type[Strategy]) -> type[Strategy]:
        known = _REGISTRY.get(name)
        # the same class again (a strategy file loaded twice in one process) replaces itself
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"two strategies are registered as {name!r}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def strategy_names() -> list[str]:
    """Every registered strategy name, sorted."""
    return sorted(_REGISTRY)


def strategy_class(name: str) -> type[Strategy]:
    """The class registered as `name`; KeyError with a suggestion when there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        hint = difflib.get_close_matches(name, _REGISTRY, n=1)
        suggestion = f"did you mean {hint[0]!r}? " if hint else ""
        raise KeyError(f"{suggestion}known strategies: {', '.join(strategy_names())}") from None
