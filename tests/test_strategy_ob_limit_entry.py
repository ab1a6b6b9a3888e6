"""OB_Limit_Entry_v1 on hand-made candles: the limit at the order block, and the strategy cancelling it."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ict.models import CancelEntry, EntryType, Side, Signal
from ict.strategies.context import PositionView
from ict.strategies.ob_limit_entry import ObLimitEntry
from tests.strategy_cases import BREAK_LEG, MINUTE, NY_0949, SETTINGS, drive, mirrored

NO_BUFFER = {"stop_buffer_atr": 0.0}


def resting_after_the_break(basis: tuple[str, ...]):
    """Feedback of a trader that took the signal of candle 11: a resting LIMIT buy at 97 from candle 12 on."""
    view = PositionView(7, Side.LONG, "ENTERING", EntryType.LIMIT, 97.0, 94.0, 103.0, 1.0, 0.0, 0, basis,
                        NY_0949 + 11 * MINUTE)
    return lambda index: ((view,) if index > 11 else (), ())


def test_ob_entry_after_bos_rests_a_limit_at_the_proximal_edge():
    [(index, signal)] = drive(ObLimitEntry("BTCUSDT", NO_BUFFER), BREAK_LEG)
    assert index == 11 and isinstance(signal, Signal)  # at the close of the breaking candle
    assert (signal.side, signal.entry_type, signal.limit_price) == (Side.LONG, EntryType.LIMIT, 97.0)  # block [94, 97]
    assert signal.stop_price == 94.0
    assert signal.take_profit_price == 103.0  # no liquidity above the breaking candle's high: 2 R
    assert signal.basis == ("order_block:12", "bos:9") and signal.expiry_candles == 50


def test_ob_entry_half_puts_the_limit_on_the_50_percent_line():
    [(_, signal)] = drive(ObLimitEntry("BTCUSDT", {**NO_BUFFER, "entry_at": "half", "expiry_candles": 5}), BREAK_LEG)
    assert (signal.limit_price, signal.stop_price, signal.take_profit_price) == (95.5, 94.0, 98.5)
    assert signal.expiry_candles == 5


def test_ob_entry_mirrored_chart_rests_a_limit_sell():
    [(_, signal)] = drive(ObLimitEntry("BTCUSDT", NO_BUFFER), mirrored(BREAK_LEG))
    assert (signal.side, signal.limit_price, signal.stop_price, signal.take_profit_price) == (Side.SHORT, 103.0, 106.0, 97.0)


def test_ob_entry_without_break_of_structure_places_nothing():
    rows = list(BREAK_LEG)
    rows[3] = (101, 115, 100, 104)  # the swing high is now 115: nothing closes above it
    assert drive(ObLimitEntry("BTCUSDT", NO_BUFFER), rows) == []


def test_ob_entry_invalidated_block_cancels_the_resting_entry():
    # a wick through the block's bottom (94) invalidates it (ob_invalidate_on = "wick") while the close
    # stays above the swing low at 94, so structure does not flip: the cancel is for the block alone
    rows = BREAK_LEG + [(107.5, 108, 100, 101), (101, 102, 93.5, 95)]
    settings = replace(SETTINGS, ob_invalidate_on="wick")
    out = drive(ObLimitEntry("BTCUSDT", NO_BUFFER), rows, feedback=resting_after_the_break(("order_block:12", "bos:9")),
                settings=settings)
    assert out[1:] == [(17, CancelEntry(7, "order block order_block:12 invalidated"))]


def test_ob_entry_structure_flip_cancels_the_resting_entry_and_rests_the_other_way():
    rows = BREAK_LEG + [(107.5, 109, 106, 108), (108, 108.5, 106.5, 107), (107, 107.5, 103, 104)]  # 18: internal CHoCH down
    out = drive(ObLimitEntry("BTCUSDT", {**NO_BUFFER, "level": "internal"}), rows,
                feedback=resting_after_the_break(("order_block:11", "bos:8")))
    assert [(index, type(intent).__name__) for index, intent in out] == [(11, "Signal"), (18, "CancelEntry"), (18, "Signal")]
    assert out[1][1] == CancelEntry(7, "structure flipped bearish at internal level")
    short = out[2][1]
    assert (short.side, short.limit_price, short.stop_price, short.take_profit_price) == (Side.SHORT, 106.0, 109.0, 94.0)
    assert short.basis == ("order_block:18", "choch:17", "swing_low:6")


def test_ob_entry_untouched_block_keeps_the_entry_resting():
    out = drive(ObLimitEntry("BTCUSDT", NO_BUFFER), BREAK_LEG, feedback=resting_after_the_break(("order_block:12", "bos:9")))
    assert [index for index, _ in out] == [11]


@pytest.mark.parametrize("params, message", [
    ({"expiry_candles": 0}, "[strategy.params] expiry_candles = 0 is out of range for OB_Limit_Entry_v1; use a value from 1 to 10000"),
    ({"entry_at": "distal"}, "[strategy.params] entry_at = 'distal' is not accepted by OB_Limit_Entry_v1; use \"proximal\" or \"half\""),
    ({"min_reward_risk": 3.0}, "[strategy.params] reward_risk = 2.0 is out of range for OB_Limit_Entry_v1; use a value from 3.0 to 20.0"),
])
def test_ob_entry_bad_params_are_refused_with_one_line(params, message):
    with pytest.raises(ValueError) as error:
        ObLimitEntry("BTCUSDT", params)
    assert str(error.value) == message
