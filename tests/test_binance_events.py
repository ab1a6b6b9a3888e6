"""Tests of trade/binance/events.py: Binance stream frames into candles and order updates.

Payloads are the JSON fixtures in tests/fixtures/binance_stream/ (Binance's wire
format, see the README there); a test changes a field only where the case needs it,
and its name says so.
"""
from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from ict.models import Candle
from trade.binance.events import (HELD_FOREIGN_EVENTS, AccountUpdate, ListenKeyExpired, PositionUpdate,
                                  StreamMessageError, UserEventTranslator, parse_kline)
from trade.models import OrderStatus, OrderUpdate

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "binance_stream"
PREFIX = "k3x9qa-"


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def translator() -> UserEventTranslator:
    return UserEventTranslator(is_ours=lambda client_id: client_id.startswith(PREFIX))


def translate_all(translator: UserEventTranslator, frames: list[dict]) -> list:
    return [item for frame in frames for item in translator.translate(frame)]


# ----- klines -----------------------------------------------------------------------------------


def test_parse_kline_closed_frame_gives_candle_and_true() -> None:
    candle, closed = parse_kline(fixture("kline_btcusdt_1m_closed"))
    # the first bar of data/BTCUSDT-perp-1m-2022-05-06.csv
    assert candle == Candle(1651795200000, 36533.7, 36540.0, 36501.0, 36505.2, 264.779)
    assert closed is True


def test_parse_kline_combined_stream_wrapper_gives_forming_candle() -> None:
    candle, closed = parse_kline(fixture("kline_btcusdt_1m_forming_combined"))
    assert (candle.open_time, candle.close, closed) == (1651795260000, 36514.1, False)


@pytest.mark.parametrize("path, value, named", [
    (("k", "c"), None, "k.c"),
    (("k", "o"), "abc", "k.o"),
    (("k", "t"), "later", "k.t"),
    (("k", "x"), "true", "k.x"),
    (("e",), "24hrTicker", "e"),
])
def test_parse_kline_bad_field_raises_error_naming_it(path, value, named) -> None:
    frame = fixture("kline_btcusdt_1m_closed")
    target = frame
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(StreamMessageError, match=rf"\b{named}\b"):
        parse_kline(frame)


def test_parse_kline_non_object_frame_raises_stream_message_error() -> None:
    with pytest.raises(StreamMessageError):
        parse_kline([1, 2, 3])  # type: ignore[arg-type]


# ----- ORDER_TRADE_UPDATE -----------------------------------------------------------------------


def test_order_update_fill_of_ours_gives_order_update_with_decimals(translator) -> None:
    [update] = translator.translate(fixture("otu_entry_market_filled"))
    assert update == OrderUpdate(
        client_order_id="k3x9qa-42-en1", symbol="BTCUSDT", status=OrderStatus.FILLED, at=1651795262115,
        exchange_order_id="4000000001", cumulative_quantity=Decimal("0.010"), average_price=Decimal("36522.70000"),
        last_quantity=Decimal("0.010"), last_price=Decimal("36522.70"), fee=Decimal("0.18261350"),
        realized_pnl=Decimal("0"), trade_id="600000001")
    assert update.is_fill


def test_order_update_new_without_fill_has_no_prices(translator) -> None:
    frame = fixture("otu_entry_market_filled")
    frame["o"].update(x="NEW", X="NEW", l="0", z="0", L="0", ap="0", n="0")
    [update] = translator.translate(frame)
    assert (update.status, update.last_price, update.average_price, update.is_fill) == (OrderStatus.NEW, None, None, False)


def test_order_update_fee_in_bnb_is_left_out_with_warning(translator, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="trade.binance.events"):
        [update] = translator.translate(fixture("otu_entry_market_filled_bnb_fee"))
    assert update.fee == Decimal(0)
    assert update.cumulative_quantity == Decimal("0.010")
    assert "BNB" in caplog.text and "k3x9qa-42-en1" in caplog.text


def test_order_update_expired_in_match_gives_expired_with_reason(translator) -> None:
    frame = fixture("otu_entry_market_filled")
    frame["o"].update(x="EXPIRED", X="EXPIRED_IN_MATCH", l="0", er="1")
    [update] = translator.translate(frame)
    assert (update.status, update.reason) == (OrderStatus.EXPIRED, "expiry reason 1")


def test_order_update_unknown_status_raises_error_naming_field(translator) -> None:
    frame = fixture("otu_entry_market_filled")
    frame["o"]["X"] = "NEW_ADL"
    with pytest.raises(StreamMessageError, match=r"o\.X"):
        translator.translate(frame)


def test_order_update_manual_order_is_ignored(translator) -> None:
    assert translator.translate(fixture("otu_manual_order_new")) == []


def test_order_update_liquidation_is_ignored_with_warning(translator, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="trade.binance.events"):
        assert translator.translate(fixture("otu_liquidation_filled")) == []
    assert "liquidation" in caplog.text


# ----- ALGO_UPDATE ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, status, reason", [
    ("algo_stop_new", OrderStatus.NEW, None),
    ("algo_stop_canceled", OrderStatus.CANCELED, None),
    ("algo_stop_rejected", OrderStatus.REJECTED, "Margin is insufficient."),
])
def test_algo_update_of_ours_gives_status_for_client_algo_id(translator, name, status, reason) -> None:
    [update] = translator.translate(fixture(name))
    assert (update.client_order_id, update.symbol, update.status, update.reason) == ("k3x9qa-42-sl1", "BTCUSDT",
                                                                                    status, reason)
    assert update.exchange_order_id == "1000000000001" and not update.is_fill


def test_algo_update_manual_algo_order_is_ignored(translator) -> None:
    assert translator.translate(fixture("algo_manual_new")) == []


def test_algo_trigger_fill_before_link_is_reported_for_client_algo_id(translator) -> None:
    # The fake's order (and possibly Binance's): the triggered order's NEW comes before
    # the ALGO_UPDATE that carries `ai`; its fill after.
    updates = translate_all(translator, fixture("algo_stop_trigger_sequence"))
    assert {u.client_order_id for u in updates} == {"k3x9qa-42-sl1"}
    assert [u.status for u in updates] == [OrderStatus.NEW] * 4 + [OrderStatus.FILLED]
    fill = updates[-1]
    assert (fill.exchange_order_id, fill.last_quantity, fill.last_price, fill.fee, fill.realized_pnl) == (
        "4000000023", Decimal("0.010"), Decimal("36449.90"), Decimal("0.18224950"), Decimal("-0.72800000"))


def test_algo_trigger_fill_arriving_before_triggered_update_is_reported_after_it(translator) -> None:
    new, triggering, order_new, triggered, order_fill, finished = fixture("algo_stop_trigger_sequence")
    updates = translate_all(translator, [new, triggering, order_new, order_fill, triggered, finished])
    assert {u.client_order_id for u in updates} == {"k3x9qa-42-sl1"}
    # the algo order's NEW first, then the held events of the order it became, in arrival order
    assert [(u.status, u.cumulative_quantity) for u in updates] == [
        (OrderStatus.NEW, 0), (OrderStatus.NEW, 0), (OrderStatus.NEW, 0), (OrderStatus.NEW, 0),
        (OrderStatus.FILLED, Decimal("0.010"))]


def test_algo_trigger_link_from_finished_alone_reports_held_fill(translator) -> None:
    # TRIGGERED was lost; FINISHED carries `ai` too
    new, _, order_new, _, order_fill, finished = fixture("algo_stop_trigger_sequence")
    updates = translate_all(translator, [new, order_new, order_fill, finished])
    assert [u.status for u in updates] == [OrderStatus.NEW, OrderStatus.NEW, OrderStatus.FILLED]
    assert updates[-1].client_order_id == "k3x9qa-42-sl1"


def test_algo_trigger_order_event_after_link_is_reported_for_client_algo_id(translator) -> None:
    frames = fixture("algo_stop_trigger_sequence")
    translate_all(translator, frames)
    cancel = copy.deepcopy(frames[4])
    cancel["o"].update(x="CANCELED", X="CANCELED", l="0")
    [update] = translator.translate(cancel)
    assert (update.client_order_id, update.status) == ("k3x9qa-42-sl1", OrderStatus.CANCELED)


def test_held_foreign_events_are_bounded_and_drop_the_oldest(translator) -> None:
    frames = fixture("algo_stop_trigger_sequence")
    translator.translate(frames[4])  # the fill, held back
    manual = fixture("otu_manual_order_new")
    for n in range(HELD_FOREIGN_EVENTS):
        manual["o"]["i"] = 5000000000 + n
        translator.translate(manual)
    # the held fill fell off the end: the link now reports only the algo order's own status
    assert [u.status for u in translator.translate(frames[3])] == [OrderStatus.NEW]


# ----- ACCOUNT_UPDATE and listenKeyExpired ------------------------------------------------------


def test_account_update_gives_usdt_balances_and_positions(translator) -> None:
    [update] = translator.translate(fixture("account_update_order"))
    assert update == AccountUpdate(reason="ORDER", at=1651795262115, wallet_balance=Decimal("9999.81738650"),
                                   cross_wallet_balance=Decimal("9999.81738650"),
                                   positions=(PositionUpdate("BTCUSDT", Decimal("0.010"), Decimal("36522.7"), "BOTH"),))


def test_account_update_funding_fee_has_balances_only(translator) -> None:
    [update] = translator.translate(fixture("account_update_funding_fee"))
    assert (update.reason, update.wallet_balance, update.positions) == ("FUNDING_FEE", Decimal("9999.80411320"), ())


@pytest.mark.parametrize("name", ["listen_key_expired_e_string", "listen_key_expired_e_int"])
def test_listen_key_expired_with_e_as_string_or_int_gives_event(translator, name) -> None:
    [event] = translator.translate(fixture(name))
    assert event == ListenKeyExpired("WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv", 1736996475556)
    assert "WsCMN0" not in repr(event)  # logging the event never shows the key


def test_user_event_in_combined_wrapper_is_unwrapped(translator) -> None:
    wrapped = {"stream": "WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv",
               "data": fixture("otu_entry_market_filled")}
    [update] = translator.translate(wrapped)
    assert update.status is OrderStatus.FILLED


def test_unknown_user_event_is_ignored(translator) -> None:
    assert translator.translate({"e": "TRADE_LITE", "E": 1651795262116, "c": "k3x9qa-42-en1"}) == []


def test_algo_trigger_order_carrying_client_algo_id_is_reported_once_per_event(translator) -> None:
    # Open point 6 of binance.md: the triggered order's `c` may be the clientAlgoId itself.
    frames = fixture("algo_stop_trigger_sequence")
    for frame in frames:
        if frame["e"] == "ORDER_TRADE_UPDATE":
            frame["o"]["c"] = "k3x9qa-42-sl1"
    updates = translate_all(translator, frames)
    assert [u.status for u in updates] == [OrderStatus.NEW] * 4 + [OrderStatus.FILLED]
    assert {u.client_order_id for u in updates} == {"k3x9qa-42-sl1"}
