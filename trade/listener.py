"""Who hears about a trade as it happens: the trader calls a `TradeListener` at three points.

Live mode hands the trader one that queues phone messages (runtime/notify/notices.py);
replay and tests use `QuietListener`. trade/ defines the interface so that it never imports
runtime/ (tests/test_layers.py). A listener must return at once: it runs on the trader
thread, inside the step that books the event.
"""
from __future__ import annotations

from typing import Protocol

from trade.position import Position


class TradeListener(Protocol):
    def entry_filled(self, position: Position) -> None:
        """The entry order filled completely (once per position)."""

    def closed(self, position: Position) -> None:
        """A position that was entered reached CLOSED; `position.close_reason` says how."""

    def stop_replaced(self, position: Position, why: str) -> None:
        """A held position lost its stop-loss (`why`: the lost order's status) and a new one is being sent."""


class QuietListener:
    """Hears everything, says nothing (replay, tests)."""

    def entry_filled(self, position: Position) -> None:
        pass

    def closed(self, position: Position) -> None:
        pass

    def stop_replaced(self, position: Position, why: str) -> None:
        pass
