"""The journal's named reads for recovery and the replay summary, as `journal.records` values.

A mixin of `journal.journal.Journal` (which gives `rows`). Times come back as epoch ms,
decimal text as Decimal, a NULL as None.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from journal.records import FillRecord, JournaledOrder, JournaledPosition, JournaledSignal, PositionResult
from journal.values import decimal_or_none, epoch_ms, epoch_or_none, iso_time


class JournalReads:
    """Reads of the Journal (see the module doc)."""

    if TYPE_CHECKING:   # given by Journal
        def rows(self, sql: str, *params: Any) -> list[dict]: ...

    def unfinished_positions(self) -> list[JournaledPosition]:
        """Positions not CLOSED, oldest first: what a restart must reconcile."""
        return [JournaledPosition(row["id"], row["symbol"], row["side"], row["strategy"], row["state"], Decimal(row["quantity"]),
                                  decimal_or_none(row["entry_price"]), Decimal(row["stop_price"]),
                                  Decimal(row["take_profit_price"]), epoch_ms(row["created_at"]),
                                  epoch_or_none(row["opened_at"]), Decimal(row["realized_pnl"]), Decimal(row["fees"]),
                                  row["close_reason"])
                for row in self.rows("SELECT * FROM positions WHERE state != 'CLOSED' ORDER BY id")]

    def signal_of(self, position_id: int) -> JournaledSignal | None:
        """The accepted signal that opened `position_id`, or None."""
        found = self.rows("SELECT candle_time, basis, expiry_candles, entry_price FROM signals WHERE position_id = ?",
                          position_id)
        if not found:
            return None
        row = found[0]
        return JournaledSignal(epoch_ms(row["candle_time"]), tuple(row["basis"].split(",")) if row["basis"] else (),
                               row["expiry_candles"], decimal_or_none(row["entry_price"]))

    def orders_of(self, position_id: int) -> list[JournaledOrder]:
        """Every order of `position_id` in the order they were recorded (later attempts after earlier ones)."""
        return [order_of_row(row) for row in self.rows(
            "SELECT o.*, p.symbol, p.side AS position_side FROM orders o JOIN positions p ON p.id = o.position_id "
            "WHERE o.position_id = ? ORDER BY o.rowid", position_id)]

    def fills_of(self, position_id: int) -> list[FillRecord]:
        """Every fill of `position_id`, in the order they were booked."""
        return [_fill(row) for row in self.rows(
            "SELECT client_order_id, position_id, at, quantity, price, fee, realized_pnl, trade_id FROM fills "
            "WHERE position_id = ? ORDER BY id",
            position_id)]

    def trade_ids_since(self, epoch_ms: int) -> set[str]:
        """The exchange trade ids of every fill booked at or after `epoch_ms`, any position's."""
        return {row["trade_id"] for row in self.rows("SELECT trade_id FROM fills WHERE trade_id IS NOT NULL AND at >= ?",
                                                     iso_time(epoch_ms))}

    def signal_counts(self) -> tuple[int, int]:
        """(signals journaled, of which refused)."""
        row = self.rows("SELECT COUNT(*) AS n, COALESCE(SUM(accepted = 0), 0) AS refused FROM signals")[0]
        return row["n"], row["refused"]

    def signal_counts_by_symbol(self) -> dict[str, tuple[int, int]]:
        """symbol -> (signals journaled, of which refused)."""
        return {row["symbol"]: (row["n"], row["refused"]) for row in self.rows(
            "SELECT symbol, COUNT(*) AS n, COALESCE(SUM(accepted = 0), 0) AS refused FROM signals GROUP BY symbol")}

    def position_results(self) -> list[PositionResult]:
        """Every position's result, oldest first (see `PositionResult`)."""
        return [PositionResult(row["state"] == "CLOSED", row["opened_at"] is not None, Decimal(row["realized_pnl"]),
                               Decimal(row["fees"]), row["symbol"])
                for row in self.rows("SELECT state, opened_at, realized_pnl, fees, symbol FROM positions")]


def order_of_row(row: dict) -> JournaledOrder:
    """An orders row joined with its position's `symbol` and `position_side` (its side)."""
    return JournaledOrder(row["client_order_id"], row["position_id"], row["symbol"], row["position_side"], row["role"],
                          row["type"], row["side"], decimal_or_none(row["quantity"]), decimal_or_none(row["price"]),
                          decimal_or_none(row["trigger_price"]), row["status"], Decimal(row["filled_quantity"]),
                          decimal_or_none(row["avg_price"]), row["exchange_order_id"], epoch_ms(row["updated_at"]))


def _fill(row: dict) -> FillRecord:
    return FillRecord(row["client_order_id"], row["position_id"], epoch_ms(row["at"]), Decimal(row["quantity"]),
                      Decimal(row["price"]), Decimal(row["fee"]), Decimal(row["realized_pnl"]), row["trade_id"])
