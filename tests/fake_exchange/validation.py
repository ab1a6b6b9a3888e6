"""Parsing and stateless checks of new-order and new-algo-order parameters.

`parse_order` and `parse_algo` turn raw REST params into frozen requests or raise the
`ApiError` Binance would send: missing or malformed parameters (-1102), conditional
types on /order (-4120), bad client ids (-4015), position-side mismatch (-4061),
reduceOnly in hedge mode (-1106), and the symbol filters. Checks that need the
engine's state (duplicates, notional at mark, immediate trigger) live in the engine.

Booleans: Binance documents "true"/"false" ("TRUE"/"FALSE" for priceProtect). With
`strict_booleans` (the default) any other spelling, such as python-binance's "True",
is refused with -1130, so a bot that sends `str(True)` fails loudly here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .errors import ApiError, client_id_too_long, error, invalid_param, mandatory, not_required
from .symbols import SymbolRules, check_price, check_quantity, parse_decimal

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
CONDITIONAL_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
ALGO_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX", "GTD")


@dataclass(frozen=True)
class OrderRequest:
    """A checked POST /fapi/v1/order. `price` is None for MARKET."""

    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    time_in_force: str
    position_side: str
    reduce_only: bool
    client_id: str | None
    resp_type: str


@dataclass(frozen=True)
class AlgoRequest:
    """A checked POST /fapi/v1/algoOrder. `qty` is None with closePosition."""

    symbol: str
    side: str
    type: str
    qty: Decimal | None
    price: Decimal
    trigger_price: Decimal
    working_type: str
    time_in_force: str
    position_side: str
    reduce_only: bool
    close_position: bool
    price_protect: bool
    client_algo_id: str | None


def parse_bool(params: dict[str, str], name: str, strict: bool, upper_ok: bool = False) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    allowed = {"true": True, "false": False}
    if upper_ok:
        allowed.update({"TRUE": True, "FALSE": False})
    if raw in allowed:
        return allowed[raw]
    if not strict and raw.lower() in allowed:
        return allowed[raw.lower()]
    raise invalid_param(name)


def check_client_id(value: str) -> None:
    if len(value) > 36:
        raise client_id_too_long()
    if not CLIENT_ID_RE.match(value):
        raise error(-4015)


def _symbol_side(params: dict[str, str], rules: dict[str, SymbolRules]) -> tuple[SymbolRules, str]:
    symbol = params.get("symbol") or ""
    if not symbol:
        raise mandatory("symbol")
    if symbol not in rules:
        raise error(-1121)
    side = params.get("side") or ""
    if not side:
        raise mandatory("side")
    if side not in ("BUY", "SELL"):
        raise error(-1117)
    return rules[symbol], side


def _position_side(params: dict[str, str], dual_side: bool, strict: bool) -> tuple[str, bool]:
    position_side = params.get("positionSide", "BOTH")
    if position_side not in ("BOTH", "LONG", "SHORT"):
        raise ApiError(-4060, "Invalid position side.")
    if dual_side == (position_side == "BOTH"):
        raise error(-4061)
    reduce_only = parse_bool(params, "reduceOnly", strict)
    if dual_side and reduce_only is not None:
        raise not_required("reduceOnly")
    return position_side, bool(reduce_only)


def parse_order(params: dict[str, str], rules: dict[str, SymbolRules], dual_side: bool,
                strict_booleans: bool = True) -> OrderRequest:
    """Check a POST /fapi/v1/order; conditional types give -4120."""
    sym, side = _symbol_side(params, rules)
    order_type = params.get("type") or ""
    if not order_type:
        raise mandatory("type")
    if order_type in CONDITIONAL_TYPES:
        raise error(-4120)
    if order_type not in ("LIMIT", "MARKET"):
        raise error(-1116)
    position_side, reduce_only = _position_side(params, dual_side, strict_booleans)
    client_id = params.get("newClientOrderId")
    if client_id is not None:
        check_client_id(client_id)
    resp_type = params.get("newOrderRespType", "ACK")
    if resp_type not in ("ACK", "RESULT"):
        raise ApiError(-1136, "Invalid newOrderRespType.")
    qty = parse_decimal("quantity", params.get("quantity"))
    price = None
    tif = params.get("timeInForce", "GTC")
    if order_type == "LIMIT":
        price = parse_decimal("price", params.get("price"))
        if "timeInForce" not in params:
            raise mandatory("timeInForce")
        if tif not in TIME_IN_FORCE:
            raise ApiError(-1115, "Invalid timeInForce.")
        check_price(sym, price)
    elif "price" in params:
        raise not_required("price")
    check_quantity(sym, qty, market=order_type == "MARKET")
    return OrderRequest(sym.symbol, side, order_type, qty, price, tif, position_side, reduce_only,
                        client_id, resp_type)


def parse_algo(params: dict[str, str], rules: dict[str, SymbolRules], dual_side: bool,
               strict_booleans: bool = True) -> AlgoRequest:
    """Check a POST /fapi/v1/algoOrder (CONDITIONAL STOP/TAKE_PROFIT, market or limit)."""
    algo_type = params.get("algoType")
    if not algo_type:
        raise mandatory("algoType")
    if algo_type != "CONDITIONAL":
        raise invalid_param("algoType")
    sym, side = _symbol_side(params, rules)
    order_type = params.get("type") or ""
    if not order_type:
        raise mandatory("type")
    if order_type not in ALGO_TYPES:
        raise error(-1116)
    position_side, reduce_only = _position_side(params, dual_side, strict_booleans)
    close_position = bool(parse_bool(params, "closePosition", strict_booleans))
    price_protect = bool(parse_bool(params, "priceProtect", strict_booleans, upper_ok=True))
    if close_position:
        if order_type not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
            raise invalid_param("closePosition")
        if "quantity" in params:
            raise error(-4137)
        if "reduceOnly" in params:
            raise not_required("reduceOnly")
        if dual_side and (side, position_side) in (("BUY", "LONG"), ("SELL", "SHORT")):
            raise error(-4061)
        qty = None
    else:
        qty = parse_decimal("quantity", params.get("quantity"))
        check_quantity(sym, qty, market=order_type.endswith("_MARKET"))
    trigger = parse_decimal("triggerPrice", params.get("triggerPrice"))
    if trigger <= 0:
        raise ApiError(-4006, "Stop price less than zero.")
    price = Decimal(0)
    if order_type in ("STOP", "TAKE_PROFIT"):
        price = parse_decimal("price", params.get("price"))
        check_price(sym, price)
    working_type = params.get("workingType", "CONTRACT_PRICE")
    if working_type not in ("MARK_PRICE", "CONTRACT_PRICE"):
        raise ApiError(-4031, "Invalid parameter working type")
    tif = params.get("timeInForce", "GTC")
    if tif not in TIME_IN_FORCE:
        raise ApiError(-1115, "Invalid timeInForce.")
    client_algo_id = params.get("clientAlgoId")
    if client_algo_id is not None:
        check_client_id(client_algo_id)
    return AlgoRequest(sym.symbol, side, order_type, qty, price, trigger, working_type,
                       "GTE_GTC" if close_position else tif, position_side, reduce_only, close_position,
                       price_protect, client_algo_id)
