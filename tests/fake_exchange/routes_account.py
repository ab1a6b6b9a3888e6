"""Account endpoints: position mode, margin type, leverage, brackets, fees, balances,
account, positionRisk (v2 and v3), symbolConfig and the listenKey lifecycle.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import error, invalid_leverage, invalid_param, mandatory
from .rest import Context
from .routes_market import symbol_rules
from .validation import parse_bool

if TYPE_CHECKING:
    from .fake import FakeBinance

SUCCESS = {"code": 200, "msg": "success"}
BRACKETS = [  # BTCUSDT's first brackets as Binance lists them
    {"bracket": 1, "initialLeverage": 125, "notionalCap": 50000, "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0},
    {"bracket": 2, "initialLeverage": 100, "notionalCap": 600000, "notionalFloor": 50000, "maintMarginRatio": 0.005, "cum": 50.0},
    {"bracket": 3, "initialLeverage": 75, "notionalCap": 3000000, "notionalFloor": 600000, "maintMarginRatio": 0.0065, "cum": 950.0},
    {"bracket": 4, "initialLeverage": 50, "notionalCap": 12000000, "notionalFloor": 3000000, "maintMarginRatio": 0.01, "cum": 11450.0},
]


def get_position_mode(fx: "FakeBinance", ctx: Context) -> dict:
    return {"dualSidePosition": fx.account.dual_side}


def account_config(fx: "FakeBinance", ctx: Context) -> dict:
    return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
            "dualSidePosition": fx.account.dual_side, "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1}


def set_position_mode(fx: "FakeBinance", ctx: Context) -> dict:
    dual = parse_bool(ctx.params, "dualSidePosition", fx.strict_booleans)
    if dual is None:
        raise mandatory("dualSidePosition")
    with fx.engine.lock:
        if dual == fx.account.dual_side:
            raise error(-4059)
        if fx.engine.open_orders() or fx.engine.open_algos():
            raise error(-4067)
        if any(p.amount for p in fx.account.positions.values()):
            raise error(-4068)
        fx.account.dual_side = dual
    return SUCCESS


def set_margin_type(fx: "FakeBinance", ctx: Context) -> dict:
    rules = symbol_rules(fx, ctx.params)
    margin_type = ctx.params.get("marginType")
    if not margin_type:
        raise mandatory("marginType")
    if margin_type not in ("ISOLATED", "CROSSED"):
        raise invalid_param("marginType")
    with fx.engine.lock:
        if fx.account.margin_type_refusal is not None:
            raise error(fx.account.margin_type_refusal)
        if fx.account.margin_type.get(rules.symbol, "CROSSED") == margin_type:
            raise error(-4046)
        if fx.engine.open_orders(rules.symbol) or fx.engine.open_algos(rules.symbol):
            raise error(-4047)
        if any(p.amount for p in fx.account.legs(rules.symbol)):
            raise error(-4048)
        fx.account.margin_type[rules.symbol] = margin_type
    return SUCCESS


def set_leverage(fx: "FakeBinance", ctx: Context) -> dict:
    rules = symbol_rules(fx, ctx.params)
    raw = ctx.params.get("leverage")
    if not raw:
        raise mandatory("leverage")
    if not raw.isdigit() or not 1 <= int(raw) <= 125:
        raise invalid_leverage(raw)
    leverage = int(raw)
    with fx.engine.lock:
        fx.account.leverage[rules.symbol] = leverage
        now = fx.clock()
        fx.engine.emit("ACCOUNT_CONFIG_UPDATE", {"e": "ACCOUNT_CONFIG_UPDATE", "E": now, "T": now,
                                                 "ac": {"s": rules.symbol, "l": leverage}})
    cap = next(b["notionalCap"] for b in reversed(BRACKETS) if b["initialLeverage"] >= leverage)
    return {"leverage": leverage, "maxNotionalValue": str(cap), "symbol": rules.symbol}


def leverage_bracket(fx: "FakeBinance", ctx: Context):
    # An object with `symbol`, an array without it (binance.md §5).
    if ctx.params.get("symbol"):
        return {"symbol": symbol_rules(fx, ctx.params).symbol, "notionalCoef": 1.0, "brackets": BRACKETS}
    return [{"symbol": s, "notionalCoef": 1.0, "brackets": BRACKETS} for s in fx.rules]


def commission_rate(fx: "FakeBinance", ctx: Context) -> dict:
    rules = symbol_rules(fx, ctx.params)
    return {"symbol": rules.symbol, "makerCommissionRate": str(fx.account.maker_rate),
            "takerCommissionRate": str(fx.account.taker_rate), "rpiCommissionRate": "0.00010000"}


def symbol_config(fx: "FakeBinance", ctx: Context) -> list:
    symbols = [symbol_rules(fx, ctx.params).symbol] if ctx.params.get("symbol") else list(fx.rules)
    return [{"symbol": s, "marginType": fx.account.margin_type.get(s, "CROSSED"), "isAutoAddMargin": False,
             "leverage": fx.account.leverage.get(s, 20), "maxNotionalValue": "80000000"} for s in symbols]


def balance(fx: "FakeBinance", ctx: Context) -> list:
    with fx.engine.lock:
        return fx.account.balance_view(fx.engine.marks())


def account_v2(fx: "FakeBinance", ctx: Context) -> dict:
    with fx.engine.lock:
        return fx.account.account_view(2, fx.engine.marks(), fx.rules)


def account_v3(fx: "FakeBinance", ctx: Context) -> dict:
    with fx.engine.lock:
        return fx.account.account_view(3, fx.engine.marks(), fx.rules)


def _position_risk(fx: "FakeBinance", ctx: Context, version: int) -> list:
    symbols = [symbol_rules(fx, ctx.params).symbol] if ctx.params.get("symbol") else list(fx.rules)
    with fx.engine.lock:
        with_orders = {o.symbol for o in fx.engine.open_orders()} | {a.symbol for a in fx.engine.open_algos()}
        return fx.account.position_risk(version, fx.engine.marks(), symbols, with_orders)


def position_risk_v2(fx: "FakeBinance", ctx: Context) -> list:
    return _position_risk(fx, ctx, 2)


def position_risk_v3(fx: "FakeBinance", ctx: Context) -> list:
    return _position_risk(fx, ctx, 3)


def listen_key_create(fx: "FakeBinance", ctx: Context) -> dict:
    return {"listenKey": fx.listen_keys.create()}


def listen_key_keepalive(fx: "FakeBinance", ctx: Context) -> dict:
    return {"listenKey": fx.listen_keys.keepalive(ctx.params.get("listenKey"))}


def listen_key_close(fx: "FakeBinance", ctx: Context) -> dict:
    fx.listen_keys.close(ctx.params.get("listenKey"))
    return {}
