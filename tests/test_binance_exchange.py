"""The Binance REST wrapper, through python-binance, against `responses`: what goes on the
wire, and how every failure is translated."""
from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from trade.binance.exchange import BinanceExchange, parse_symbol_rules
from trade.binance.rest import BinanceRest
from trade.errors import ExchangeFatal, ExchangeUnavailable, OrderRejected, OutcomeUnknown, RateLimited
from trade.models import OrderRequest, OrderSide, OrderStatus, OrderType

BASE = "https://fapi.test"
INFO = json.loads((Path(__file__).parent / "fixtures" / "exchange_info_btcusdt.json").read_text())
KEY, SECRET = "k" * 64, "s" * 64


class Clock:
    def __init__(self):
        self.t = 1_764_000_000.0
        self.slept = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.t += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def exchange(clock):
    rest = BinanceRest(BASE, KEY, SECRET, sleep=clock.sleep, now=clock.now)
    exchange = BinanceExchange(rest)
    exchange._rules["BTCUSDT"] = parse_symbol_rules(INFO["symbols"][0])
    return exchange


def sent(call) -> dict:
    """The parameters of a recorded request, from its body or its query string."""
    body = call.request.body or ""
    if isinstance(body, bytes):
        body = body.decode()
    params = parse_qs(body or urlparse(call.request.url).query)
    return {k: v[0] for k, v in params.items()}


ENTRY = OrderRequest("abc123-7-en1", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, D("0.005"), position_side="BOTH")
STOP = OrderRequest("abc123-7-sl1", "BTCUSDT", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D("94000.0"),
                    close_position=True, position_side="BOTH")
EXIT = OrderRequest("abc123-7-ex1", "BTCUSDT", OrderSide.SELL, OrderType.MARKET, D("0.005"), reduce_only=True)


def test_rules_parsed_from_exchange_info():
    rules = parse_symbol_rules(INFO["symbols"][0])
    assert (rules.tick_size, rules.step_size, rules.min_qty, rules.min_notional) == (D("0.10"), D("0.001"), D("0.001"), D("50"))
    assert rules.market_max_qty == D("120") and rules.percent_up == D("1.0500")


@responses.activate
def test_market_entry_sends_our_client_id_and_decimal_strings(exchange):
    responses.post(f"{BASE}/fapi/v1/order", json={"orderId": 4001, "status": "NEW", "clientOrderId": ENTRY.client_order_id, "updateTime": 5})
    ack = exchange.place_order(ENTRY)
    params = sent(responses.calls[0])
    assert params["newClientOrderId"] == "abc123-7-en1"
    assert params["quantity"] == "0.005" and params["type"] == "MARKET" and params["side"] == "BUY"
    assert params["positionSide"] == "BOTH" and "reduceOnly" not in params
    assert "signature" in params and responses.calls[0].request.headers["X-MBX-APIKEY"] == KEY
    assert (ack.status, ack.exchange_order_id, ack.cumulative_quantity) == (OrderStatus.NEW, "4001", D(0))


@responses.activate
def test_exit_sends_reduce_only_as_lowercase_true(exchange):
    responses.post(f"{BASE}/fapi/v1/order", json={"orderId": 1, "status": "NEW"})
    exchange.place_order(EXIT)
    assert sent(responses.calls[0])["reduceOnly"] == "true"


@responses.activate
def test_stop_goes_to_the_algo_endpoint_with_mark_price_and_close_position(exchange):
    responses.post(f"{BASE}/fapi/v1/algoOrder", json={"algoId": 9, "clientAlgoId": STOP.client_order_id, "algoStatus": "NEW"})
    ack = exchange.place_conditional(STOP)
    params = sent(responses.calls[0])
    assert responses.calls[0].request.url.startswith(f"{BASE}/fapi/v1/algoOrder")
    assert params["algoType"] == "CONDITIONAL" and params["type"] == "STOP_MARKET"
    assert params["triggerPrice"] == "94000" and params["workingType"] == "MARK_PRICE"
    assert params["closePosition"] == "true" and params["clientAlgoId"] == "abc123-7-sl1"
    assert "quantity" not in params and "reduceOnly" not in params and "newClientOrderId" not in params
    assert ack.status is OrderStatus.NEW and ack.exchange_order_id == "9"


@responses.activate
def test_filled_ack_is_reported_as_new_so_fills_come_with_their_fees(exchange):
    responses.post(f"{BASE}/fapi/v1/order", json={"orderId": 1, "status": "FILLED", "executedQty": "0.005"})
    assert exchange.place_order(ENTRY).status is OrderStatus.NEW


@responses.activate
def test_stop_past_the_price_is_rejected_with_2021(exchange):
    responses.post(f"{BASE}/fapi/v1/algoOrder", status=400, json={"code": -2021, "msg": "Order would immediately trigger."})
    with pytest.raises(OrderRejected) as refusal:
        exchange.place_conditional(STOP)
    assert refusal.value.code == -2021


@responses.activate
def test_unknown_error_503_on_an_order_is_outcome_unknown_and_not_retried(exchange):
    responses.post(f"{BASE}/fapi/v1/order", status=503,
                   json={"code": -1000, "msg": "Unknown error, please check your request or try again later."})
    with pytest.raises(OutcomeUnknown):
        exchange.place_order(ENTRY)
    assert len(responses.calls) == 1


@responses.activate
def test_timeout_on_an_order_is_outcome_unknown(exchange):
    responses.post(f"{BASE}/fapi/v1/order", body=requests.ConnectTimeout("timed out"))
    with pytest.raises(OutcomeUnknown) as error:
        exchange.place_order(ENTRY)
    assert "fapi.test" not in str(error.value)  # no URL (and so no signature) in the message
    assert len(responses.calls) == 1


@responses.activate
def test_reads_retry_with_backoff_then_give_up(exchange, clock):
    responses.get(f"{BASE}/fapi/v3/balance", body=requests.ConnectionError("down"))
    with pytest.raises(ExchangeUnavailable):
        exchange.wallet_balance()
    assert len(responses.calls) == 3 and clock.slept == [0.4, 0.8]


@responses.activate
def test_429_stops_sending_until_retry_after(exchange, clock):
    responses.post(f"{BASE}/fapi/v1/order", status=429, headers={"Retry-After": "7"},
                   json={"code": -1003, "msg": "Too many requests; current limit is 2400 requests per minute."})
    responses.get(f"{BASE}/fapi/v3/balance", json=[{"asset": "USDT", "balance": "100", "availableBalance": "90"}])
    with pytest.raises(RateLimited) as limit:
        exchange.place_order(ENTRY)
    assert limit.value.retry_after == 7
    assert exchange.wallet_balance() == D("100")
    assert clock.slept == [7]  # the next request waited out the ban first


@responses.activate
def test_high_used_weight_slows_reads_down(exchange, clock):
    responses.get(f"{BASE}/fapi/v3/balance", json=[{"asset": "USDT", "balance": "1", "availableBalance": "1"}],
                  headers={"X-MBX-USED-WEIGHT-1M": "2300"})
    exchange.refresh_balances()
    assert clock.slept == []
    exchange.refresh_balances()
    assert len(clock.slept) == 1 and 0 < clock.slept[0] <= 60.5


@responses.activate
def test_balances_are_cached_until_stale_or_forgotten(exchange, clock):
    responses.get(f"{BASE}/fapi/v3/balance", json=[{"asset": "USDT", "balance": "100", "availableBalance": "80"}])
    assert (exchange.wallet_balance(), exchange.available_balance()) == (D("100"), D("80"))
    assert len(responses.calls) == 1            # one read serves both
    exchange.forget_balances()                  # an ACCOUNT_UPDATE arrived
    exchange.wallet_balance()
    assert len(responses.calls) == 2
    clock.t += 31
    exchange.wallet_balance()
    assert len(responses.calls) == 3


@responses.activate
def test_clock_error_resyncs_and_retries_once(exchange):
    responses.post(f"{BASE}/fapi/v1/order", status=400, json={"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
    responses.post(f"{BASE}/fapi/v1/order", json={"orderId": 2, "status": "NEW"})
    responses.get(f"{BASE}/fapi/v1/time", json={"serverTime": 1_764_000_002_500})
    assert exchange.place_order(ENTRY).status is OrderStatus.NEW
    assert exchange.rest.client.timestamp_offset == 2500
    assert [c.request.method for c in responses.calls] == ["POST", "GET", "POST"]


@responses.activate
def test_rejected_key_is_fatal_with_a_fix(exchange):
    responses.get(f"{BASE}/fapi/v3/balance", status=401, json={"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    with pytest.raises(ExchangeFatal, match="check the key, its permissions"):
        exchange.wallet_balance()


@responses.activate
def test_query_unknown_order_returns_none(exchange):
    responses.get(f"{BASE}/fapi/v1/order", status=400, json={"code": -2013, "msg": "Order does not exist."})
    assert exchange.query_order(ENTRY) is None


@responses.activate
def test_query_filled_order_reports_totals_from_user_trades(exchange):
    responses.get(f"{BASE}/fapi/v1/order", json={"orderId": 4001, "status": "FILLED", "executedQty": "0.005", "updateTime": 9})
    responses.get(f"{BASE}/fapi/v1/userTrades", json=[
        {"id": 71, "orderId": 4001, "qty": "0.002", "price": "95000", "commission": "0.095", "commissionAsset": "USDT", "realizedPnl": "0"},
        {"id": 72, "orderId": 4001, "qty": "0.003", "price": "95010", "commission": "0.142515", "commissionAsset": "USDT", "realizedPnl": "0"}])
    update = exchange.query_order(ENTRY)
    assert update.status is OrderStatus.FILLED and update.totals
    assert update.cumulative_quantity == D("0.005") and update.fee == D("0.237515")
    assert update.average_price == (D("0.002") * 95000 + D("0.003") * 95010) / D("0.005")
    assert [(t.trade_id, t.quantity, t.fee) for t in update.trades] == [("71", D("0.002"), D("0.095")), ("72", D("0.003"), D("0.142515"))]


@responses.activate
def test_query_order_expired_in_match_is_expired_as_on_the_stream(exchange):
    responses.get(f"{BASE}/fapi/v1/order", json={"orderId": 4001, "status": "EXPIRED_IN_MATCH", "executedQty": "0"})
    assert exchange.query_order(ENTRY).status is OrderStatus.EXPIRED


@responses.activate
def test_query_triggered_stop_follows_actual_order_id_to_its_fills(exchange):
    responses.get(f"{BASE}/fapi/v1/algoOrder", json={"algoId": 9, "clientAlgoId": STOP.client_order_id, "algoStatus": "FINISHED",
                                                    "actualOrderId": "4002"})
    responses.get(f"{BASE}/fapi/v1/order", json={"orderId": 4002, "status": "FILLED", "executedQty": "0.005"})
    responses.get(f"{BASE}/fapi/v1/userTrades", json=[
        {"id": 73, "orderId": 4002, "qty": "0.005", "price": "93990", "commission": "0.234975", "commissionAsset": "USDT", "realizedPnl": "-5.1"}])
    update = exchange.query_order(STOP)
    assert (update.client_order_id, update.status, update.realized_pnl) == (STOP.client_order_id, OrderStatus.FILLED, D("-5.1"))
    assert sent(responses.calls[1])["orderId"] == "4002"


@responses.activate
def test_cancel_that_lost_the_race_reports_the_fill(exchange):
    responses.delete(f"{BASE}/fapi/v1/algoOrder", status=400, json={"code": -2011, "msg": "Unknown order sent."})
    responses.get(f"{BASE}/fapi/v1/algoOrder", json={"algoId": 9, "algoStatus": "CANCELED", "actualOrderId": ""})
    assert exchange.cancel_order(STOP).status is OrderStatus.CANCELED


def _prepare_routes(margin_answer, leverage_max=125, configs=({"marginType": "CROSSED", "leverage": 20},)):
    """Start-up answers; `configs` are symbolConfig's successive answers (the last one repeats)."""
    responses.get(f"{BASE}/fapi/v1/time", json={"serverTime": 1_764_000_000_000})
    responses.get(f"{BASE}/fapi/v1/exchangeInfo", json=INFO)
    responses.get(f"{BASE}/fapi/v1/accountConfig", json={"dualSidePosition": False, "canTrade": True})
    for config in configs:
        responses.get(f"{BASE}/fapi/v1/symbolConfig", json=[{"symbol": "BTCUSDT", "isAutoAddMargin": False,
                                                             "maxNotionalValue": "80000000", **config}])
    responses.post(f"{BASE}/fapi/v1/marginType", **margin_answer)
    responses.get(f"{BASE}/fapi/v1/leverageBracket", json={"symbol": "BTCUSDT", "brackets": [
        {"bracket": 1, "initialLeverage": leverage_max, "notionalCap": 300000, "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0}]})
    responses.post(f"{BASE}/fapi/v1/leverage", json={"leverage": 5, "maxNotionalValue": "80000000", "symbol": "BTCUSDT"})
    responses.get(f"{BASE}/fapi/v1/commissionRate", json={"symbol": "BTCUSDT", "makerCommissionRate": "0.000200", "takerCommissionRate": "0.000500"})
    responses.get(f"{BASE}/fapi/v3/balance", json=[{"asset": "USDT", "balance": "5000", "availableBalance": "5000"}])


def _posted(path: str) -> list[dict]:
    return [sent(c) for c in responses.calls if c.request.method == "POST" and urlparse(c.request.url).path == path]


@responses.activate
def test_prepare_treats_4046_margin_answer_as_success(exchange):
    _prepare_routes({"status": 400, "json": {"code": -4046, "msg": "No need to change margin type."}})
    exchange.prepare("BTCUSDT", 5, "ISOLATED")
    assert exchange.hedge_mode is False and exchange.taker_fee == D("0.0005")
    assert [p["leverage"] for p in _posted("/fapi/v1/leverage")] == ["5"]


@responses.activate
def test_prepare_settings_already_matching_are_read_and_not_written(exchange):
    _prepare_routes({"json": {"code": 200, "msg": "success"}}, configs=({"marginType": "ISOLATED", "leverage": 5},))
    exchange.prepare("BTCUSDT", 5, "ISOLATED")
    assert _posted("/fapi/v1/marginType") == [] and _posted("/fapi/v1/leverage") == []


@responses.activate
def test_prepare_different_settings_are_changed_once(exchange):
    _prepare_routes({"json": {"code": 200, "msg": "success"}}, configs=({"marginType": "CROSSED", "leverage": 20},))
    exchange.prepare("BTCUSDT", 5, "ISOLATED")
    assert [p["marginType"] for p in _posted("/fapi/v1/marginType")] == ["ISOLATED"]
    assert [p["leverage"] for p in _posted("/fapi/v1/leverage")] == ["5"]


@responses.activate
def test_prepare_4067_on_a_margin_change_that_was_not_needed_is_success(exchange):
    # the first read is stale; Binance refuses the change with -4067; a second read shows it was already so
    _prepare_routes({"status": 400, "json": {"code": -4067, "msg": "Position side cannot be changed if there exists open orders."}},
                    configs=({"marginType": "CROSSED", "leverage": 5}, {"marginType": "ISOLATED", "leverage": 5}))
    exchange.prepare("BTCUSDT", 5, "ISOLATED")
    assert len(_posted("/fapi/v1/marginType")) == 1


@responses.activate
def test_prepare_4067_on_a_needed_margin_change_is_fatal_naming_the_current_type(exchange):
    _prepare_routes({"status": 400, "json": {"code": -4067, "msg": "Position side cannot be changed if there exists open orders."}},
                    configs=({"marginType": "CROSSED", "leverage": 5},))
    with pytest.raises(ExchangeFatal, match=r"cannot set BTCUSDT margin type to ISOLATED \(it is CROSSED\): Binance said -4067"):
        exchange.prepare("BTCUSDT", 5, "ISOLATED")


@responses.activate
def test_prepare_refuses_leverage_above_the_bracket(exchange):
    _prepare_routes({"json": {"code": 200, "msg": "success"}}, leverage_max=3)
    with pytest.raises(ExchangeFatal, match=r"\[risk\] leverage = 5 is above BTCUSDT's maximum 3"):
        exchange.prepare("BTCUSDT", 5, "ISOLATED")
