"""The route table: (HTTP method, path) → handler, security type and IP weight.

Paths are exactly what python-binance 1.0.37 requests with
`client.FUTURES_URL = rest_url + "/fapi"` (it builds FUTURES_URL + "/v1|v2|v3/" + path).
Weights follow the Binance docs (binance.md §5, §7.1).
"""
from __future__ import annotations

from . import routes_account as acc
from . import routes_market as mkt
from . import routes_trade as trd
from .rest import Route


def _by_symbol(with_symbol: int, without: int):
    return lambda params: with_symbol if params.get("symbol") else without


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/fapi/v1/ping"): Route(mkt.ping),
    ("GET", "/fapi/v1/time"): Route(mkt.server_time),
    ("GET", "/fapi/v1/exchangeInfo"): Route(mkt.exchange_info),
    ("GET", "/fapi/v1/klines"): Route(mkt.klines, weight=mkt.klines_weight),
    ("GET", "/fapi/v1/premiumIndex"): Route(mkt.premium_index, weight=_by_symbol(1, 10)),
    ("GET", "/fapi/v1/positionSide/dual"): Route(acc.get_position_mode, "SIGNED", 30),
    ("POST", "/fapi/v1/positionSide/dual"): Route(acc.set_position_mode, "SIGNED", 1),
    ("GET", "/fapi/v1/accountConfig"): Route(acc.account_config, "SIGNED", 5),
    ("GET", "/fapi/v1/symbolConfig"): Route(acc.symbol_config, "SIGNED", 5),
    ("POST", "/fapi/v1/marginType"): Route(acc.set_margin_type, "SIGNED", 1),
    ("POST", "/fapi/v1/leverage"): Route(acc.set_leverage, "SIGNED", 1),
    ("GET", "/fapi/v1/leverageBracket"): Route(acc.leverage_bracket, "SIGNED", 1),
    ("GET", "/fapi/v1/commissionRate"): Route(acc.commission_rate, "SIGNED", 20),
    ("GET", "/fapi/v2/balance"): Route(acc.balance, "SIGNED", 5),
    ("GET", "/fapi/v3/balance"): Route(acc.balance, "SIGNED", 5),
    ("GET", "/fapi/v2/account"): Route(acc.account_v2, "SIGNED", 5),
    ("GET", "/fapi/v3/account"): Route(acc.account_v3, "SIGNED", 5),
    ("GET", "/fapi/v2/positionRisk"): Route(acc.position_risk_v2, "SIGNED", 5),
    ("GET", "/fapi/v3/positionRisk"): Route(acc.position_risk_v3, "SIGNED", 5),
    ("POST", "/fapi/v1/listenKey"): Route(acc.listen_key_create, "USER_STREAM", 1),
    ("PUT", "/fapi/v1/listenKey"): Route(acc.listen_key_keepalive, "USER_STREAM", 1),
    ("DELETE", "/fapi/v1/listenKey"): Route(acc.listen_key_close, "USER_STREAM", 1),
    ("POST", "/fapi/v1/order"): Route(trd.new_order, "SIGNED", 0),
    ("GET", "/fapi/v1/order"): Route(trd.get_order, "SIGNED", 1),
    ("DELETE", "/fapi/v1/order"): Route(trd.cancel_order, "SIGNED", 1),
    ("GET", "/fapi/v1/openOrders"): Route(trd.open_orders, "SIGNED", _by_symbol(1, 40)),
    ("DELETE", "/fapi/v1/allOpenOrders"): Route(trd.cancel_all_orders, "SIGNED", 1),
    ("POST", "/fapi/v1/algoOrder"): Route(trd.new_algo, "SIGNED", 0),
    ("GET", "/fapi/v1/algoOrder"): Route(trd.get_algo, "SIGNED", 1),
    ("DELETE", "/fapi/v1/algoOrder"): Route(trd.cancel_algo, "SIGNED", 1),
    ("GET", "/fapi/v1/openAlgoOrders"): Route(trd.open_algos, "SIGNED", _by_symbol(1, 40)),
    ("DELETE", "/fapi/v1/algoOpenOrders"): Route(trd.cancel_all_algos, "SIGNED", 1),
    ("GET", "/fapi/v1/userTrades"): Route(trd.user_trades, "SIGNED", 5),
}
