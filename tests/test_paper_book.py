"""The paper account rebuilt from the journal equals the one that wrote it (trade/simulated/paper_book.py)."""
from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pytest

from journal.journal import Journal
from tests.test_trader import RULES, Harness, long_signal
from trade.errors import OrderRejected
from trade.models import OrderRequest, OrderSide, OrderType
from trade.simulated.paper_book import PaperExchange
from trade.recovery import recover


def paper_exchange() -> PaperExchange:
    return PaperExchange(RULES, D(10_000), leverage=10)


def test_paper_book_restored_account_equals_the_running_one(journal_path):
    journal = Journal.open(journal_path, "paper")
    running = paper_exchange()
    running.restore(journal, D(10_000))
    h = Harness(journal, running)
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)                  # entry fills; stop 98 and target 104 rest
    h.candle(100.5, 104.5, 100, 104)                 # the target fills: a closed trade in the wallet
    h.trader.on_signal(long_signal(stop=97.0, target=110.0))
    h.candle(104, 104.5, 103, 104)                   # a second long fills; its stop and target rest
    journal.close()

    journal = Journal.open(journal_path, "paper")
    restored = paper_exchange()
    assert restored.restore(journal, D(10_000)) == 1
    assert restored.wallet_balance() == running.wallet_balance() != D(10_000)
    assert restored.available_balance() == running.available_balance()
    assert restored.account_positions("BTCUSDT") == running.account_positions("BTCUSDT")
    prefix = journal.id_prefix + "-"
    assert sorted(r.client_order_id for r in restored.open_orders_of_ours("BTCUSDT", prefix)) == \
        sorted(r.client_order_id for r in running.open_orders_of_ours("BTCUSDT", prefix))
    assert len(restored.open_orders_of_ours("BTCUSDT", prefix)) == 2


def test_paper_book_restored_position_closes_on_its_restored_stop(journal_path):
    journal = Journal.open(journal_path, "paper")
    first = paper_exchange()
    first.restore(journal, D(10_000))
    h = Harness(journal, first)
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    journal.close()

    journal = Journal.open(journal_path, "paper")
    again = paper_exchange()
    again.restore(journal, D(10_000))
    h2 = Harness(journal, again)                      # its first candle (100, 101, 99, 100) touches neither
    recover(h2.trader, journal, "BTCUSDT")
    assert len(h2.trader.positions) == 1
    h2.candle(99, 99.5, 97.5, 98)                     # through the stop at 98
    row = journal.rows("SELECT state, close_reason, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "stop_loss", "exit_price": "98"}
    total = journal.rows("SELECT realized_pnl, fees FROM positions")[0]
    assert again.wallet_balance() == D(10_000) + D(total["realized_pnl"]) - D(total["fees"])


def test_paper_book_starting_balance_is_kept_once_positions_exist(journal_path):
    journal = Journal.open(journal_path, "paper")
    h = Harness(journal, paper_exchange())
    h.exchange.restore(journal, D(10_000))
    h.trader.on_signal(long_signal())
    journal.close()
    journal = Journal.open(journal_path, "paper")
    restored = paper_exchange()
    restored.restore(journal, D(5_000))               # the setting changed after trading began
    assert restored.wallet_balance() == D(10_000)


def test_paper_book_real_rules_are_read_again_daily():
    reads = []
    now = [1_000.0]

    def load(symbol):
        reads.append(symbol)
        return RULES if len(reads) == 1 else dataclasses.replace(RULES, min_notional=D("100"))

    exchange = paper_exchange()
    exchange.watch_rules("BTCUSDT", load, lambda: now[0])
    assert exchange.symbol_rules("BTCUSDT").min_notional == D("50") and len(reads) == 1
    now[0] += 24 * 3600
    assert exchange.symbol_rules("BTCUSDT").min_notional == D("100") and len(reads) == 2
    with pytest.raises(OrderRejected) as refused:                   # the simulated exchange applies them too
        exchange.place_order(OrderRequest("p-1-en1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("0.6"), D("100"),
                                          position_side="LONG"))
    assert refused.value.code == -4164
