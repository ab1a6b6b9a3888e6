"""Market-data and server endpoints: ping, time, exchangeInfo, klines, premiumIndex.

Handlers take the `FakeBinance` (`fx`) and a `Context`, return the JSON body, and
raise `ApiError` for Binance's errors.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .candles import rest_row
from .errors import error, mandatory
from .rest import Context
from .symbols import SymbolRules, exchange_info as exchange_info_body

if TYPE_CHECKING:
    from .fake import FakeBinance


def symbol_rules(fx: "FakeBinance", params: dict[str, str]) -> SymbolRules:
    """The rules of the mandatory `symbol` parameter (-1102 missing, -1121 unknown)."""
    symbol = params.get("symbol")
    if not symbol:
        raise mandatory("symbol")
    if symbol not in fx.rules:
        raise error(-1121)
    return fx.rules[symbol]


def ping(fx: "FakeBinance", ctx: Context) -> dict:
    return {}


def server_time(fx: "FakeBinance", ctx: Context) -> dict:
    return {"serverTime": fx.clock()}


def exchange_info(fx: "FakeBinance", ctx: Context) -> dict:
    # `?symbol=` is ignored, as live Binance does (binance.md §6).
    return exchange_info_body(list(fx.rules.values()), fx.clock(), fx.rest.weight_limit)


def klines_weight(params: dict[str, str]) -> int:
    limit = int(params["limit"]) if params.get("limit", "").isdigit() else 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


def klines(fx: "FakeBinance", ctx: Context) -> list:
    rules = symbol_rules(fx, ctx.params)
    interval = ctx.params.get("interval")
    if not interval:
        raise mandatory("interval")
    rows = fx.candles.query(rules.symbol, interval, ctx.params, fx.clock())
    return [rest_row(k, rules) for k in rows]


def premium_index(fx: "FakeBinance", ctx: Context):
    now = fx.clock()

    def one(rules: SymbolRules) -> dict:
        mark = fx.engine.mark_of(rules.symbol)
        return {"symbol": rules.symbol, "markPrice": rules.fmt_price(mark), "indexPrice": rules.fmt_price(mark),
                "estimatedSettlePrice": rules.fmt_price(mark), "lastFundingRate": "0.00010000",
                "interestRate": "0.00010000", "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
                "time": now}

    if ctx.params.get("symbol"):
        return one(symbol_rules(fx, ctx.params))
    return [one(r) for r in fx.rules.values() if r.symbol in fx.engine.last]
