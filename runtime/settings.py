"""Loading and checking settings.toml: every key known, typed and in range, or one clear line.

Each table's keys are declared once below with their type, range and default; the
comments beside them in settings.toml say the same in the trader's words. A bad value
raises `SettingsError` naming the file, table, key, the value and what is accepted;
bot.py prints that line and exits with code 2.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ict.intervals import INTERVAL_MS
from ict.strategies import strategy_class, strategy_names
from trade.risk import RiskSettings
from runtime.strategy_file import StrategyFileError, load_strategy_file

MODES = ("replay", "paper", "testnet", "demo", "mainnet")
INTERVALS = INTERVAL_MS   # Binance kline intervals and their lengths in ms (ict/intervals.py)
REQUIRED = object()


class SettingsError(ValueError):
    """settings.toml cannot be used; the message is one line naming the key and the fix."""


@dataclass(frozen=True)
class Key:
    """One setting: its kind (str, int, Decimal, bool), default, and a check returning the
    accepted range in words when the value is outside it."""

    kind: type
    default: Any = REQUIRED
    accepts: str = ""
    ok: Callable[[Any], bool] = lambda value: True


def _between(low, high, accepts):
    return Key(type(low), REQUIRED, accepts, lambda v: low <= v <= high)


def _choice(*options, default=REQUIRED):
    return Key(str, default, "one of " + ", ".join(f'"{o}"' for o in options), lambda v: v in options)


def _positive(kind=Decimal, default=REQUIRED):
    return Key(kind, default, "a number above 0", lambda v: v > 0)


SCHEMA: dict[str, dict[str, Key]] = {
    "bot": {
        "mode": _choice(*MODES),
        "journal": Key(str, "journal.db", "a file path", bool),
        "journal_fsync": Key(bool, True, "true or false"),
        "log_file": Key(str, "log.txt", "a file path", bool),
        "log_level": _choice("DEBUG", "INFO", "WARNING", "ERROR", default="INFO"),
        "log_file_level": _choice("DEBUG", "INFO", "WARNING", "ERROR", default="INFO"),
        "confirm_mainnet": Key(bool, False, "true or false"),
    },
    "strategy": {
        "symbol": Key(str, REQUIRED, "an upper-case Binance symbol like \"BTCUSDT\"", lambda v: v.isalnum() and v.isupper()),
        "interval": _choice(*INTERVALS),
        # checked against the registry after strategy_file is loaded
        "strategy_name": Key(str, REQUIRED, "a registered strategy name like \"Mock_ThreeCandles_v1\"", bool),
        "strategy_file": Key(str, "", "a Python file path relative to the settings file, or \"\" for none"),
        "limit_entry_timeout_candles": Key(int, 10, "a whole number from 1 to 10000", lambda v: 1 <= v <= 10_000),
        "params": Key(dict, {}, "a table of the strategy's parameters"),
    },
    "risk": {
        "leverage": Key(int, REQUIRED, "a whole number from 1 to 125", lambda v: 1 <= v <= 125),
        "loss_per_trade_percent": Key(Decimal, None, "a number above 0 and at most 10", lambda v: 0 < v <= 10),
        "fixed_loss_usdt": Key(Decimal, None, "a number above 0", lambda v: v > 0),
        "max_positions": Key(int, REQUIRED, "a whole number from 1 to 100", lambda v: 1 <= v <= 100),
        "margin_type": _choice("ISOLATED", "CROSSED", default="ISOLATED"),
        "protect_within_seconds": Key(int, 10, "a whole number of seconds from 3 to 300", lambda v: 3 <= v <= 300),
    },
    "replay": {
        "file": Key(str, "", "a candle file path"),
        "starting_balance_usdt": _positive(Decimal, Decimal(10_000)),
        "taker_fee": Key(Decimal, Decimal("0.0005"), "a fraction from 0 to 0.01 (0.0005 is 0.05 %)", lambda v: 0 <= v <= Decimal("0.01")),
        "maker_fee": Key(Decimal, Decimal("0.0002"), "a fraction from 0 to 0.01 (0.0002 is 0.02 %)", lambda v: 0 <= v <= Decimal("0.01")),
        "slippage_ticks": Key(int, 0, "a whole number from 0 to 1000", lambda v: 0 <= v <= 1000),
        "tick_size": _positive(Decimal, Decimal("0.1")),
        "step_size": _positive(Decimal, Decimal("0.001")),
        "min_qty": _positive(Decimal, Decimal("0.001")),
        "min_notional": Key(Decimal, Decimal(50), "a number from 0 up", lambda v: v >= 0),
    },
    "exchange": {
        "rest_url": Key(str, "", "an http(s):// URL, or \"\" for the mode's Binance host",
                        lambda v: v == "" or v.startswith(("http://", "https://"))),
        "ws_url": Key(str, "", "a ws(s):// URL, or \"\" for the mode's Binance host", lambda v: v == "" or v.startswith(("ws://", "wss://"))),
        "stream_silence_seconds": Key(int, 30, "a whole number of seconds from 5 to 600", lambda v: 5 <= v <= 600),
        "recv_window_ms": Key(int, 5000, "a whole number from 1000 to 60000", lambda v: 1000 <= v <= 60_000),
        "warmup_candles": Key(int, 300, "a whole number from 0 to 1500", lambda v: 0 <= v <= 1500),
    },
}


@dataclass(frozen=True)
class Settings:
    """Everything settings.toml says, checked. `path` is the file it came from."""

    path: Path
    bot: dict[str, Any]
    strategy: dict[str, Any]
    risk: RiskSettings
    replay: dict[str, Any]
    exchange: dict[str, Any]
    ict: Any

    @property
    def mode(self) -> str:
        return self.bot["mode"]

    @property
    def interval_ms(self) -> int:
        return INTERVALS[self.strategy["interval"]]

    def resolve(self, relative: str) -> Path:
        """A path from the settings, relative to the settings file's folder."""
        path = Path(relative)
        return path if path.is_absolute() else self.path.parent / path

    def build_strategy(self):
        """The configured strategy (a new instance; its parameters were checked at loading)."""
        return strategy_class(self.strategy["strategy_name"])(self.strategy["symbol"], self.strategy["params"])

    def build_runner(self, feedback=None):
        """A `StrategyRunner` for the configured strategy, interval and `[ict]` settings;
        `feedback` returns (positions, refusals) as the trader last published them."""
        from ict.strategies.runner import StrategyRunner

        return StrategyRunner(self.build_strategy(), self.strategy["interval"], self.ict, feedback)


def load_settings(path: str | Path) -> Settings:
    """Read and check `path`; raise SettingsError with one line on the first problem."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file, parse_float=Decimal)
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist; pass --settings with the path of your settings.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from None
    name = path.name
    unknown = sorted(set(raw) - set(SCHEMA) - {"ict"})
    if unknown:
        raise SettingsError(f"{name} has an unknown table [{unknown[0]}]{_hint(unknown[0], list(SCHEMA) + ['ict'])}; known tables: "
                            + ", ".join(f"[{t}]" for t in list(SCHEMA) + ["ict"]))
    tables = {table: _check_table(name, table, raw.get(table, {})) for table in SCHEMA}
    risk = tables["risk"]
    if (risk["loss_per_trade_percent"] is None) == (risk["fixed_loss_usdt"] is None):
        raise SettingsError(f"{name} [risk] needs exactly one of loss_per_trade_percent or fixed_loss_usdt; set one and remove the other")
    strategy = tables["strategy"]
    strategy["params"] = _check_strategy(name, path, strategy)
    settings = Settings(path, tables["bot"], strategy, RiskSettings(**risk), tables["replay"], tables["exchange"], _ict(name, raw.get("ict", {})))
    if settings.mode == "replay":
        check_replay_file(settings, settings.replay["file"], "[replay] file", relative_to_settings=True)
    return settings


def _check_strategy(name: str, path: Path, strategy: dict[str, Any]) -> dict[str, Any]:
    """Load `strategy_file` if any, find `strategy_name`, and build the strategy once so its
    parameters (types and ranges) and timeframes are checked before anything is written."""
    if strategy["strategy_file"]:
        file = Path(strategy["strategy_file"])
        try:
            load_strategy_file(file if file.is_absolute() else path.parent / file, strategy["strategy_file"])
        except StrategyFileError as exc:
            raise SettingsError(f"{name} {exc}") from None
    wanted = strategy["strategy_name"]
    if wanted not in strategy_names():
        match = difflib.get_close_matches(wanted, strategy_names(), n=1)
        hint = f'did you mean "{match[0]}"? ' if match else ""
        raise SettingsError(f'{name} [strategy] strategy_name = "{wanted}" is not a known strategy; {hint}'
                            f"known: {', '.join(strategy_names())}")
    cls = strategy_class(wanted)
    try:
        cls.check_timeframes(strategy["interval"])
        built = cls(strategy["symbol"], _floats(strategy["params"]))
        cls.check_timeframes(strategy["interval"], built.timeframes)  # a parameter may choose them (htf)
        return built.params
    except ValueError as exc:
        raise SettingsError(f"{name} {exc}") from None
    except Exception as exc:  # a bug in a strategy's __init__ or check(): one line, not a traceback
        raise SettingsError(f"{name} [strategy] {wanted} could not be built: {type(exc).__name__}: {exc}") from None


def check_replay_file(settings: Settings, file: str, where: str, relative_to_settings: bool = False) -> Path:
    """The candle file's path, or SettingsError naming `where` it came from. A path from
    settings.toml is relative to that file; one from the command line, to the working folder."""
    if not file:
        raise SettingsError(f"{settings.path.name} {where} is empty; name a candle file such as \"data/BTCUSDT-perp-1m-2022-05-06.csv\"")
    path = settings.resolve(file) if relative_to_settings else Path(file)
    if path.is_dir():
        raise SettingsError(f"{where} = \"{file}\" is a folder ({path}), not a candle file; name a candle file such as "
                            "\"data/BTCUSDT-perp-1m-2022-05-06.csv\"")
    if not path.is_file():
        raise SettingsError(f"{where} = \"{file}\" does not exist; name a candle file such as \"data/BTCUSDT-perp-1m-2022-05-06.csv\"")
    return path


def _check_table(name: str, table: str, values: Any) -> dict[str, Any]:
    spec = SCHEMA[table]
    if not isinstance(values, dict):
        raise SettingsError(f"{name} [{table}] must be a table of settings, not {values!r}")
    for key in values:
        if key not in spec:
            raise SettingsError(f"{name} [{table}] {key} is not a setting{_hint(key, spec)}; known keys: {', '.join(spec)}")
    checked = {}
    for key, rule in spec.items():
        if key not in values:
            if rule.default is REQUIRED:
                raise SettingsError(f"{name} [{table}] {key} is missing; set it to {rule.accepts}")
            checked[key] = rule.default
            continue
        value = values[key]
        if rule.kind is Decimal and isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if isinstance(value, bool) != (rule.kind is bool) or not isinstance(value, rule.kind):
            raise SettingsError(f"{name} [{table}] {key} = {_show(value)} has the wrong type; use {rule.accepts}")
        if not rule.ok(value):
            raise SettingsError(f"{name} [{table}] {key} = {_show(value)} is out of range; use {rule.accepts}")
        checked[key] = value
    return checked


def _ict(name: str, table: Any):
    from ict.settings import ict_settings_from_table

    if not isinstance(table, dict):
        raise SettingsError(f"{name} [ict] must be a table of settings")
    try:
        return ict_settings_from_table(_floats(table))
    except ValueError as exc:
        raise SettingsError(f"{name} {exc}") from None


def _floats(table: dict) -> dict:
    """The ICT layer and strategies take plain floats; TOML numbers were read as Decimal."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in table.items()}


def _hint(word: str, options) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
