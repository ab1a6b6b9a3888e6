"""Honest LIMIT fills in replay: a trade through the price, at the price, taker when
marketable, and no take-profit in the candle of a resting entry's fill (OHLC hides the order).

Each case is a few hand-made candles after the harness's first candle (open 100, close 100)."""
from __future__ import annotations

from decimal import Decimal as D

from ict.models import Candle, EntryType
from trade.models import OrderRequest, OrderSide, OrderStatus, OrderType
from tests.test_simulated_exchange import buy, exchange
from tests.test_trader import Harness, long_signal


def sell(cid="e1", qty="1", price="101"):
    return OrderRequest(cid, "BTCUSDT", OrderSide.SELL, OrderType.LIMIT, D(qty), D(price), position_side="SHORT")


def candle(minute, o, h, l, c):
    return Candle(minute * 60_000, o, h, l, c, 1)


def fills(events):
    return [(e.client_order_id, e.last_price, e.fee) for e in events if e.status is OrderStatus.FILLED]


# ----- a. a touch at exactly the price does not fill ------------------------------------------
def test_sim_limit_buy_touched_exactly_at_its_price_fills_only_when_traded_below():
    sim, events = exchange()
    sim.place_order(buy(type_=OrderType.LIMIT, price="99"))
    sim.on_candle(candle(1, 100, 100.5, 99, 99.5))     # low touches 99: the queue ahead may absorb it
    assert fills(events) == []
    sim.on_candle(candle(2, 99.5, 100, 98.9, 99.2))    # trades below 99
    assert fills(events) == [("e1", D("99"), D("0.0198"))]


def test_sim_limit_sell_touched_exactly_at_its_price_fills_only_when_traded_above():
    sim, events = exchange()
    sim.place_order(sell(price="101"))
    sim.on_candle(candle(1, 100, 101, 99.5, 100.5))    # high touches 101
    assert fills(events) == []
    sim.on_candle(candle(2, 100.5, 101.1, 100.2, 100.8))
    assert fills(events) == [("e1", D("101"), D("0.0202"))]


# ----- b. a resting limit fills at its own price, never at a better gap open ------------------
def test_sim_resting_limit_buy_gapped_through_fills_at_its_price_not_the_open():
    sim, events = exchange()
    sim.place_order(buy(type_=OrderType.LIMIT, price="99"))
    sim.on_candle(candle(1, 99.8, 100.2, 99.4, 99.6))
    sim.on_candle(candle(2, 97, 98, 96.5, 97.5))       # opens 2 below the resting bid
    assert fills(events) == [("e1", D("99"), D("0.0198"))]


def test_sim_resting_limit_sell_gapped_through_fills_at_its_price_not_the_open():
    sim, events = exchange()
    sim.place_order(sell(price="101"))
    sim.on_candle(candle(1, 103, 104, 102.5, 103.5))
    assert fills(events) == [("e1", D("101"), D("0.0202"))]


# ----- c. a marketable limit takes the book at once, as a taker --------------------------------
def test_sim_marketable_limit_buy_fills_at_next_open_plus_slippage_with_taker_fee():
    sim, events = exchange(slippage_ticks=2)          # last price 100
    sim.place_order(buy(type_=OrderType.LIMIT, price="100.5"))
    sim.on_candle(candle(1, 100.2, 100.6, 99.8, 100.4))
    assert fills(events) == [("e1", D("100.4"), D("0.0502"))]  # 100.2 + 2 ticks, taker 0.05 %


def test_sim_marketable_limit_buy_never_pays_more_than_its_limit():
    sim, events = exchange(slippage_ticks=2)
    sim.place_order(buy(type_=OrderType.LIMIT, price="100.3"))
    sim.on_candle(candle(1, 100.2, 100.6, 99.8, 100.4))
    assert fills(events) == [("e1", D("100.3"), D("0.05015"))]


def test_sim_limit_buy_at_the_last_price_is_marketable():
    sim, events = exchange()
    sim.place_order(buy(type_=OrderType.LIMIT, price="100"))  # at the last price: crosses the book
    sim.on_candle(candle(1, 99.9, 100.1, 99.9, 100))    # never trades below 100, yet it fills
    assert fills(events) == [("e1", D("99.9"), D("0.04995"))]


def test_sim_marketable_limit_sell_fills_at_next_open_minus_slippage_with_taker_fee():
    sim, events = exchange(slippage_ticks=1)
    sim.place_order(sell(price="99.5"))
    sim.on_candle(candle(1, 99.8, 100, 99.6, 99.9))
    assert fills(events) == [("e1", D("99.7"), D("0.04985"))]


def test_sim_cancelled_marketable_limit_never_fills():
    sim, events = exchange()
    sim.place_order(buy(type_=OrderType.LIMIT, price="100.5"))
    sim.cancel_order(buy(type_=OrderType.LIMIT, price="100.5"))
    sim.on_candle(candle(1, 100.2, 100.6, 99.8, 100.4))
    assert fills(events) == []


# ----- d. a resting entry's target waits for the next candle; its stop does not -----------------
def test_trader_limit_entry_and_target_in_one_candle_fill_the_target_only_next_candle(memory_journal):
    h = Harness(memory_journal)
    h.trader.on_signal(long_signal(stop=97.0, target=101.0, entry_type=EntryType.LIMIT, limit=99.0))
    h.candle(100, 101.5, 98.5, 100)          # entry fills at 99; was 101.5 before or after 98.5? unknown
    assert h.rows("SELECT state, entry_price FROM positions")[0] == {"state": "OPEN", "entry_price": "99"}
    h.candle(100.5, 101.2, 100.2, 101)       # now the target fills
    row = h.rows("SELECT state, close_reason, exit_price, closed_at FROM positions")[0]
    assert (row["state"], row["close_reason"], row["exit_price"]) == ("CLOSED", "take_profit", "101")
    assert row["closed_at"] == "1970-01-01T00:02:00.000Z"


def test_trader_limit_entry_and_stop_in_one_candle_fill_both_worst_case(memory_journal):
    h = Harness(memory_journal)
    h.trader.on_signal(long_signal(stop=98.0, target=103.0, entry_type=EntryType.LIMIT, limit=99.0))
    h.candle(100, 100.5, 97.5, 98)
    row = h.rows("SELECT state, close_reason, entry_price, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "stop_loss", "entry_price": "99", "exit_price": "98"}


def test_trader_market_entry_and_target_in_one_candle_still_fill_together(memory_journal):
    # a MARKET entry fills at the open, before the rest of the candle: its target may follow
    h = Harness(memory_journal)
    h.trader.on_signal(long_signal(stop=98.0, target=101.0))
    h.candle(100, 101.5, 99.5, 101)
    row = h.rows("SELECT state, close_reason, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "take_profit", "exit_price": "101"}


def test_trader_limit_entry_below_an_open_above_its_target_keeps_its_target(memory_journal):
    # the market is at the limit when it fills, not at the open: the target is not "already triggered"
    h = Harness(memory_journal)
    h.trader.on_signal(long_signal(stop=97.0, target=100.0, entry_type=EntryType.LIMIT, limit=99.0))
    h.candle(100.5, 100.8, 98.8, 99.5)       # opens above the target, dips through the limit
    h.candle(99.6, 100.2, 99.4, 100.1)
    row = h.rows("SELECT state, close_reason, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "take_profit", "exit_price": "100"}
    assert h.rows("SELECT COUNT(*) AS n FROM orders WHERE status = 'REJECTED'")[0]["n"] == 0
