"""The [ict] table: defaults, and one clear line for every refused value."""
from __future__ import annotations

import pytest

from ict.settings import IctSettings, ict_settings_from_table, settings_keys
from ict.settings_file import read_toml
from tests.ict_helpers import ROOT


def test_ict_settings_empty_table_gives_the_defaults():
    assert ict_settings_from_table({}) == IctSettings()


def test_ict_settings_defaults_detect_every_gap():
    defaults = IctSettings()
    assert (defaults.fvg_min_size_atr, defaults.fvg_min_size_ticks, defaults.fvg_displacement_atr) == (0.0, 0, 0.0)
    assert (defaults.internal_length, defaults.atr_period, defaults.break_on) == (5, 14, "close")


def test_ict_settings_values_are_taken_and_whole_numbers_accepted_for_floats():
    settings = ict_settings_from_table({"swing_length": 30, "fvg_min_size_atr": 1, "break_on": "wick"})
    assert (settings.swing_length, settings.fvg_min_size_atr, settings.break_on) == (30, 1.0, "wick")
    assert isinstance(settings.fvg_min_size_atr, float)


def test_ict_settings_out_of_range_value_names_key_value_and_range():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"swing_length": 0})
    assert str(error.value) == "[ict] swing_length = 0 is out of range; use a whole number from 2 to 200"


def test_ict_settings_unknown_key_suggests_the_close_match():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"swing_lenght": 50})
    assert str(error.value) == "[ict] swing_lenght = 50 is not a setting of [ict]; did you mean 'swing_length'?"


def test_ict_settings_unknown_key_without_match_lists_the_known_keys():
    with pytest.raises(ValueError, match=r"^\[ict\] colour = \"red\" is not a setting of \[ict\]; known settings: internal_length, "):
        ict_settings_from_table({"colour": "red"})


def test_ict_settings_wrong_type_is_refused():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"internal_length": "5"})
    assert str(error.value) == '[ict] internal_length = "5" has the wrong type; use a whole number from 1 to 100'


def test_ict_settings_float_for_a_whole_number_is_refused():
    with pytest.raises(ValueError, match=r"^\[ict\] atr_period = 14.5 has the wrong type"):
        ict_settings_from_table({"atr_period": 14.5})


def test_ict_settings_number_for_a_switch_is_refused():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"breaker_strict": 1})
    assert str(error.value) == "[ict] breaker_strict = 1 has the wrong type; use true or false"


def test_ict_settings_true_for_a_number_is_refused():
    with pytest.raises(ValueError, match="wrong type"):
        ict_settings_from_table({"fvg_max_age": True})


def test_ict_settings_unknown_choice_lists_the_choices():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"ob_zone": "wick"})
    assert str(error.value) == '[ict] ob_zone = "wick" is not accepted; use "full" or "body"'


def test_ict_settings_negative_tolerance_is_out_of_range():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"equal_tolerance_atr": -0.1})
    assert str(error.value) == "[ict] equal_tolerance_atr = -0.1 is out of range; use a number from 0 to 5"


def test_ict_settings_nan_is_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        ict_settings_from_table({"fvg_min_size_atr": float("nan")})


def test_ict_settings_swing_length_not_above_internal_length_is_refused():
    with pytest.raises(ValueError) as error:
        ict_settings_from_table({"internal_length": 20, "swing_length": 20})
    assert str(error.value).startswith("[ict] swing_length = 20 must be above internal_length = 20;")


def test_ict_settings_every_field_is_checked():
    for key in settings_keys():
        with pytest.raises(ValueError, match=rf"^\[ict\] {key} = "):
            ict_settings_from_table({key: [1]})


def test_ict_settings_shipped_settings_toml_ict_table_is_valid():
    path = ROOT / "settings.toml"
    if not path.exists():
        pytest.skip("no settings.toml in this checkout")
    table = read_toml(path).get("ict", {})
    settings = ict_settings_from_table(table)
    assert set(table) <= set(settings_keys())
    assert isinstance(settings, IctSettings)
