"""The matching engine's books: placing, cancelling and filling orders and algo orders.

`Engine` owns every order, algo order and the account, behind one lock. It checks
what needs state (duplicate client ids among open orders, reduce-only against the
position, MIN_NOTIONAL at the mark price, PERCENT_PRICE, margin, immediate trigger,
one closePosition stop per direction), books fills through `Account.apply_fill`, and
hands each user-data event to `emit(event_name, payload)` in Binance's order:
TRADE_LITE, ACCOUNT_UPDATE, ORDER_TRADE_UPDATE for a fill. Price movement and
triggering live in `matching.py`.
"""
from __future__ import annotations

import itertools
import random
import string
import threading
from decimal import Decimal
from typing import Callable

from .account import Account, Trade
from .errors import ApiError, error
from .orders import ZERO, AlgoOrder, FillInfo, Order
from .symbols import SymbolRules, check_notional, check_percent_price
from .matching import would_trigger
from .validation import AlgoRequest, OrderRequest

Emit = Callable[[str, dict], None]


class Engine:
    """All trading state of the fake account; every public method takes the lock."""

    def __init__(self, rules: dict[str, SymbolRules], account: Account, clock: Callable[[], int], emit: Emit,
                 triggered_client_id: str = "generated", seed: int = 7) -> None:
        self.rules = rules
        self.account = account
        self.clock = clock
        self.emit = emit
        self.triggered_client_id = triggered_client_id
        self.lock = threading.RLock()
        self.orders: dict[int, Order] = {}
        self.algo_orders: dict[int, AlgoOrder] = {}
        self.last: dict[str, Decimal] = {}
        self.mark: dict[str, Decimal] = {}
        self.algo_of_order: dict[int, int] = {}
        self.trigger_rejects: list[str] = []
        self.partial_triggers: list[Decimal] = []   # quantities the next triggered orders fill before they expire
        self.expire_close_position_when_flat = True  # Binance's GTE_GTC rule; off = the expiry comes late (or never)
        self._order_ids = itertools.count(4_000_000_001)
        self._algo_ids = itertools.count(1_000_000_000_001)
        self._trade_ids = itertools.count(600_000_001)
        self._random = random.Random(seed)

    # ----- helpers ---------------------------------------------------------------------

    def new_client_id(self) -> str:
        return "".join(self._random.choice(string.ascii_letters + string.digits) for _ in range(22))

    def price_of(self, symbol: str) -> Decimal:
        if symbol not in self.last:
            raise ApiError(-1000, f"No price for {symbol} yet; the test must set_price or push_candle first")
        return self.last[symbol]

    def mark_of(self, symbol: str) -> Decimal:
        return self.mark.get(symbol) or self.price_of(symbol)

    def reducible(self, symbol: str, side: str, position_side: str) -> Decimal:
        """How much an order on `side` can reduce the leg it trades (0 if it would add)."""
        amount = self.account.position(symbol, position_side).amount
        if side == "SELL" and amount > 0 or side == "BUY" and amount < 0:
            return abs(amount)
        return ZERO

    def _is_closing(self, side: str, position_side: str) -> bool:
        return (side, position_side) in (("SELL", "LONG"), ("BUY", "SHORT"))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)]

    def open_algos(self, symbol: str | None = None) -> list[AlgoOrder]:
        return [a for a in self.algo_orders.values() if a.is_open and (symbol is None or a.symbol == symbol)]

    def marks(self) -> dict[str, Decimal]:
        return {s: self.mark_of(s) for s in self.last}

    # ----- regular orders --------------------------------------------------------------

    def place_order(self, req: OrderRequest) -> tuple[Order, dict]:
        """Accept, check and execute a new order; returns it and the ACK snapshot view."""
        with self.lock:
            rules = self.rules[req.symbol]
            mark = self.mark_of(req.symbol)
            last = self.price_of(req.symbol)
            if req.client_id and any(o.client_id == req.client_id for o in self.open_orders()):
                raise error(-4116)
            if len(self.open_orders(req.symbol)) >= rules.max_num_orders:
                raise ApiError(-2025, "Reach max open order limit.")
            reducible = self.reducible(req.symbol, req.side, req.position_side)
            closing = req.reduce_only or self._is_closing(req.side, req.position_side)
            if closing and (reducible == 0 or (self.account.dual_side and req.qty > reducible)):
                raise error(-2022)
            ref_price = req.price if req.type == "LIMIT" else mark
            if req.type == "LIMIT":
                check_percent_price(rules, req.side, req.price, mark)
            if not closing:
                check_notional(rules, ref_price, req.qty)
                self._check_margin(req.symbol, max(ZERO, req.qty - reducible) * ref_price)
            marketable = req.type == "MARKET" or (req.side == "BUY" and req.price >= last) or (
                req.side == "SELL" and req.price <= last)
            if req.type == "LIMIT" and req.time_in_force == "GTX" and marketable:
                raise error(-5022)
            now = self.clock()
            order = Order(next(self._order_ids), req.client_id or self.new_client_id(), req.symbol, req.side,
                          req.type, req.qty, req.price or ZERO, req.time_in_force, req.position_side,
                          req.reduce_only, now)
            self.orders[order.order_id] = order
            ack = order.new_order_view(rules)
            self.emit("ORDER_TRADE_UPDATE", order.trade_update(rules, now, "NEW"))
            if marketable:
                self.execute(order, order.qty, last, maker=False)
            elif req.time_in_force in ("IOC", "FOK"):
                self.finish(order, "EXPIRED", "2" if req.time_in_force == "IOC" else "0")
            return order, ack

    def _check_margin(self, symbol: str, notional: Decimal) -> None:
        if notional <= 0:
            return
        leverage = self.account.leverage.get(symbol, 20)
        order_margin = sum((o.qty * o.price / self.account.leverage.get(o.symbol, 20)
                            for o in self.open_orders() if not o.reduce_only and o.type == "LIMIT"), ZERO)
        if notional / leverage > self.account.available(self.marks(), order_margin):
            raise error(-2019)

    def find_order(self, symbol: str, order_id: str | None, client_id: str | None) -> Order | None:
        with self.lock:
            if order_id is not None:
                order = self.orders.get(int(order_id)) if order_id.isdigit() else None
                return order if order and order.symbol == symbol else None
            matches = [o for o in self.orders.values() if o.client_id == client_id and o.symbol == symbol]
            return matches[-1] if matches else None

    def cancel_order(self, order: Order) -> Order:
        with self.lock:
            if not order.is_open:
                raise error(-2011)
            self.finish(order, "CANCELED")
            return order

    def finish(self, order: Order, status: str, expiry_reason: str = "0") -> None:
        """End an order without (further) fills: CANCELED or EXPIRED, with its event."""
        order.status = status
        order.expiry_reason = expiry_reason
        order.update_time = self.clock()
        self.emit("ORDER_TRADE_UPDATE", order.trade_update(self.rules[order.symbol], order.update_time, status))
        self._order_done(order)

    def execute(self, order: Order, qty: Decimal, price: Decimal, maker: bool) -> None:
        """Fill `qty` of `order` at `price`; reduce-only orders are cut to the position."""
        rules = self.rules[order.symbol]
        if order.reduce_only:
            qty = min(qty, self.reducible(order.symbol, order.side, order.position_side))
            if qty == 0:
                self.finish(order, "EXPIRED", "4")
                return
        realized, commission = self.account.apply_fill(order.symbol, order.position_side, order.side, qty, price,
                                                       maker, self.clock())
        fill = FillInfo(qty, price, commission, realized, next(self._trade_ids), maker)
        self.account.trades.append(_trade(order, fill, self.clock()))
        order.executed_qty += qty
        order.cum_quote += qty * price
        order.status = "FILLED" if order.executed_qty >= order.qty else "PARTIALLY_FILLED"
        now = order.update_time = self.clock()
        leg = self.account.position(order.symbol, order.position_side)
        self.emit("TRADE_LITE", order.trade_lite(rules, now, fill))
        self.emit("ACCOUNT_UPDATE", self.account.account_update([leg], self.marks(), now))
        self.emit("ORDER_TRADE_UPDATE", order.trade_update(rules, now, "TRADE", fill))
        if order.status == "PARTIALLY_FILLED" and order.type == "MARKET":
            self.finish(order, "EXPIRED", "9")
        elif order.status == "FILLED":
            self._order_done(order)
        if leg.amount == 0 and self.expire_close_position_when_flat:
            self._expire_close_position_algos(order.symbol, order.position_side)

    def _order_done(self, order: Order) -> None:
        algo_id = self.algo_of_order.pop(order.order_id, None)
        if algo_id is None:
            return
        algo = self.algo_orders[algo_id]
        algo.status = "FINISHED"
        algo.actual_price = order.avg_price
        algo.actual_qty = order.executed_qty
        algo.update_time = self.clock()
        self.emit("ALGO_UPDATE", algo.algo_update(self.rules[algo.symbol], algo.update_time))

    def _expire_close_position_algos(self, symbol: str, position_side: str) -> None:
        """A GTE_GTC (closePosition) order expires when its position is closed."""
        for algo in self.open_algos(symbol):
            if algo.close_position and algo.position_side == position_side:
                self.end_algo(algo, "EXPIRED")

    def outside_order(self, symbol: str, side: str, qty: Decimal, position_side: str, client_id: str,
                      price: Decimal | None = None, order_type: str = "MARKET") -> Order:
        """An order the client did not send (a trade by hand in the app, a liquidation, an ADL),
        filled at once at `price` (default: the last price) with its usual events."""
        with self.lock:
            now = self.clock()
            price = price if price is not None else self.price_of(symbol)
            reduce_only = client_id.startswith(("autoclose-", "adl_autoclose"))
            order = Order(next(self._order_ids), client_id, symbol, side, order_type, qty,
                          price if order_type == "LIMIT" else ZERO, "IOC" if order_type == "LIMIT" else "GTC",
                          position_side, reduce_only, now)
            self.orders[order.order_id] = order
            self.emit("ORDER_TRADE_UPDATE", order.trade_update(self.rules[symbol], now, "NEW"))
            self.execute(order, qty, price, maker=False)
            return order

    # ----- algo orders -----------------------------------------------------------------

    def place_algo(self, req: AlgoRequest) -> AlgoOrder:
        with self.lock:
            rules = self.rules[req.symbol]
            if req.client_algo_id and any(a.client_algo_id == req.client_algo_id for a in self.open_algos()):
                raise error(-4116)
            if len(self.open_algos()) >= 200:
                raise error(-4045)
            if req.close_position and any(
                    a.close_position and a.side == req.side and a.position_side == req.position_side
                    and a.type.startswith("STOP") == req.type.startswith("STOP") for a in self.open_algos(req.symbol)):
                raise error(-4130)
            reference = self.mark_of(req.symbol) if req.working_type == "MARK_PRICE" else self.price_of(req.symbol)
            if would_trigger(req.type, req.side, req.trigger_price, reference):
                raise error(-2021)
            closing = req.reduce_only or req.close_position or self._is_closing(req.side, req.position_side)
            if not closing:
                check_notional(rules, req.price or req.trigger_price, req.qty)
            now = self.clock()
            algo = AlgoOrder(next(self._algo_ids), req.client_algo_id or self.new_client_id(), req.symbol, req.side,
                             req.position_side, req.type, req.qty, req.price, req.trigger_price, req.working_type,
                             req.close_position, req.price_protect, req.reduce_only or req.close_position,
                             req.time_in_force, now)
            self.algo_orders[algo.algo_id] = algo
            self.emit("ALGO_UPDATE", algo.algo_update(rules, now))
            return algo

    def find_algo(self, algo_id: str | None, client_algo_id: str | None) -> AlgoOrder | None:
        with self.lock:
            if algo_id is not None:
                return self.algo_orders.get(int(algo_id)) if algo_id.isdigit() else None
            matches = [a for a in self.algo_orders.values() if a.client_algo_id == client_algo_id]
            return matches[-1] if matches else None

    def end_algo(self, algo: AlgoOrder, status: str, reason: str = "") -> None:
        """Take an algo order out of service: CANCELED, EXPIRED or REJECTED, with its event."""
        with self.lock:
            algo.status = status
            algo.reject_reason = reason
            algo.update_time = self.clock()
            self.emit("ALGO_UPDATE", algo.algo_update(self.rules[algo.symbol], algo.update_time))


def _trade(order: Order, fill: FillInfo, now: int) -> Trade:
    return Trade(fill.trade_id, order.order_id, order.symbol, order.side, order.position_side, fill.price,
                 fill.qty, fill.realized_pnl, fill.commission, fill.maker, now)
