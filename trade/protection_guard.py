"""The protection guard: every held position has a live stop within seconds, every flat one
has no order of ours left, and no order role is retried without end.

The trader calls `check(now)` about once a second (its tick). While anything needs
attention the guard acts every `CHECK_EVERY_MS`, not only at the 5-minute reconcile:

- a position held without a live stop (its placement got a 5xx, a timeout, an unknown
  outcome, or the stop vanished): the stop is looked up by its client id and sent again
  with the same id; if it still has no live stop `protect_within_ms` after its entry
  filled (or after it lost a confirmed stop), it is closed at market (`close_reason`
  `unprotected`). The time the trader spent retrying the first placement counts;
- a target whose placement is unknown is looked up and sent again the same way, once
  the stop is live (a target resend would only delay the stop's);
- a flat position in CLOSING whose stop or target is still open: the cancel goes again
  (an earlier one failed) until the order is gone; a market exit that got no answer is
  looked up and sent again with the same id;
- a position the account does not explain (`watch`) is squared with the account again.

Retries are bounded: an order role refused `MAX_REFUSALS` times in a row, the same way,
is not sent again (`allowed` is False); the guard logs one ERROR naming the position and
what to check, and keeps re-examining the position against the account. A reconcile
(every 5 minutes, or after a stream reconnect) allows one more round.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from trade.models import Order, OrderRole, OrderStatus, OrderUpdate
from trade.position import Position
from trade.position_machine import CLOSING, ENTERING, OPEN

if TYPE_CHECKING:
    from trade.trader import Trader

log = logging.getLogger(__name__)
CHECK_EVERY_MS = 2_000
MAX_REFUSALS = 3
LIVE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class ProtectionGuard:
    """See the module doc. `protect_within_ms`: the longest a held position may stay without a live stop."""

    def __init__(self, trader: "Trader", protect_within_ms: int) -> None:
        self.trader = trader
        self.protect_within_ms = protect_within_ms
        self.bare_since: dict[int, int] = {}                        # position id -> when first seen without a stop
        self.watched: set[int] = set()                              # positions to square with the account again
        self.refusals: dict[tuple[int, OrderRole], tuple[str, int]] = {}   # (position, role) -> (reason code, times)
        self._checked_at: int | None = None
        self.started_at = trader.clock()   # a position recovered at start is given the full time from here

    # ----- retry bounds -------------------------------------------------------------------------
    def count(self, position: Position, order: Order, update: OrderUpdate) -> None:
        """Count a refusal of `order`'s role (same code in a row); any other answer resets it."""
        key = (position.id, order.role)
        if update.status is not OrderStatus.REJECTED:
            self.refusals.pop(key, None)
            return
        code = (update.reason or "").split(" ", 1)[0]
        last, times = self.refusals.get(key, ("", 0))
        times = times + 1 if last == code else 1
        self.refusals[key] = (code, times)
        if times == MAX_REFUSALS:
            log.error("%s position %d: its %s order was refused %d times in a row (%s); the bot stops sending it. Check the "
                      "position and the open orders of %s on Binance (still held? margin? reduce-only conflicts?); the bot "
                      "re-checks the account every few seconds", position.symbol, position.id, order.role.value, times,
                      update.reason, position.symbol)
            self.watched.add(position.id)

    def allowed(self, position: Position, role: OrderRole) -> bool:
        return self.refusals.get((position.id, role), ("", 0))[1] < MAX_REFUSALS

    def reset(self) -> None:
        """A reconcile: one more round of attempts for every role."""
        self.refusals.clear()

    def watch(self, position: Position) -> None:
        self.watched.add(position.id)

    # ----- the periodic check ------------------------------------------------------------------
    def check(self, now: int) -> bool:
        """Act on what needs it (see the module doc); False when nothing did: no position needs
        attention and none is watched, so until the trader's books change nothing will."""
        positions = list(self.trader.positions.values())
        for gone in set(self.bare_since) - {p.id for p in positions}:
            del self.bare_since[gone]
        self.watched &= {p.id for p in positions}
        pending = [p for p in positions if self._needs_attention(p, now)]
        if not pending and not self.watched:
            return False
        if self._checked_at is not None and now - self._checked_at < CHECK_EVERY_MS:
            return True
        self._checked_at = now
        for symbol in sorted({p.symbol for p in positions if p.id in self.watched}):
            self.trader.truth.check(symbol, "guard re-check")
        for position in pending:
            if position.id in self.trader.positions:
                self._attend(position, now)
        return True

    def _needs_attention(self, position: Position, now: int) -> bool:
        if position.state in (ENTERING, OPEN) and position.open_quantity > 0:
            if self.has_live_stop(position):
                self.bare_since.pop(position.id, None)
                target = position.orders.get(OrderRole.TAKE_PROFIT)
                return target is not None and target.status is OrderStatus.INTENT
            if position.id not in self.bare_since:
                # ENTERING: never protected, bare since its entry filled; OPEN: it lost a confirmed stop just now
                filled_at = position.opened_at if position.state is ENTERING and position.opened_at else now
                self.bare_since[position.id] = min(now, max(filled_at, self.started_at))
            return True
        return position.state is CLOSING and (bool(position.open_orders()) or position.open_quantity > 0)

    @staticmethod
    def has_live_stop(position: Position) -> bool:
        stop = position.orders.get(OrderRole.STOP)
        return stop is not None and stop.status in LIVE

    def _attend(self, position: Position, now: int) -> None:
        trader = self.trader
        if position.state is CLOSING:
            unanswered = [o for o in position.open_orders() if o.role is OrderRole.EXIT and o.status is OrderStatus.INTENT]
            for exit_order in unanswered:  # an exit that got no answer is no exit: ask for it, else send it again
                trader.resend_unknown(exit_order)
            if not unanswered:
                trader.settle_again(position)
            return
        bare_for = now - self.bare_since.get(position.id, now)
        if not self.has_live_stop(position) and bare_for >= self.protect_within_ms:
            log.error("%s position %d has had no live stop for %.1f s: closing it at market", position.symbol,
                      position.id, bare_for / 1000)
            trader.close_at_market(position, "unprotected", "no live stop within [risk] protect_within_seconds")
            return
        for role in (OrderRole.STOP, OrderRole.TAKE_PROFIT):
            if role is OrderRole.TAKE_PROFIT and not self.has_live_stop(position):
                break  # the stop first: each resend of a lost answer can take seconds
            order = position.orders.get(role)
            if order is not None and order.status is OrderStatus.INTENT:
                trader.resend_unknown(order)
            elif role is OrderRole.STOP and (order is None or order.status.is_final) and not self.has_live_stop(position):
                trader.protect_again(position, role, order)
