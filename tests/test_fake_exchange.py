"""Tests of the fake Binance USDⓈ-M exchange, driven by the real clients.

REST goes through python-binance's `Client` (ping=False, FUTURES_URL pointed at the
fake) and streams through websocket-client's `create_connection`, so these tests also
prove the fake serves exactly what those libraries send. Market data is the real
BTCUSDT 1m file from `data/`; hand-made bars appear only where a test needs a price
path the file does not have, and the test name says so.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
import websocket
from binance import Client
from binance.exceptions import BinanceAPIException

from tests.fake_exchange import FakeBinance, ReplayClock, SymbolRules
from tests.fake_exchange.candles import Kline, read_candle_file
from tests.fake_exchange.signing import hmac_sha256_hex

DATA = Path(__file__).resolve().parent.parent / "data" / "BTCUSDT-perp-1m-2022-05-06.csv"
BARS: list[Kline] = read_candle_file(DATA, "1m")
HISTORY = 100  # bars loaded as history; BARS[HISTORY:] are pushed by tests
ALL_EVENTS = "ORDER_TRADE_UPDATE/ACCOUNT_UPDATE/ALGO_UPDATE/ACCOUNT_CONFIG_UPDATE/listenKeyExpired"
DOC_PAYLOAD = ("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
               "&recvWindow=5000&timestamp=1591702613943")
DOC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


# ----- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    fx = FakeBinance(ws_ping_interval=None)
    fx.load_candles(BARS[:HISTORY])
    with fx:
        yield fx


@pytest.fixture
def client(fake: FakeBinance) -> Iterator[Client]:
    c = _client_for(fake)
    yield c
    c.close_connection()


def _client_for(fx: FakeBinance) -> Client:
    c = Client(fx.api_key, fx.api_secret, ping=False)
    c.FUTURES_URL = fx.rest_url + "/fapi"
    return c


@pytest.fixture
def sockets() -> Iterator[Callable[[str], websocket.WebSocket]]:
    opened: list[websocket.WebSocket] = []

    def open_socket(url: str) -> websocket.WebSocket:
        ws = websocket.create_connection(url, timeout=5)
        opened.append(ws)
        return ws

    yield open_socket
    for ws in opened:
        ws.close()


def recv_until(ws: websocket.WebSocket, predicate: Callable[[dict], bool], timeout: float = 5.0) -> tuple[dict, list[dict]]:
    """Read frames until one satisfies `predicate`; returns it and every frame read."""
    deadline = time.monotonic() + timeout
    seen: list[dict] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {timeout} s; got {seen}")
        ws.settimeout(remaining)
        try:
            frame = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            continue
        seen.append(frame)
        if predicate(frame):
            return frame, seen


def assert_silent(ws: websocket.WebSocket, within: float = 0.2) -> None:
    ws.settimeout(within)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()


def private_url(fx: FakeBinance, key: str, events: str | None = ALL_EVENTS) -> str:
    url = f"{fx.ws_url}/private/ws?listenKey={key}"
    return url + (f"&events={events}" if events is not None else "")


def api_error(call: Callable[[], object]) -> BinanceAPIException:
    with pytest.raises(BinanceAPIException) as info:
        call()
    return info.value


def limit_buy(client: Client, price: str, qty: str = "0.010", **extra) -> dict:
    return client.futures_create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                       quantity=qty, price=price, **extra)


def last_price(fx: FakeBinance) -> Decimal:
    return fx.engine.last["BTCUSDT"]


# ----- signing and authentication ---------------------------------------------------------


def test_hmac_doc_vector_signs_to_published_signature() -> None:
    secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
    assert hmac_sha256_hex(secret, DOC_PAYLOAD) == DOC_SIGNATURE
    assert Client("k", secret, ping=False)._hmac_signature(DOC_PAYLOAD) == DOC_SIGNATURE


def test_signed_order_doc_vector_at_its_timestamp_is_accepted() -> None:
    # The doc's exact bytes, sent as a query string at the doc's own moment in time.
    with FakeBinance(clock=ReplayClock(1591702613943 + 50)) as fx:
        fx.set_price("9500")
        reply = requests.post(f"{fx.rest_url}/fapi/v1/order?{DOC_PAYLOAD}&signature={DOC_SIGNATURE}",
                              headers={"X-MBX-APIKEY": fx.api_key}, timeout=5)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "NEW" and reply.json()["price"] == "9000"


def test_signed_request_wrong_signature_gives_1022(fake: FakeBinance) -> None:
    reply = requests.get(f"{fake.rest_url}/fapi/v2/balance?timestamp={int(time.time() * 1000)}&signature=00ff",
                         headers={"X-MBX-APIKEY": fake.api_key}, timeout=5)
    assert (reply.status_code, reply.json()) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})


def test_signed_request_unknown_api_key_gives_2015(fake: FakeBinance) -> None:
    stranger = Client("unknown-key", fake.api_secret, ping=False)
    stranger.FUTURES_URL = fake.rest_url + "/fapi"
    err = api_error(stranger.futures_account_balance)
    assert (err.status_code, err.code, err.message) == (401, -2015, "Invalid API-key, IP, or permissions for action.")


def test_signed_request_timestamp_outside_recv_window_gives_1021(client: Client) -> None:
    client.timestamp_offset = -20_000  # python-binance sends recvWindow=10000
    err = api_error(client.futures_account_balance)
    assert (err.code, err.message) == (-1021, "Timestamp for this request is outside of the recvWindow.")


def test_listen_key_without_api_key_header_gives_2014(fake: FakeBinance) -> None:
    reply = requests.post(f"{fake.rest_url}/fapi/v1/listenKey", timeout=5)
    assert reply.json()["code"] == -2014


def test_every_reply_carries_used_weight_header_that_accumulates() -> None:
    # A clock that stands still keeps both calls in one weight minute.
    with FakeBinance(clock=ReplayClock(1_700_000_000_000), check_recv_window=False) as fx:
        client = _client_for(fx)
        client.futures_time()
        first = int(client.response.headers["X-MBX-USED-WEIGHT-1M"])
        client.futures_get_position_mode()  # weight 30
        assert int(client.response.headers["X-MBX-USED-WEIGHT-1M"]) == first + 30


# ----- every endpoint through python-binance ----------------------------------------------


def _open_limit(c: Client) -> dict:
    return limit_buy(c, "35000.0")


def _open_algo(c: Client) -> dict:
    return c.futures_create_algo_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", quantity="0.010",
                                       triggerPrice="30000", reduceOnly="false")


ENDPOINT_CALLS: list[tuple[str, Callable[[Client], object], str, str]] = [
    ("time", lambda c: c.futures_time(), "GET", "/fapi/v1/time"),
    ("exchangeInfo", lambda c: c.futures_exchange_info(), "GET", "/fapi/v1/exchangeInfo"),
    ("klines", lambda c: c.futures_klines(symbol="BTCUSDT", interval="1m", limit=5), "GET", "/fapi/v1/klines"),
    ("positionMode", lambda c: c.futures_get_position_mode(), "GET", "/fapi/v1/positionSide/dual"),
    ("accountConfig", lambda c: c.futures_account_config(), "GET", "/fapi/v1/accountConfig"),
    ("changePositionMode", lambda c: c.futures_change_position_mode(dualSidePosition="true"),
     "POST", "/fapi/v1/positionSide/dual"),
    ("marginType", lambda c: c.futures_change_margin_type(symbol="BTCUSDT", marginType="ISOLATED"),
     "POST", "/fapi/v1/marginType"),
    ("leverage", lambda c: c.futures_change_leverage(symbol="BTCUSDT", leverage=5), "POST", "/fapi/v1/leverage"),
    ("leverageBracket", lambda c: c.futures_leverage_bracket(symbol="BTCUSDT"), "GET", "/fapi/v1/leverageBracket"),
    ("commissionRate", lambda c: c.futures_commission_rate(symbol="BTCUSDT"), "GET", "/fapi/v1/commissionRate"),
    ("balanceV3", lambda c: c.futures_account_balance(), "GET", "/fapi/v3/balance"),
    ("balanceV2", lambda c: c.futures_account_balance(version=2), "GET", "/fapi/v2/balance"),
    ("accountV2", lambda c: c.futures_account(), "GET", "/fapi/v2/account"),
    ("accountV3", lambda c: c.futures_account(version=3), "GET", "/fapi/v3/account"),
    ("positionRiskV3", lambda c: c.futures_position_information(), "GET", "/fapi/v3/positionRisk"),
    ("positionRiskV2", lambda c: c.futures_position_information(version=2), "GET", "/fapi/v2/positionRisk"),
    ("listenKeyPost", lambda c: c.futures_stream_get_listen_key(), "POST", "/fapi/v1/listenKey"),
    ("listenKeyPut", lambda c: c.futures_stream_keepalive(c.futures_stream_get_listen_key()),
     "PUT", "/fapi/v1/listenKey"),
    ("listenKeyDelete", lambda c: c.futures_stream_close(c.futures_stream_get_listen_key()),
     "DELETE", "/fapi/v1/listenKey"),
    ("orderPost", lambda c: c.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010"),
     "POST", "/fapi/v1/order"),
    ("orderGet", lambda c: c.futures_get_order(symbol="BTCUSDT", orderId=_open_limit(c)["orderId"]),
     "GET", "/fapi/v1/order"),
    ("orderDelete", lambda c: c.futures_cancel_order(symbol="BTCUSDT", orderId=_open_limit(c)["orderId"]),
     "DELETE", "/fapi/v1/order"),
    ("openOrders", lambda c: c.futures_get_open_orders(symbol="BTCUSDT"), "GET", "/fapi/v1/openOrders"),
    ("allOpenOrders", lambda c: c.futures_cancel_all_open_orders(symbol="BTCUSDT"),
     "DELETE", "/fapi/v1/allOpenOrders"),
    ("algoPost", _open_algo, "POST", "/fapi/v1/algoOrder"),
    ("algoGet", lambda c: c.futures_get_algo_order(algoId=_open_algo(c)["algoId"]), "GET", "/fapi/v1/algoOrder"),
    ("algoDelete", lambda c: c.futures_cancel_algo_order(clientAlgoId=_open_algo(c)["clientAlgoId"]),
     "DELETE", "/fapi/v1/algoOrder"),
    ("openAlgoOrders", lambda c: c.futures_get_open_algo_orders(symbol="BTCUSDT"), "GET", "/fapi/v1/openAlgoOrders"),
    ("algoOpenOrders", lambda c: c.futures_cancel_all_algo_open_orders(symbol="BTCUSDT"),
     "DELETE", "/fapi/v1/algoOpenOrders"),
    ("userTrades", lambda c: c.futures_account_trades(symbol="BTCUSDT"), "GET", "/fapi/v1/userTrades"),
]


@pytest.mark.parametrize("call,method,path", [c[1:] for c in ENDPOINT_CALLS], ids=[c[0] for c in ENDPOINT_CALLS])
def test_python_binance_endpoint_call_is_served(fake: FakeBinance, client: Client, call, method, path) -> None:
    call(client)
    last = fake.requests[-1]
    assert (last.method, last.path, last.status) == (method, path, 200)


def test_position_risk_v3_lists_only_held_positions_with_signed_amount(fake: FakeBinance, client: Client) -> None:
    assert client.futures_position_information() == []
    client.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.010")
    [row] = client.futures_position_information()
    assert (row["positionSide"], row["positionAmt"], "leverage" in row) == ("BOTH", "-0.010", False)


# ----- order rules ------------------------------------------------------------------------


def test_order_endpoint_conditional_type_gives_4120(client: Client) -> None:
    # python-binance reroutes STOP_MARKET to /algoOrder, so call /order directly through it.
    err = api_error(lambda: client._request_futures_api("post", "order", True, data={
        "symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "quantity": "0.010", "stopPrice": "30000"}))
    assert (err.status_code, err.code) == (400, -4120)
    assert err.message == "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."


@pytest.mark.parametrize("params,code", [
    ({"price": "35000.05"}, -4014),
    ({"price": "35000.123"}, -1111),
    ({"quantity": "0.0015"}, -1111),
    ({"quantity": "0"}, -4003),
    ({"price": "30000.0", "quantity": "0.001"}, -4164),
    ({"price": "40000.0", "side": "BUY"}, -4016),
    ({"price": "30000.0", "side": "SELL"}, -4024),
    ({"newClientOrderId": "x" * 37}, -4015),
    ({"reduceOnly": "True"}, -1130),
], ids=["tick", "price-decimals", "qty-decimals", "qty-zero", "min-notional", "percent-up", "percent-down",
        "client-id-length", "capitalised-boolean"])
def test_limit_order_breaking_a_filter_gives_binance_code(client: Client, params: dict, code: int) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
             "price": "35000.0", **params}
    assert api_error(lambda: client.futures_create_order(**order)).code == code


def test_client_id_with_chars_requests_percent_encodes_gives_1022(client: Client) -> None:
    # python-binance signs the raw value but requests sends "a%3Ab": the signed and sent bytes differ.
    assert api_error(lambda: limit_buy(client, "35000.0", newClientOrderId="a:b")).code == -1022


def test_client_id_with_invalid_chars_sent_raw_gives_4015(fake: FakeBinance) -> None:
    query = (f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newClientOrderId=a!b"
             f"&timestamp={int(time.time() * 1000)}")
    reply = requests.post(f"{fake.rest_url}/fapi/v1/order?{query}&signature={hmac_sha256_hex(fake.api_secret, query)}",
                          headers={"X-MBX-APIKEY": fake.api_key}, timeout=5)
    assert reply.json() == {"code": -4015, "msg": "Client order id is not valid."}


def test_min_notional_rejection_names_the_filter_value(client: Client) -> None:
    err = api_error(lambda: limit_buy(client, "30000.0", qty="0.001"))
    assert err.message == "Order's notional must be no smaller than 50 (unless you choose reduce only)"


def test_reduce_only_order_below_min_notional_is_accepted(client: Client) -> None:
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.002")
    reply = client.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001",
                                        reduceOnly="true")
    assert reply["reduceOnly"] is True


def test_quantity_off_step_gives_4023() -> None:
    coarse = SymbolRules(symbol="ETHUSDT", base_asset="ETH", step_size=Decimal("0.01"), min_qty=Decimal("0.01"),
                         market_step_size=Decimal("0.01"), market_min_qty=Decimal("0.01"), min_price=Decimal("10"),
                         min_notional="20")
    with FakeBinance(symbols=[coarse]) as fx:
        fx.set_price("3000", symbol="ETHUSDT")
        err = api_error(lambda: _client_for(fx).futures_create_order(symbol="ETHUSDT", side="BUY", type="MARKET",
                                                                     quantity="0.015"))
    assert err.code == -4023


def test_client_order_id_reused_while_open_gives_4116_and_after_fill_is_accepted(client: Client) -> None:
    limit_buy(client, "35000.0", newClientOrderId="entry-1")
    assert api_error(lambda: limit_buy(client, "35001.0", newClientOrderId="entry-1")).code == -4116
    client.futures_cancel_order(symbol="BTCUSDT", origClientOrderId="entry-1")
    assert limit_buy(client, "35002.0", newClientOrderId="entry-1")["status"] == "NEW"


def test_market_order_ack_reply_is_new_and_query_shows_fill(fake: FakeBinance, client: Client) -> None:
    ack = client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                      newClientOrderId="mkt-1")
    assert (ack["status"], ack["executedQty"], "avgPrice" in ack) == ("NEW", "0.000", False)
    queried = client.futures_get_order(symbol="BTCUSDT", origClientOrderId="mkt-1")
    assert (queried["status"], queried["executedQty"]) == ("FILLED", "0.010")
    assert Decimal(queried["avgPrice"]) == BARS[HISTORY - 1].close


def test_unknown_order_query_gives_2013_and_cancel_gives_2011(client: Client) -> None:
    assert api_error(lambda: client.futures_get_order(symbol="BTCUSDT", orderId=1)).code == -2013
    assert api_error(lambda: client.futures_cancel_order(symbol="BTCUSDT", orderId=1)).code == -2011


def test_hedge_mode_order_without_position_side_gives_4061() -> None:
    with FakeBinance(dual_side=True) as fx:
        fx.load_candles(BARS[:HISTORY])
        err = api_error(lambda: _client_for(fx).futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                                                     quantity="0.010"))
    assert err.code == -4061


def test_margin_type_already_set_gives_4046(client: Client) -> None:
    err = api_error(lambda: client.futures_change_margin_type(symbol="BTCUSDT", marginType="CROSSED"))
    assert (err.code, err.message) == (-4046, "No need to change margin type.")


# ----- algo orders ------------------------------------------------------------------------


def test_algo_stop_on_wrong_side_of_price_gives_2021(fake: FakeBinance, client: Client) -> None:
    above = str(last_price(fake) + 100)
    err = api_error(lambda: client.futures_create_algo_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET",
                                                             quantity="0.010", triggerPrice=above))
    assert (err.code, err.message) == (-2021, "Order would immediately trigger.")


def test_second_close_position_stop_same_direction_gives_4130(fake: FakeBinance, client: Client) -> None:
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    stop = {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "closePosition": "true"}
    client.futures_create_algo_order(triggerPrice=str(last_price(fake) - 200), **stop)
    err = api_error(lambda: client.futures_create_algo_order(triggerPrice=str(last_price(fake) - 300), **stop))
    assert err.code == -4130
    take_profit = {**stop, "type": "TAKE_PROFIT_MARKET", "triggerPrice": str(last_price(fake) + 300)}
    assert client.futures_create_algo_order(**take_profit)["algoStatus"] == "NEW"


def test_algo_orders_stay_out_of_regular_order_endpoints(client: Client) -> None:
    algo = _open_algo(client)
    assert client.futures_get_open_orders(symbol="BTCUSDT") == []
    client.futures_cancel_all_open_orders(symbol="BTCUSDT")
    assert client.futures_get_algo_order(algoId=algo["algoId"])["algoStatus"] == "NEW"


def test_reject_next_algo_refuses_with_the_injected_code(fake: FakeBinance, client: Client) -> None:
    fake.reject_next_algo(-4045)
    assert api_error(lambda: _open_algo(client)).code == -4045
    assert _open_algo(client)["algoStatus"] == "NEW"


# ----- streams ----------------------------------------------------------------------------


def test_kline_frame_on_market_socket_has_binance_fields(fake: FakeBinance, sockets) -> None:
    ws = sockets(f"{fake.ws_url}/market/ws/btcusdt@kline_1m")
    bar = BARS[HISTORY]
    fake.push_kline(bar)
    frame, _ = recv_until(ws, lambda f: f.get("e") == "kline")
    k = frame["k"]
    assert (frame["s"], k["t"], k["T"], k["i"], k["x"]) == ("BTCUSDT", bar.open_time, bar.close_time, "1m", True)
    assert set(k) == set("tTsifLochlvnxqVQB")
    assert (Decimal(k["o"]), Decimal(k["h"]), Decimal(k["l"]), Decimal(k["c"])) == (bar.open, bar.high, bar.low, bar.close)
    assert k["o"].count(".") == 1 and len(k["o"].split(".")[1]) == 2  # BTCUSDT pricePrecision


def test_combined_market_stream_wraps_frames_with_stream_name(fake: FakeBinance, sockets) -> None:
    ws = sockets(f"{fake.ws_url}/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m")
    fake.push_kline(BARS[HISTORY])
    frame, _ = recv_until(ws, lambda f: "stream" in f)
    assert frame["stream"] == "btcusdt@kline_1m" and frame["data"]["e"] == "kline"


def test_legacy_ws_route_accepts_and_stays_silent(fake: FakeBinance, sockets) -> None:
    legacy = sockets(f"{fake.ws_url}/ws/btcusdt@kline_1m")
    routed = sockets(f"{fake.ws_url}/market/ws/btcusdt@kline_1m")
    fake.push_kline(BARS[HISTORY])
    recv_until(routed, lambda f: f.get("e") == "kline")
    assert_silent(legacy)


def test_market_order_fill_reaches_private_socket_with_client_id(fake: FakeBinance, client: Client, sockets) -> None:
    ws = sockets(private_url(fake, client.futures_stream_get_listen_key()))
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                newClientOrderId="bot-entry-7")
    fill, seen = recv_until(ws, lambda f: f["e"] == "ORDER_TRADE_UPDATE" and f["o"]["X"] == "FILLED")
    o = fill["o"]
    assert (o["c"], o["x"], o["l"], o["z"], o["ps"]) == ("bot-entry-7", "TRADE", "0.010", "0.010", "BOTH")
    assert Decimal(o["L"]) == BARS[HISTORY - 1].close
    assert Decimal(o["n"]) == (Decimal("0.010") * BARS[HISTORY - 1].close * Decimal("0.0005")).quantize(Decimal("1e-8"))
    assert {"ACCOUNT_UPDATE"} <= {f["e"] for f in seen}
    account = next(f for f in seen if f["e"] == "ACCOUNT_UPDATE")["a"]
    assert (account["m"], account["P"][0]["pa"]) == ("ORDER", "0.010")


def test_private_socket_events_allow_list_filters_other_events(fake: FakeBinance, client: Client, sockets) -> None:
    key = client.futures_stream_get_listen_key()
    only_orders = sockets(private_url(fake, key, events="ORDER_TRADE_UPDATE"))
    no_events = sockets(private_url(fake, key, events=None))
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    _, seen = recv_until(only_orders, lambda f: f["o"]["X"] == "FILLED")
    assert {f["e"] for f in seen} == {"ORDER_TRADE_UPDATE"}
    assert_silent(no_events)


def test_algo_stop_triggered_by_candles_reports_ai_equal_to_fill_order_id(fake: FakeBinance, client: Client,
                                                                         sockets) -> None:
    ws = sockets(private_url(fake, client.futures_stream_get_listen_key()))
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    trigger = (last_price(fake) - 30).quantize(Decimal("0.1"))
    algo = client.futures_create_algo_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", closePosition="true",
                                            triggerPrice=str(trigger), workingType="MARK_PRICE",
                                            clientAlgoId="stop-1")
    for bar in BARS[HISTORY:]:  # replay real bars until the stop has fired
        fake.push_kline(bar)
        if fake.engine.algo_orders[algo["algoId"]].status == "FINISHED":
            break
    triggered, _ = recv_until(ws, lambda f: f["e"] == "ALGO_UPDATE" and f["o"]["X"] == "TRIGGERED")
    fill, _ = recv_until(ws, lambda f: f["e"] == "ORDER_TRADE_UPDATE" and f["o"]["X"] == "FILLED")
    finished, _ = recv_until(ws, lambda f: f["e"] == "ALGO_UPDATE" and f["o"]["X"] == "FINISHED")
    assert triggered["o"]["caid"] == "stop-1" and isinstance(triggered["o"]["ai"], str)
    assert triggered["o"]["ai"] == str(fill["o"]["i"]) == finished["o"]["ai"]
    assert (fill["o"]["ot"], fill["o"]["cp"], fill["o"]["S"]) == ("STOP_MARKET", True, "SELL")
    assert fake.position().amount == 0
    assert client.futures_get_algo_order(clientAlgoId="stop-1")["actualOrderId"] == triggered["o"]["ai"]


def test_stop_fill_expires_the_opposite_close_position_take_profit(fake: FakeBinance, client: Client) -> None:
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    price = last_price(fake)
    close = {"symbol": "BTCUSDT", "side": "SELL", "closePosition": "true"}
    client.futures_create_algo_order(type="STOP_MARKET", triggerPrice=str(price - 50), clientAlgoId="sl", **close)
    client.futures_create_algo_order(type="TAKE_PROFIT_MARKET", triggerPrice=str(price + 50), clientAlgoId="tp", **close)
    fake.set_price(price - 60)
    assert client.futures_get_algo_order(clientAlgoId="sl")["algoStatus"] == "FINISHED"
    assert client.futures_get_algo_order(clientAlgoId="tp")["algoStatus"] == "EXPIRED"


def test_mark_price_stop_fires_on_mark_while_contract_price_stop_waits(fake: FakeBinance, client: Client) -> None:
    # Edge case: mark and last price diverge, which the candle file cannot show.
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.020")
    price = last_price(fake)
    stop = {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "quantity": "0.010", "reduceOnly": "true",
            "triggerPrice": str(price - 50)}
    client.futures_create_algo_order(workingType="MARK_PRICE", clientAlgoId="on-mark", **stop)
    client.futures_create_algo_order(workingType="CONTRACT_PRICE", clientAlgoId="on-last", **stop)
    fake.set_price(price, mark=price - 60)
    assert client.futures_get_algo_order(clientAlgoId="on-mark")["algoStatus"] == "FINISHED"
    assert client.futures_get_algo_order(clientAlgoId="on-last")["algoStatus"] == "NEW"


def test_reject_next_trigger_reports_rejected_with_reason(fake: FakeBinance, client: Client, sockets) -> None:
    ws = sockets(private_url(fake, client.futures_stream_get_listen_key()))
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
    client.futures_create_algo_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", closePosition="true",
                                     triggerPrice=str(last_price(fake) - 50), clientAlgoId="sl-r")
    fake.reject_next_trigger("Margin is insufficient.")
    fake.set_price(last_price(fake) - 60)
    rejected, _ = recv_until(ws, lambda f: f["e"] == "ALGO_UPDATE" and f["o"]["X"] == "REJECTED")
    assert (rejected["o"]["caid"], rejected["o"]["rm"]) == ("sl-r", "Margin is insufficient.")
    assert fake.position().amount == Decimal("0.010")


def test_leverage_change_pushes_account_config_update(fake: FakeBinance, client: Client, sockets) -> None:
    ws = sockets(private_url(fake, client.futures_stream_get_listen_key()))
    reply = client.futures_change_leverage(symbol="BTCUSDT", leverage=7)
    event, _ = recv_until(ws, lambda f: f["e"] == "ACCOUNT_CONFIG_UPDATE")
    assert reply["leverage"] == 7 and event["ac"] == {"s": "BTCUSDT", "l": 7}


def test_resting_limit_fills_as_maker_when_a_candle_trades_through(fake: FakeBinance, client: Client) -> None:
    # Edge case: a hand-made bar whose low reaches the resting bid.
    bid = (last_price(fake) - 100).quantize(Decimal("0.1"))
    order = limit_buy(client, str(bid))
    t = BARS[HISTORY].open_time
    fake.push_candle(t, bid + 80, bid + 90, bid - 5, bid + 10, "12.5")
    trade = client.futures_account_trades(symbol="BTCUSDT")[-1]
    assert (trade["orderId"], trade["maker"], Decimal(trade["price"])) == (order["orderId"], True, bid)
    assert Decimal(trade["commission"]) == (bid * Decimal("0.010") * Decimal("0.0002")).quantize(Decimal("1e-8"))


def test_round_trip_realized_pnl_is_price_difference_times_quantity(fake: FakeBinance, client: Client) -> None:
    client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.020")
    entry = last_price(fake)
    fake.set_price(entry + 150)
    client.futures_create_order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.020", reduceOnly="true")
    assert fake.realized_pnl() == Decimal("150") * Decimal("0.020")
    assert fake.wallet_balance == Decimal("10000") + fake.realized_pnl() - fake.commission_paid()


def test_listen_key_expiry_pushes_event_then_keepalive_gives_1125(fake: FakeBinance, client: Client,
                                                                  sockets) -> None:
    key = client.futures_stream_get_listen_key()
    ws = sockets(private_url(fake, key))
    fake.expire_listen_key()
    event, _ = recv_until(ws, lambda f: f["e"] == "listenKeyExpired")
    assert event["listenKey"] == key
    assert api_error(lambda: client.futures_stream_keepalive(key)).code == -1125
    assert client.futures_stream_get_listen_key() != key


# ----- klines over REST -------------------------------------------------------------------


def test_klines_pages_from_start_time_in_ascending_order(fake: FakeBinance, client: Client) -> None:
    fake.load_candles(BARS[HISTORY:])
    first = client.futures_klines(symbol="BTCUSDT", interval="1m", startTime=BARS[0].open_time, limit=1000)
    rest = client.futures_klines(symbol="BTCUSDT", interval="1m", startTime=first[-1][0] + 60_000, limit=1000)
    times = [row[0] for row in first + rest]
    assert times == [b.open_time for b in BARS] and len(first) == 1000
    assert len(first[0]) == 12 and isinstance(first[0][1], str) and isinstance(first[0][8], int)


def test_klines_without_times_return_most_recent_500(fake: FakeBinance, client: Client) -> None:
    fake.load_candles(BARS[HISTORY:])
    rows = client.futures_klines(symbol="BTCUSDT", interval="1m")
    assert [r[0] for r in rows] == [b.open_time for b in BARS[-500:]]


def test_klines_limit_above_1500_gives_1130(client: Client) -> None:
    err = api_error(lambda: client.futures_klines(symbol="BTCUSDT", interval="1m", limit=1501))
    assert (err.code, err.message) == (-1130, "Data sent for parameter 'limit' is not valid.")


def test_klines_forming_bar_is_last_row_with_close_time_not_before_server_time() -> None:
    clock = ReplayClock()
    with FakeBinance(clock=clock, check_recv_window=False) as fx:
        fx.load_candles(BARS[:HISTORY])
        clock.set(BARS[HISTORY - 1].close_time + 1)
        bar = BARS[HISTORY]
        fx.push_candle(bar.open_time, bar.open, bar.high, bar.low, bar.open, "3", closed=False)
        c = _client_for(fx)
        rows = c.futures_klines(symbol="BTCUSDT", interval="1m", limit=3)
        server_time = c.futures_time()["serverTime"]
    assert rows[-1][0] == bar.open_time and rows[-1][6] >= server_time
    assert rows[-2][6] < server_time


# ----- fault injection --------------------------------------------------------------------


def test_fail_next_order_after_accept_gives_503_yet_order_executed(fake: FakeBinance, client: Client) -> None:
    fake.fail_next_order()
    err = api_error(lambda: client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET",
                                                        quantity="0.010", newClientOrderId="unknown-1"))
    assert (err.status_code, err.message) == (503, "Unknown error, please check your request or try again later.")
    assert client.futures_get_order(symbol="BTCUSDT", origClientOrderId="unknown-1")["status"] == "FILLED"


def test_fail_next_order_disconnect_raises_connection_error_yet_order_executed(fake: FakeBinance,
                                                                              client: Client) -> None:
    fake.fail_next_order(disconnect=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                    newClientOrderId="lost-1")
    assert fake.position().amount == Decimal("0.010")


def test_rate_limit_next_gives_429_with_retry_after(fake: FakeBinance, client: Client) -> None:
    fake.rate_limit_next(1, retry_after=7)
    err = api_error(client.futures_time)
    assert (err.status_code, err.code, client.response.headers["Retry-After"]) == (429, -1003, "7")
    assert "serverTime" in client.futures_time()


def test_drop_market_sockets_closes_client_connection(fake: FakeBinance, sockets) -> None:
    ws = sockets(f"{fake.ws_url}/market/ws/btcusdt@kline_1m")
    assert fake.drop_market_sockets() == 1
    ws.settimeout(5)
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
        ws.recv()
    assert fake.ws.count("market") == 0


def test_server_pings_are_answered_by_websocket_client(sockets) -> None:
    # recv() only returns on a data frame or a timeout, so it must time out between pings.
    with FakeBinance(ws_ping_interval=0.2, ws_ping_timeout=2) as fx:
        ws = sockets(f"{fx.ws_url}/market/ws/btcusdt@kline_1m")
        ws.settimeout(0.05)

        def pong_seen() -> bool:
            try:
                ws.recv()  # websocket-client answers pings inside recv
            except websocket.WebSocketTimeoutException:
                pass
            return fx.ws.latencies() and all(lat > 0 for lat in fx.ws.latencies())

        deadline = time.monotonic() + 5
        while not pong_seen():
            assert time.monotonic() < deadline, "the server never saw a pong"
