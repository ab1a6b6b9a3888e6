"""Trade endpoints: orders, algo (conditional) orders, cancels and the trade list.

Regular and algo orders are separate families, as on Binance: algo orders never
appear in /openOrders, /allOpenOrders does not cancel them, and /order does not find
them (-2013 on query, -2011 on cancel).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ApiError, error, invalid_param
from .rest import Context
from .routes_market import symbol_rules
from .validation import parse_algo, parse_order

if TYPE_CHECKING:
    from .fake import FakeBinance
    from .orders import AlgoOrder, Order

CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}


def new_order(fx: "FakeBinance", ctx: Context) -> dict:
    req = parse_order(ctx.params, fx.rules, fx.account.dual_side, fx.strict_booleans)
    order, ack = fx.engine.place_order(req)
    if req.resp_type == "RESULT":
        with fx.engine.lock:
            return order.new_order_view(fx.rules[order.symbol])
    return ack


def _find_order(fx: "FakeBinance", ctx: Context) -> "Order | None":
    rules = symbol_rules(fx, ctx.params)
    order_id, client_id = ctx.params.get("orderId"), ctx.params.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise ApiError(-1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!")
    return fx.engine.find_order(rules.symbol, order_id, client_id)


def get_order(fx: "FakeBinance", ctx: Context) -> dict:
    order = _find_order(fx, ctx)
    if order is None:
        raise error(-2013)
    with fx.engine.lock:
        return order.query_view(fx.rules[order.symbol])


def cancel_order(fx: "FakeBinance", ctx: Context) -> dict:
    order = _find_order(fx, ctx)
    if order is None:
        raise error(-2011)
    fx.engine.cancel_order(order)
    with fx.engine.lock:
        return {**order.query_view(fx.rules[order.symbol]), "cumQty": fx.rules[order.symbol].fmt_qty(order.executed_qty)}


def open_orders(fx: "FakeBinance", ctx: Context) -> list:
    symbol = symbol_rules(fx, ctx.params).symbol if ctx.params.get("symbol") else None
    with fx.engine.lock:
        return [o.query_view(fx.rules[o.symbol]) for o in fx.engine.open_orders(symbol)]


def cancel_all_orders(fx: "FakeBinance", ctx: Context) -> dict:
    rules = symbol_rules(fx, ctx.params)
    with fx.engine.lock:
        for order in fx.engine.open_orders(rules.symbol):
            fx.engine.cancel_order(order)
    return CANCEL_ALL_DONE


def new_algo(fx: "FakeBinance", ctx: Context) -> dict:
    req = parse_algo(ctx.params, fx.rules, fx.account.dual_side, fx.strict_booleans)
    algo = fx.engine.place_algo(req)
    with fx.engine.lock:
        return algo.rest_view(fx.rules[algo.symbol])


def _find_algo(fx: "FakeBinance", ctx: Context) -> "AlgoOrder | None":
    algo_id, client_id = ctx.params.get("algoId"), ctx.params.get("clientAlgoId")
    if algo_id is None and client_id is None:
        raise ApiError(-1102, "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!")
    return fx.engine.find_algo(algo_id, client_id)


def get_algo(fx: "FakeBinance", ctx: Context) -> dict:
    algo = _find_algo(fx, ctx)
    if algo is None:
        raise error(-2013)
    with fx.engine.lock:
        return algo.rest_view(fx.rules[algo.symbol])


def cancel_algo(fx: "FakeBinance", ctx: Context) -> dict:
    algo = _find_algo(fx, ctx)
    with fx.engine.lock:
        if algo is None or not algo.is_open:
            raise error(-2011)
        fx.engine.end_algo(algo, "CANCELED")
    return {"algoId": algo.algo_id, "clientAlgoId": algo.client_algo_id, "code": "200", "msg": "success"}


def open_algos(fx: "FakeBinance", ctx: Context) -> list:
    symbol = symbol_rules(fx, ctx.params).symbol if ctx.params.get("symbol") else None
    if ctx.params.get("algoType", "CONDITIONAL") != "CONDITIONAL":
        raise invalid_param("algoType")
    with fx.engine.lock:
        algos = fx.engine.open_algos(symbol)
        if ctx.params.get("algoId"):
            algos = [a for a in algos if str(a.algo_id) == ctx.params["algoId"]]
        return [a.rest_view(fx.rules[a.symbol]) for a in algos]


def cancel_all_algos(fx: "FakeBinance", ctx: Context) -> dict:
    rules = symbol_rules(fx, ctx.params)
    with fx.engine.lock:
        for algo in fx.engine.open_algos(rules.symbol):
            fx.engine.end_algo(algo, "CANCELED")
    return CANCEL_ALL_DONE


def user_trades(fx: "FakeBinance", ctx: Context) -> list:
    rules = symbol_rules(fx, ctx.params)
    p = ctx.params
    limit = int(p["limit"]) if p.get("limit", "").isdigit() else 500
    if not 1 <= limit <= 1000:
        raise invalid_param("limit")
    if "fromId" in p and ("startTime" in p or "endTime" in p):
        raise ApiError(-1128, "Combination of optional parameters invalid.")
    with fx.engine.lock:
        trades = [t for t in fx.account.trades if t.symbol == rules.symbol]
    if p.get("orderId"):
        trades = [t for t in trades if str(t.order_id) == p["orderId"]]
    if p.get("fromId"):
        trades = [t for t in trades if t.id >= int(p["fromId"])][:limit]
    else:
        trades = [t for t in trades if int(p.get("startTime", 0)) <= t.time <= int(p.get("endTime", 2**62))][-limit:]
    return [t.view(rules) for t in trades]


