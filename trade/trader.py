"""The Trader: the one stage that turns signals into orders and order events into positions.

It is the only caller of the exchange's order endpoints and the only writer of the
journal, and everything it owns is touched from one thread, so nothing here locks.
Each step runs in two halves:
1. book-keeping inside one journal transaction: the state transition, the order
   intent with the client id it will use, fills, PnL; then the commit;
2. the actions those rows announce (send, cancel), whose answers are booked the same way.
So the journal always knows an order before the exchange can.

Two helpers watch over its positions: `trade.account_truth` squares them with the
account (closes by hand, liquidations, ADL, reduce-only refusals) and
`trade.protection_guard` keeps every held position protected within seconds and
bounds every retry.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from decimal import Decimal
from typing import Callable

from ict.models import EntryType, Signal
from journal.journal import Journal
from journal.records import (CloseRecord, FillRecord, OrderRecord, OrderUpdateRecord, PositionRecord, PositionTotals,
                             SignalRecord, TransitionRecord)
from trade.account_truth import AccountTruth, is_reduce_only_refusal
from trade.exchange import Exchange
from trade.fills import book_fill, new_fills, quantity_of
from trade.intents import IntentHandling
from trade.manual_control import ManualControl
from trade.order_desk import OrderDesk
from trade.protection_guard import ProtectionGuard
from trade.models import ZERO, Order, OrderRole, OrderStatus, OrderType, OrderUpdate, TradeFill
from trade.position import Position, client_order_id, order_request
from trade.position_machine import CLOSED, CLOSING, ENTERING, IDLE, OPEN, new_machine
from trade.risk import Refusal, RiskSettings, open_risk, size_entry
from trade.strategy_slot import StrategySlot
from trade.listener import QuietListener, TradeListener
from trade.snapshot import EMPTY, RefusalLog, TraderSnapshot, build_snapshot

log = logging.getLogger(__name__)

NEVER = 2 ** 63   # a time (epoch ms) no tick reaches
CLOSE_TRIGGERS = {OrderRole.STOP: ("stop_filled", "stop_loss"), OrderRole.TAKE_PROFIT: ("take_profit_filled", "take_profit"),
                  OrderRole.EXIT: ("exit_filled", "exit"), OrderRole.OUTSIDE: ("closed_outside", "closed_outside_bot")}


class Trader(IntentHandling, ManualControl):
    """Signals in, orders out. Build one per run; call `on_signal` (or `on_intent`),
    `on_order_update`, `on_tick`. After each, `snapshot` holds what other threads may read.

    - `clock`: returns now in epoch ms (wall time live, candle time in replay).
    - `limit_entry_timeout_ms`: a LIMIT entry with no fill after this long is cancelled.
    - `interval_ms`: the strategy's candle length, for a signal's own `expiry_candles`.
    - `sleep`: how to wait between look-ups of an order whose outcome is unknown.
    - `reconcile_every_ms`: live safety net: look up open orders this often even when the
      user-data stream seems fine (None in replay).
    - `publish_each_step`: replace `snapshot` after every input that changed something, for
      readers on other threads (live). False (replay, whose one reader, the strategy, runs on
      this thread and mostly never looks): the snapshot is built only when `published()` asks.
    - `slots`: where each strategy trades (symbol, sides, interval, LIMIT timeout), for positions
      restored from the journal; intents come with their own slot (`on_intent`).
    """

    def __init__(self, exchange: Exchange, journal: Journal, risk: RiskSettings, clock: Callable[[], int],
                 limit_entry_timeout_ms: int | None = None, sleep: Callable[[float], None] = time.sleep,
                 reconcile_every_ms: int | None = None, interval_ms: int | None = None,
                 listener: TradeListener | None = None, publish_each_step: bool = True,
                 slots: tuple[StrategySlot, ...] = ()) -> None:
        self.exchange = exchange
        self.listener = listener or QuietListener()
        self.journal = journal
        self.risk = risk
        self.clock = clock
        self.limit_entry_timeout_ms = limit_entry_timeout_ms
        self.desk = OrderDesk(exchange, clock, sleep)
        self.reconcile_every_ms = reconcile_every_ms
        self._reconciled_at = clock()
        self.machine = new_machine()
        self.positions: dict[int, Position] = {}      # every position not CLOSED
        self.orders: dict[str, Order] = {}            # our orders by client id, while their position lives
        self._actions: deque[tuple[str, Order]] = deque()
        self._cancels_sent: set[str] = set()
        self._rejections: dict[str, str | None] = {}   # client id -> refusal reason, until its "rejected" action runs
        self.truth = AccountTruth(self)
        self.guard = ProtectionGuard(self, risk.protect_within_seconds * 1000)
        self.interval_ms = interval_ms
        self.slots = slots
        self.last_prices: dict[str, float] = {}   # last close per symbol (note_price)
        self.refusals = RefusalLog()
        self.snapshot: TraderSnapshot = EMPTY   # replaced, never changed: safe to read from any thread
        self._changes = 0     # bumped whenever the books change (positions, orders, fills, refusals)
        self._published = 0   # `_changes` as of the snapshot
        self.publish_each_step = publish_each_step
        self._quiet: tuple[int, int] = (-1, 0)   # (`_changes`, until when) of the last tick that found nothing to do

    # ----- stage inputs ------------------------------------------------------------------------
    def on_signal(self, signal: Signal, slot: StrategySlot | None = None) -> Position | None:
        """Size and open a position for `signal` of the strategy in `slot` (None: any symbol and
        side, the trader's interval and timeout), or journal why not."""
        rules = self.exchange.symbol_rules(signal.symbol)
        open_sides = [(p.symbol, p.side) for p in self.positions.values()]
        sized = self.paused_refusal() or size_entry(signal, rules, self.risk, self._balances, open_sides,
                                                    self.exchange.hedge_mode, sides=None if slot is None else slot.sides,
                                                    open_risk=self._open_risk)
        now = self.clock()
        record = SignalRecord(now, signal.candle_time, signal.symbol, signal.side.value, signal.entry_type.value,
                              str(signal.entry_price), str(signal.stop_price), str(signal.take_profit_price), signal.strategy,
                              signal.reason, tuple(signal.basis), signal.expiry_candles)
        if isinstance(sized, Refusal):
            self.journal.record_refused_signal(record, str(sized))
            log.debug("signal refused %s %s %s: %s", signal.symbol, signal.side.value, signal.strategy, sized)
            self.refusals.add(signal.strategy, signal.symbol, signal.candle_time, signal.side, sized.code, sized.words)
            self._changes += 1
            self._publish()
            return None
        with self.journal.transaction():
            position_id = self.journal.record_position(PositionRecord(
                signal.symbol, signal.side.value, signal.strategy, IDLE.value, sized.quantity, sized.stop_price,
                sized.take_profit_price, now))
            self.journal.record_signal(record, position_id)
            position = Position(position_id, signal.symbol, signal.side, signal.strategy, sized.quantity,
                                sized.stop_price, sized.take_profit_price, created_at=now, candle_time=signal.candle_time,
                                basis=tuple(signal.basis), entry_timeout_ms=self.entry_timeout(signal.expiry_candles, slot),
                                planned_entry=sized.entry_price)
            self.machine.add_model(position, initial=IDLE)
            self.positions[position_id] = position
            limit = signal.entry_type is EntryType.LIMIT
            entry = self._intend(position, OrderRole.ENTRY, OrderType.LIMIT if limit else OrderType.MARKET,
                                 quantity=sized.quantity, price=sized.entry_price if limit else None)
            self._fire(position, "submit_entry", entry, f"{signal.reason}; risk {sized.risk_amount:.2f} USDT")
            self._actions.append(("send", entry))
        log.info("signal accepted %s %s qty %s entry %s stop %s target %s (position %d)", signal.symbol, signal.side.value,
                 sized.quantity, sized.entry_price, sized.stop_price, sized.take_profit_price, position_id)
        self._run_actions()
        self._publish()
        return position

    def _balances(self) -> tuple[Decimal, Decimal]:
        return self.exchange.wallet_balance(), self.exchange.available_balance()

    def _open_risk(self) -> Decimal:
        return sum((open_risk(position) for position in self.positions.values()), ZERO)

    def entry_timeout(self, expiry_candles: int | None, slot: StrategySlot | None) -> int | None:
        """A new position's LIMIT entry timeout in ms: the signal's own `expiry_candles` of its
        strategy's interval, else its strategy's timeout; None: the trader's default."""
        interval = slot.interval_ms if slot is not None and slot.interval_ms else self.interval_ms
        if expiry_candles and interval:
            return expiry_candles * interval
        return None if slot is None else slot.limit_entry_timeout_ms

    def slot_of(self, position: Position) -> StrategySlot | None:
        """The slot of the strategy that opened `position`, among `slots` (None when it is not there)."""
        return next((slot for slot in self.slots if slot.owns(position.strategy, position.symbol, position.side)), None)

    def on_order_update(self, update: OrderUpdate) -> None:
        """Book an exchange event about one of our orders (others are ignored)."""
        self._book(update)
        self._run_actions()
        self._publish()

    def on_account_update(self, symbol: str, amounts: dict[str, Decimal]) -> None:
        """The account's position on `symbol` changed (ACCOUNT_UPDATE): `amounts` maps a side
        (LONG/SHORT) to its size now (≥ 0). Still less than the journal holds a second later, once
        our own order events had their chance → `AccountTruth.check` (from `on_tick`)."""
        self.truth.on_account_update(symbol, amounts, self.clock())

    def on_tick(self, now: int | None = None) -> None:
        """Housekeeping: the protection guard; cancel LIMIT entries that waited too long; reconcile now and then (live).

        A tick that found nothing to do leaves the time of the next thing due (a reconcile, a
        LIMIT entry's timeout); until then, and while the books and the account reports stay
        as they were, a tick has nothing to do either and returns at once (a replay ticks at
        every candle a position is open)."""
        self.exchange.on_tick()
        if not self.positions:
            self._publish()
            return
        now = self.clock() if now is None else now
        changes, until = self._quiet
        if changes == self._changes and now < until and not self.truth.reported and not self.guard.watched:
            return
        if self.reconcile_every_ms is not None and now - self._reconciled_at >= self.reconcile_every_ms:
            self._reconciled_at = now
            self.reconcile()
        self.truth.settle(now)
        attention = self.guard.check(now)
        due = self._reconciled_at + self.reconcile_every_ms if self.reconcile_every_ms is not None else NEVER
        for position in list(self.positions.values()):
            timeout = position.entry_timeout_ms or self.limit_entry_timeout_ms
            if timeout is None:
                continue
            entry = position.orders.get(OrderRole.ENTRY)
            if (entry and entry.is_open and entry.status is not OrderStatus.INTENT and entry.request.type is OrderType.LIMIT
                    and position.state in (ENTERING, OPEN)):
                if now - position.created_at < timeout:
                    due = min(due, position.created_at + timeout)
                    continue
                with self.journal.transaction():
                    self._fire(position, "cancel_entry", entry, "limit entry timed out")
                    self._actions.append(("cancel", entry))
        acted = bool(self._actions)
        self._run_actions()
        self._publish()
        quiet = not (attention or acted or self.truth.reported)
        self._quiet = (self._changes, due) if quiet else (-1, 0)

    def close_all(self, reason: str) -> None:
        """Flatten every open position at market (end of a replay, or asked by the user)."""
        for position in list(self.positions.values()):
            entry = position.orders.get(OrderRole.ENTRY)
            with self.journal.transaction():
                if position.state is OPEN:
                    position.close_reason = position.close_reason or reason
                    self._start_exit(position, "exit_requested", reason)
                elif position.state is ENTERING and position.filled_entry_quantity == 0 and entry and entry.is_open:
                    self._fire(position, "cancel_entry", entry, reason)
                    self._actions.append(("cancel", entry))
        self._run_actions()
        self._publish()

    def adopt(self, position: Position, state) -> None:
        """Track a position restored from the journal, in its journaled state (no callbacks)."""
        self.machine.add_model(position, initial=state)
        self.positions[position.id] = position
        for order in position.orders.values():
            self.orders[order.client_order_id] = order
        self._changes += 1

    def reconcile(self) -> None:
        """Ask the exchange about every unfinished order and book what it says.

        Run at start (after `adopt`) and whenever the user-data stream may have missed
        events. An INTENT the exchange does not know was never sent: it goes now, with
        the same client id. A live order the exchange does not know is gone."""
        for position in list(self.positions.values()):
            if position.state is IDLE:
                with self.journal.transaction():
                    position.close_reason = "abandoned_before_entry"
                    self._finish(position, "abandon", "found IDLE at start: no order had been sent")
                continue
            for order in position.open_orders():
                found = self.desk.look_up(order, attempts=1)
                if found is None and order.status is OrderStatus.INTENT:
                    if order.role is OrderRole.ENTRY:
                        # a signal's moment has passed: never enter late; the position ends unfilled
                        found = OrderUpdate(order.client_order_id, position.symbol, OrderStatus.REJECTED, self.clock(),
                                            reason="never reached the exchange")
                    else:
                        log.warning("%s order %s was journaled but never reached the exchange: sending it now",
                                    position.symbol, order.client_order_id)
                        self._actions.append(("send", order))
                        continue
                self._book(found or OrderUpdate(order.client_order_id, position.symbol, OrderStatus.CANCELED, self.clock(),
                                                reason="unknown to the exchange"))
            if position.id in self.positions:
                with self.journal.transaction():
                    if position.state is ENTERING and position.open_quantity > 0 and OrderRole.STOP not in position.orders:
                        self._protect(position)
                    elif position.state is CLOSING:
                        self._settle(position)
        self.guard.reset()
        for symbol in sorted({p.symbol for p in self.positions.values()}):
            self.truth.check(symbol, "reconcile")
        self._run_actions()
        self._publish()

    # ----- hooks for the account check and the protection guard (trade.account_truth, trade.protection_guard) -----
    def look_up_open_orders(self, position: Position) -> None:
        """Ask the exchange about every sent, unfinished order of `position` and book the answers."""
        for order in position.open_orders():
            if order.status is not OrderStatus.INTENT and position.id in self.positions:
                found = self.desk.look_up(order, attempts=1)
                if found is not None:
                    self._book(found)

    def intend_outside(self, position: Position, quantity: Decimal) -> Order:
        """The journal row that carries fills of a close made outside the bot (never sent)."""
        return self._intend(position, OrderRole.OUTSIDE, OrderType.MARKET, quantity=quantity)

    def book(self, update: OrderUpdate) -> None:
        self._book(update)

    def settle_again(self, position: Position) -> None:
        """The guard's turn: cancels that did not land go again, what is left is flattened."""
        self._cancels_sent -= {o.client_order_id for o in position.orders.values()}
        with self.journal.transaction():
            self._settle(position)

    def close_at_market(self, position: Position, reason: str, detail: str) -> None:
        """Flatten a held position that cannot be protected (ENTERING or OPEN → CLOSING)."""
        with self.journal.transaction():
            position.close_reason = reason
            self._start_exit(position, "protection_failed", detail)

    def resend_unknown(self, order: Order) -> None:
        """An order whose placement has no known outcome: look it up by client id, else send it again with the same id."""
        found = self.desk.look_up(order, attempts=1)
        if found is not None:
            self._book(found)
        else:
            self._actions.append(("send", order))

    def protect_again(self, position: Position, role: OrderRole, lost: Order | None) -> None:
        """Place `role` again for a held position that lost it, once the account confirms the position."""
        self.truth.check(position.symbol, f"{role.value} missing")
        if position.id not in self.positions or position.state not in (ENTERING, OPEN) or not self.guard.allowed(position, role):
            return
        log.warning("%s position %d lost its %s (%s): placing it again", position.symbol, position.id, role.value,
                    lost.status.value if lost else "never placed")
        with self.journal.transaction():
            again = self._intend_protective(position, role)
            self._fire(position, "protection_replaced", again)
        self._actions.append(("send", again))
        if role is OrderRole.STOP:
            self.listener.stop_replaced(position, lost.status.value if lost else "never placed")

    # ----- book-keeping (inside a journal transaction) --------------------------------------------
    def _intend(self, position: Position, role: OrderRole, type_: OrderType, quantity: Decimal | None = None,
                price: Decimal | None = None, trigger: Decimal | None = None) -> Order:
        """Create an order and its INTENT row; the caller's transaction commits it before sending."""
        client_id = client_order_id(self.journal.id_prefix, position.id, role, position.next_attempt(role))
        request = order_request(position, client_id, role, type_, self.exchange.hedge_mode, quantity, price, trigger)
        order = Order(request, role, position.id)
        position.orders[role] = order
        self._changes += 1
        self.orders[request.client_order_id] = order
        self.journal.record_order(OrderRecord(client_id, position.id, role.value, type_.value, request.side.value,
                                              request.quantity, price, trigger, OrderStatus.INTENT.value, self.clock()))
        return order

    def _fire(self, position: Position, trigger: str, order: Order | None = None, detail: str | None = None) -> None:
        """Move the machine (MachineError if the table forbids it), then journal the move."""
        source = position.state.value
        position.trigger(trigger)
        self._changes += 1
        target = position.state.value
        client_id = order.client_order_id if order else None
        self.journal.record_transition(TransitionRecord(position.id, source, target, trigger, self.clock(), client_id, detail))
        # the close reason goes in with the move to CLOSING: a crash right after must not lose it
        self.journal.record_state(position.id, target, position.close_reason)
        log.debug("%s position %d %s -> %s on %s %s", position.symbol, position.id, source, target, trigger, client_id or "")

    def _book(self, update: OrderUpdate) -> None:
        order = self.orders.get(update.client_order_id)
        if order is None:
            log.debug("update for an order that is not ours or no longer tracked: %s", update.client_order_id)
            return
        position = self.positions.get(order.position_id)
        if position is None:
            if update.cumulative_quantity > order.filled_quantity:
                log.error("%s order %s of closed position %d reports a fill of %s: check the account",
                          update.symbol, update.client_order_id, order.position_id, update.cumulative_quantity)
            return
        with self.journal.transaction():
            fills = new_fills(order, update)
            for fill in fills:
                self._book_fill(position, order, fill)
            self.guard.count(position, order, update)
            if not (order.status.is_final and not update.status.is_final):  # a late, stale answer never reopens an order
                order.status = update.status
                self._changes += 1  # the snapshot tells whether each position has a live stop
            order.exchange_order_id = update.exchange_order_id or order.exchange_order_id
            self.journal.record_order_update(OrderUpdateRecord(
                order.client_order_id, order.status.value, order.filled_quantity, order.average_price,
                order.exchange_order_id, update.reason, update.at or self.clock()))
            self._advance(position, order, update, quantity_of(fills))

    def _book_fill(self, position: Position, order: Order, fill: TradeFill) -> None:
        at = fill.at or self.clock()
        book_fill(position, order, fill, at)
        self._changes += 1
        self.journal.record_fill(FillRecord(order.client_order_id, position.id, at, fill.quantity, fill.price, fill.fee,
                                            fill.realized_pnl, fill.trade_id or None))
        self.journal.record_totals(PositionTotals(position.id, position.filled_entry_quantity, position.entry_price,
                                                  position.opened_at, position.realized_pnl, position.fees))
        log.info("%s position %d fill %s %s @ %s fee %s (%s)", position.symbol, position.id, order.role.value, fill.quantity,
                 fill.price, fill.fee, order.client_order_id)

    def _advance(self, position: Position, order: Order, update: OrderUpdate, filled: Decimal) -> None:
        """Drive the position machine from one booked update."""
        role, state = order.role, position.state
        if role is OrderRole.ENTRY:
            if filled > 0 and state in (ENTERING, OPEN, CLOSING):
                self._fire(position, "entry_filled" if order.status is OrderStatus.FILLED else "entry_partially_filled", order)
                if order.status is OrderStatus.FILLED:
                    self.listener.entry_filled(position)
                if state is ENTERING and OrderRole.STOP not in position.orders:
                    self._protect(position)
            elif order.status.is_final and position.filled_entry_quantity == 0 and state is ENTERING:
                position.close_reason = f"entry_{order.status.value.lower()}"
                self._finish(position, "entry_failed", update.reason)
        elif filled > 0:
            trigger, reason = CLOSE_TRIGGERS[role]
            position.close_reason = position.close_reason or reason
            self._fire(position, trigger, order)
        elif update.status is OrderStatus.REJECTED and is_reduce_only_refusal(update.reason):
            self._actions.append(("refused", order))  # nothing (or less) to reduce: read the account, never resend blindly
            return
        elif update.status is OrderStatus.REJECTED and role is not OrderRole.EXIT and state in (ENTERING, OPEN):
            if order.exchange_order_id and any(o is not order and o.status is not OrderStatus.INTENT for o in position.open_orders()):
                # accepted earlier, rejected when it triggered: on an account its target had already flattened it
                # is REJECTED too (over REST without a reason), so the placed sibling is asked first, after the commit
                self._rejections[order.client_order_id] = update.reason
                self._actions.append(("rejected", order))
                return
            self._close_refused(position, order, update.reason)   # refused at placement: the exit goes in this commit
        elif (state is ENTERING and self._protected(position)):
            self._fire(position, "protected", order)
        elif (state in (ENTERING, OPEN) and role is not OrderRole.EXIT and position.orders.get(role) is order
              and update.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED)):
            # Binance expires a closePosition order once the position is flat, and that event can
            # come before the sibling's fill: ask about the sibling before placing anything again
            self._actions.append(("recheck", order))
        if position.state is CLOSING:
            self._settle(position)

    def _protected(self, position: Position) -> bool:
        stop, target = position.orders.get(OrderRole.STOP), position.orders.get(OrderRole.TAKE_PROFIT)
        return bool(stop and target and stop.status is OrderStatus.NEW and target.status is OrderStatus.NEW and position.open_quantity > 0)

    def _protect(self, position: Position) -> None:
        stop = self._intend_protective(position, OrderRole.STOP)
        target = self._intend_protective(position, OrderRole.TAKE_PROFIT)
        self.journal.record_transition(TransitionRecord(
            position.id, position.state.value, position.state.value, "place_protection", self.clock(), stop.client_order_id,
            f"stop {position.stop_price} ({stop.client_order_id}), take-profit {position.take_profit_price} ({target.client_order_id})"))
        self._actions.extend((("send", stop), ("send", target)))

    def _intend_protective(self, position: Position, role: OrderRole) -> Order:
        if role is OrderRole.STOP:
            return self._intend(position, role, OrderType.STOP_MARKET, trigger=position.stop_price)
        return self._intend(position, role, OrderType.TAKE_PROFIT_MARKET, trigger=position.take_profit_price)

    def _start_exit(self, position: Position, trigger: str, detail: str | None) -> None:
        if self.truth.squaring or not self.guard.allowed(position, OrderRole.EXIT):
            return  # the account is being read first / refused too often: the guard looks again
        exit_order = self._intend(position, OrderRole.EXIT, OrderType.MARKET, quantity=position.open_quantity)
        self._fire(position, trigger, exit_order, detail)
        self._actions.append(("send", exit_order))

    def _settle(self, position: Position) -> None:
        """In CLOSING: cancel what is left once flat, flatten what is left once nothing works on it."""
        still_open = [o for o in position.open_orders() if o.client_order_id not in self._cancelling()]
        if position.open_quantity <= 0:
            for order in still_open:
                self._actions.append(("cancel", order))
            if not position.open_orders():
                self._finish(position)
        elif any(o.role is OrderRole.EXIT or o.status is OrderStatus.PARTIALLY_FILLED for o in position.open_orders()):
            return  # something is still closing it (an untriggered sibling does not count)
        elif (position.close_reason == "take_profit" and self.guard.has_live_stop(position)
              and self.guard.allowed(position, OrderRole.TAKE_PROFIT)):
            # the target filled in part and its rest expired: the stop still guards the rest, a new target joins it
            position.close_reason = None
            target = self._intend_protective(position, OrderRole.TAKE_PROFIT)
            self._fire(position, "protection_restored", target, f"{position.open_quantity} left after a partial take-profit")
            self._actions.append(("send", target))
        else:  # e.g. a stop that filled in part and expired: the rest goes at once
            self._start_exit(position, "exit_requested", f"{position.open_quantity} left after the close")

    def _cancelling(self) -> set[str]:
        """Orders with a cancel queued, or sent and not yet confirmed (only the guard sends those again)."""
        return {order.client_order_id for kind, order in self._actions if kind == "cancel"} | self._cancels_sent

    def _finish(self, position: Position, trigger: str = "flat", detail: str | None = None) -> None:
        """The last transition: record the result and stop tracking the position."""
        if position.close_reason is None:  # e.g. a journal written before the reason went in with CLOSING
            filled = [CLOSE_TRIGGERS[o.role][1] for o in position.orders.values() if o.role in CLOSE_TRIGGERS and o.filled_quantity > 0]
            position.close_reason = filled[0] if filled else "closed"
        self._fire(position, trigger, detail=detail)
        self.journal.record_close(CloseRecord(position.id, self.clock(), position.exit_price, position.realized_pnl,
                                              position.fees, position.close_reason))
        log.info("%s position %d CLOSED %s: pnl %s fees %s", position.symbol, position.id, position.close_reason,
                 position.realized_pnl, position.fees)
        if position.filled_entry_quantity > 0:   # an entry that never filled was no trade: nothing to tell
            self.listener.closed(position)
        del self.positions[position.id]
        for client_order_id in [cid for cid, order in self.orders.items() if order.position_id == position.id]:
            del self.orders[client_order_id]  # earlier attempts too, not only the ones still in position.orders
            self._cancels_sent.discard(client_order_id)
        self.machine.remove_model(position)

    # ----- actions (after the commit) ------------------------------------------------------------
    def _run_actions(self) -> None:
        stop_unknown: set[int] = set()   # positions whose stop placement got no answer in this round
        while self._actions:
            kind, order = self._actions.popleft()
            if order.position_id not in self.positions:
                continue
            if kind == "send" and order.role is OrderRole.TAKE_PROFIT and order.position_id in stop_unknown:
                continue  # left INTENT: the guard sends it once the stop is live, the stop's retries go first
            if kind == "recheck":
                self._recheck_protection(order)
                continue
            if kind == "rejected":
                self._after_rejection(order, self._rejections.pop(order.client_order_id, None))
                continue
            if kind == "refused":
                self.truth.after_refusal(order)
                continue
            if kind == "send_stop":
                self._send_moved_stop(order)
                continue
            if not order.is_open:
                continue
            if kind == "cancel":
                self._cancels_sent.add(order.client_order_id)
            outcome = self.desk.send(order) if kind == "send" else self.desk.cancel(order)
            if outcome is not None:
                self._book(outcome)
            elif kind == "send" and order.role is OrderRole.STOP:
                stop_unknown.add(order.position_id)

    def _publish(self) -> None:
        """Replace the snapshot when something changed since the last one (unless only `published()` reads it)."""
        if self.publish_each_step and self._changes != self._published:
            self._published = self._changes
            self.snapshot = build_snapshot(self.positions.values(), self.refusals)

    def published(self) -> TraderSnapshot:
        """The snapshot as of now, built first when stale. Only on the trader's own thread."""
        if self._changes != self._published:
            self._published = self._changes
            self.snapshot = build_snapshot(self.positions.values(), self.refusals)
        return self.snapshot

    def _look_up_siblings(self, position: Position) -> None:
        """Book the exchange's word on every placed open order of `position` (a fill may be unheard of)."""
        for sibling in position.open_orders():
            if sibling.status is not OrderStatus.INTENT:
                found = self.desk.look_up(sibling, attempts=1)
                if found is not None:
                    self._book(found)

    def _after_rejection(self, refused: Order, reason: str | None) -> None:
        """A stop or target refused (at placement, or when it triggered): unless a sibling has closed the
        position meanwhile, close what is held at market."""
        position = self.positions[refused.position_id]
        self._look_up_siblings(position)
        if position.id not in self.positions or position.state not in (ENTERING, OPEN) or position.orders.get(refused.role) is not refused:
            return
        with self.journal.transaction():
            self._close_refused(position, refused, reason)

    def _close_refused(self, position: Position, refused: Order, reason: str | None) -> None:
        log.error("%s position %d %s refused (%s): closing at market", position.symbol, position.id, refused.role.value, reason)
        # a target already passed (-2021) is a take-profit taken at market; anything else a failed protection
        position.close_reason = "take_profit" if refused.role is OrderRole.TAKE_PROFIT and (reason or "").startswith("-2021") \
            else "protection_refused"
        self._start_exit(position, "protection_failed", reason)

    def _recheck_protection(self, lost: Order) -> None:
        """A stop or target ended without a fill: learn whether the position still needs it. The lost
        order is asked first: its fill may come in an event behind its expiry (events out of order)."""
        position = self.positions[lost.position_id]
        found = self.desk.look_up(lost, attempts=1)
        if found is not None:
            self._book(found)
        if position.id not in self.positions:
            return
        self._look_up_siblings(position)
        if position.id in self.positions and position.state in (ENTERING, OPEN) and position.orders.get(lost.role) is lost:
            self.protect_again(position, lost.role, lost)

