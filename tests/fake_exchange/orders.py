"""Order records and their wire views: REST order JSON, ORDER_TRADE_UPDATE, ALGO_UPDATE.

`Order` is a regular order in the matching engine (LIMIT or MARKET, or the MARKET /
LIMIT order a triggered algo order creates). `AlgoOrder` is a conditional order held
by the algo service until it triggers. Quantities are in the base asset and always
positive; `side` says the direction. Prices are `Decimal` in the quote asset.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .symbols import SymbolRules

ZERO = Decimal(0)
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
OPEN_ALGO_STATUSES = ("NEW",)


def _plain(value: Decimal) -> str:
    """A decimal without exponent and without trailing zeros ("0" for zero)."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: Decimal) -> str:
    return "0" if value == 0 else format(value.quantize(Decimal("0.00000001")), "f")


@dataclass
class Order:
    """A regular order. `price` is 0 for MARKET; `stop_price` is the trigger of its algo order, else 0."""

    order_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal
    time_in_force: str
    position_side: str
    reduce_only: bool
    time: int
    orig_type: str = ""
    stop_price: Decimal = ZERO
    close_position: bool = False
    working_type: str = "CONTRACT_PRICE"
    price_protect: bool = False
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0
    expiry_reason: str = "0"

    def __post_init__(self) -> None:
        self.orig_type = self.orig_type or self.type
        self.update_time = self.update_time or self.time

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO

    def _common(self, rules: SymbolRules) -> dict:
        return {
            "clientOrderId": self.client_id, "executedQty": rules.fmt_qty(self.executed_qty),
            "orderId": self.order_id, "origQty": rules.fmt_qty(self.qty), "origType": self.orig_type,
            "price": _plain(self.price), "reduceOnly": self.reduce_only, "side": self.side,
            "positionSide": self.position_side, "status": self.status, "stopPrice": _plain(self.stop_price),
            "closePosition": self.close_position, "symbol": self.symbol, "timeInForce": self.time_in_force,
            "type": self.type, "updateTime": self.update_time, "workingType": self.working_type,
            "priceProtect": self.price_protect, "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
        }

    def new_order_view(self, rules: SymbolRules) -> dict:
        """POST /fapi/v1/order response (no avgPrice/cumQuote: dropped from the spec 2026-07)."""
        return {**self._common(rules), "cumQty": rules.fmt_qty(self.executed_qty)}

    def query_view(self, rules: SymbolRules) -> dict:
        """GET /fapi/v1/order, openOrders and cancel responses."""
        return {**self._common(rules), "avgPrice": format(self.avg_price.quantize(Decimal("0.00001")), "f"),
                "cumQuote": _money(self.cum_quote), "time": self.time}

    def trade_update(self, rules: SymbolRules, event_ms: int, execution: str, fill: "FillInfo | None" = None) -> dict:
        """The ORDER_TRADE_UPDATE event for this order's current state."""
        f = fill or FillInfo()
        return {"e": "ORDER_TRADE_UPDATE", "E": event_ms, "T": event_ms, "o": {
            "s": self.symbol, "c": self.client_id, "S": self.side, "o": self.type, "f": self.time_in_force,
            "q": rules.fmt_qty(self.qty), "p": _plain(self.price),
            "ap": format(self.avg_price.quantize(Decimal("0.00001")), "f"), "sp": _plain(self.stop_price),
            "x": execution, "X": self.status, "i": self.order_id, "l": rules.fmt_qty(f.qty),
            "z": rules.fmt_qty(self.executed_qty), "L": _plain(f.price), "N": "USDT", "n": _money(f.commission),
            "T": event_ms, "t": f.trade_id, "b": "0", "a": "0", "m": f.maker, "R": self.reduce_only,
            "wt": self.working_type, "ot": self.orig_type, "ps": self.position_side, "cp": self.close_position,
            "pP": self.price_protect, "si": 0, "ss": 0, "rp": _money(f.realized_pnl), "V": "EXPIRE_MAKER",
            "pm": "NONE", "gtd": 0, "er": self.expiry_reason}}

    def trade_lite(self, rules: SymbolRules, event_ms: int, fill: "FillInfo") -> dict:
        """The TRADE_LITE event Binance sends just before the fill's ORDER_TRADE_UPDATE."""
        return {"e": "TRADE_LITE", "E": event_ms, "T": event_ms, "s": self.symbol, "q": rules.fmt_qty(self.qty),
                "p": rules.fmt_price(self.price), "m": fill.maker, "c": self.client_id, "S": self.side,
                "L": rules.fmt_price(fill.price), "l": rules.fmt_qty(fill.qty), "t": fill.trade_id, "i": self.order_id}


@dataclass(frozen=True)
class FillInfo:
    """One execution of an order: quantity, price, fee (positive = paid) and realized PnL."""

    qty: Decimal = ZERO
    price: Decimal = ZERO
    commission: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    trade_id: int = 0
    maker: bool = False


@dataclass
class AlgoOrder:
    """A conditional order (algoType CONDITIONAL). `qty` is None for closePosition orders."""

    algo_id: int
    client_algo_id: str
    symbol: str
    side: str
    position_side: str
    type: str
    qty: Decimal | None
    price: Decimal
    trigger_price: Decimal
    working_type: str
    close_position: bool
    price_protect: bool
    reduce_only: bool
    time_in_force: str
    create_time: int
    status: str = "NEW"
    actual_order_id: str = ""
    actual_price: Decimal = ZERO
    actual_qty: Decimal = ZERO
    actual_type: str = ""
    update_time: int = 0
    trigger_time: int = 0
    reject_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ALGO_STATUSES

    def rest_view(self, rules: SymbolRules) -> dict:
        """POST/GET /fapi/v1/algoOrder and openAlgoOrders element."""
        return {
            "algoId": self.algo_id, "clientAlgoId": self.client_algo_id, "algoType": "CONDITIONAL",
            "orderType": self.type, "symbol": self.symbol, "side": self.side, "positionSide": self.position_side,
            "timeInForce": self.time_in_force, "quantity": rules.fmt_qty(self.qty or ZERO),
            "algoStatus": self.status, "actualOrderId": self.actual_order_id,
            "actualPrice": _plain(self.actual_price), "actualQty": _plain(self.actual_qty),
            "actualType": self.actual_type, "triggerPrice": _plain(self.trigger_price),
            "price": _plain(self.price), "icebergQuantity": None, "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": self.working_type, "priceMatch": "NONE", "closePosition": self.close_position,
            "priceProtect": self.price_protect, "reduceOnly": self.reduce_only, "activatePrice": "",
            "callbackRate": "", "createTime": self.create_time, "updateTime": self.update_time or self.create_time,
            "triggerTime": self.trigger_time, "goodTillDate": 0,
        }

    def algo_update(self, rules: SymbolRules, event_ms: int) -> dict:
        """The ALGO_UPDATE event for this algo order's current state (`ai` is a string)."""
        body = {
            "caid": self.client_algo_id, "aid": self.algo_id, "at": "CONDITIONAL", "o": self.type,
            "s": self.symbol, "S": self.side, "ps": self.position_side, "f": self.time_in_force,
            "q": rules.fmt_qty(self.qty or ZERO), "X": self.status, "ai": self.actual_order_id,
            "tp": _plain(self.trigger_price), "p": _plain(self.price), "V": "EXPIRE_MAKER",
            "wt": self.working_type, "pm": "NONE", "cp": self.close_position, "pP": self.price_protect,
            "R": self.reduce_only, "tt": self.trigger_time, "gtd": 0,
        }
        if self.actual_order_id:
            body.update({"ap": format(self.actual_price.quantize(Decimal("0.00001")), "f"),
                         "aq": rules.fmt_qty(self.actual_qty), "act": self.actual_type})
        if self.reject_reason:
            body["rm"] = self.reject_reason
        return {"e": "ALGO_UPDATE", "T": event_ms, "E": event_ms, "o": body}
