"""Symbol rules: the exchangeInfo payload and the order filters Binance enforces.

`SymbolRules` holds one symbol's filters (defaults are BTCUSDT as live mainnet showed
them in 2026-09: tick 0.10, step 0.001, min qty 0.001, MIN_NOTIONAL 50). The check
functions raise `ApiError` with the code Binance uses for each violation:
-1111 too many decimals, -4013/-4014 price, -4003/-4004/-4005/-4023 quantity,
-4164 notional, -4016/-4024 PERCENT_PRICE.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .errors import ApiError, error, min_notional, mandatory


@dataclass(frozen=True)
class SymbolRules:
    """One perpetual's trading rules; prices in the quote asset, quantities in the base asset."""

    symbol: str = "BTCUSDT"
    base_asset: str = "BTC"
    quote_asset: str = "USDT"
    price_precision: int = 2
    quantity_precision: int = 3
    min_price: Decimal = Decimal("556.80")
    max_price: Decimal = Decimal("4529764")
    tick_size: Decimal = Decimal("0.10")
    min_qty: Decimal = Decimal("0.001")
    max_qty: Decimal = Decimal("1000")
    step_size: Decimal = Decimal("0.001")
    market_min_qty: Decimal = Decimal("0.001")
    market_max_qty: Decimal = Decimal("120")
    market_step_size: Decimal = Decimal("0.001")
    min_notional: str = "50"
    multiplier_up: str = "1.0500"
    multiplier_down: str = "0.9500"
    multiplier_decimal: int = 4
    max_num_orders: int = 200
    trigger_protect: str = "0.0500"
    order_types: tuple[str, ...] = field(
        default=("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"))

    def fmt_price(self, value: Decimal) -> str:
        """A price as Binance writes it: fixed `price_precision` decimals."""
        return _fixed(value, self.price_precision)

    def fmt_qty(self, value: Decimal) -> str:
        """A quantity as Binance writes it: fixed `quantity_precision` decimals."""
        return _fixed(value, self.quantity_precision)

    def exchange_info_entry(self) -> dict:
        """This symbol's object in `GET /fapi/v1/exchangeInfo` `symbols[]`."""
        return {
            "symbol": self.symbol, "pair": self.symbol, "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000, "onboardDate": 1569398400000, "status": "TRADING",
            "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000",
            "baseAsset": self.base_asset, "quoteAsset": self.quote_asset, "marginAsset": self.quote_asset,
            "pricePrecision": self.price_precision, "quantityPrecision": self.quantity_precision,
            "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
            "underlyingSubType": ["PoW"], "settlePlan": 0, "triggerProtect": self.trigger_protect,
            "liquidationFee": "0.012500", "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": str(self.min_price), "maxPrice": str(self.max_price),
                 "tickSize": str(self.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": str(self.min_qty), "maxQty": str(self.max_qty),
                 "stepSize": str(self.step_size)},
                {"filterType": "MARKET_LOT_SIZE", "minQty": str(self.market_min_qty),
                 "maxQty": str(self.market_max_qty), "stepSize": str(self.market_step_size)},
                {"filterType": "MAX_NUM_ORDERS", "limit": self.max_num_orders},
                {"filterType": "MIN_NOTIONAL", "notional": self.min_notional},
                {"filterType": "PERCENT_PRICE", "multiplierUp": self.multiplier_up,
                 "multiplierDown": self.multiplier_down, "multiplierDecimal": str(self.multiplier_decimal)},
            ],
            "orderTypes": list(self.order_types),
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            "permissionSets": ["GRID", "COPY"],
        }


def exchange_info(rules: list[SymbolRules], server_ms: int, weight_limit: int) -> dict:
    """The whole `GET /fapi/v1/exchangeInfo` body."""
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [r.exchange_info_entry() for r in rules],
    }


def _fixed(value: Decimal, places: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


def parse_decimal(name: str, raw: str | None, required: bool = True) -> Decimal | None:
    """A decimal parameter, or -1102 when missing or malformed."""
    if raw is None or raw == "":
        if required:
            raise mandatory(name)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise mandatory(name) from None
    if not value.is_finite():
        raise mandatory(name)
    return value


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def check_price(rules: SymbolRules, price: Decimal) -> None:
    """PRICE_FILTER for a limit price: precision, minimum and tick multiple."""
    if _decimals(price) > rules.price_precision:
        raise error(-1111)
    if price <= 0:
        raise ApiError(-4001, "Price less than 0.")
    if price < rules.min_price:
        raise error(-4013)
    if price > rules.max_price:
        raise ApiError(-4002, "Price greater than max price.")
    if (price - rules.min_price) % rules.tick_size != 0:
        raise error(-4014)


def check_quantity(rules: SymbolRules, qty: Decimal, market: bool) -> None:
    """LOT_SIZE (or MARKET_LOT_SIZE for MARKET orders): precision, bounds and step."""
    if _decimals(qty) > rules.quantity_precision:
        raise error(-1111)
    if qty <= 0:
        raise error(-4003)
    min_qty = rules.market_min_qty if market else rules.min_qty
    max_qty = rules.market_max_qty if market else rules.max_qty
    step = rules.market_step_size if market else rules.step_size
    if qty < min_qty:
        raise error(-4004)
    if qty > max_qty:
        raise error(-4005)
    if (qty - min_qty) % step != 0:
        raise error(-4023)


def check_notional(rules: SymbolRules, price: Decimal, qty: Decimal) -> None:
    """MIN_NOTIONAL: price × qty ≥ notional (callers skip reduce-only orders)."""
    if price * qty < Decimal(rules.min_notional):
        raise min_notional(rules.min_notional)


def check_percent_price(rules: SymbolRules, side: str, price: Decimal, mark: Decimal) -> None:
    """PERCENT_PRICE for a LIMIT order against the mark price."""
    if side == "BUY" and price > mark * Decimal(rules.multiplier_up):
        raise error(-4016)
    if side == "SELL" and price < mark * Decimal(rules.multiplier_down):
        raise error(-4024)
