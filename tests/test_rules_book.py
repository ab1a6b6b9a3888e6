"""Symbol rules read again after a filter refusal and daily (trade/rules_book.py)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from trade.errors import ExchangeUnavailable
from trade.rules_book import RulesBook
from trade.symbol_rules import SymbolRules


def rules(min_notional: str) -> SymbolRules:
    return SymbolRules("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D(min_notional))


class Exchange:
    """What exchangeInfo says now, and how often it was asked."""

    def __init__(self):
        self.current = rules("50")
        self.reads = 0
        self.down = False
        self.t = 1_000.0

    def load(self, symbol):
        self.reads += 1
        if self.down:
            raise ExchangeUnavailable("exchangeInfo: no answer")
        return self.current


@pytest.fixture
def book_and_exchange():
    exchange = Exchange()
    book = RulesBook(exchange.load, lambda: exchange.t)
    book.put(exchange.load("BTCUSDT"))
    return book, exchange


@pytest.mark.parametrize("code", [-4164, -1111, -1013, -4131])
def test_rules_book_filter_refusal_reads_once_and_next_signal_gets_new_rules(book_and_exchange, code):
    book, exchange = book_and_exchange
    exchange.current = rules("100")                  # Binance raised the minimum notional
    assert book.get("BTCUSDT").min_notional == D("50")
    book.refused("BTCUSDT", code, "Order's notional must be no smaller than 100")
    book.refused("BTCUSDT", code, "the same refusal again")
    assert book.get("BTCUSDT").min_notional == D("100")
    assert book.get("BTCUSDT").min_notional == D("100")
    assert exchange.reads == 2                       # start-up, then once after the refusals


def test_rules_book_unrelated_refusal_keeps_the_rules_without_a_read(book_and_exchange):
    book, exchange = book_and_exchange
    book.refused("BTCUSDT", -2019, "Margin is insufficient.")
    book.get("BTCUSDT")
    assert exchange.reads == 1


def test_rules_book_day_old_rules_are_read_again(book_and_exchange):
    book, exchange = book_and_exchange
    exchange.current = rules("100")
    exchange.t += 23 * 3600
    assert book.get("BTCUSDT").min_notional == D("50") and exchange.reads == 1
    exchange.t += 3600
    assert book.get("BTCUSDT").min_notional == D("100") and exchange.reads == 2


def test_rules_book_failed_read_keeps_old_rules_and_tries_again(book_and_exchange):
    book, exchange = book_and_exchange
    book.refused("BTCUSDT", -4164, "notional")
    exchange.down = True
    assert book.get("BTCUSDT").min_notional == D("50")
    exchange.down, exchange.current = False, rules("100")
    assert book.get("BTCUSDT").min_notional == D("100")
    assert exchange.reads == 3
