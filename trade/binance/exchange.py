"""Binance USDⓈ-M futures as an `Exchange`: orders, the algo-order API for stops, and start-up.

Entries and exits go to POST /fapi/v1/order (MARKET and LIMIT only since 2025-12);
stop-losses and take-profits go to POST /fapi/v1/algoOrder as STOP_MARKET and
TAKE_PROFIT_MARKET with `closePosition` and `workingType=MARK_PRICE` (binance.md §4).
Every order carries our own client id; prices and quantities go out as exchange-rounded
decimal strings and booleans as "true"/"false". Fills are not read from these answers:
they arrive from the user-data stream, or from `query_order` when reconciling.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, Sequence

from ict.models import Candle
from trade.binance.account_settings import ensure_leverage, ensure_margin_type, read_position_mode, read_symbol_config
from trade.binance.events import ALGO_STATUSES, account_position, order_status
from trade.binance.rest import BinanceRest
from trade.errors import ExchangeFatal, OrderRejected
from trade.models import ZERO, AccountPosition, AccountTrade, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate, TradeFill
from trade.rules_book import RulesBook
from trade.symbol_rules import SymbolRules, wire

log = logging.getLogger(__name__)

NOT_FOUND_CODES = {-2013, -2011}   # order does not exist / unknown order sent (cancel)
TRADES_WINDOW_MS = 7 * 24 * 3_600_000   # the longest startTime..endTime span userTrades accepts
BALANCE_MAX_AGE = 30.0             # seconds a read balance is trusted for sizing (ACCOUNT_UPDATE clears it)


class BinanceExchange:
    """The `trade.exchange.Exchange` interface over a `BinanceRest` connection.

    Call `prepare(symbols, leverage, margin_type)` once before trading: it reads the
    position mode, balance and, per symbol, rules and fees, and sets margin type and leverage
    where they differ (trade/binance/account_settings.py).
    """

    def __init__(self, rest: BinanceRest) -> None:
        self.rest = rest
        self.hedge_mode = False
        self.rules_book = RulesBook(self.load_rules, rest.now)
        self._rules = self.rules_book.rules
        self.taker_fee = Decimal("0.0005")
        self.maker_fee = Decimal("0.0002")
        self.fees: dict[str, tuple[Decimal, Decimal]] = {}   # symbol -> (maker, taker), read by `prepare`
        self.prepared: list[str] = []   # the symbols `prepare` set up, in its order
        self._balances = (ZERO, ZERO)
        self._balances_at = float("-inf")

    # ----- start-up -------------------------------------------------------------------------------
    def prepare(self, symbols: str | Sequence[str], leverage: int, margin_type: str) -> None:
        """Everything the bot must know or set before its first order, each step logged: the clock
        and position mode once, then per symbol its rules, margin type, leverage and commission."""
        self.rest.sync_time()
        self.hedge_mode = read_position_mode(self.rest)
        log.info("position mode: %s", "hedge (LONG and SHORT held apart)" if self.hedge_mode else "one-way")
        self.prepared = [symbols] if isinstance(symbols, str) else list(symbols)
        for symbol in self.prepared:
            self.load_rules(symbol)
            config = read_symbol_config(self.rest, symbol)
            ensure_margin_type(self.rest, symbol, margin_type, config)
            ensure_leverage(self.rest, symbol, leverage, config)
            self._read_fees(symbol)
        log.info("wallet balance %s USDT, available %s USDT", self.wallet_balance(), self.available_balance())

    def change_leverage(self, leverage: int) -> None:
        """Set `leverage` on every symbol `prepare` set up (binance.md §5: checked against the
        symbol's brackets). Raises ExchangeFatal above a bracket's maximum, OrderRejected when
        Binance refuses it (e.g. too little margin for an open position at a lower leverage)."""
        for symbol in self.prepared:
            ensure_leverage(self.rest, symbol, leverage, None)

    def _read_fees(self, symbol: str) -> None:
        """`symbol`'s commission rates into `fees` (and `maker_fee`/`taker_fee`, the last read)."""
        try:
            rates = self.rest.call("futures_commission_rate", symbol=symbol)
            self.maker_fee, self.taker_fee = Decimal(rates["makerCommissionRate"]), Decimal(rates["takerCommissionRate"])
        except OrderRejected as refusal:
            log.warning("%s commission rate not available (%s); assuming maker %s, taker %s", symbol, refusal.message,
                        self.maker_fee, self.taker_fee)
        self.fees[symbol] = (self.maker_fee, self.taker_fee)
        log.info("%s fees: maker %s, taker %s", symbol, self.maker_fee, self.taker_fee)

    def load_rules(self, symbol: str) -> SymbolRules:
        info = self.rest.call("futures_exchange_info")
        for limit in info.get("rateLimits", []):
            if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE":
                self.rest.weight_limit = int(limit["limit"]) * int(limit.get("intervalNum", 1))
        entry = next((s for s in info.get("symbols", []) if s.get("symbol") == symbol), None)
        if entry is None:
            raise ExchangeFatal(f"{symbol} is not listed on this exchange; check the symbol of its strategy in settings.toml")
        if entry.get("status") != "TRADING" or entry.get("contractType", "PERPETUAL") != "PERPETUAL":
            raise ExchangeFatal(f"{symbol} is not a trading perpetual (status {entry.get('status')}, {entry.get('contractType')}); pick another symbol")
        rules = parse_symbol_rules(entry)
        self.rules_book.put(rules)
        log.info("%s rules: tick %s, step %s, min qty %s, min notional %s USDT", symbol, wire(rules.tick_size),
                 wire(rules.step_size), wire(rules.min_qty), wire(rules.min_notional))
        return rules

    # ----- the Exchange interface -------------------------------------------------------------------
    def symbol_rules(self, symbol: str) -> SymbolRules:
        """The rules in force, read again after a filter refusal and daily (trade/rules_book.py)."""
        return self.rules_book.get(symbol)

    def wallet_balance(self) -> Decimal:
        return self._usdt()[0]

    def available_balance(self) -> Decimal:
        return self._usdt()[1]

    def on_tick(self) -> None:
        """Keep the balance fresh between signals, so sizing a signal costs no round trip."""
        if self.rest.now() - self._balances_at > BALANCE_MAX_AGE / 2:
            self.refresh_balances()

    def forget_balances(self) -> None:
        """The account changed (ACCOUNT_UPDATE): the next read asks Binance. Safe from any thread."""
        self._balances_at = float("-inf")

    def refresh_balances(self) -> tuple[Decimal, Decimal]:
        wallet = available = ZERO
        for asset in self.rest.call("futures_account_balance"):
            if asset.get("asset") == "USDT":
                wallet, available = Decimal(asset["balance"]), Decimal(asset["availableBalance"])
        self._balances, self._balances_at = (wallet, available), self.rest.now()
        return self._balances

    def _usdt(self) -> tuple[Decimal, Decimal]:
        if self.rest.now() - self._balances_at > BALANCE_MAX_AGE:
            return self.refresh_balances()
        return self._balances

    def place_order(self, request: OrderRequest) -> OrderUpdate:
        assert request.quantity is not None  # only a closePosition stop or target has none (place_conditional)
        params = self._common(request)
        params.update(type=request.type.value, quantity=wire(request.quantity), newClientOrderId=request.client_order_id,
                      newOrderRespType="ACK")
        if request.type is OrderType.LIMIT:
            assert request.price is not None  # a LIMIT order is always built with its price
            params.update(price=wire(request.price), timeInForce="GTC")
        if request.reduce_only:
            params["reduceOnly"] = "true"
        answer = self._send("futures_create_order", request, params)
        return self._ack(request, answer.get("status", "NEW"), answer.get("orderId"), answer.get("updateTime"))

    def place_conditional(self, request: OrderRequest) -> OrderUpdate:
        assert request.trigger_price is not None  # a stop or target is always built with its trigger
        params = self._common(request)
        params.update(algoType="CONDITIONAL", type=request.type.value, triggerPrice=wire(request.trigger_price),
                      workingType="MARK_PRICE", priceProtect="TRUE", clientAlgoId=request.client_order_id)
        if request.close_position:
            params["closePosition"] = "true"
        else:
            assert request.quantity is not None  # without closePosition the order carries its quantity
            params["quantity"] = wire(request.quantity)
            if request.reduce_only:
                params["reduceOnly"] = "true"
        answer = self._send("futures_create_algo_order", request, params)
        return self._ack(request, answer.get("algoStatus", "NEW"), answer.get("algoId"), answer.get("updateTime"))

    def cancel_order(self, request: OrderRequest) -> OrderUpdate | None:
        try:
            if request.type.is_conditional:
                self.rest.call("futures_cancel_algo_order", write=True, symbol=request.symbol, clientAlgoId=request.client_order_id)
            else:
                self.rest.call("futures_cancel_order", write=True, symbol=request.symbol, origClientOrderId=request.client_order_id)
        except OrderRejected as refusal:
            if refusal.code not in NOT_FOUND_CODES:
                raise
        # the cancel may have lost a race with a fill: report what the order really is
        return self.query_order(request)

    def query_order(self, request: OrderRequest) -> OrderUpdate | None:
        try:
            if request.type.is_conditional:
                return self._query_algo(request)
            answer = self.rest.call("futures_get_order", symbol=request.symbol, origClientOrderId=request.client_order_id)
        except OrderRejected as refusal:
            if refusal.code in NOT_FOUND_CODES:
                return None
            raise
        return self._with_fills(request, answer)

    def _query_algo(self, request: OrderRequest) -> OrderUpdate | None:
        answer = self.rest.call("futures_get_algo_order", symbol=request.symbol, clientAlgoId=request.client_order_id)
        status = answer.get("algoStatus", "NEW")
        actual = answer.get("actualOrderId") or ""
        if status in ALGO_STATUSES and not (actual and status != "NEW"):
            return self._ack(request, status, answer.get("algoId"), answer.get("updateTime"), answer.get("rm"))
        if not actual:
            return self._ack(request, "NEW", answer.get("algoId"), answer.get("updateTime"))
        # triggered: the order it became holds the fills
        return self._with_fills(request, self.rest.call("futures_get_order", symbol=request.symbol, orderId=int(actual)))

    # ----- helpers -------------------------------------------------------------------------------------
    def _send(self, method: str, request: OrderRequest, params: dict) -> dict:
        try:
            return self.rest.call(method, write=True, **params)
        except OrderRejected as refusal:
            self.rules_book.refused(request.symbol, refusal.code, refusal.message)
            raise

    def _common(self, request: OrderRequest) -> dict[str, Any]:
        return {"symbol": request.symbol, "side": request.side.value, "positionSide": request.position_side}

    def _ack(self, request: OrderRequest, status: str, exchange_id: Any, at: Any, reason: str | None = None) -> OrderUpdate:
        # an acknowledgement carries no fills: those come with their fees from the stream or a query
        known = ALGO_STATUSES.get(status) or order_status(status)
        if known in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            known = OrderStatus.NEW
        return OrderUpdate(request.client_order_id, request.symbol, known, int(at or 0),
                           str(exchange_id) if exchange_id is not None else None, reason=reason)

    def _with_fills(self, request: OrderRequest, answer: dict) -> OrderUpdate:
        """An order answer (GET /fapi/v1/order) with its fills summed from userTrades: quantity,
        price, USDT fees, realized PnL."""
        status, order_id = order_status(answer["status"]), str(answer["orderId"])
        executed, at = Decimal(answer.get("executedQty", "0")), answer.get("updateTime")
        if executed <= 0:
            return OrderUpdate(request.client_order_id, request.symbol, status, int(at or 0), order_id)
        fills = self.order_trades(request.symbol, order_id)
        quantity = sum((f.quantity for f in fills), ZERO)
        value = sum((f.quantity * f.price for f in fills), ZERO)
        if quantity != executed:
            log.warning("%s order %s: trades sum to %s but the order says %s executed", request.symbol,
                        request.client_order_id, quantity, executed)
            if status is OrderStatus.FILLED:  # trades not all listed yet: keep it open so it is asked again
                status = OrderStatus.PARTIALLY_FILLED
        average = value / quantity if quantity else None
        return OrderUpdate(request.client_order_id, request.symbol, status, int(at or 0), order_id, cumulative_quantity=quantity,
                           average_price=average, last_quantity=quantity, last_price=average,
                           fee=sum((f.fee for f in fills), ZERO), realized_pnl=sum((f.realized_pnl for f in fills), ZERO),
                           totals=True, trades=tuple(fills))

    def order_trades(self, symbol: str, order_id: str) -> list[TradeFill]:
        """The fills of one order (GET /fapi/v1/userTrades?orderId=), each with its trade id.
        A fee paid in another asset than USDT (BNB) counts as 0 here, as in the stream."""
        return [_trade_fill(t) for t in self.rest.call("futures_account_trades", symbol=symbol, orderId=int(order_id))]

    # ----- market data and the listenKey (used by the stream threads through their own BinanceRest) -----
    def closed_klines(self, symbol: str, interval: str, interval_ms: int, start_ms: int | None = None, limit: int = 1500) -> list[Candle]:
        """Closed candles from `start_ms` on (or the latest `limit`), the forming bar dropped."""
        server_ms = self.rest.call("futures_time")["serverTime"]
        candles: list[Candle] = []
        while True:
            params: dict[str, Any] = {"symbol": symbol, "interval": interval, "limit": min(limit, 1500)}
            if start_ms is not None:
                params["startTime"] = start_ms
            rows = self.rest.call("futures_klines", **params)
            closed = [row for row in rows if int(row[6]) < server_ms]
            candles.extend(Candle(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])) for r in closed)
            if start_ms is None or len(rows) < params["limit"] or len(closed) < len(rows):
                return candles
            start_ms = int(rows[-1][0]) + interval_ms

    def new_listen_key(self) -> str:
        return self.rest.call("futures_stream_get_listen_key", write=True)

    def keepalive_listen_key(self, key: str) -> None:
        self.rest.call("futures_stream_keepalive", write=True, listenKey=key)

    def account_positions(self, symbol: str) -> list[AccountPosition]:
        """Non-zero position legs on the account for `symbol` (GET /fapi/v3/positionRisk)."""
        legs = [account_position(symbol, row) for row in self.rest.call("futures_position_information", symbol=symbol)]
        return [leg for leg in legs if leg.amount != 0]

    def account_trades(self, symbol: str, start_ms: int) -> list[AccountTrade]:
        """The account's trades on `symbol` since `start_ms`, oldest first (userTrades allows 7 days and
        1000 rows a call: read window by window up to now)."""
        rows: dict[int, dict] = {}
        now_ms, start = int(self.rest.now() * 1000) + 60_000, int(start_ms)  # a minute of slack for clock offset
        while start <= now_ms:
            end = min(start + TRADES_WINDOW_MS - 1, now_ms)
            page = self.rest.call("futures_account_trades", symbol=symbol, startTime=start, endTime=end, limit=1000)
            rows.update((int(row["id"]), row) for row in page)
            full = len(page) >= 1000 and int(page[-1].get("time", end)) > start
            start = int(page[-1]["time"]) if full else end + 1
        return [AccountTrade(str(row["orderId"]), OrderSide(row["side"]), row.get("positionSide", "BOTH"), _trade_fill(row))
                for row in sorted(rows.values(), key=lambda r: (int(r.get("time", 0)), int(r["id"])))]

    def order_client_id(self, symbol: str, order_id: str) -> str:
        try:
            return str(self.rest.call("futures_get_order", symbol=symbol, orderId=int(order_id)).get("clientOrderId", ""))
        except OrderRejected as refusal:
            if refusal.code in NOT_FOUND_CODES:
                return ""
            raise

    def open_orders_of_ours(self, symbol: str, prefix: str) -> list[OrderRequest]:
        """Open orders and open algo orders on `symbol` whose client id starts with `prefix`."""
        found = []
        for row in self.rest.call("futures_get_open_orders", symbol=symbol):
            if row.get("clientOrderId", "").startswith(prefix) and row.get("type") in ("MARKET", "LIMIT"):
                found.append(OrderRequest(row["clientOrderId"], symbol, OrderSide(row["side"]), OrderType(row["type"])))
        for row in self.rest.call("futures_get_open_algo_orders", symbol=symbol):
            if row.get("clientAlgoId", "").startswith(prefix) and row.get("orderType") in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
                found.append(OrderRequest(row["clientAlgoId"], symbol, OrderSide(row["side"]), OrderType(row["orderType"])))
        return found


def _trade_fill(row: dict) -> TradeFill:
    fee = Decimal(row["commission"]) if row.get("commissionAsset", "USDT") == "USDT" else ZERO
    return TradeFill(str(row["id"]), Decimal(row["qty"]), Decimal(row["price"]), fee,
                     Decimal(row.get("realizedPnl", "0")), int(row.get("time", 0)))


def parse_symbol_rules(entry: dict) -> SymbolRules:
    """exchangeInfo's symbol entry → SymbolRules (MIN_NOTIONAL's field is `notional`)."""
    filters = {f["filterType"]: f for f in entry.get("filters", [])}
    price, lot = filters.get("PRICE_FILTER", {}), filters.get("LOT_SIZE", {})
    market, notional, percent = filters.get("MARKET_LOT_SIZE", lot), filters.get("MIN_NOTIONAL", {}), filters.get("PERCENT_PRICE", {})
    try:
        return SymbolRules(
            symbol=entry["symbol"], tick_size=Decimal(price["tickSize"]), step_size=Decimal(lot["stepSize"]),
            min_qty=Decimal(lot["minQty"]), min_notional=Decimal(notional.get("notional", "5")), max_qty=Decimal(lot["maxQty"]),
            market_max_qty=Decimal(market.get("maxQty", lot["maxQty"])), min_price=Decimal(price.get("minPrice", "0")),
            max_price=Decimal(price.get("maxPrice", "100000000")), percent_up=Decimal(percent.get("multiplierUp", "1.05")),
            percent_down=Decimal(percent.get("multiplierDown", "0.95")))
    except KeyError as missing:
        raise ExchangeFatal(f"exchangeInfo for {entry.get('symbol')} lacks {missing}; the exchange answered in an unknown format") from None
