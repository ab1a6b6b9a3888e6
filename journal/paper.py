"""What paper mode keeps in its journal to rebuild the simulated account after a restart.

Paper positions, orders and fills are journaled like live ones; the simulated wallet is
derived from them: the starting balance (kept in `meta` as `paper_starting_balance`) plus
every fill's realized PnL minus its fee. Deriving it, rather than storing a second copy,
means the balance can never disagree with the fills, even after a crash between two commits.
"""
from __future__ import annotations

from decimal import Decimal

from journal.journal import Journal, epoch_ms
from journal.values import stored
from journal.reads import order_of_row
from journal.records import HeldPosition, JournaledOrder

STARTING_BALANCE_KEY = "paper_starting_balance"


def starting_balance(journal: Journal, configured: Decimal) -> Decimal:
    """The paper account's starting balance in USDT: the journaled one once the journal holds
    positions (a changed setting must not rewrite history), else `configured`, journaled now."""
    kept = journal.meta(STARTING_BALANCE_KEY)
    if kept is not None and journal.holds_positions():
        return Decimal(kept)
    with journal.transaction():
        journal.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (STARTING_BALANCE_KEY, stored(configured)))
    return configured


def fill_totals(journal: Journal) -> tuple[Decimal, Decimal]:
    """(realized PnL before fees, fees) over every fill of the journal, in USDT."""
    realized = fees = Decimal(0)
    for row in journal.rows("SELECT realized_pnl, fee FROM fills"):
        realized += Decimal(row["realized_pnl"])
        fees += Decimal(row["fee"])
    return realized, fees


def held_quantities(journal: Journal) -> list[HeldPosition]:
    """Per unfinished position, oldest first: the base quantities its fills entered and exited."""
    rows = journal.rows(
        "SELECT p.id, p.symbol, p.side, p.entry_price, o.role, f.quantity FROM positions p "
        "LEFT JOIN fills f ON f.position_id = p.id LEFT JOIN orders o ON o.client_order_id = f.client_order_id "
        "WHERE p.state != 'CLOSED' ORDER BY p.id")
    held: dict[int, dict] = {}
    for row in rows:
        entry = held.setdefault(row["id"], {"id": row["id"], "symbol": row["symbol"], "side": row["side"],
                                            "entry_price": Decimal(row["entry_price"] or 0), "entered": Decimal(0),
                                            "exited": Decimal(0)})
        if row["quantity"] is not None:
            entry["entered" if row["role"] == "entry" else "exited"] += Decimal(row["quantity"])
    return [HeldPosition(**entry) for entry in held.values()]


def resting_orders(journal: Journal) -> list[JournaledOrder]:
    """Orders of unfinished positions that the exchange had accepted and not ended (NEW or
    PARTIALLY_FILLED), oldest first."""
    return [order_of_row(row) for row in journal.rows(
        "SELECT o.*, p.symbol, p.side AS position_side FROM orders o JOIN positions p ON p.id = o.position_id "
        "WHERE p.state != 'CLOSED' AND o.status IN ('NEW', 'PARTIALLY_FILLED') ORDER BY o.rowid")]


def last_candle_ms(journal: Journal, symbol: str) -> int | None:
    """Open time (epoch ms) of the last candle of `symbol` the journal shows the simulated exchange
    had seen: its latest fill's candle (paper fills are timed at their candle's open) or its
    latest signal's candle. None when the journal holds neither for `symbol`."""
    row = journal.rows("SELECT MAX(at) AS at FROM (SELECT MAX(f.at) AS at FROM fills f JOIN positions p ON p.id = f.position_id "
                       "WHERE p.symbol = ? UNION ALL SELECT MAX(candle_time) FROM signals WHERE symbol = ?)", symbol, symbol)
    return epoch_ms(row[0]["at"]) if row and row[0]["at"] else None


def highest_exchange_order_id(journal: Journal) -> int:
    """The largest numeric exchange order id journaled (0 when none): the simulated exchange
    numbers its orders after it."""
    row = journal.rows("SELECT MAX(CAST(exchange_order_id AS INTEGER)) AS n FROM orders WHERE exchange_order_id GLOB '[0-9]*'")
    return int(row[0]["n"] or 0)
