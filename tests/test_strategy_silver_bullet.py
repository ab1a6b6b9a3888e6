"""Silver_Bullet_v1 on hand-made candles: sweep, first reversal gap, and the hour's boundaries."""
from __future__ import annotations

import pytest

from ict.models import EntryType, Side, Signal
from ict.strategies.silver_bullet import SilverBullet
from tests.strategy_cases import MINUTE, NY_0949, SWEEP, drive, mirrored

NO_BUFFER = {"stop_buffer_atr": 0.0}


def test_silver_bullet_sweep_then_gap_in_the_hour_rests_a_limit_sell():
    [(index, signal)] = drive(SilverBullet("BTCUSDT", NO_BUFFER), SWEEP)
    assert index == 11 and isinstance(signal, Signal)  # the gap's confirmation, 10:00 New York
    assert (signal.side, signal.entry_type, signal.limit_price) == (Side.SHORT, EntryType.LIMIT, 105.0)  # gap [105, 106.8]
    assert signal.stop_price == 111.0           # the sweep's high
    assert signal.take_profit_price == 93.0     # no sell-side pool below: 2 R
    assert signal.basis == ("fvg:13", "sweep:7") and signal.expiry_candles == 12


def test_silver_bullet_mirrored_chart_rests_a_limit_buy():
    [(_, signal)] = drive(SilverBullet("BTCUSDT", NO_BUFFER), mirrored(SWEEP))
    assert (signal.side, signal.limit_price, signal.stop_price, signal.take_profit_price) == (Side.LONG, 95.0, 89.0, 107.0)


# equal lows at 98 (two pivot lows, confirmed at candle 8) before the sweep case: a sell-side pool
EQUAL_LOWS = [(103, 104, 102, 103), (103, 103.5, 100, 101), (101, 101.5, 98, 99), (99, 102, 99, 101.5),
              (101.5, 103, 100.5, 102), (102, 102.5, 99.5, 100), (100, 100.5, 98, 98.5), (98.5, 101, 98.5, 100.5),
              (100.5, 104, 100, 103.5)]


def test_silver_bullet_targets_the_nearest_sell_side_pool():
    start = NY_0949 - len(EQUAL_LOWS) * MINUTE  # the gap still confirms at 10:00 New York
    [(index, signal)] = drive(SilverBullet("BTCUSDT", NO_BUFFER), EQUAL_LOWS + SWEEP, start=start)
    assert (index, signal.limit_price, signal.stop_price, signal.take_profit_price) == (20, 105.0, 111.0, 98.0)
    assert signal.basis == ("fvg:24", "sweep:18", "liquidity_pool:7")
    # the pool is 7 below the entry for a risk of 6: 1.17 R, under a minimum of 1.2 the trade is skipped
    assert drive(SilverBullet("BTCUSDT", {**NO_BUFFER, "min_reward_risk": 1.2}), EQUAL_LOWS + SWEEP, start=start) == []


@pytest.mark.parametrize("gap_at, trades", [("09:59", False), ("10:00", True), ("10:59", True), ("11:00", False)])
def test_silver_bullet_hour_boundary_counts_the_gap_candle_open_time(gap_at, trades):
    hours, minutes = map(int, gap_at.split(":"))
    gap_open = NY_0949 + ((hours - 9) * 60 + minutes - 49) * MINUTE  # New York time of candle 11
    out = drive(SilverBullet("BTCUSDT", NO_BUFFER), SWEEP, start=gap_open - 11 * MINUTE)
    assert [index for index, _ in out] == ([11] if trades else [])


def test_silver_bullet_window_choice_limits_the_hours():
    assert drive(SilverBullet("BTCUSDT", {**NO_BUFFER, "windows": "london,pm"}), SWEEP) == []
    assert len(drive(SilverBullet("BTCUSDT", {**NO_BUFFER, "windows": "am"}), SWEEP)) == 1


def test_silver_bullet_without_sweep_gives_no_signal():
    rows = list(SWEEP)
    rows[9] = (107, 111, 106.8, 110.5)  # closes above the pool: a run, not a sweep
    assert drive(SilverBullet("BTCUSDT", NO_BUFFER), rows) == []


def test_silver_bullet_sweep_older_than_its_max_age_is_forgotten():
    assert drive(SilverBullet("BTCUSDT", {**NO_BUFFER, "sweep_max_age": 1}), SWEEP) == []  # the gap comes 2 candles later
    assert len(drive(SilverBullet("BTCUSDT", {**NO_BUFFER, "sweep_max_age": 2}), SWEEP)) == 1


@pytest.mark.parametrize("params, message", [
    ({"windows": "asia"}, "[strategy.params] windows = 'asia': Silver_Bullet_v1 trades only in Silver Bullet hours; "
                          "use names from london, am, pm separated by commas"),
    ({"windows": " "}, "[strategy.params] windows = ' ' leaves Silver_Bullet_v1 no hour to trade; use \"london,am,pm\""),
    ({"sweep_max_age": 0}, "[strategy.params] sweep_max_age = 0 is out of range for Silver_Bullet_v1; use a value from 1 to 1000"),
])
def test_silver_bullet_bad_params_are_refused_with_one_line(params, message):
    with pytest.raises(ValueError) as error:
        SilverBullet("BTCUSDT", params)
    assert str(error.value) == message
