"""Loading and checking settings.toml: every key known, typed and in range, or one clear line.

Each table is one frozen dataclass whose fields carry their type, check and default
(`ict.settings_file.setting`): `BotSettings`, `StrategySettings`, `RiskSettings`
(trade/risk.py), `ReplaySettings`, `ExchangeSettings` and `IctSettings` (ict/settings.py),
all checked by the one `read_table`. The comments beside the keys in settings.toml say the
same in the trader's words (tests/test_settings_file.py holds both to it). A bad value
raises `SettingsError` naming the file, table, key, the value and what is accepted;
bot.py prints that line and exits with code 2.

To add a key: one field in its table's dataclass, e.g.
`log_backups: int = setting(whole(1, 100), 5)`, and the key with its
comment in settings.toml.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ict.intervals import INTERVAL_MS
from ict.settings import IctSettings, ict_settings_from_table
from ict.settings_file import SWITCH, Check, SettingError, TomlFileError, one_of, read_table, read_toml, setting, whole
from ict.strategies import strategy_class, strategy_names
from trade.risk import RiskSettings
from runtime.strategy_file import StrategyFileError, load_strategy_file

MODES = ("replay", "paper", "testnet", "demo", "mainnet")
INTERVALS = INTERVAL_MS   # Binance kline intervals and their lengths in ms (ict/intervals.py)


class SettingsError(ValueError):
    """settings.toml cannot be used; the message is one line naming the key and the fix."""


def _path(default: str) -> Any:
    return setting(Check(str, "a file path", bool), default)


def _positive(default: Decimal) -> Any:
    return setting(Check(Decimal, "a number above 0", lambda v: v > 0), default)


def _fee(default: str, percent: str) -> Any:
    return setting(Check(Decimal, f"a fraction from 0 to 0.01 ({default} is {percent} %)",
                         lambda v: 0 <= v <= Decimal("0.01")), Decimal(default))


def _url(schemes: tuple[str, str], example: str) -> Any:
    return setting(Check(str, f"{example} URL, or \"\" for the mode's Binance host",
                         lambda v: v == "" or v.startswith(schemes)), "")


@dataclass(frozen=True, kw_only=True)
class BotSettings:
    """The `[bot]` table: mode, journal and log files (relative to settings.toml)."""

    mode: str = setting(one_of(*MODES))
    journal: str = _path("journal.db")
    journal_fsync: bool = setting(SWITCH, True)
    log_file: str = _path("log.txt")
    log_level: str = setting(one_of("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
    log_file_level: str = setting(one_of("DEBUG", "INFO", "WARNING", "ERROR"), "INFO")
    log_max_mb: int = setting(whole(1, 1000, " of megabytes"), 10)
    log_backups: int = setting(whole(1, 100), 5)
    confirm_mainnet: bool = setting(SWITCH, False)
    heartbeat_seconds: int = setting(whole(2, 300, " of seconds"), 10)


@dataclass(frozen=True, kw_only=True)
class StrategySettings:
    """The `[strategy]` table; `params` are the strategy's own, checked by building it once."""

    symbol: str = setting(Check(str, "an upper-case Binance symbol like \"BTCUSDT\"", lambda v: v.isalnum() and v.isupper()))
    interval: str = setting(one_of(*INTERVALS))
    # checked against the registry after strategy_file is loaded
    strategy_name: str = setting(Check(str, "a registered strategy name like \"Mock_ThreeCandles_v1\"", bool))
    strategy_file: str = setting(Check(str, "a Python file path relative to the settings file, or \"\" for none"), "")
    limit_entry_timeout_candles: int = setting(whole(1, 10_000), 10)
    params: dict[str, Any] = setting(Check(dict, "a table of the strategy's parameters"), {})


@dataclass(frozen=True, kw_only=True)
class ReplaySettings:
    """The `[replay]` table: the candle file and the simulated exchange's balance, fees and symbol rules."""

    file: str = setting(Check(str, "a candle file path"), "")
    starting_balance_usdt: Decimal = _positive(Decimal(10_000))
    taker_fee: Decimal = _fee("0.0005", "0.05")
    maker_fee: Decimal = _fee("0.0002", "0.02")
    slippage_ticks: int = setting(whole(0, 1000), 0)
    tick_size: Decimal = _positive(Decimal("0.1"))
    step_size: Decimal = _positive(Decimal("0.001"))
    min_qty: Decimal = _positive(Decimal("0.001"))
    min_notional: Decimal = setting(Check(Decimal, "a number from 0 up", lambda v: v >= 0), Decimal(50))


@dataclass(frozen=True, kw_only=True)
class ExchangeSettings:
    """The `[exchange]` table: hosts and timings of the live modes."""

    rest_url: str = _url(("http://", "https://"), "an http(s)://")
    ws_url: str = _url(("ws://", "wss://"), "a ws(s)://")
    stream_silence_seconds: int = setting(whole(5, 600, " of seconds"), 30)
    recv_window_ms: int = setting(whole(1000, 60_000), 5000)
    warmup_candles: int = setting(whole(0, 1500), 300)


def _is_hhmm(text: str) -> bool:
    hours, colon, minutes = text.partition(":")
    return (colon == ":" and len(hours) == len(minutes) == 2 and hours.isdigit() and minutes.isdigit()
            and int(hours) < 24 and int(minutes) < 60)


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    """The optional `[notify]` table: phone messages (runtime/notify/); the Telegram token and
    chat id are secrets (runtime/secrets.py)."""

    telegram: bool = setting(SWITCH, False)
    telegram_api_url: str = setting(Check(str, "an http(s):// URL such as \"https://api.telegram.org\"",
                                          lambda v: v.startswith(("http://", "https://")) and len(v) > len("https://")),
                                    "https://api.telegram.org")
    daily_summary_utc: str = setting(Check(str, "a UTC time of day \"HH:MM\" such as \"00:00\"", _is_hhmm), "00:00")


TABLES: dict[str, type] = {"bot": BotSettings, "strategy": StrategySettings, "risk": RiskSettings,
                           "replay": ReplaySettings, "exchange": ExchangeSettings, "notify": NotifySettings,
                           "ict": IctSettings}
"""Every table of settings.toml and the dataclass that checks it, in the file's order."""


@dataclass(frozen=True)
class Settings:
    """Everything settings.toml says, checked. `path` is the file it came from."""

    path: Path
    bot: BotSettings
    strategy: StrategySettings
    risk: RiskSettings
    replay: ReplaySettings
    exchange: ExchangeSettings
    ict: IctSettings
    notify: NotifySettings = field(default_factory=lambda: NotifySettings())   # [notify] is optional

    @property
    def mode(self) -> str:
        return self.bot.mode

    @property
    def interval_ms(self) -> int:
        return INTERVALS[self.strategy.interval]

    def resolve(self, relative: str) -> Path:
        """A path from the settings, relative to the settings file's folder."""
        path = Path(relative)
        return path if path.is_absolute() else self.path.parent / path

    def with_bot(self, **changes: Any) -> Settings:
        """A copy with these `[bot]` values, e.g. `with_bot(journal="other.db")` (not checked again)."""
        return replace(self, bot=replace(self.bot, **changes))

    def with_strategy(self, **changes: Any) -> Settings:
        """A copy with these `[strategy]` values, e.g. `with_strategy(strategy_name=..., params={},
        interval="5m")` (not checked again: the strategy's own checks run when it is built)."""
        return replace(self, strategy=replace(self.strategy, **changes))

    def build_strategy(self):
        """The configured strategy (a new instance; its parameters were checked at loading)."""
        return strategy_class(self.strategy.strategy_name)(self.strategy.symbol, self.strategy.params)

    def build_runner(self, feedback=None):
        """A `StrategyRunner` for the configured strategy, interval and `[ict]` settings;
        `feedback` returns (positions, refusals) as the trader last published them."""
        from ict.strategies.runner import StrategyRunner

        return StrategyRunner(self.build_strategy(), self.strategy.interval, self.ict, feedback)


def load_settings(path: str | Path) -> Settings:
    """Read and check `path`; raise SettingsError with one line on the first problem."""
    path = Path(path)
    try:
        raw = read_toml(path, missing="pass --settings with the path of your settings.toml", parse_float=Decimal)
    except TomlFileError as exc:
        raise SettingsError(str(exc)) from None
    name = path.name
    unknown = sorted(set(raw) - set(TABLES))
    if unknown:
        raise SettingsError(f"{name} has an unknown table [{unknown[0]}]{_hint(unknown[0], TABLES)}; known tables: "
                            + ", ".join(f"[{t}]" for t in TABLES))
    bot, strategy, risk, replay, exchange = (_table(name, table, raw.get(table, {})) for table in list(TABLES)[:5])
    if (risk.loss_per_trade_percent is None) == (risk.fixed_loss_usdt is None):
        raise SettingsError(f"{name} [risk] needs exactly one of loss_per_trade_percent or fixed_loss_usdt; set one and remove the other")
    strategy = replace(strategy, params=_check_strategy(name, path, strategy))
    settings = Settings(path, bot, strategy, risk, replay, exchange, _ict(name, raw.get("ict", {})),
                        _table(name, "notify", raw.get("notify", {})))
    if settings.mode == "replay":
        check_replay_file(settings, settings.replay.file, "[replay] file", relative_to_settings=True)
    return settings


def _check_strategy(name: str, path: Path, strategy: StrategySettings) -> dict[str, Any]:
    """Load `strategy_file` if any, find `strategy_name`, and build the strategy once so its
    parameters (types and ranges) and timeframes are checked before anything is written."""
    if strategy.strategy_file:
        file = Path(strategy.strategy_file)
        try:
            load_strategy_file(file if file.is_absolute() else path.parent / file, strategy.strategy_file)
        except StrategyFileError as exc:
            raise SettingsError(f"{name} {exc}") from None
    wanted = strategy.strategy_name
    if wanted not in strategy_names():
        match = difflib.get_close_matches(wanted, strategy_names(), n=1)
        hint = f'did you mean "{match[0]}"? ' if match else ""
        raise SettingsError(f'{name} [strategy] strategy_name = "{wanted}" is not a known strategy; {hint}'
                            f"known: {', '.join(strategy_names())}")
    cls = strategy_class(wanted)
    try:
        cls.check_timeframes(strategy.interval)
        built = cls(strategy.symbol, _floats(strategy.params))
        cls.check_timeframes(strategy.interval, built.timeframes)  # a parameter may choose them (htf)
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


def _table(name: str, table: str, values: Any) -> Any:
    try:
        return read_table(TABLES[table], table, values)
    except SettingError as exc:
        raise SettingsError(f"{name} {exc}") from None


def _ict(name: str, table: Any) -> IctSettings:
    try:  # the ICT layer takes plain floats
        return ict_settings_from_table(_floats(table) if isinstance(table, dict) else table)
    except SettingError as exc:
        raise SettingsError(f"{name} {exc}") from None


def _floats(table: dict) -> dict:
    """The ICT layer and strategies take plain floats; TOML numbers were read as Decimal."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in table.items()}


def _hint(word: str, options) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def journal_of(journal: str | None, settings_file: str | Path) -> Path:
    """The journal a command works on (`status`, `backup`): `--journal PATH` when given, else the
    settings file's `[bot] journal`. Raises SettingsError (one line) for bad settings or a folder."""
    path = Path(journal) if journal else _journal_from(settings_file)
    if path.is_dir():
        raise SettingsError(f"journal {path} is a folder, not a journal file; pass --journal with the journal's file")
    return path


def _journal_from(settings_file: str | Path) -> Path:
    settings = load_settings(settings_file)
    return settings.resolve(settings.bot.journal)
