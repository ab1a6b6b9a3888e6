"""The trader: write-ahead journaling, refusals, protection, and closing with the exchange's numbers."""
from __future__ import annotations

import sqlite3
from decimal import Decimal as D

import pytest

from ict.models import Candle, EntryType, Side, Signal
from journal.journal import Journal
from trade.errors import OrderRejected, OutcomeUnknown
from trade.models import OrderStatus
from runtime.replay import ReplayClock
from trade.risk import RiskSettings
from trade.simulated.exchange import SimulatedExchange
from trade.symbol_rules import SymbolRules
from trade.trader import Trader

RULES = SymbolRules("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("50"))
RISK = RiskSettings(leverage=10, max_positions=2, loss_per_trade_percent=D(1))


class Harness:
    """A trader on a simulated exchange with a candle clock, as replay wires them."""

    def __init__(self, journal: Journal, exchange: SimulatedExchange | None = None, **trader_kwargs):
        self.clock = ReplayClock()
        self.exchange = exchange or SimulatedExchange(RULES, D(10_000), leverage=10)
        self.journal = journal
        self.trader = Trader(self.exchange, journal, RISK, self.clock, sleep=lambda seconds: None, **trader_kwargs)
        self.exchange.connect(self.trader.on_order_update)
        self.minute = 0
        self.candle(100, 101, 99, 100)

    def candle(self, o, h, l, c):
        self.clock.now_ms = self.minute * 60_000
        self.exchange.on_candle(Candle(self.clock.now_ms, o, h, l, c, 1), "BTCUSDT")
        self.minute += 1
        self.clock.now_ms = self.minute * 60_000
        self.trader.on_tick()

    def rows(self, sql, *args):
        return self.journal.rows(sql, *args)


def long_signal(stop=98.0, target=104.0, entry_type=EntryType.MARKET, limit=None):
    return Signal("BTCUSDT", Side.LONG, entry_type, stop, target, 100.0, 0, "test", "because", limit)


def test_trader_target_hit_closes_with_exchange_pnl_and_fees(memory_journal):
    h = Harness(memory_journal)
    position = h.trader.on_signal(long_signal())
    assert position.state.value == "ENTERING"
    h.candle(100, 100.5, 99.5, 100)          # entry fills at 100, stop and target go out
    assert position.state.value == "OPEN"
    h.candle(101, 104.5, 100.5, 104)         # target 104 reached
    row = h.rows("SELECT * FROM positions")[0]
    assert row["state"] == "CLOSED" and row["close_reason"] == "take_profit"
    assert (row["quantity"], row["entry_price"], row["exit_price"]) == ("50", "100", "104")
    assert row["realized_pnl"] == "200" and row["fees"] == str(D("2.5") + D("2.6"))
    assert h.exchange.wallet_balance() == D(10_000) + D(200) - D("5.1")
    statuses = {r["role"]: r["status"] for r in h.rows("SELECT role, status FROM orders")}
    assert statuses == {"entry": "FILLED", "stop": "CANCELED", "take_profit": "FILLED"}
    moves = [(r["from_state"], r["to_state"], r["event"]) for r in h.rows("SELECT * FROM transitions ORDER BY id")]
    assert moves == [("IDLE", "ENTERING", "submit_entry"), ("ENTERING", "ENTERING", "entry_filled"),
                     ("ENTERING", "ENTERING", "place_protection"), ("ENTERING", "OPEN", "protected"),
                     ("OPEN", "CLOSING", "take_profit_filled"), ("CLOSING", "CLOSED", "flat")]


class WatchingExchange(SimulatedExchange):
    """Checks, at the moment each request leaves, that the journal already holds it, committed."""

    def __init__(self, path, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = path
        self.seen = []

    def _committed(self, request):
        reader = sqlite3.connect(self.path)  # a second connection sees only committed rows
        row = reader.execute("SELECT status FROM orders WHERE client_order_id = ?", (request.client_order_id,)).fetchone()
        moved = reader.execute("SELECT COUNT(*) FROM transitions WHERE client_order_id = ?", (request.client_order_id,)).fetchone()[0]
        reader.close()
        self.seen.append((request.client_order_id, row[0] if row else None, moved))

    def place_order(self, request):
        self._committed(request)
        return super().place_order(request)

    def place_conditional(self, request):
        self._committed(request)
        return super().place_conditional(request)


def test_trader_journals_each_order_before_it_is_sent(journal_path):
    journal = Journal.open(journal_path, "replay", durable=False)
    exchange = WatchingExchange(str(journal_path), RULES, D(10_000), leverage=10)
    h = Harness(journal, exchange)
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    prefix = journal.id_prefix
    assert exchange.seen == [(f"{prefix}-1-en1", "INTENT", 1), (f"{prefix}-1-sl1", "INTENT", 1), (f"{prefix}-1-tp1", "INTENT", 0)]
    journal.close()


def test_trader_refused_signal_is_journaled_with_its_reason(memory_journal):
    h = Harness(memory_journal)
    assert h.trader.on_signal(long_signal(stop=101.0)) is None
    row = h.rows("SELECT accepted, refusal, position_id FROM signals")[0]
    assert row == {"accepted": 0, "refusal": "STOP_WRONG_SIDE: LONG stop 101.0 must be below the entry 100.0", "position_id": None}
    assert h.rows("SELECT COUNT(*) AS n FROM positions")[0]["n"] == 0


def test_trader_second_signal_same_side_is_refused_while_open(memory_journal):
    h = Harness(memory_journal)
    h.trader.on_signal(long_signal())
    assert h.trader.on_signal(long_signal()) is None
    assert h.rows("SELECT refusal FROM signals WHERE accepted = 0")[0]["refusal"].startswith("POSITION_OPEN")


class RefusingStops(SimulatedExchange):
    def place_conditional(self, request):
        if request.type.value == "STOP_MARKET":
            raise OrderRejected("Order would immediately trigger.", -2021)
        return super().place_conditional(request)


def test_trader_stop_refused_2021_closes_at_market(memory_journal):
    h = Harness(memory_journal, RefusingStops(RULES, D(10_000), leverage=10))
    position = h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    assert position.state.value == "CLOSING"
    h.candle(99, 99.5, 98.5, 99)             # the exit fills at this open
    row = h.rows("SELECT state, close_reason, exit_price FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "protection_refused", "exit_price": "99"}
    stop = h.rows("SELECT status, detail FROM orders WHERE role = 'stop'")[0]
    assert stop == {"status": "REJECTED", "detail": "-2021 Order would immediately trigger."}


def test_trader_unfilled_limit_entry_is_cancelled_after_the_timeout(memory_journal):
    h = Harness(memory_journal, limit_entry_timeout_ms=3 * 60_000)
    h.trader.on_signal(long_signal(entry_type=EntryType.LIMIT, limit=99.0))
    for _ in range(4):
        h.candle(100, 100.5, 99.5, 100)      # never reaches 99
    row = h.rows("SELECT state, close_reason FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "entry_canceled"}
    assert h.rows("SELECT COUNT(*) AS n FROM fills")[0]["n"] == 0


class LosesFirstAnswer(SimulatedExchange):
    """The entry reaches the exchange but the answer is lost (HTTP 503 "Unknown error")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.placed = 0

    def place_order(self, request):
        self.placed += 1
        super().place_order(request)
        if self.placed == 1:
            raise OutcomeUnknown("Unknown error, please check your request or try again later.", -1000)
        return self.query_order(request)


def test_trader_unknown_outcome_is_looked_up_not_resent(memory_journal):
    exchange = LosesFirstAnswer(RULES, D(10_000), leverage=10)
    h = Harness(memory_journal, exchange)
    h.trader.on_signal(long_signal())
    assert exchange.placed == 1
    h.candle(100, 100.5, 99.5, 100)
    assert h.rows("SELECT COUNT(*) AS n FROM fills WHERE client_order_id LIKE '%-en1'")[0]["n"] == 1
    assert h.rows("SELECT state FROM positions")[0]["state"] == "OPEN"


def test_trader_close_all_flattens_open_positions(memory_journal):
    h = Harness(memory_journal)
    h.trader.on_signal(long_signal())
    h.candle(100, 100.5, 99.5, 100)
    h.trader.close_all("asked")
    h.exchange.fill_market_orders_at(D("101"), "BTCUSDT", h.clock.now_ms)
    row = h.rows("SELECT state, close_reason, exit_price, realized_pnl FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "asked", "exit_price": "101", "realized_pnl": "50"}
    assert h.rows("SELECT status FROM orders WHERE role = 'stop'")[0]["status"] == "CANCELED"


class NeverAnswers(SimulatedExchange):
    """Every entry times out before reaching the matching engine."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.attempts = 0

    def place_order(self, request):
        self.attempts += 1
        raise OutcomeUnknown("place_order: no answer (ReadTimeout)")


def test_trader_entry_with_no_answer_is_not_sent_late_by_reconcile(memory_journal):
    exchange = NeverAnswers(RULES, D(10_000), leverage=10)
    h = Harness(memory_journal, exchange)
    position = h.trader.on_signal(long_signal())
    assert exchange.attempts == 2                       # the first try and one resend with the same id
    assert position.state.value == "ENTERING"           # fate unknown: nothing is assumed
    h.trader.reconcile()                                # later: the exchange still does not know it
    assert exchange.attempts == 2
    row = h.rows("SELECT state, close_reason FROM positions")[0]
    assert row == {"state": "CLOSED", "close_reason": "entry_rejected"}
    assert h.rows("SELECT detail FROM orders WHERE role = 'entry'")[0]["detail"] == "never reached the exchange"
