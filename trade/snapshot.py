"""What the trader publishes for other threads: an immutable snapshot of its positions and of
each strategy's recent refusals, replaced (never changed) after every item it handles.

The strategy thread (`ctx.positions`, `ctx.refusals`) and the live status line read only
the latest snapshot; the trader's own dictionaries stay on the trader thread. Publishing
is one attribute assignment, atomic in Python, so readers need no lock.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from ict.models import EntryType, Side
from ict.strategies.context import PositionView, RefusalView
from trade.models import OrderRole, OrderStatus, OrderType
from trade.position import Position
from trade.strategy_slot import StrategySlot

RECENT_REFUSALS = 20   # per strategy and symbol, newest last


@dataclass(frozen=True, slots=True)
class PublishedPosition:
    """One position not CLOSED: who owns it, its view for the strategy, and what it holds."""

    strategy: str
    view: PositionView
    open_quantity: Decimal
    has_live_stop: bool = False   # its stop-loss is confirmed on the exchange (NEW or partly filled)
    symbol: str = ""


@dataclass(frozen=True, slots=True)
class TraderSnapshot:
    """Positions not CLOSED (oldest first) and recent refusals per (strategy, symbol) (newest last)."""

    positions: tuple[PublishedPosition, ...] = ()
    refusals: tuple[tuple[tuple[str, str], tuple[RefusalView, ...]], ...] = ()

    def for_strategy(self, name: str, slot: StrategySlot | None = None) -> tuple[tuple[PositionView, ...], tuple[RefusalView, ...]]:
        """(positions, refusals) of strategy `name`, as `Context` wants them; with its `slot`, only the
        positions on the slot's symbol and sides and the refusals on its symbol (the same strategy may
        trade two symbols; a signal on a side the slot does not trade is among the refusals)."""
        if slot is None:
            views = tuple(item.view for item in self.positions if item.strategy == name)
            return views, tuple(r for (strategy, _), group in self.refusals if strategy == name for r in group)
        views = tuple(item.view for item in self.positions if slot.owns(item.strategy, item.symbol, item.view.side))
        refused = [refusals for (strategy, symbol), refusals in self.refusals
                   if strategy == name and symbol in (slot.symbol, "")]
        return views, tuple(r for group in refused for r in group)


EMPTY = TraderSnapshot()


class RefusalLog:
    """Recent refusals per (strategy, symbol), kept on the trader thread."""

    def __init__(self) -> None:
        self._by_strategy: dict[tuple[str, str], deque[RefusalView]] = {}

    def add(self, strategy: str, symbol: str, candle_time: int, side: Side | None, code: str, message: str) -> None:
        recent = self._by_strategy.setdefault((strategy, symbol), deque(maxlen=RECENT_REFUSALS))
        recent.append(RefusalView(candle_time, side, code, message))

    def frozen(self) -> tuple[tuple[tuple[str, str], tuple[RefusalView, ...]], ...]:
        return tuple((owner, tuple(recent)) for owner, recent in self._by_strategy.items())


def build_snapshot(positions: Iterable[Position], refusals: RefusalLog) -> TraderSnapshot:
    return TraderSnapshot(tuple(PublishedPosition(p.strategy, view_of(p), p.open_quantity, _has_live_stop(p), p.symbol) for p in positions),
                          refusals.frozen())


def _has_live_stop(position: Position) -> bool:
    stop = position.orders.get(OrderRole.STOP)
    return stop is not None and stop.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def view_of(position: Position) -> PositionView:
    """The strategy's read-only view of `position` (floats: strategies compute in floats)."""
    entry = position.orders.get(OrderRole.ENTRY)
    limit = entry is not None and entry.request.type is OrderType.LIMIT
    price = position.entry_price
    if price is None and limit:
        assert entry is not None  # limit: the entry is there
        price = entry.request.price
    return PositionView(
        id=position.id, side=position.side, state=position.state.value,
        entry_type=EntryType.LIMIT if limit else EntryType.MARKET,
        entry_price=None if price is None else float(price), stop_price=float(position.stop_price),
        take_profit_price=float(position.take_profit_price), quantity=float(position.requested_quantity),
        filled_quantity=float(position.filled_entry_quantity), age_candles=0, basis=position.basis,
        candle_time=position.candle_time if position.candle_time is not None else position.created_at)
