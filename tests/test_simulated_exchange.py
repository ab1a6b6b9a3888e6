"""Simulated fills follow the replay rules: next open, stops on lows, gaps at the open, stop first."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from ict.models import Candle
from trade.errors import OrderRejected
from trade.models import OrderRequest, OrderSide, OrderStatus, OrderType
from trade.simulated.exchange import SimulatedExchange
from trade.symbol_rules import SymbolRules

RULES = SymbolRules("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("50"))


def exchange(slippage_ticks=0):
    sim = SimulatedExchange(RULES, D(10_000), leverage=10, slippage_ticks=slippage_ticks)
    events = []
    sim.connect(events.append)
    sim.on_candle(Candle(0, 100, 101, 99, 100, 1), "BTCUSDT")
    return sim, events


def buy(cid="e1", qty="1", type_=OrderType.MARKET, price=None):
    return OrderRequest(cid, "BTCUSDT", OrderSide.BUY, type_, D(qty), D(price) if price else None, position_side="LONG")


def protective(cid, type_, trigger):
    return OrderRequest(cid, "BTCUSDT", OrderSide.SELL, type_, trigger_price=D(trigger), close_position=True, position_side="LONG")


def long_at_100():
    """A simulated exchange holding 1 long filled at 100 (the open after the order)."""
    sim, events = exchange()
    sim.place_order(buy())
    sim.on_candle(Candle(60_000, 100, 101, 99.5, 100, 1), "BTCUSDT")
    return sim, events


def test_sim_market_entry_fills_at_next_open_plus_slippage():
    sim, events = exchange(slippage_ticks=2)
    assert sim.place_order(buy()).status is OrderStatus.NEW
    assert events == []  # nothing fills before the next candle
    sim.on_candle(Candle(60_000, 105, 106, 104, 105, 1), "BTCUSDT")
    assert [(e.status, e.last_price, e.fee) for e in events] == [(OrderStatus.FILLED, D("105.2"), D("0.0526"))]


def test_sim_stop_fills_at_trigger_when_the_low_reaches_it():
    sim, events = long_at_100()
    sim.place_conditional(protective("sl", OrderType.STOP_MARKET, "98"))
    sim.on_candle(Candle(120_000, 99, 99.5, 97.5, 98.5, 1), "BTCUSDT")
    stop = events[-1]
    assert (stop.client_order_id, stop.last_price, stop.realized_pnl) == ("sl", D("98"), D("-2"))


def test_sim_gap_through_the_stop_fills_at_the_open():
    sim, events = long_at_100()
    sim.place_conditional(protective("sl", OrderType.STOP_MARKET, "98"))
    sim.on_candle(Candle(120_000, 95, 96, 94, 95.5, 1), "BTCUSDT")
    assert events[-1].last_price == D("95") and events[-1].realized_pnl == D("-5")


def test_sim_stop_wins_when_stop_and_target_are_inside_one_candle():
    sim, events = long_at_100()
    sim.place_conditional(protective("tp", OrderType.TAKE_PROFIT_MARKET, "104"))  # placed first on purpose
    sim.place_conditional(protective("sl", OrderType.STOP_MARKET, "98"))
    sim.on_candle(Candle(120_000, 100, 105, 97, 101, 1), "BTCUSDT")
    filled = [e.client_order_id for e in events if e.status is OrderStatus.FILLED]
    assert filled == ["e1", "sl"]
    expired = [e for e in events if e.client_order_id == "tp"]
    assert expired and expired[0].status is OrderStatus.EXPIRED  # closePosition with nothing left to close


def test_sim_take_profit_fills_at_its_trigger():
    sim, events = long_at_100()
    sim.place_conditional(protective("tp", OrderType.TAKE_PROFIT_MARKET, "104"))
    sim.on_candle(Candle(120_000, 101, 104.5, 100.5, 104, 1), "BTCUSDT")
    assert events[-1].last_price == D("104") and events[-1].realized_pnl == D("4")


def test_sim_wallet_moves_by_realized_pnl_minus_fees():
    sim, events = long_at_100()
    sim.place_conditional(protective("tp", OrderType.TAKE_PROFIT_MARKET, "104"))
    sim.on_candle(Candle(120_000, 101, 104.5, 100.5, 104, 1), "BTCUSDT")
    fees = sum(e.fee for e in events)
    assert fees == D("0.05") + D("0.052")
    assert sim.wallet_balance() == D(10_000) + D(4) - fees


def test_sim_resting_limit_buy_fills_at_its_price_with_maker_fee():
    sim, events = exchange()
    sim.place_order(buy(type_=OrderType.LIMIT, price="99"))
    sim.on_candle(Candle(60_000, 100, 100.5, 99.5, 100, 1), "BTCUSDT")
    assert events == []
    sim.on_candle(Candle(120_000, 100, 100.5, 98.5, 99, 1), "BTCUSDT")
    assert (events[0].last_price, events[0].fee) == (D("99"), D("0.0198"))


@pytest.mark.parametrize("request_, code", [
    (buy(qty="0.0005"), -4023),                                   # not a step multiple
    (buy(qty="0.2"), -4164),                                      # 0.2 × 100 = 20 < 50
    (buy(qty="1", type_=OrderType.LIMIT, price="99.05"), -4014),  # not a tick multiple
    (buy(qty="1001"), -2019),                                     # 100,100 / 10 > 10,000
    (protective("x", OrderType.STOP_MARKET, "98"), -4120),        # conditional on the plain endpoint
])
def test_sim_filters_refuse_with_binance_codes(request_, code):
    sim, _ = exchange()
    with pytest.raises(OrderRejected) as refusal:
        sim.place_order(request_)
    assert refusal.value.code == code


def test_sim_order_without_its_price_is_refused_with_1102():
    sim, events = exchange()
    with pytest.raises(OrderRejected) as refusal:
        sim.place_order(buy(type_=OrderType.LIMIT))  # a LIMIT with no price
    assert refusal.value.code == -1102
    stop = OrderRequest("sl", "BTCUSDT", OrderSide.SELL, OrderType.STOP_MARKET, close_position=True, position_side="LONG")
    with pytest.raises(OrderRejected) as refusal:
        sim.place_conditional(stop)  # a stop with no trigger price
    assert refusal.value.code == -1102
    sim.on_candle(Candle(60_000, 100, 101, 99, 100, 1), "BTCUSDT")
    assert events == []  # neither was kept


def test_sim_stop_that_would_trigger_at_once_is_refused_with_2021():
    sim, _ = exchange()  # last price 100
    with pytest.raises(OrderRejected) as refusal:
        sim.place_conditional(protective("sl", OrderType.STOP_MARKET, "100.5"))
    assert refusal.value.code == -2021


def test_sim_cancel_removes_the_order_and_query_reports_it():
    sim, events = exchange()
    sim.place_conditional(protective("sl", OrderType.STOP_MARKET, "90"))
    assert sim.cancel_order(protective("sl", OrderType.STOP_MARKET, "90")).status is OrderStatus.CANCELED
    sim.on_candle(Candle(60_000, 89, 89, 80, 85, 1), "BTCUSDT")
    assert events == []
    assert sim.query_order(protective("sl", OrderType.STOP_MARKET, "90")).status is OrderStatus.CANCELED
    assert sim.query_order(buy("never")) is None


def test_sim_open_orders_of_ours_lists_the_resting_orders_with_the_prefix():
    sim, _ = long_at_100()  # its entry "e1" has filled
    sim.place_conditional(protective("bot-1-sl", OrderType.STOP_MARKET, "90"))
    sim.place_order(buy("bot-2-en", type_=OrderType.LIMIT, price="95"))
    sim.place_order(buy("other-1", type_=OrderType.LIMIT, price="95"))
    sim.cancel_order(buy("bot-2-en"))
    assert [r.client_order_id for r in sim.open_orders_of_ours("BTCUSDT", "bot-")] == ["bot-1-sl"]
    assert sim.open_orders_of_ours("ETHUSDT", "bot-") == []
