"""What a strategy may ask of its own positions besides opening one: cancel its resting entry,
close at market, move the stop. Part of the `Trader` (a mixin on the same thread and books).

Each request is journaled before anything is sent: a transition row whose `detail` carries
the strategy's reason. A request that names a position that is not the strategy's, or
whose state does not allow it, is journaled as a refused row (when the position exists),
logged, and shown to the strategy in `ctx.refusals`; it never raises.

Moving a stop cancels the old stop first and then places the new one. Binance allows one
closePosition STOP_MARKET per position side: a second is refused with -4130 ("an open stop
... with closePosition ... is existing"), so placing the new stop before cancelling the
old one cannot work. The gap is one cancel round-trip; the new stop's INTENT row is
journaled before the cancel, so a crash in the gap is repaired at restart (recovery sends
journaled intents the exchange never saw). If the old stop filled before its cancel, the
new one is never sent.
"""
from __future__ import annotations

import logging
from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from ict.models import CancelEntry, ClosePosition, MoveStop, Side, Signal
from journal.records import TransitionRecord
from trade.models import Order, OrderRole, OrderStatus, OrderType, OrderUpdate
from trade.position import Position
from trade.position_machine import ENTERING, OPEN
from trade.strategy_slot import StrategySlot
from trade.symbol_rules import to_decimal, wire

if TYPE_CHECKING:
    from journal.journal import Journal
    from trade.exchange import Exchange
    from trade.order_desk import OrderDesk
    from trade.snapshot import RefusalLog

log = logging.getLogger(__name__)


class IntentHandling:
    """`on_intent(intent, strategy)` for the Trader; see the module docstring."""

    # given by Trader (declared so a type checker sees them; no values here)
    exchange: Exchange
    journal: Journal
    desk: OrderDesk
    clock: Callable[[], int]
    positions: dict[int, Position]
    orders: dict[str, Order]
    last_prices: dict[str, float]
    refusals: RefusalLog
    _actions: deque[tuple[str, Order]]
    _changes: int

    if TYPE_CHECKING:   # given by Trader
        def on_signal(self, signal: Signal, slot: StrategySlot | None = None) -> Position | None: ...
        def _intend(self, position: Position, role: OrderRole, type_: OrderType, quantity: Decimal | None = None,
                    price: Decimal | None = None, trigger: Decimal | None = None) -> Order: ...
        def _fire(self, position: Position, trigger: str, order: Order | None = None, detail: str | None = None) -> None: ...
        def _start_exit(self, position: Position, trigger: str, detail: str | None) -> None: ...
        def _book(self, update: OrderUpdate) -> None: ...
        def _run_actions(self) -> None: ...
        def _publish(self) -> None: ...

    def on_intent(self, intent, owner: str | StrategySlot) -> None:
        """Act on one intent of the strategy `owner` (its slot, or just its name: any symbol and
        side); a Signal goes to `on_signal`."""
        slot = owner if isinstance(owner, StrategySlot) else None
        strategy = owner.name if isinstance(owner, StrategySlot) else owner
        if isinstance(intent, Signal):
            self.on_signal(intent, slot)
            return
        handlers: dict[type, Callable[[Any, Position], None]] = {
            CancelEntry: self._cancel_entry_intent, ClosePosition: self._close_intent, MoveStop: self._move_stop_intent}
        handler = handlers[type(intent)]
        position = self.positions.get(intent.position_id)
        if position is None or not (slot or StrategySlot(strategy)).owns(position.strategy, position.symbol, position.side):
            whose = ("no position of this bot that is not CLOSED" if position is None
                     else f"a position of {position.strategy} on {position.symbol} {position.side.value}")
            self._refuse_intent(intent, strategy, position, "NOT_YOURS", f"position {intent.position_id} is {whose}",
                                slot.symbol if slot is not None else "")
        else:
            handler(intent, position)
        self._run_actions()
        self._publish()

    def note_price(self, symbol: str, price: float) -> None:
        """The last closed candle's close of `symbol`: a moved stop must stay on its losing side."""
        self.last_prices[symbol] = price  # a float; made a Decimal only when a stop moves

    # ----- the three requests (inside the trader's thread) ------------------------------------------
    def _cancel_entry_intent(self, intent: CancelEntry, position: Position) -> None:
        entry = position.orders.get(OrderRole.ENTRY)
        if not (entry and entry.is_open and entry.status is not OrderStatus.INTENT and position.state in (ENTERING, OPEN)):
            self._refuse_intent(intent, position.strategy, position, "NO_RESTING_ENTRY",
                                f"position {position.id} ({position.state.value}) has no resting entry to cancel")
            return
        with self.journal.transaction():
            self._fire(position, "cancel_entry", entry, f"strategy: {intent.reason}")
            self._actions.append(("cancel", entry))

    def _close_intent(self, intent: ClosePosition, position: Position) -> None:
        if not self.close_position(position, "strategy_close", f"strategy: {intent.reason}"):
            self._refuse_intent(intent, position.strategy, position, "CANNOT_CLOSE",
                                f"position {position.id} is {position.state.value} holding {position.open_quantity}")

    def close_position(self, position: Position, close_reason: str, detail: str) -> bool:
        """Journal and queue the close of `position` at market (or the cancel of its resting entry,
        when nothing is held yet); False when its state allows neither (nothing journaled).
        `close_reason` goes to positions.close_reason, `detail` to the transition row.
        The caller runs the queued actions (`_run_actions`)."""
        entry = position.orders.get(OrderRole.ENTRY)
        resting = entry is not None and entry.is_open and entry.status is not OrderStatus.INTENT
        with self.journal.transaction():
            if position.state is ENTERING and position.filled_entry_quantity == 0 and resting:
                assert entry is not None  # resting: the entry is there and open
                self._fire(position, "cancel_entry", entry, detail)   # nothing held: the entry's end closes it
                self._actions.append(("cancel", entry))
            elif position.state in (ENTERING, OPEN) and position.open_quantity > 0:
                if resting:   # the unfilled rest goes first, so nothing is added while we exit
                    assert entry is not None  # resting: the entry is there and open
                    self._actions.append(("cancel", entry))
                    detail += f"; the rest of entry {entry.client_order_id} is cancelled"
                position.close_reason = close_reason
                self._start_exit(position, "close_requested", detail)
            else:
                return False
        return True

    def _move_stop_intent(self, intent: MoveStop, position: Position) -> None:
        rules = self.exchange.symbol_rules(position.symbol)
        long = position.side is Side.LONG
        # rounded away from the market, as risk rounds the first stop
        new = rules.round_price_down(to_decimal(intent.stop_price)) if long else rules.round_price_up(to_decimal(intent.stop_price))
        old, last_close = position.stop_price, self.last_prices.get(position.symbol)
        last = None if last_close is None else to_decimal(last_close)
        old_order = position.orders.get(OrderRole.STOP)
        problem = None
        if position.state is not OPEN or old_order is None or old_order.status is not OrderStatus.NEW:
            problem = "STOP_NOT_MOVABLE", f"position {position.id} is {position.state.value} without a live stop; a stop moves once OPEN"
        elif (new <= old) if long else (new >= old):
            problem = "STOP_NOT_TOWARD_PROFIT", f"{position.side.value} stop {old} may only move {'up' if long else 'down'}, not to {new}"
        elif last is not None and ((new >= last) if long else (new <= last)):
            problem = "STOP_WRONG_SIDE", f"{position.side.value} stop {new} must stay {'below' if long else 'above'} the last price {last}"
        if problem:
            self._refuse_intent(intent, position.strategy, position, *problem)
            return
        assert old_order is not None  # no problem: the position has a live stop
        with self.journal.transaction():
            position.stop_price = new
            self.journal.record_stop_price(position.id, new)
            moved = self._intend(position, OrderRole.STOP, OrderType.STOP_MARKET, trigger=new)
            self._fire(position, "stop_moved", moved, f"stop {wire(old)} -> {wire(new)}, old stop {old_order.client_order_id} "
                       f"cancelled first (one closePosition stop per side); strategy: {intent.reason}")
            self._actions.append(("cancel", old_order))
            self._actions.append(("send_stop", moved))

    def _send_moved_stop(self, order) -> None:
        """Send a moved stop only while the position is OPEN (its old stop may have filled) and
        once the old stop is gone (its cancel may have failed: then the move is undone)."""
        position = self.positions[order.position_id]
        if not order.is_open:
            return
        old = next((o for o in self.orders.values() if o.position_id == position.id and o.role is OrderRole.STOP
                    and o is not order and o.is_open), None)
        if position.state is OPEN and old is None:
            outcome = self.desk.send(order)
        elif old is not None:
            log.error("%s position %d: stop %s is still live after its cancel; the stop stays at %s",
                      position.symbol, position.id, old.client_order_id, old.request.trigger_price)
            assert old.request.trigger_price is not None  # a stop order always has its trigger
            with self.journal.transaction():
                position.orders[OrderRole.STOP] = old
                position.stop_price = old.request.trigger_price
                self.journal.record_stop_price(position.id, position.stop_price)
            self.refusals.add(position.strategy, position.symbol, self.clock(), position.side, "STOP_NOT_MOVED",
                              f"MoveStop: the old stop {old.client_order_id} could not be cancelled; it stays")
            outcome = OrderUpdate(order.client_order_id, position.symbol, OrderStatus.CANCELED, self.clock(),
                                  reason=f"not sent: the old stop {old.client_order_id} is still live")
        else:
            outcome = OrderUpdate(order.client_order_id, position.symbol, OrderStatus.CANCELED, self.clock(),
                                  reason=f"not sent: position {position.state.value} before the moved stop went out")
        if outcome is not None:
            self._book(outcome)

    def _refuse_intent(self, intent, strategy: str, position: Position | None, code: str, words: str,
                       symbol: str = "") -> None:
        """Journal (when the position exists), log and show the strategy why `intent` is not acted on;
        the refusal is filed for the strategy under `symbol`, else `position`'s."""
        name = type(intent).__name__
        log.warning("%s %s refused for position %d: %s: %s (asked: %s)", strategy, name, intent.position_id, code, words,
                    intent.reason)
        if position is not None:
            self.journal.record_refused_intent(TransitionRecord(
                position.id, position.state.value, position.state.value, "intent_refused", self.clock(), None,
                f"{name} from {strategy} refused, {code}: {words}; asked: {intent.reason}"))
        filed = symbol or (position.symbol if position else "")
        self.refusals.add(strategy, filed, self.clock(), position.side if position else None, code, f"{name}: {words}")
        self._changes += 1

