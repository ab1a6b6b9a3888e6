"""settings.toml and its checker: every key commented and checked, every table's checker refuses, one TOML loader."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal

import pytest

from ict.settings_file import Check, SettingError, TomlFileError, checks, read_table, read_toml, setting
from runtime.settings import TABLES, SettingsError, load_settings
from tests.conftest import ROOT

SETTINGS_TOML = ROOT / "settings.toml"
_HEADER = re.compile(r"^\[([\w.]+)\]\s*(#.*)?$")
# `key = value  # comment`, or a key left commented out as the alternative (`# fixed_loss_usdt = 10  # ...`)
_KEY = re.compile(r'^(#\s*)?(\w+)\s*=\s*("[^"]*"|[^#"]*?)\s*(#\s*(.*))?$')


def file_keys() -> dict[str, dict[str, tuple[int, str]]]:
    """Table -> key -> (line number, comment) as written in settings.toml; the keys of
    `[strategy.params]` are the strategy's parameters, and the table itself is `strategy`'s
    key `params`."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    table = None
    for number, line in enumerate(SETTINGS_TOML.read_text(encoding="utf-8").splitlines(), 1):
        header = _HEADER.match(line.strip())
        if header:
            table = header.group(1)
            if table == "strategy.params":
                found["strategy"]["params"] = (number, header.group(2) or "")
            found.setdefault(table, {})
            continue
        key = _KEY.match(line.strip())
        if key and table is not None:
            found[table][key.group(2)] = (number, (key.group(5) or "").strip())
    return found


def test_settings_toml_every_key_has_its_comment_on_its_line():
    missing = [f"line {number}: [{table}] {key}" for table, keys in file_keys().items()
               for key, (number, comment) in keys.items() if not comment]
    assert missing == []


def test_settings_toml_every_key_is_a_checked_field_and_every_field_is_in_the_file():
    written = file_keys()
    written.pop("strategy.params")  # the strategy's own parameters, checked by the strategy
    assert list(written) == list(TABLES)
    for table, cls in TABLES.items():
        assert list(checks(cls)) == [f.name for f in fields(cls)]  # raises for a field without its Check
        assert set(written[table]) == set(checks(cls)), table


def _shipped_table(table: str) -> dict:
    raw = read_toml(SETTINGS_TOML, parse_float=float if table == "ict" else Decimal)
    return dict(raw[table])


@pytest.mark.parametrize("table", list(TABLES))
def test_settings_checker_every_field_of_each_table_refuses_a_wrong_type(table):
    for key in checks(TABLES[table]):
        values = _shipped_table(table) | {key: [1]}
        with pytest.raises(SettingError) as error:
            read_table(TABLES[table], table, values)
        assert str(error.value).startswith(f"[{table}] {key} = [1] has the wrong type; use ")


@pytest.mark.parametrize("changes, message", [
    ({"bot.log_level": '"TRACE"'}, '[bot] log_level = "TRACE" is out of range; use one of "DEBUG", "INFO", "WARNING", "ERROR"'),
    ({"strategy.limit_entry_timeout_candles": "0"},
     "[strategy] limit_entry_timeout_candles = 0 is out of range; use a whole number from 1 to 10000"),
    ({"risk.margin_type": '"CROSS"'}, '[risk] margin_type = "CROSS" is out of range; use one of "ISOLATED", "CROSSED"'),
    ({"replay.slippage_ticks": "-1"}, "[replay] slippage_ticks = -1 is out of range; use a whole number from 0 to 1000"),
    ({"replay.maker_fee": "nan"}, "[replay] maker_fee = NaN is out of range; use a fraction from 0 to 0.01 (0.0002 is 0.02 %)"),
    ({"exchange.ws_url": '"http://127.0.0.1"'},
     '[exchange] ws_url = "http://127.0.0.1" is out of range; use a ws(s):// URL, or "" for the mode\'s Binance host'),
    ({"ict.ob_zone": '"wick"'}, '[ict] ob_zone = "wick" is not accepted; use "full" or "body"'),
])
def test_settings_checker_refuses_a_wrong_value_in_each_table(write_settings, changes, message):
    with pytest.raises(SettingsError) as error:
        load_settings(write_settings(changes))
    assert str(error.value) == "settings.toml " + message


def test_settings_field_without_a_check_is_refused():
    @dataclass(frozen=True)
    class Table:
        checked: int = setting(Check(int, "a whole number"), 1)
        unchecked: int = 2

    with pytest.raises(TypeError, match="Table.unchecked has no Check"):
        read_table(Table, "table", {})


def test_settings_with_strategy_returns_a_changed_copy(write_settings):
    settings = load_settings(write_settings())
    changed = settings.with_strategy(strategy_name="OB_Limit_Entry_v1", params={}, interval="5m")
    assert (changed.strategy.strategy_name, changed.strategy.params, changed.interval_ms) == ("OB_Limit_Entry_v1", {}, 300_000)
    assert (settings.strategy.strategy_name, settings.interval_ms) == ("Mock_ThreeCandles_v1", 60_000)
    assert changed.with_bot(journal="other.db").bot.journal == "other.db" != settings.bot.journal


def test_read_toml_missing_file_says_so_with_the_fix(tmp_path):
    with pytest.raises(TomlFileError) as error:
        read_toml(tmp_path / "none.toml", missing="pass --settings")
    assert str(error.value) == f"settings file {tmp_path / 'none.toml'} does not exist; pass --settings"


def test_read_toml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[bot]\nmode = \"replay\"\n[risk\n", encoding="utf-8")
    with pytest.raises(TomlFileError) as error:
        read_toml(path, broken="compare it with the shipped file")
    assert str(error.value) == (f"settings file {path} cannot be read as TOML: Expected ']' at the end of a table "
                                "declaration (at line 3, column 6); compare it with the shipped file")


def test_read_toml_folder_is_refused_in_one_line(tmp_path):
    with pytest.raises(TomlFileError, match=r"^settings file .* cannot be read: "):
        read_toml(tmp_path)


def test_read_toml_floats_as_decimal_when_asked(tmp_path):
    path = tmp_path / "numbers.toml"
    path.write_text("fee = 0.0005\n", encoding="utf-8")
    assert read_toml(path, parse_float=Decimal) == {"fee": Decimal("0.0005")}
    assert read_toml(path) == {"fee": 0.0005}
