"""The simulated exchange: replay and paper trading without keys.

It keeps orders, positions and a USDT wallet the way Binance does, and fills on
closed candles under these rules (no lookahead):
- a MARKET order fills at the next candle's open, `slippage_ticks` worse;
- a resting LIMIT order fills only when the candle trades *through* its price (a buy
  when the low is below it, a sell when the high is above it: a touch may leave it in
  the queue), at its own price even when the candle opens beyond it (maker fee); the
  orders placed on that fill see the market at the limit (at the open after a gap);
- a LIMIT order that is marketable when placed (a buy at or above the last price, a
  sell at or below) takes the book at the next open like a MARKET order, never beyond
  its limit (taker fee);
- after a resting LIMIT entry fills inside a candle, no take-profit of that position
  side fills in the same candle (OHLC cannot tell whether the high came before the
  fill), while its stop does (worst case);
- STOP_MARKET / TAKE_PROFIT_MARKET trigger on the candle's low or high and fill at
  the trigger, or at the open when the candle gapped past it, `slippage_ticks` worse;
- when a stop and a target both lie inside one candle, the stop fills first;
- fees: taker on MARKET, marketable LIMIT and triggered orders, maker on resting LIMIT fills;
- filters (tick, step, minimum quantity and notional, PERCENT_PRICE) and the margin
  check refuse an order with Binance's own codes.
Positions are kept per side (Binance's hedge mode), so LONG and SHORT can coexist.
Events go to the sink given to `connect`, in the order they happen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from ict.models import Candle
from trade.errors import OrderRejected
from trade.models import ZERO, AccountPosition, AccountTrade, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate
from trade.symbol_rules import SymbolRules, to_decimal

FEE_PLACES = Decimal("0.00000001")  # Binance reports commissions to 8 decimals
# enum members read once: in Python 3.11 each `OrderType.X` in a loop is a descriptor call
_STOP, _TAKE_PROFIT, _MARKET, _LIMIT = OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET, OrderType.MARKET, OrderType.LIMIT
_BUY, _SELL = OrderSide.BUY, OrderSide.SELL
_ROUNDING = 1e-12  # far above float rounding (about 1e-16 per operation) relative to the sums in `equity_estimate`


@dataclass(slots=True)
class _Holding:
    quantity: Decimal = ZERO
    entry_price: Decimal = ZERO
    margin: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class _Trigger:
    """`request`'s trigger in floats, made once: it fires when the low reaches `price` (`on_low`)
    or when the high does; `stop`: a STOP_MARKET (else a TAKE_PROFIT_MARKET); `exact`: the
    trigger price as sent."""

    request: OrderRequest
    price: float
    on_low: bool
    stop: bool
    exact: Decimal

    @classmethod
    def of(cls, request: OrderRequest) -> "_Trigger":
        stop = request.type is _STOP
        exact = _required(request.trigger_price, "trigger_price", request)
        # a SELL stop and a BUY target fire on the low, a BUY stop and a SELL target on the high
        return cls(request, float(exact), stop == (request.side is _SELL), stop, exact)


@dataclass(frozen=True, slots=True)
class _Limit:
    """`request`'s LIMIT price, and in floats (made once: a resting order meets every candle)."""

    request: OrderRequest
    price: Decimal
    level: float

    @classmethod
    def of(cls, request: OrderRequest) -> "_Limit":
        price = _required(request.price, "price", request)
        return cls(request, price, float(price))


def _required(value: Decimal | None, name: str, request: OrderRequest) -> Decimal:
    """`value`, a field of `request` that `SimulatedExchange._check` refuses to be None for its type
    (None here: an order put in the book without that check, a bug)."""
    if value is None:
        raise ValueError(f"{request.type.value} order {request.client_order_id} has no {name}")
    return value


class SimulatedExchange:
    """Implements `trade.exchange.Exchange` over candles. Feed it with `on_candle`."""

    hedge_mode = True

    def __init__(self, rules: SymbolRules | Sequence[SymbolRules], starting_balance: Decimal, leverage: int,
                 taker_fee: Decimal = Decimal("0.0005"), maker_fee: Decimal = Decimal("0.0002"),
                 slippage_ticks: int = 0) -> None:
        """`rules`: the filters of each symbol it trades (one shared wallet); the first is the
        symbol `on_candle` fills when given none."""
        self._wallet = starting_balance
        self._leverage = Decimal(leverage)
        self._taker_fee = taker_fee
        self._maker_fee = maker_fee
        self._slippage_ticks = slippage_ticks
        self._rules: dict[str, SymbolRules] = {}
        self._slippage: dict[str, Decimal] = {}   # per symbol: `slippage_ticks` of its tick
        for each in [rules] if isinstance(rules, SymbolRules) else rules:
            self.set_rules(each)
        self._open: dict[str, OrderRequest] = {}          # open orders by client id, in placement order
        self._takers: set[str] = set()                     # LIMIT orders that crossed the book when placed
        self._latest: dict[str, OrderUpdate] = {}          # last word on every order, for queries
        self._holdings: dict[tuple[str, str], _Holding] = {}
        self._last_price: dict[str, float] = {}   # floats from the candles; Decimal only where money is computed
        self._triggers: dict[str, _Trigger] = {}   # conditional orders' triggers by client id, made on first use
        self._limits: dict[str, _Limit] = {}       # LIMIT orders' prices by client id, made on first use
        self._bands: dict[str, tuple[bool, float, float]] = {}   # see `_band`; cleared whenever `_open` changes
        self._fills = 0                            # `_fill` calls so far: whether a candle's plain fills changed anything
        self._wallet_float: tuple[Decimal, float] = (starting_balance, float(starting_balance))
        self._linear: tuple | None = None   # `equity_estimate`'s terms; None whenever the wallet or a holding changes
        self._now = 0
        self._next_order_id = 1
        self._sink: Callable[[OrderUpdate], None] = lambda update: None

    def connect(self, sink: Callable[[OrderUpdate], None]) -> None:
        """Send every order event (fills, expiries) to `sink`."""
        self._sink = sink

    def set_rules(self, rules: SymbolRules) -> None:
        """Trade `rules.symbol` under these filters (paper mode: the real exchange's)."""
        self._rules[rules.symbol] = rules
        self._slippage[rules.symbol] = rules.tick_size * self._slippage_ticks

    # ----- the Exchange interface ----------------------------------------------------------
    def symbol_rules(self, symbol: str) -> SymbolRules:
        return self._rules[symbol]

    def change_leverage(self, leverage: int) -> None:
        """The margin of positions opened from now on is notional / `leverage`."""
        self._leverage = Decimal(leverage)

    def wallet_balance(self) -> Decimal:
        return self._wallet

    def available_balance(self) -> Decimal:
        return self._wallet - sum((h.margin for h in self._holdings.values()), ZERO)

    def on_tick(self) -> None:
        """Nothing to refresh: the simulated balances are always current."""

    def equity(self) -> Decimal:
        """Wallet plus unrealized PnL at the last price."""
        unrealized = ZERO
        for (symbol, side), holding in self._holdings.items():
            if holding.quantity:
                move = to_decimal(self._last_price[symbol]) - holding.entry_price
                unrealized += move * holding.quantity * (1 if side == "LONG" else -1)
        return self._wallet + unrealized

    def wallet_estimate(self) -> tuple[float, float]:
        """`wallet_balance()` as a float, and a bound on its distance from it (USDT)."""
        wallet = self._wallet
        seen, value = self._wallet_float
        if seen is not wallet:  # a Decimal is immutable: a new object is a new balance
            value = float(wallet)
            self._wallet_float = (wallet, value)
        return value, _ROUNDING * (abs(value) + 1.0)

    def equity_estimate(self) -> tuple[float, float]:
        """`equity()` in floats, and a bound on its distance from `equity()` (USDT, generous: float
        rounding is about 1e-16 of the amounts summed, the bound 1e-12). For a replay's drawdown,
        which needs the exact `equity()` only where the estimate could set a new peak or fall.

        Equity is linear in each symbol's last price: wallet + Σ sign × size × (last - entry)
        = `base` + Σ `slope` × last, with the float terms made once per change of the books
        (`_linear_terms`), so a candle costs a multiplication per symbol held."""
        terms = self._linear or self._linear_terms()
        value, scale, per_symbol = terms
        for symbol, slope, size in per_symbol:
            last = self._last_price[symbol]
            value += slope * last
            scale += size * abs(last)
        return value, _ROUNDING * scale

    def _linear_terms(self) -> tuple:
        """(base, scale without the prices, [(symbol, slope, size)]) for `equity_estimate`;
        scale bounds the magnitude of every amount summed (|wallet| + 1 + Σ size × (|entry| + |last|))."""
        value, _ = self.wallet_estimate()
        scale = abs(value) + 1.0
        by_symbol: dict[str, list[float]] = {}
        for (symbol, side), holding in self._holdings.items():
            if holding.quantity:
                size, entry = float(holding.quantity), float(holding.entry_price)
                sign = 1.0 if side == "LONG" else -1.0
                value -= sign * entry * size
                scale += abs(entry) * size
                terms = by_symbol.setdefault(symbol, [0.0, 0.0])
                terms[0] += sign * size
                terms[1] += size
        self._linear = (value, scale, [(symbol, slope, size) for symbol, (slope, size) in by_symbol.items()])
        return self._linear

    def place_order(self, request: OrderRequest) -> OrderUpdate:
        if request.type.is_conditional:
            raise OrderRejected("Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.", -4120)
        self._check(request)
        return self._accept(request)

    def place_conditional(self, request: OrderRequest) -> OrderUpdate:
        if not request.type.is_conditional:
            raise OrderRejected(f"{request.type.value} is not a conditional order type", -1116)
        self._check(request)
        last = self._last_price.get(request.symbol)
        if last is not None:
            trigger = _Trigger.of(request)
            # exact: both sides are the floats of decimal prices
            if last <= trigger.price if trigger.on_low else last >= trigger.price:
                raise OrderRejected("Order would immediately trigger.", -2021)
        return self._accept(request)

    def cancel_order(self, request: OrderRequest) -> OrderUpdate | None:
        if request.client_order_id not in self._open:
            return self._latest.get(request.client_order_id)
        del self._open[request.client_order_id]
        self._bands.clear()
        self._triggers.pop(request.client_order_id, None)
        self._limits.pop(request.client_order_id, None)
        self._takers.discard(request.client_order_id)
        return self._record(request, OrderStatus.CANCELED)

    def query_order(self, request: OrderRequest) -> OrderUpdate | None:
        return self._latest.get(request.client_order_id)

    # ----- candles ---------------------------------------------------------------------------
    def account_positions(self, symbol: str) -> list[AccountPosition]:
        """The simulated legs: only this bot's orders move them."""
        return [AccountPosition(symbol, side, h.quantity if side == "LONG" else -h.quantity)
                for (held, side), h in self._holdings.items() if held == symbol and h.quantity]

    def account_trades(self, symbol: str, start_ms: int) -> list[AccountTrade]:
        return []  # nobody else trades a simulated account

    def order_client_id(self, symbol: str, order_id: str) -> str:
        return ""

    def open_orders_of_ours(self, symbol: str, prefix: str) -> list[OrderRequest]:
        """The resting orders of `symbol` whose client id starts with `prefix`, in placement order."""
        return [r for r in self._open.values() if r.symbol == symbol and r.client_order_id.startswith(prefix)]

    def on_candle(self, candle: Candle, symbol: str | None = None) -> None:
        """Fill what this candle fills; events go to the sink as they happen."""
        symbol = symbol or next(iter(self._rules))
        self._now = candle.open_time
        self._last_price[symbol] = candle.open
        if self._open:
            plain, low_fires, high_fires = self._band(symbol)
            if plain or candle.low <= low_fires or candle.high >= high_fires:
                self._fill_on(candle, symbol)
        self._last_price[symbol] = candle.close

    def _band(self, symbol: str) -> tuple[bool, float, float]:
        """Whether `symbol` has open plain orders, the highest trigger a candle's low reaches
        down to fires, the lowest its high fires: a candle with a low above the one and a high
        below the other triggers nothing (most candles, while a stop and a target rest)."""
        band = self._bands.get(symbol)
        if band is None:
            plain, low_fires, high_fires = False, -math.inf, math.inf
            for request in self._open.values():
                if request.symbol != symbol:
                    continue
                if request.type is not _STOP and request.type is not _TAKE_PROFIT:
                    plain = True
                    continue
                trigger = _Trigger.of(request)
                if trigger.on_low:
                    low_fires = max(low_fires, trigger.price)
                else:
                    high_fires = min(high_fires, trigger.price)
            band = self._bands[symbol] = (plain, low_fires, high_fires)
        return band

    def _fill_on(self, candle: Candle, symbol: str) -> None:
        """Fill this candle's open orders of `symbol`: plain ones first, then the triggered ones."""
        high, low, open_ = candle.high, candle.low, candle.open
        plain, triggered = self._due(symbol, high, low, None)
        if plain:
            fills = self._fills
            entered_inside = None  # position sides entered by a resting LIMIT at an unknown moment of this candle
            for request in plain:
                if request.client_order_id in self._open:
                    if self._fill_plain(request, open_, high, low) and self._opens(request):
                        entered_inside = entered_inside or set()
                        entered_inside.add(request.position_side)
            if self._fills != fills:  # fills move orders in and out (stops placed on an entry fill): look again
                triggered = self._due(symbol, high, low, entered_inside)[1]
        if len(triggered) > 1:  # the stop is assumed hit first when both lie inside one candle
            triggered.sort(key=lambda r: not self._triggers[r.client_order_id].stop)
        for request in triggered:
            if request.client_order_id in self._open:
                self._fill_conditional(request, open_)

    def _due(self, symbol: str, high: float, low: float, entered_inside: set | None) -> tuple[list, list]:
        """The open plain orders of `symbol`, and its conditional orders this candle triggers (but
        no take-profit of a position side in `entered_inside`), each in placement order."""
        triggers = self._triggers
        plain, triggered = [], []
        for client_order_id, request in self._open.items():
            trigger = triggers.get(client_order_id)
            if trigger is None or trigger.request is not request:   # new, or put in `_open` by a subclass
                if request.type is not _STOP and request.type is not _TAKE_PROFIT:
                    if request.symbol == symbol:
                        plain.append(request)
                    continue
                trigger = triggers[client_order_id] = _Trigger.of(request)
            if (request.symbol == symbol and (low <= trigger.price if trigger.on_low else high >= trigger.price)
                    and not (entered_inside and not trigger.stop and request.position_side in entered_inside)):
                triggered.append(request)
        return plain, triggered

    def fill_market_orders_at(self, price: Decimal, symbol: str, at: int) -> None:
        """End of a replay: fill the MARKET orders still waiting at `price` (no next open)."""
        self._now = at
        for request in [r for r in self._open.values() if r.type is _MARKET and r.symbol == symbol]:
            self._fill(request, price, self._taker_fee)

    # ----- internals ---------------------------------------------------------------------------
    def _check(self, request: OrderRequest) -> None:
        rules = self._rules.get(request.symbol)
        if rules is None:
            raise OrderRejected("Invalid symbol.", -1121)
        if request.client_order_id in self._open:
            raise OrderRejected("Duplicate clientOrderId.", -4116)
        for price in (request.price, request.trigger_price):
            if price is not None and price % rules.tick_size:
                raise OrderRejected(f"Price not increased by tick size. ({price})", -4014)
        if request.type is _LIMIT and request.price is None:
            raise OrderRejected("Mandatory parameter 'price' was not sent, was empty/null, or malformed.", -1102)
        if request.type.is_conditional and request.trigger_price is None:
            raise OrderRejected("Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed.", -1102)
        if request.close_position:
            return
        quantity = request.quantity
        if quantity is None or quantity <= 0:
            raise OrderRejected("Quantity less than or equal to zero.", -4003)
        if quantity % rules.step_size:
            raise OrderRejected(f"Quantity not increased by step size. ({quantity})", -4023)
        if quantity < rules.min_qty:
            raise OrderRejected("Quantity less than min quantity.", -4004)
        last_float = self._last_price.get(request.symbol)
        last = None if last_float is None else to_decimal(last_float)
        price = request.price or request.trigger_price or last
        if request.type is _LIMIT and request.price is not None and last is not None:
            if request.side is _BUY and request.price > last * rules.percent_up:
                raise OrderRejected("Limit price can't be higher than the cap.", -4016)
            if request.side is _SELL and request.price < last * rules.percent_down:
                raise OrderRejected("Limit price can't be lower than the floor.", -4024)
        if price is not None and not request.reduce_only and price * quantity < rules.min_notional:
            raise OrderRejected(f"Order's notional must be no smaller than {rules.min_notional} (unless you choose reduce only).", -4164)
        if price is not None and self._opens(request) and price * quantity / self._leverage > self.available_balance():
            raise OrderRejected("Margin is insufficient.", -2019)

    def _opens(self, request: OrderRequest) -> bool:
        side = request.position_side
        return (side == "LONG") == (request.side is _BUY)

    def _accept(self, request: OrderRequest) -> OrderUpdate:
        if request.type is _LIMIT:
            limit = self._limits[request.client_order_id] = _Limit.of(request)
            last = self._last_price.get(request.symbol)
            if last is not None and (limit.level >= last if request.side is _BUY else limit.level <= last):
                self._takers.add(request.client_order_id)
        self._open[request.client_order_id] = request
        self._bands.clear()
        return self._record(request, OrderStatus.NEW)

    def _record(self, request: OrderRequest, status: OrderStatus, **fill) -> OrderUpdate:
        previous = self._latest.get(request.client_order_id)
        order_id = previous.exchange_order_id if previous else str(self._next_order_id)
        if previous is None:
            self._next_order_id += 1
        update = OrderUpdate(request.client_order_id, request.symbol, status, self._now, order_id, **fill)
        self._latest[request.client_order_id] = update
        return update

    def _fill_plain(self, request: OrderRequest, open_: float, high: float, low: float) -> bool:
        """Fill a MARKET or LIMIT order if this candle does; True for a resting LIMIT filled
        inside the candle, at a moment OHLC cannot show."""
        if request.type is _MARKET:
            self._fill(request, self._worse(request, to_decimal(open_)), self._taker_fee)
            return False
        found = self._limits.get(request.client_order_id)
        if found is None or found.request is not request:   # put in `_open` by a subclass
            found = self._limits[request.client_order_id] = _Limit.of(request)
        limit, level, buy = found.price, found.level, request.side is _BUY
        if request.client_order_id in self._takers:
            # it crossed the book when placed: it takes liquidity at the open, up to its limit
            self._takers.discard(request.client_order_id)
            price = self._worse(request, to_decimal(open_))
            self._fill(request, min(price, limit) if buy else max(price, limit), self._taker_fee)
            return False
        if not (low < level if buy else high > level):
            return False  # a touch is not a fill: the queue at that price may never reach us
        # the market stands at the limit when it fills (or beyond it after a gap): what stops see
        self._last_price[request.symbol] = min(open_, level) if buy else max(open_, level)
        self._fill(request, limit, self._maker_fee)
        return True

    def _fill_conditional(self, request: OrderRequest, open_: float) -> None:
        # a candle that opens past the trigger fills at the open: the gap is the trader's loss or luck
        trigger = self._triggers[request.client_order_id]   # made by `_fill_on` this candle
        gapped = open_ <= trigger.price if trigger.on_low else open_ >= trigger.price
        price = to_decimal(open_) if gapped else trigger.exact
        self._fill(request, self._worse(request, price), self._taker_fee)

    def _worse(self, request: OrderRequest, price: Decimal) -> Decimal:
        slippage = self._slippage[request.symbol]
        return price + slippage if request.side is _BUY else price - slippage

    def _fill(self, request: OrderRequest, price: Decimal, fee_rate: Decimal) -> None:
        side = request.position_side if request.position_side != "BOTH" else ("LONG" if request.side is _BUY else "SHORT")
        holding = self._holdings.setdefault((request.symbol, side), _Holding())
        del self._open[request.client_order_id]
        self._bands.clear()
        self._linear = None
        self._triggers.pop(request.client_order_id, None)
        self._limits.pop(request.client_order_id, None)
        self._fills += 1
        if self._opens(request):
            quantity = _required(request.quantity, "quantity", request)  # only a close_position order has none
            total = holding.quantity + quantity
            holding.entry_price = (holding.entry_price * holding.quantity + price * quantity) / total
            holding.quantity = total
            holding.margin += price * quantity / self._leverage
            realized = ZERO
        else:
            quantity = (holding.quantity if request.close_position
                        else min(_required(request.quantity, "quantity", request), holding.quantity))
            if quantity <= 0:
                self._sink(self._record(request, OrderStatus.EXPIRED, reason="no position to close"))
                return
            direction = 1 if side == "LONG" else -1
            realized = (price - holding.entry_price) * quantity * direction
            holding.margin -= holding.margin * quantity / holding.quantity
            holding.quantity -= quantity
        fee = (price * quantity * fee_rate).quantize(FEE_PLACES)
        self._wallet += realized - fee
        self._sink(self._record(
            request, OrderStatus.FILLED, cumulative_quantity=quantity, average_price=price,
            last_quantity=quantity, last_price=price, fee=fee, realized_pnl=realized))
