"""`TradeNotices`: what the trader's event points call, one method per event, each a message sent.

trade/ cannot import runtime/ (tests/test_layers.py), so the trader is handed an object with
these methods (a no-op one in replay) and calls it with its own `Position`; the wording
stays in `runtime.notify.messages`. Every method only formats and queues: it never waits.
"""
from __future__ import annotations

from trade.position import Position
from runtime.notify import messages


class TradeNotices:
    """Sends the trade events of one bot to `notifier` (anything with `send(text)`)."""

    def __init__(self, notifier) -> None:
        self.notifier = notifier

    def entry_filled(self, position: Position) -> None:
        """The entry order filled completely (once per position)."""
        self.notifier.send(messages.entry_filled_of(position))

    def closed(self, position: Position) -> None:
        """The position reached CLOSED; its `close_reason` picks the words (liquidation and outside closes are loud)."""
        self.notifier.send(messages.position_closed_of(position))

    def stop_replaced(self, position: Position, why: str) -> None:
        """A new stop-loss was sent for a held position that lost its own."""
        self.notifier.send(messages.stop_replaced(position.symbol, position.side.value, position.id, position.stop_price, why))
