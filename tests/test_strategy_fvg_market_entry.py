"""FVG_Market_Entry_v1 on hand-made candles: the exact entry, stop and target of its definition."""
from __future__ import annotations

import pytest

from ict.atr import WilderAtr
from ict.models import EntryType, Side, Signal
from ict.strategies.fvg_market_entry import FvgMarketEntry
from tests.strategy_cases import BREAK_LEG, MINUTE, NY_0949, NY_1000, candles, drive, mirrored
from runtime.settings import SettingsError, load_settings

NO_BUFFER = {"stop_buffer_atr": 0.0}


def test_fvg_entry_retrace_then_close_above_goes_long_at_market():
    [(index, signal)] = drive(FvgMarketEntry("BTCUSDT", NO_BUFFER), BREAK_LEG)
    assert index == 15 and isinstance(signal, Signal)
    assert (signal.side, signal.entry_type, signal.reference_price) == (Side.LONG, EntryType.MARKET, 107.5)
    assert signal.stop_price == 104.0          # the gap's bottom (far edge)
    assert signal.take_profit_price == 113.0   # the internal swing high above: the draw on liquidity
    assert signal.basis == ("fvg:13", "bos:9", "swing_high:14")
    assert signal.candle_time == NY_0949 + 15 * MINUTE


def test_fvg_entry_mirrored_chart_goes_short():
    [(index, signal)] = drive(FvgMarketEntry("BTCUSDT", NO_BUFFER), mirrored(BREAK_LEG))
    assert index == 15 and signal.side is Side.SHORT
    assert (signal.reference_price, signal.stop_price, signal.take_profit_price) == (92.5, 96.0, 87.0)
    assert signal.basis == ("fvg:13", "bos:9", "swing_low:14")


def test_fvg_entry_stop_buffer_is_a_fraction_of_the_atr():
    [(_, signal)] = drive(FvgMarketEntry("BTCUSDT", {"stop_buffer_atr": 0.5, "min_reward_risk": 0.0}), BREAK_LEG)
    atr = WilderAtr(14)
    for candle in candles(BREAK_LEG):
        atr.update(candle)
    assert signal.stop_price == pytest.approx(104.0 - 0.5 * atr.value)


def test_fvg_entry_stop_at_swing_uses_the_protective_low():
    [(_, signal)] = drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "stop_at": "swing", "min_reward_risk": 0.0}), BREAK_LEG)
    assert (signal.stop_price, signal.take_profit_price) == (94.0, 113.0)


def test_fvg_entry_draw_closer_than_min_reward_risk_is_skipped():
    # target 113 from 107.5 with risk 3.5 is 1.57 R
    assert drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "min_reward_risk": 1.6}), BREAK_LEG) == []
    assert len(drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "min_reward_risk": 1.5}), BREAK_LEG)) == 1


def test_fvg_entry_without_break_of_structure_gives_no_signal():
    rows = list(BREAK_LEG)
    rows[3] = (101, 115, 100, 104)  # the swing high is now 115: nothing closes above it, no bias
    assert drive(FvgMarketEntry("BTCUSDT", NO_BUFFER), rows) == []


def test_fvg_entry_gap_inverted_before_the_trigger_ends_the_setup():
    rows = list(BREAK_LEG)
    rows[14] = (109, 110, 103, 103.5)  # closes below the gap's bottom (104): an inverse FVG now, no long from it
    assert drive(FvgMarketEntry("BTCUSDT", NO_BUFFER), rows) == []


def test_fvg_entry_half_depth_waits_for_the_50_percent_line():
    rows = list(BREAK_LEG)
    rows[14] = (109, 110, 105.5, 105.8)  # touches the gap [104, 106] but not its 50 % line (105)
    assert len(drive(FvgMarketEntry("BTCUSDT", NO_BUFFER), rows)) == 1
    assert drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "entry_depth": "half"}), rows) == []


def test_fvg_entry_killzone_filter_outside_the_zone_gives_no_signal():
    # the trigger candle opens at 10:04 New York: inside the AM Silver Bullet hour, outside London
    assert drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "killzones": "london"}), BREAK_LEG) == []
    assert len(drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "killzones": "silver_bullet_am"}), BREAK_LEG)) == 1


def test_fvg_entry_htf_without_agreeing_trend_gives_no_signal():
    strategy = FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "htf": "1h"})
    assert strategy.timeframes == ("1h",)
    assert drive(strategy, BREAK_LEG) == []  # sixteen minutes make no hourly trend


def five_minute_rows(rows) -> list[tuple]:
    """Each row as five one-minute candles that add up to it on the 5m chart."""
    out = []
    for o, h, l, c in rows:
        out += [(o, h, o, o), (o, o, l, o), (o, o, o, o), (o, o, o, o), (o, max(o, c), min(o, c), c)]
    return out


@pytest.mark.parametrize("htf, trades", [("", [65, 75]), ("5m", [65, 75]), ("15m", [])])
def test_fvg_entry_htf_trend_must_agree(htf, trades):
    # an hour of 1m candles draws the bullish break on the 5m chart (its trend turns bullish at
    # candle 59); the 1m chart then repeats the break 10 higher. 15m has no trend yet: no entry.
    rows = five_minute_rows(BREAK_LEG[:12]) + [(o + 10, h + 10, l + 10, c + 10) for o, h, l, c in BREAK_LEG]
    out = drive(FvgMarketEntry("BTCUSDT", {**NO_BUFFER, "htf": htf}), rows, start=NY_1000 - 60 * MINUTE)
    assert [index for index, _ in out] == trades


@pytest.mark.parametrize("params, message", [
    ({"reward_risk": 0.0}, "[strategy.params] reward_risk = 0.0 is out of range for FVG_Market_Entry_v1; use a value from 1.0 to 20.0"),
    ({"level": "daily"}, "[strategy.params] level = 'daily' is not accepted by FVG_Market_Entry_v1; use \"swing\" or \"internal\""),
    ({"killzones": "london, tokyo"}, "[strategy.params] killzones = 'london, tokyo': 'tokyo' is not a killzone"),
    ({"htf": "7m"}, "[strategy.params] htf = '7m' is not accepted by FVG_Market_Entry_v1"),
    ({"stop_buffer_atr": -1}, "[strategy.params] stop_buffer_atr = -1.0 is out of range"),
])
def test_fvg_entry_bad_params_are_refused_with_one_line(params, message):
    with pytest.raises(ValueError) as error:
        FvgMarketEntry("BTCUSDT", params)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_fvg_entry_htf_not_above_the_base_interval_is_refused_at_loading(write_settings):
    path = write_settings({"strategy.strategy_name": '"FVG_Market_Entry_v1"', "strategy.params.htf": '"1m"'})
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert str(error.value) == ('settings.toml FVG_Market_Entry_v1 declares timeframes = (\'1m\',), but "1m" is not a whole '
                                'multiple above [strategy] interval = "1m"; use one of "3m", "5m", "15m", "30m", "1h", "2h", '
                                '... or a finer [strategy] interval')
    load_settings(write_settings({"strategy.strategy_name": '"FVG_Market_Entry_v1"', "strategy.params.htf": '"15m"'}))
