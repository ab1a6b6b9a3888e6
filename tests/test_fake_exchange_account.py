"""The fake exchange's account-side faults, driven by python-binance: trades by hand,
liquidation and ADL orders, partly filled triggered stops, held and reordered events,
-2022/-4118 refusals and 5xx answers on algo placement and cancels."""
from __future__ import annotations

from decimal import Decimal

import pytest
from binance.exceptions import BinanceAPIException

from tests.test_fake_exchange import BARS, HISTORY, _client_for, api_error, last_price  # noqa: F401 (fixtures below)
from tests.fake_exchange import FakeBinance

CLOSE = {"symbol": "BTCUSDT", "side": "SELL", "closePosition": "true"}


@pytest.fixture
def fake():
    fx = FakeBinance(ws_ping_interval=None)
    fx.load_candles(BARS[:HISTORY])
    with fx:
        yield fx


@pytest.fixture
def client(fake):
    c = _client_for(fake)
    yield c
    c.close_connection()


def long_position(client, qty="0.010"):
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=qty)


def test_fake_close_by_hand_flattens_with_a_web_order_and_expires_close_position_stops(fake, client):
    long_position(client)
    price = last_price(fake)
    client.futures_create_algo_order(type="STOP_MARKET", triggerPrice=str(price - 50), clientAlgoId="sl", **CLOSE)
    order = fake.close_by_hand()
    assert order.client_id.startswith("web_") and fake.position().amount == 0
    trades = client.futures_account_trades(symbol="BTCUSDT", orderId=order.order_id)
    assert len(trades) == 1 and Decimal(trades[0]["qty"]) == Decimal("0.010") and trades[0]["side"] == "SELL"
    assert client.futures_get_order(symbol="BTCUSDT", orderId=order.order_id)["clientOrderId"] == order.client_id
    assert client.futures_get_algo_order(clientAlgoId="sl")["algoStatus"] == "EXPIRED"
    assert Decimal(fake.user_events("ACCOUNT_UPDATE")[-1]["a"]["P"][0]["pa"]) == 0


@pytest.mark.parametrize("adl, prefix", [(False, "autoclose-"), (True, "adl_autoclose")])
def test_fake_liquidate_closes_with_binance_client_id_prefix(fake, client, adl, prefix):
    long_position(client)
    order = fake.liquidate(price=last_price(fake) - 100, adl=adl)
    assert order.client_id.startswith(prefix) and fake.position().amount == 0
    fill = [e for e in fake.user_events("ORDER_TRADE_UPDATE") if e["o"]["X"] == "FILLED"][-1]
    assert fill["o"]["c"] == order.client_id and Decimal(fill["o"]["rp"]) == Decimal("-1.0")


def test_fake_partial_fill_next_trigger_fills_part_then_expires_the_rest(fake, client):
    long_position(client)
    price = last_price(fake)
    client.futures_create_algo_order(type="STOP_MARKET", triggerPrice=str(price - 50), clientAlgoId="sl", **CLOSE)
    fake.partial_fill_next_trigger("0.004")
    fake.set_price(price - 60)
    assert fake.position().amount == Decimal("0.006")
    triggered = [e for e in fake.user_events("ORDER_TRADE_UPDATE") if e["o"]["ot"] == "STOP_MARKET"]
    assert [e["o"]["X"] for e in triggered] == ["NEW", "PARTIALLY_FILLED", "EXPIRED"]


def test_fake_release_user_events_reversed_and_twice(fake, client):
    fake.hold_user_events()
    long_position(client)
    assert fake.user_events() == []
    held = fake.release_user_events(reverse=True, duplicate=True)
    kinds = [e for e, _ in fake.events]
    assert held == 4 and kinds == ["ORDER_TRADE_UPDATE"] * 2 + ["ACCOUNT_UPDATE"] * 2 + ["TRADE_LITE"] * 2 + ["ORDER_TRADE_UPDATE"] * 2


@pytest.mark.parametrize("code", [-2022, -4118])
def test_fake_reject_next_order_refuses_with_the_code_and_executes_nothing(fake, client, code):
    long_position(client)
    fake.reject_next_order(code)
    err = api_error(lambda: client.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010",
                                                        reduceOnly="true"))
    assert err.code == code and fake.position().amount == Decimal("0.010")


def test_fake_flat_reduce_only_order_is_refused_2022(fake, client):
    err = api_error(lambda: client.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010",
                                                        reduceOnly="true"))
    assert err.code == -2022


def test_fake_fail_next_algo_gives_5xx_and_places_nothing_unless_accepted(fake, client):
    long_position(client)
    price = last_price(fake)
    fake.fail_next_algo(status=502)
    with pytest.raises(BinanceAPIException) as refused:
        client.futures_create_algo_order(type="STOP_MARKET", triggerPrice=str(price - 50), clientAlgoId="sl", **CLOSE)
    assert refused.value.status_code == 502 and fake.algo_orders == []
    fake.fail_next_algo(status=503, after_accept=True)
    api_error(lambda: client.futures_create_algo_order(type="STOP_MARKET", triggerPrice=str(price - 50),
                                                       clientAlgoId="sl", **CLOSE))
    assert client.futures_get_algo_order(clientAlgoId="sl")["algoStatus"] == "NEW"


def test_fake_fail_next_cancel_gives_500_and_the_order_stays(fake, client):
    long_position(client)
    price = last_price(fake)
    client.futures_create_algo_order(type="STOP_MARKET", triggerPrice=str(price - 50), clientAlgoId="sl", **CLOSE)
    fake.fail_next_cancel(n=2)
    for _ in range(2):
        assert api_error(lambda: client.futures_cancel_algo_order(symbol="BTCUSDT", clientAlgoId="sl")).status_code == 500
    assert client.futures_get_algo_order(clientAlgoId="sl")["algoStatus"] == "NEW"
    client.futures_cancel_algo_order(symbol="BTCUSDT", clientAlgoId="sl")
    assert client.futures_get_algo_order(clientAlgoId="sl")["algoStatus"] == "CANCELED"


def test_fake_keep_close_position_orders_when_flat_leaves_the_target_new(fake, client):
    long_position(client)
    price = last_price(fake)
    client.futures_create_algo_order(type="TAKE_PROFIT_MARKET", triggerPrice=str(price + 50), clientAlgoId="tp", **CLOSE)
    fake.keep_close_position_orders_when_flat()
    fake.close_by_hand()
    assert client.futures_get_algo_order(clientAlgoId="tp")["algoStatus"] == "NEW"
