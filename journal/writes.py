"""The journal's named writes: the only place the trader's rows meet table and column names.

A mixin of `journal.journal.Journal` (which gives `insert`, `insert_soon` and `update`).
Each write belongs inside the caller's `Journal.transaction()`; `record_refused_signal` and
`record_refused_intent` announce no action and may wait for the next commit (`insert_soon`).
Values are `journal.records` dataclasses; times in epoch ms, stored as ISO-8601 text.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable

from journal.records import (CloseRecord, FillRecord, OrderRecord, OrderUpdateRecord, PositionRecord, PositionTotals,
                             SignalRecord, TransitionRecord)
from journal.values import iso_time


class JournalWrites:
    """`record_*` methods of the Journal (see the module doc)."""

    if TYPE_CHECKING:   # given by Journal
        def insert(self, table: str, **values: Any) -> int: ...
        def insert_row(self, table: str, columns: tuple[str, ...], values: Iterable[Any]) -> int: ...
        def insert_row_soon(self, table: str, columns: tuple[str, ...], values: Iterable[Any]) -> None: ...
        def update(self, table: str, key_column: str, key: Any, **values: Any) -> None: ...

    def record_signal(self, signal: SignalRecord, position_id: int) -> None:
        """An accepted signal and the position it opened."""
        self.insert_row("signals", ACCEPTED_SIGNAL_COLUMNS, _signal_row(signal, 1, position_id))

    def record_refused_signal(self, signal: SignalRecord, refusal: str) -> None:
        """A refused signal with its refusal ("CODE: words"); written with the next commit in a replay."""
        self.insert_row_soon("signals", REFUSED_SIGNAL_COLUMNS, _signal_row(signal, 0, refusal))

    def record_position(self, position: PositionRecord) -> int:
        """A new position; returns its id."""
        return self.insert("positions", symbol=position.symbol, side=position.side, strategy=position.strategy,
                           state=position.state, quantity=position.quantity, stop_price=position.stop_price,
                           take_profit_price=position.take_profit_price, created_at=iso_time(position.created_at))

    def record_order(self, order: OrderRecord) -> None:
        """An order's intent, before it is sent."""
        self.insert("orders", client_order_id=order.client_order_id, position_id=order.position_id, role=order.role,
                    type=order.type, side=order.side, quantity=order.quantity, price=order.price,
                    trigger_price=order.trigger_price, status=order.status, updated_at=iso_time(order.updated_at))

    def record_order_update(self, update: OrderUpdateRecord) -> None:
        """An order's status and fill totals as the exchange now gives them."""
        self.update("orders", "client_order_id", update.client_order_id, status=update.status,
                    filled_quantity=update.filled_quantity, avg_price=update.avg_price,
                    exchange_order_id=update.exchange_order_id, detail=update.detail, updated_at=iso_time(update.updated_at))

    def record_fill(self, fill: FillRecord) -> None:
        """One fill of an order."""
        self.insert("fills", client_order_id=fill.client_order_id, position_id=fill.position_id, at=iso_time(fill.at),
                    quantity=fill.quantity, price=fill.price, fee=fill.fee, realized_pnl=fill.realized_pnl,
                    trade_id=fill.trade_id)

    def record_totals(self, totals: PositionTotals) -> None:
        """A position's totals after a fill (its `quantity` column becomes the filled entry size)."""
        self.update("positions", "id", totals.position_id, quantity=totals.quantity, entry_price=totals.entry_price,
                    opened_at=iso_time(totals.opened_at) if totals.opened_at is not None else None,
                    realized_pnl=totals.realized_pnl, fees=totals.fees)

    def record_transition(self, transition: TransitionRecord) -> None:
        """One transition row (the position's own state is written by `record_state`)."""
        self.insert_row("transitions", TRANSITION_COLUMNS, _transition_row(transition))

    def record_refused_intent(self, transition: TransitionRecord) -> None:
        """A strategy's request refused (event intent_refused): announces nothing, may wait for the next commit."""
        self.insert_row_soon("transitions", TRANSITION_COLUMNS, _transition_row(transition))

    def record_state(self, position_id: int, state: str, close_reason: str | None) -> None:
        """A position's state, with its close reason (written with the move to CLOSING, so a crash keeps it)."""
        self.update("positions", "id", position_id, state=state, close_reason=close_reason)

    def record_stop_price(self, position_id: int, stop_price: Decimal) -> None:
        """A position's stop price after a strategy moved it (or after a move was undone)."""
        self.update("positions", "id", position_id, stop_price=stop_price)

    def record_close(self, close: CloseRecord) -> None:
        """A position's result as it reaches CLOSED."""
        self.update("positions", "id", close.position_id, closed_at=iso_time(close.closed_at), exit_price=close.exit_price,
                    realized_pnl=close.realized_pnl, fees=close.fees, close_reason=close.close_reason)


# the busiest rows (a replay writes one per signal and per transition) go as lists in this column order
SIGNAL_COLUMNS = ("at", "candle_time", "symbol", "side", "entry_type", "entry_price", "stop_price", "take_profit_price",
                  "strategy", "reason", "basis", "expiry_candles", "accepted")
ACCEPTED_SIGNAL_COLUMNS = SIGNAL_COLUMNS + ("position_id",)
REFUSED_SIGNAL_COLUMNS = SIGNAL_COLUMNS + ("refusal",)
TRANSITION_COLUMNS = ("position_id", "from_state", "to_state", "event", "at", "client_order_id", "detail")


def _signal_row(signal: SignalRecord, accepted: int, last: Any) -> list:
    """The values of SIGNAL_COLUMNS, then `last` (the position id, or the refusal)."""
    return [iso_time(signal.at), iso_time(signal.candle_time), signal.symbol, signal.side, signal.entry_type,
            signal.entry_price, signal.stop_price, signal.take_profit_price, signal.strategy, signal.reason,
            ",".join(signal.basis) or None, signal.expiry_candles, accepted, last]


def _transition_row(transition: TransitionRecord) -> list:
    return [transition.position_id, transition.from_state, transition.to_state, transition.event, iso_time(transition.at),
            transition.client_order_id, transition.detail]
