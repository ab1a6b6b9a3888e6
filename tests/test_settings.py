"""settings.toml: the shipped file loads, and every bad input gets one line naming the key."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from runtime.settings import SettingsError, load_settings


def test_settings_shipped_file_loads_in_replay_mode():
    settings = load_settings(ROOT / "settings.toml")
    assert settings.mode == "replay"
    assert settings.strategy.strategy_name == "Mock_ThreeCandles_v1"
    assert settings.risk.leverage == 5 and settings.risk.max_positions == 1
    assert str(settings.replay.tick_size) == "0.1" and str(settings.replay.min_notional) == "50"


@pytest.mark.parametrize("changes, message", [
    ({"risk.leverage": "0"}, "settings.toml [risk] leverage = 0 is out of range; use a whole number from 1 to 125"),
    ({"risk.leverage": "200"}, "settings.toml [risk] leverage = 200 is out of range; use a whole number from 1 to 125"),
    ({"risk.leverage": '"5"'}, 'settings.toml [risk] leverage = "5" has the wrong type; use a whole number from 1 to 125'),
    ({"risk.loss_per_trade_percent": "0"}, "settings.toml [risk] loss_per_trade_percent = 0 is out of range; use a number above 0 and at most 10"),
    ({"risk.loss_per_trade_percent": "10.5"}, "settings.toml [risk] loss_per_trade_percent = 10.5 is out of range; use a number above 0 and at most 10"),
    ({"risk.max_positions": "0"}, "settings.toml [risk] max_positions = 0 is out of range; use a whole number from 1 to 100"),
    ({"bot.mode": '"live"'}, 'settings.toml [bot] mode = "live" is out of range; use one of "replay", "paper", "testnet", "demo", "mainnet"'),
    ({"bot.confirm_mainnet": '"yes"'}, 'settings.toml [bot] confirm_mainnet = "yes" has the wrong type; use true or false'),
    ({"strategy.interval": '"2m"'}, 'settings.toml [strategy] interval = "2m" is out of range; use one of'),
    ({"strategy.symbol": '"btcusdt"'}, 'settings.toml [strategy] symbol = "btcusdt" is out of range; use an upper-case Binance symbol like "BTCUSDT"'),
    ({"replay.taker_fee": "0.5"}, "settings.toml [replay] taker_fee = 0.5 is out of range; use a fraction from 0 to 0.01"),
])
def test_settings_bad_value_names_key_and_accepted_range(write_settings, changes, message):
    with pytest.raises(SettingsError) as error:
        load_settings(write_settings(changes))
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_settings_unknown_key_suggests_the_close_one(write_settings):
    path = write_settings({"risk.leverage": None}, extra="")
    path.write_text(path.read_text().replace("[risk]\n", "[risk]\nlevrage = 5\n"))
    with pytest.raises(SettingsError, match=r"\[risk\] levrage is not a setting \(did you mean 'leverage'\?\)"):
        load_settings(path)


def test_settings_unknown_table_is_refused(write_settings):
    with pytest.raises(SettingsError, match=r"unknown table \[risks\]"):
        load_settings(write_settings(extra="\n[risks]\nleverage = 3\n"))


def test_settings_unknown_strategy_name_suggests_the_close_one_and_lists_the_known_ones(write_settings):
    # issue #7: a misspelt name was called "out of range" with no suggestion
    with pytest.raises(SettingsError) as error:
        load_settings(write_settings({"strategy.strategy_name": '"Mock_ThreeCandle_v1"'}))
    assert str(error.value) == ('settings.toml [strategy] strategy_name = "Mock_ThreeCandle_v1" is not a known strategy; '
                                'did you mean "Mock_ThreeCandles_v1"? known: FVG_Market_Entry_v1, Mock_ThreeCandles_v1, '
                                'OB_Limit_Entry_v1, Silver_Bullet_v1')


def test_settings_unknown_strategy_param_is_refused(write_settings):
    with pytest.raises(SettingsError, match=r"\[strategy.params\] reward_rsk is not a parameter of Mock_ThreeCandles_v1; did you mean 'reward_risk'"):
        load_settings(write_settings({"strategy.params.reward_rsk": "3.0"}))


def test_settings_both_loss_settings_are_refused(write_settings):
    with pytest.raises(SettingsError, match="needs exactly one of loss_per_trade_percent or fixed_loss_usdt"):
        load_settings(write_settings({"risk.fixed_loss_usdt": "10"}))


def test_settings_neither_loss_setting_is_refused(write_settings):
    with pytest.raises(SettingsError, match="needs exactly one of loss_per_trade_percent or fixed_loss_usdt"):
        load_settings(write_settings({"risk.loss_per_trade_percent": None}))


def test_settings_missing_replay_file_is_named(write_settings):
    with pytest.raises(SettingsError, match=r'\[replay\] file = "nowhere.csv" does not exist'):
        load_settings(write_settings({"replay.file": '"nowhere.csv"'}))


def test_settings_replay_file_that_is_a_folder_says_so_with_the_resolved_path(write_settings, tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(SettingsError) as error:
        load_settings(write_settings({"replay.file": '"data"'}))
    assert str(error.value) == (f'[replay] file = "data" is a folder ({tmp_path / "data"}), not a candle file; name a '
                                'candle file such as "data/BTCUSDT-perp-1m-2022-05-06.csv"')


def test_settings_missing_required_key_says_what_to_set(write_settings):
    with pytest.raises(SettingsError, match=r"\[strategy\] symbol is missing; set it to an upper-case Binance symbol"):
        load_settings(write_settings({"strategy.symbol": None}))


def test_settings_bad_ict_value_is_refused(write_settings):
    with pytest.raises(SettingsError) as error:
        load_settings(write_settings({"ict.swing_length": "0"}))
    assert str(error.value).startswith("settings.toml [ict] swing_length = 0 is out of range")


def test_bot_bad_settings_exit_2_with_one_line_and_no_traceback(write_settings):
    path = write_settings({"risk.leverage": "200"})
    result = subprocess.run([sys.executable, "bot.py", "--settings", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: settings.toml [risk] leverage = 200 is out of range; use a whole number from 1 to 125"
    assert "Traceback" not in result.stderr


def test_bot_missing_settings_file_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "bot.py", "--settings", str(tmp_path / "none.toml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not exist; pass --settings" in result.stderr and "Traceback" not in result.stderr
