"""Loading and checking settings.toml: every key known, typed and in range, or one clear line.

Each table is one frozen dataclass whose fields carry their type, check and default
(`ict.settings_file.setting`): `BotSettings`, `StrategySettings`, `RiskSettings`
(trade/risk.py), `ReplaySettings`, `ExchangeSettings` and `IctSettings` (ict/settings.py),
all checked by the one `read_table`.

Strategies: one `[strategy]` table, or several `[[strategies]]` blocks (each a
`StrategySettings`, one per symbol and side: two blocks that would open the same side of one
symbol are refused). A replay of several symbols takes each symbol's candle file and rules
from its own `[replay.SYMBOL]` table (`ReplaySymbolSettings`); `[replay] file` and rules are
the first strategy's symbol's. The comments beside the keys in settings.toml say the
same in the trader's words (tests/test_settings_file.py holds both to it). A bad value
raises `SettingsError` naming the file, table, key, the value and what is accepted;
bot.py prints that line and exits with code 2.

To add a key: one field in its table's dataclass, e.g.
`log_backups: int = setting(whole(1, 100), 5)`, and the key with its
comment in settings.toml.
"""
from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ict.intervals import INTERVAL_MS
from ict.models import Side
from ict.settings import IctSettings, ict_settings_from_table
from ict.settings_file import SWITCH, Check, SettingError, TomlFileError, one_of, read_table, read_toml, setting, whole
from ict.strategies import strategy_class, strategy_names
from trade.risk import RiskSettings
from trade.strategy_slot import StrategySlot
from runtime.strategy_file import StrategyFileError, load_strategy_file

log = logging.getLogger(__name__)
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
    sides: str = setting(one_of("both", "long", "short"), "both")
    params: dict[str, Any] = setting(Check(dict, "a table of the strategy's parameters"), {})

    @property
    def interval_ms(self) -> int:
        return INTERVALS[self.interval]

    @property
    def traded_sides(self) -> frozenset[Side]:
        """The sides this strategy may open: `sides = "both"` is LONG and SHORT."""
        return SIDES[self.sides]

    def slot(self) -> StrategySlot:
        """Where this strategy trades, as the trader checks it (trade/strategy_slot.py)."""
        return StrategySlot(self.strategy_name, self.symbol, self.traded_sides, self.interval_ms,
                            self.limit_entry_timeout_candles * self.interval_ms)

    @property
    def label(self) -> str:
        """How messages name this strategy: `Mock_ThreeCandles_v1 on BTCUSDT 1m` (+ ` long` when one side)."""
        one_side = "" if self.sides == "both" else f" {self.sides}"
        return f"{self.strategy_name} on {self.symbol} {self.interval}{one_side}"


SIDES = {"both": frozenset((Side.LONG, Side.SHORT)), "long": frozenset((Side.LONG,)), "short": frozenset((Side.SHORT,))}


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
class ReplaySymbolSettings:
    """A `[replay.SYMBOL]` table: one more symbol's candle file and rules in a replay of several
    symbols (e.g. `[replay.ETHUSDT]`); a rule left out is `[replay]`'s."""

    file: str = setting(Check(str, "a candle file path", bool))
    tick_size: Decimal | None = setting(Check(Decimal, "a number above 0", lambda v: v > 0), None)
    step_size: Decimal | None = setting(Check(Decimal, "a number above 0", lambda v: v > 0), None)
    min_qty: Decimal | None = setting(Check(Decimal, "a number above 0", lambda v: v > 0), None)
    min_notional: Decimal | None = setting(Check(Decimal, "a number from 0 up", lambda v: v >= 0), None)


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


@dataclass(frozen=True, kw_only=True)
class DashboardSettings:
    """The optional `[dashboard]` table: where `python -m dashboard` listens. Any address other
    than loopback also needs a dashboard password in secrets.toml (dashboard/security.py)."""

    host: str = setting(Check(str, "an address such as \"127.0.0.1\" (this machine only) or \"0.0.0.0\" (every interface)",
                              lambda v: bool(v.strip()) and " " not in v), "127.0.0.1")
    port: int = setting(whole(1, 65535), 8080)


TABLES: dict[str, type] = {"bot": BotSettings, "strategy": StrategySettings, "risk": RiskSettings,
                           "replay": ReplaySettings, "exchange": ExchangeSettings, "notify": NotifySettings,
                           "dashboard": DashboardSettings, "ict": IctSettings}
"""Every table of settings.toml and the dataclass that checks it, in the file's order."""


@dataclass(frozen=True)
class Settings:
    """Everything settings.toml says, checked. `path` is the file it came from; `strategies` holds
    one `StrategySettings` per strategy (a `[strategy]` table is a list of one); `replay_symbols`
    the `[replay.SYMBOL]` tables of a replay of several symbols."""

    path: Path
    bot: BotSettings
    strategies: tuple[StrategySettings, ...]
    risk: RiskSettings
    replay: ReplaySettings
    exchange: ExchangeSettings
    ict: IctSettings
    notify: NotifySettings = field(default_factory=lambda: NotifySettings())   # [notify] is optional
    dashboard: DashboardSettings = field(default_factory=lambda: DashboardSettings())   # [dashboard] is optional
    replay_symbols: dict[str, ReplaySymbolSettings] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return self.bot.mode

    @property
    def strategy(self) -> StrategySettings:
        """The first strategy (a single-strategy bot's only one)."""
        return self.strategies[0]

    @property
    def interval_ms(self) -> int:
        """The first strategy's candle length in ms."""
        return self.strategy.interval_ms

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every traded symbol once, in the order the strategies name them."""
        return tuple(dict.fromkeys(block.symbol for block in self.strategies))

    def resolve(self, relative: str) -> Path:
        """A path from the settings, relative to the settings file's folder."""
        path = Path(relative)
        return path if path.is_absolute() else self.path.parent / path

    def with_bot(self, **changes: Any) -> Settings:
        """A copy with these `[bot]` values, e.g. `with_bot(journal="other.db")` (not checked again)."""
        return replace(self, bot=replace(self.bot, **changes))

    def with_strategy(self, **changes: Any) -> Settings:
        """A copy with these `[strategy]` values, e.g. `with_strategy(strategy_name=..., params={},
        interval="5m")` (not checked again: the strategy's own checks run when it is built).
        Only for a single strategy: ValueError when there are several."""
        if len(self.strategies) != 1:
            raise ValueError(f"with_strategy changes the one strategy; these settings have {len(self.strategies)}")
        return replace(self, strategies=(replace(self.strategy, **changes),))

    def build_strategy(self, block: StrategySettings | None = None):
        """The strategy of `block` (default: the first), a new instance; its parameters were checked at loading."""
        block = block or self.strategy
        return strategy_class(block.strategy_name)(block.symbol, block.params)

    def build_runner(self, feedback=None, block: StrategySettings | None = None):
        """A `StrategyRunner` for `block` (default: the first strategy), its interval and the `[ict]`
        settings; `feedback` returns (positions, refusals) as the trader last published them."""
        from ict.strategies.runner import StrategyRunner

        block = block or self.strategy
        return StrategyRunner(self.build_strategy(block), block.interval, self.ict, feedback)

    def replay_file_of(self, symbol: str) -> str:
        """The candle file setting of `symbol` in a replay, as written (relative to settings.toml);
        "" when none is set."""
        if symbol in self.replay_symbols:
            return self.replay_symbols[symbol].file
        return self.replay.file if symbol == self.strategy.symbol else ""

    def replay_rules_of(self, symbol: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(tick_size, step_size, min_qty, min_notional) of `symbol` in a replay: its `[replay.SYMBOL]`
        values, `[replay]`'s where it has none."""
        own, shared = self.replay_symbols.get(symbol), self.replay
        values = []
        for key in ("tick_size", "step_size", "min_qty", "min_notional"):
            value = getattr(own, key) if own is not None else None
            values.append(getattr(shared, key) if value is None else value)
        return values[0], values[1], values[2], values[3]


def load_settings(path: str | Path) -> Settings:
    """Read and check `path`; raise SettingsError with one line on the first problem."""
    path = Path(path)
    try:
        raw = read_toml(path, missing="pass --settings with the path of your settings.toml", parse_float=Decimal)
    except TomlFileError as exc:
        raise SettingsError(str(exc)) from None
    name = path.name
    unknown = sorted(set(raw) - set(TABLES) - {"strategies"})
    if unknown:
        raise SettingsError(f"{name} has an unknown table [{unknown[0]}]{_hint(unknown[0], TABLES)}; known tables: "
                            + ", ".join(f"[{t}]" for t in TABLES) + ", [[strategies]]")
    replay_table = raw.get("replay", {})
    symbol_tables: dict[str, Any] = {}
    if isinstance(replay_table, dict):   # else _table says what is wrong
        replay_table, symbol_tables = _symbol_tables(name, replay_table)
    bot, risk, replay, exchange = (_table(name, table, values) for table, values in (
        ("bot", raw.get("bot", {})), ("risk", raw.get("risk", {})), ("replay", replay_table),
        ("exchange", raw.get("exchange", {}))))
    if (risk.loss_per_trade_percent is None) == (risk.fixed_loss_usdt is None):
        raise SettingsError(f"{name} [risk] needs exactly one of loss_per_trade_percent or fixed_loss_usdt; set one and remove the other")
    strategies = _strategies(name, path, raw)
    replay_symbols = {symbol: _replay_symbol(name, symbol, values) for symbol, values in symbol_tables.items()}
    settings = Settings(path, bot, strategies, risk, replay, exchange, _ict(name, raw.get("ict", {})),
                        _table(name, "notify", raw.get("notify", {})), _table(name, "dashboard", raw.get("dashboard", {})),
                        replay_symbols)
    if settings.mode == "replay":
        check_replay_files(settings)
    return settings


def _strategies(name: str, path: Path, raw: dict) -> tuple[StrategySettings, ...]:
    """The `[strategy]` table as a list of one, or the `[[strategies]]` blocks; each built once
    (`_check_strategy`); two blocks on one side of one symbol are refused."""
    if "strategy" in raw and "strategies" in raw:
        raise SettingsError(f"{name} has both [strategy] and [[strategies]]; keep one: [strategy] for one strategy, "
                            "[[strategies]] blocks for several")
    if "strategy" not in raw and "strategies" not in raw:
        raise SettingsError(f"{name} has no strategy; add a [strategy] table (or [[strategies]] blocks) with symbol, "
                            "interval and strategy_name")
    if "strategies" not in raw:
        block = _table(name, "strategy", raw.get("strategy", {}))
        return (replace(block, params=_check_strategy(name, path, block, "[strategy]")),)
    blocks = raw["strategies"]
    if blocks == []:
        raise SettingsError(f"{name} strategies is empty; add a [[strategies]] block with symbol, interval and "
                            "strategy_name, or use one [strategy] table")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise SettingsError(f"{name} strategies must be [[strategies]] blocks (a table each, with symbol, interval and "
                            "strategy_name); write [[strategies]] above each one")
    found: list[StrategySettings] = []
    owners: dict[tuple[str, Side], str] = {}
    for number, values in enumerate(blocks, 1):
        where = f"[[strategies]] #{number}"
        try:
            block = read_table(StrategySettings, "strategies", values)
        except SettingError as exc:
            raise SettingsError(f"{name} {str(exc).replace('[strategies]', where, 1)}") from None
        for side in sorted(block.traded_sides, key=lambda s: s.value):
            taken = owners.get((block.symbol, side))
            if taken is not None:
                raise SettingsError(f"{name} {where} ({block.label}) would also trade {block.symbol} {side.value.lower()}, "
                                    f"which {taken} trades; one strategy per symbol and side: set sides = \"long\" or "
                                    "\"short\" in one of them, or remove one")
            owners[(block.symbol, side)] = f"{where} ({block.label})"
        found.append(replace(block, params=_check_strategy(name, path, block, where)))
    streams = {(block.symbol, block.interval) for block in found}
    if len(streams) > 1:   # imported here: it loads websocket-client, which a single strategy's replay never needs
        from trade.binance.market_stream import MAX_STREAMS
    if len(streams) > 1 and len(streams) > MAX_STREAMS:
        raise SettingsError(f"{name} [[strategies]] read {len(streams)} symbol and interval pairs; one market-stream "
                            f"connection carries at most {MAX_STREAMS} (Binance's limit): trade fewer")
    return tuple(found)


def _symbol_tables(name: str, replay: dict) -> tuple[dict, dict[str, Any]]:
    """`[replay]`'s own keys, and its `[replay.SYMBOL]` tables (upper-case names holding a table)."""
    tables = {key: value for key, value in replay.items() if isinstance(value, dict)}
    for key in tables:
        if not (key.isupper() and key.isalnum()):
            raise SettingsError(f"{name} [replay.{key}] is not a symbol's table; symbols are upper case, e.g. "
                                f"[replay.{key.upper()}]")
    return {key: value for key, value in replay.items() if key not in tables}, tables


def _replay_symbol(name: str, symbol: str, values: dict) -> ReplaySymbolSettings:
    try:
        return read_table(ReplaySymbolSettings, f"replay.{symbol}", values)
    except SettingError as exc:
        raise SettingsError(f"{name} {exc}") from None


def _check_strategy(name: str, path: Path, strategy: StrategySettings, where: str) -> dict[str, Any]:
    """Load `strategy_file` if any, find `strategy_name`, and build the strategy once so its
    parameters (types and ranges) and timeframes are checked before anything is written.
    `where` names the block in messages (`[strategy]`, `[[strategies]] #2`)."""
    if strategy.strategy_file:
        file = Path(strategy.strategy_file)
        try:
            load_strategy_file(file if file.is_absolute() else path.parent / file, strategy.strategy_file)
        except StrategyFileError as exc:
            raise SettingsError(f"{name} {str(exc).replace('[strategy]', where, 1)}") from None
    wanted = strategy.strategy_name
    if wanted not in strategy_names():
        match = difflib.get_close_matches(wanted, strategy_names(), n=1)
        hint = f'did you mean "{match[0]}"? ' if match else ""
        raise SettingsError(f'{name} {where} strategy_name = "{wanted}" is not a known strategy; {hint}'
                            f"known: {', '.join(strategy_names())}")
    cls = strategy_class(wanted)
    try:
        cls.check_timeframes(strategy.interval)
        built = cls(strategy.symbol, _floats(strategy.params))
        cls.check_timeframes(strategy.interval, built.timeframes)  # a parameter may choose them (htf)
        return built.params
    except ValueError as exc:
        text = str(exc).replace("[strategy]", where, 1)
        if where != "[strategy]":   # the strategy's checks name the single table's params
            text = text.replace("[strategy.params]", f"{where} [strategies.params]", 1)
        raise SettingsError(f"{name} {text}") from None
    except Exception as exc:  # a bug in a strategy's __init__ or check(): one line, not a traceback
        raise SettingsError(f"{name} {where} {wanted} could not be built: {type(exc).__name__}: {exc}") from None


def check_replay_files(settings: Settings) -> dict[str, Path]:
    """Each traded symbol's candle file in a replay (settings.toml's paths), or SettingsError naming
    the symbol whose file is missing, not a file, the same file as another symbol's, or set twice."""
    files: dict[str, Path] = {}
    first = settings.strategy.symbol
    if first in settings.replay_symbols and settings.replay.file:
        raise SettingsError(f"{settings.path.name} [replay] file and [replay.{first}] file both name {first}'s candles; "
                            f"keep one: set [replay] file = \"\" or remove file from [replay.{first}]")
    for symbol in settings.symbols:
        where = f"[replay.{symbol}] file" if symbol in settings.replay_symbols else "[replay] file"
        if not settings.replay_file_of(symbol) and len(settings.symbols) > 1:
            raise SettingsError(f"{settings.path.name} has no candle file for {symbol} to replay; add a [replay.{symbol}] "
                                f"table with file = \"data/{symbol}-....csv\" (and its tick_size, step_size, min_qty, "
                                "min_notional)")
        path = check_replay_file(settings, settings.replay_file_of(symbol), where, relative_to_settings=True)
        twin = next((other for other, known in files.items() if known.resolve() == path.resolve()), None)
        if twin is not None:
            raise SettingsError(f"{settings.path.name} {where} = \"{settings.replay_file_of(symbol)}\" is {twin}'s candle "
                                f"file too; give {symbol} a file of its own candles")
        files[symbol] = path
    return files


def unused_replay_tables(settings: Settings) -> list[str]:
    """The `[replay.SYMBOL]` tables of symbols no strategy trades (their files are not replayed)."""
    return sorted(set(settings.replay_symbols) - set(settings.symbols))


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
