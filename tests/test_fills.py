"""Fills counted by trade id: out of order, twice, and again in a query's totals."""
from __future__ import annotations

from decimal import Decimal as D

from trade.fills import add_fill, new_fills
from trade.models import Order, OrderRequest, OrderRole, OrderSide, OrderStatus, OrderType, OrderUpdate, TradeFill

REQUEST = OrderRequest("abc-1-sl1", "BTCUSDT", OrderSide.SELL, OrderType.STOP_MARKET, trigger_price=D("35900"), close_position=True)


def event(status, cumulative, last, price, fee, trade_id):
    return OrderUpdate(REQUEST.client_order_id, "BTCUSDT", status, 1, "9", cumulative_quantity=D(cumulative),
                       last_quantity=D(last), last_price=D(price), fee=D(fee), trade_id=trade_id)


def book(order, update):
    for fill in new_fills(order, update):
        add_fill(order, fill)


def test_fills_reversed_and_duplicated_events_book_each_trade_once_with_its_fee():
    order = Order(REQUEST, OrderRole.STOP, 1)
    second = event(OrderStatus.FILLED, "1.0", "0.4", "35890", "0.7", "2")
    first = event(OrderStatus.PARTIALLY_FILLED, "0.6", "0.6", "35900", "1.1", "1")
    for update in (second, second, first, first):
        book(order, update)
    assert (order.filled_quantity, order.fees) == (D("1.0"), D("1.8"))
    assert order.average_price == (D("0.4") * 35890 + D("0.6") * 35900) / D("1.0")
    totals = OrderUpdate(REQUEST.client_order_id, "BTCUSDT", OrderStatus.FILLED, 2, "9", cumulative_quantity=D("1.0"),
                         fee=D("1.8"), totals=True, trades=(TradeFill("1", D("0.6"), D("35900"), D("1.1")),
                                                            TradeFill("2", D("0.4"), D("35890"), D("0.7"))))
    assert new_fills(order, totals) == []


def test_fills_status_event_without_a_fill_books_nothing_even_with_a_total():
    order = Order(REQUEST, OrderRole.STOP, 1)
    expired = OrderUpdate(REQUEST.client_order_id, "BTCUSDT", OrderStatus.EXPIRED, 1, "9", cumulative_quantity=D("0.4"))
    assert new_fills(order, expired) == []
