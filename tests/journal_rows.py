"""Journal rows written as the trader writes them (the journal's named writes), for the tests
of the dashboard's reads and pages. Times epoch ms; prices and quantities decimal text."""
from __future__ import annotations

from decimal import Decimal

from journal.journal import Journal
from journal.records import (CloseRecord, FillRecord, OrderRecord, OrderUpdateRecord, PositionRecord, PositionTotals,
                             SignalRecord)


def signal(at, symbol="BTCUSDT", side="LONG", strategy="A", entry="100", stop="90", target="130", entry_type="MARKET",
           basis=("fvg:812", "choch:799")):
    """A strategy's signal handled at `at`, from the candle opened a minute before."""
    return SignalRecord(at, at - 60_000, symbol, side, entry_type, entry, stop, target, strategy, f"{strategy} says {side}",
                        basis)


def open_position(journal, record, quantity, state="ENTERING"):
    """A position, its accepted signal and its entry order (INTENT); returns (position id, entry order id)."""
    position = journal.record_position(PositionRecord(record.symbol, record.side, record.strategy, state, Decimal(quantity),
                                                      Decimal(record.stop_price), Decimal(record.take_profit_price),
                                                      record.at))
    journal.record_signal(record, position)
    entry_id = f"t-{position}-en1"
    journal.record_order(OrderRecord(entry_id, position, "entry", record.entry_type, "BUY" if record.side == "LONG" else "SELL",
                                     Decimal(quantity), Decimal(record.entry_price) if record.entry_type == "LIMIT" else None,
                                     None, "INTENT", record.at))
    return position, entry_id


def fill_entry(journal, position, entry_id, at, quantity, price, fee="0.1"):
    journal.record_order_update(OrderUpdateRecord(entry_id, "FILLED", Decimal(quantity), Decimal(price), "1", None, at))
    journal.record_fill(FillRecord(entry_id, position, at, Decimal(quantity), Decimal(price), Decimal(fee), Decimal(0), None))
    journal.record_totals(PositionTotals(position, Decimal(quantity), Decimal(price), at, Decimal(0), Decimal(fee)))
    journal.record_order(OrderRecord(f"t-{position}-sl1", position, "stop", "STOP_MARKET", "SELL", None, None,
                                     journal.rows("SELECT stop_price FROM positions WHERE id = ?", position)[0]["stop_price"],
                                     "NEW", at))
    journal.record_state(position, "OPEN", None)


def closed_trade(journal, at, closed, side="LONG", entry="100", stop="90", exit_price="120", quantity="2", fees="1",
           strategy="A", symbol="BTCUSDT", moved_stop=None):
    """A closed trade written as the trader writes one; realized = (exit - entry) x quantity, side-aware."""
    with journal.transaction():
        position, entry_id = open_position(journal, signal(at, symbol, side, strategy, entry, stop), quantity)
        fill_entry(journal, position, entry_id, at, quantity, entry, fee="0")
        if moved_stop is not None:
            journal.record_stop_price(position, Decimal(moved_stop))
            journal.record_order(OrderRecord(f"t-{position}-sl2", position, "stop", "STOP_MARKET", "SELL", None, None,
                                             Decimal(moved_stop), "NEW", at + 1))
        sign = 1 if side == "LONG" else -1
        realized = (Decimal(exit_price) - Decimal(entry)) * Decimal(quantity) * sign
        journal.record_fill(FillRecord(f"t-{position}-sl1", position, closed, Decimal(quantity), Decimal(exit_price),
                                       Decimal(fees), realized, None))
        journal.record_state(position, "CLOSED", "take_profit")
        journal.record_close(CloseRecord(position, closed, Decimal(exit_price), realized, Decimal(fees), "take_profit"))
    return position


def open_book(journal: Journal, now: int) -> tuple[int, int, int]:
    """An OPEN long (2 at 100, stop 90), an OPEN short with its stop moved past the entry (1 at 50,
    stop 45), a resting LIMIT long (3 at 80, stop 78), and a MARKET entry sent but not yet answered."""
    with journal.transaction():
        long, entry = open_position(journal, signal(now - 9000, entry="100.5", stop="90"), "2")
        fill_entry(journal, long, entry, now - 9000, "2", "100")
        short, entry = open_position(journal, signal(now - 8000, "ETHUSDT", "SHORT", entry="50", stop="55", target="40"), "1")
        fill_entry(journal, short, entry, now - 8000, "1", "50")
        journal.record_stop_price(short, Decimal("45"))
        resting, entry = open_position(journal, signal(now - 7000, entry="80", stop="78", entry_type="LIMIT", strategy="B"), "3")
        journal.record_order_update(OrderUpdateRecord(entry, "NEW", Decimal(0), None, "7", None, now - 7000))
        open_position(journal, signal(now - 6000, entry="100", stop="99"), "4")
    return long, short, resting
