"""What a strategy is: an object fed closed candles that sometimes returns signals.

To add a strategy, write one new module in `ict/strategies/` with a subclass of
`Strategy` decorated with `@register("YourName_v1")`, and list the module in
`ict/strategies/__init__.py`. Its `defaults` dict names every parameter it accepts;
`[strategy.params]` in settings.toml overrides them, and an unknown or mistyped
parameter is refused at start-up.
"""
from __future__ import annotations

import difflib
from typing import Any, ClassVar

from ict.models import Candle, Signal


class Strategy:
    """Base class. Subclasses set `name` (via `@register`) and `defaults`, and override `on_candle`.

    - `symbol`: the symbol traded, upper case (`BTCUSDT`).
    - `params`: the defaults merged with `[strategy.params]`, same types as the defaults.
    - `ict_settings`: the `[ict]` table as loaded (`ict.settings.IctSettings`), for
      strategies that build an `ict.engine.Engine`; None in tests that do not need it.
    """

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, symbol: str, params: dict[str, Any] | None = None, ict_settings: Any = None) -> None:
        self.symbol = symbol
        self.params = self.check_params(params or {})
        self.ict_settings = ict_settings

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

    def on_candle(self, candle: Candle) -> list[Signal]:
        """Take one closed candle; return the signals it triggers (usually none)."""
        raise NotImplementedError


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
        if name in _REGISTRY:
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
