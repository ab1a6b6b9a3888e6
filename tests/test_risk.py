"""Risk sizing: the worked example, rounding, and every refusal."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from ict.models import EntryType, Side, Signal
from trade.risk import Refusal, RiskSettings, SizedEntry, size_entry
from trade.symbol_rules import SymbolRules

RULES = SymbolRules("TESTUSDT", tick_size=D("0.01"), step_size=D("0.001"), min_qty=D("0.001"), min_notional=D("5"))
ONE_PERCENT = RiskSettings(leverage=10, max_positions=3, loss_per_trade_percent=D(1))


def signal(side=Side.LONG, entry=100.0, stop=98.0, target=104.0, entry_type=EntryType.MARKET, limit=None, symbol="TESTUSDT"):
    return Signal(symbol, side, entry_type, stop, target, entry, 0, "test", "because", limit)


def size(sig, settings=ONE_PERCENT, balance=D(1000), available=None, open_sides=(), rules=RULES, hedge=True):
    return size_entry(sig, rules, settings, lambda: (balance, balance if available is None else available), list(open_sides), hedge)


def test_sizing_one_percent_of_1000_with_2_stop_distance_is_5():
    sized = size(signal())
    assert isinstance(sized, SizedEntry)
    assert sized.quantity == D("5") and sized.risk_amount == D("10")
    assert (sized.entry_price, sized.stop_price, sized.take_profit_price) == (D("100"), D("98"), D("104"))


def test_sizing_quantity_is_floored_to_the_step():
    sized = size(signal(stop=97.0))  # 10 / 3 = 3.3333…
    assert sized.quantity == D("3.333")
    assert sized.risk_amount == D("9.999")  # never more than asked


def test_sizing_fixed_amount_replaces_the_percentage():
    fixed = RiskSettings(leverage=10, max_positions=3, fixed_loss_usdt=D(4))
    assert size(signal(), settings=fixed).quantity == D("2")


def test_sizing_long_stop_rounds_down_and_short_stop_rounds_up():
    assert size(signal(stop=98.005)).stop_price == D("98.00")
    short = size(signal(Side.SHORT, entry=100.0, stop=102.001, target=96.0))
    assert short.stop_price == D("102.01")


def test_sizing_limit_entry_uses_the_limit_price():
    sized = size(signal(entry_type=EntryType.LIMIT, limit=99.0, stop=98.0))
    assert sized.entry_price == D("99") and sized.quantity == D("10")


@pytest.mark.parametrize("kwargs, code", [
    ({"sig": signal(stop=101.0)}, "STOP_WRONG_SIDE"),
    ({"sig": signal(Side.SHORT, stop=99.0, target=96.0)}, "STOP_WRONG_SIDE"),
    ({"sig": signal(target=99.0)}, "TARGET_WRONG_SIDE"),
    ({"sig": signal(stop=50.0), "balance": D(2)}, "QTY_BELOW_MIN"),          # 0.02 / 50 = 0.0004 < 0.001
    ({"sig": signal(), "balance": D(9)}, "NOTIONAL_BELOW_MIN"),              # 0.045 × 100 = 4.5 < 5
    ({"sig": signal(), "available": D(49)}, "MARGIN_EXCEEDS_BALANCE"),       # 500 / 10 = 50 > 49
    ({"sig": signal(), "open_sides": [("TESTUSDT", Side.LONG)]}, "POSITION_OPEN"),
    ({"sig": signal(), "open_sides": [("A", Side.LONG), ("B", Side.LONG), ("C", Side.SHORT)]}, "MAX_POSITIONS"),
    ({"sig": signal(), "open_sides": [("TESTUSDT", Side.SHORT)], "hedge": False}, "OPPOSITE_POSITION_OPEN"),
])
def test_sizing_refusals_carry_their_code(kwargs, code):
    refusal = size(**kwargs)
    assert isinstance(refusal, Refusal)
    assert refusal.code == code


def test_sizing_refusal_words_give_the_numbers():
    refusal = size(signal(), available=D(49))
    assert str(refusal) == "MARGIN_EXCEEDS_BALANCE: margin 50.00 USDT (notional 500.00 at 10x) exceeds the available 49.00"


def test_sizing_opposite_side_is_allowed_in_hedge_mode():
    assert isinstance(size(signal(), open_sides=[("TESTUSDT", Side.SHORT)], hedge=True), SizedEntry)


# ----- limits across the account (issue #11) ---------------------------------------------------
def test_sizing_a_side_the_strategy_does_not_trade_is_refused_first():
    refused = size_entry(signal(Side.SHORT, stop=102.0, target=96.0), RULES, ONE_PERCENT, lambda: (D(1000), D(1000)),
                         [("A", Side.LONG)] * 5, sides=frozenset((Side.LONG,)))
    assert isinstance(refused, Refusal) and refused.code == "SIDE_NOT_TRADED"
    assert refused.words == "test trades TESTUSDT long only (sides in settings.toml)"


def test_sizing_max_positions_per_symbol_counts_that_symbol_only():
    per_symbol = RiskSettings(leverage=10, max_positions=5, max_positions_per_symbol=1, loss_per_trade_percent=D(1))
    on_other = [("OTHERUSDT", Side.LONG), ("OTHERUSDT", Side.SHORT)]
    assert isinstance(size(signal(), settings=per_symbol, open_sides=on_other), SizedEntry)
    refused = size(signal(), settings=per_symbol, open_sides=on_other + [("TESTUSDT", Side.SHORT)])
    assert (refused.code, refused.words) == ("MAX_POSITIONS_PER_SYMBOL", "1 positions open on TESTUSDT, max_positions_per_symbol is 1")


@pytest.mark.parametrize("already, accepted", [(D("20"), True), (D("20.01"), False)])
def test_sizing_open_risk_cap_takes_the_sum_at_the_stops_up_to_the_cap(already, accepted):
    capped = RiskSettings(leverage=10, max_positions=5, max_open_risk_percent=D(3), loss_per_trade_percent=D(1))
    # 1 % of 1000 = 10 USDT for this one; the cap is 3 % = 30 USDT in all
    sized = size_entry(signal(), RULES, capped, lambda: (D(1000), D(1000)), [], open_risk=lambda: already)
    assert isinstance(sized, SizedEntry) is accepted
    if not accepted:
        assert sized.code == "MAX_OPEN_RISK" and "20.01 USDT at risk" in sized.words and "3 % of the 1000.00 wallet" in sized.words


def test_open_risk_of_positions_held_partly_filled_and_with_a_stop_past_the_entry():
    from trade.models import Order, OrderRole, OrderStatus, OrderType
    from trade.position import Position, order_request
    from trade.risk import open_risk

    long = Position(1, "TESTUSDT", Side.LONG, "test", D("2"), D("98"), D("104"), created_at=0, planned_entry=D("100"))
    entry = Order(order_request(long, "p-1-en1", OrderRole.ENTRY, OrderType.MARKET, True, D("2")), OrderRole.ENTRY, 1,
                  OrderStatus.NEW)
    long.orders[OrderRole.ENTRY] = entry
    assert open_risk(long) == D("4")                      # nothing filled: 2 at the planned 100, stop 98
    long.filled_entry_quantity, long.entry_value = D("1"), D("101")
    assert open_risk(long) == D("3") + D("2")             # 1 held at 101, 1 still to come at 100
    entry.status = OrderStatus.FILLED
    long.filled_entry_quantity, long.entry_value = D("2"), D("202")
    assert open_risk(long) == D("6")                      # 2 held at 101, stop 98
    long.stop_price = D("102")
    assert open_risk(long) == D("0")                      # the stop moved past the entry: a gain is locked in
    short = Position(2, "TESTUSDT", Side.SHORT, "test", D("1"), D("105"), D("90"), created_at=0)
    short.filled_entry_quantity, short.entry_value = D("1"), D("100")
    assert open_risk(short) == D("5")
