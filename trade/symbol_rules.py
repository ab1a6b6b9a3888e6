"""A symbol's trading rules (Binance's exchangeInfo filters) and the one place prices
and quantities are rounded to them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """Filters for one symbol, as Decimals.

    - `tick_size`: prices (and stop triggers) are multiples of it (PRICE_FILTER).
    - `step_size`, `min_qty`, `max_qty`: order quantity in the base asset (LOT_SIZE);
      `market_max_qty` caps MARKET orders (MARKET_LOT_SIZE).
    - `min_notional`: price × quantity must reach it (MIN_NOTIONAL `notional`), in USDT.
    - `percent_up`, `percent_down`: a LIMIT price must lie within mark × these (PERCENT_PRICE).
    """

    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_qty: Decimal = Decimal("1000000")
    market_max_qty: Decimal = Decimal("1000000")
    min_price: Decimal = Decimal(0)
    max_price: Decimal = Decimal("100000000")
    percent_up: Decimal = Decimal("1.05")
    percent_down: Decimal = Decimal("0.95")

    def floor_quantity(self, quantity: Decimal) -> Decimal:
        """Round a quantity down to the step size (never risk more than asked)."""
        return _to_multiple(quantity, self.step_size, ROUND_FLOOR)

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
        """Round a price to the tick size; `rounding` is a decimal rounding mode."""
        return _to_multiple(price, self.tick_size, rounding)

    def round_price_down(self, price: Decimal) -> Decimal:
        return self.round_price(price, ROUND_FLOOR)

    def round_price_up(self, price: Decimal) -> Decimal:
        return self.round_price(price, ROUND_CEILING)


def _to_multiple(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    units = (value / step).to_integral_value(rounding=rounding)
    # quantize keeps the step's exponent, so 0.001 * 5 prints as 0.005, not 0.0050 or 5E-3
    return (units * step).quantize(step)


def to_decimal(value: float | str | Decimal) -> Decimal:
    """A float from the ICT layer as the decimal it was parsed from (repr round-trips)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def wire(value: Decimal) -> str:
    """A Decimal as text: plain digits, never exponent form, no trailing zeros (e.g. 0.0050 → "0.005").

    The one Decimal-to-text formatter of the trading core and what sits above it (Binance's wire,
    log and refusal words). The journal, which may not import this layer, keeps the same rule in
    `journal.values.stored`. Display totals that keep their exponent (a replay summary's exact
    sums, the report's 8-decimal figures) are formats of their own, not this one."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
