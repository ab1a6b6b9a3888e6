"""The order desk: every request the trader makes of the exchange, and what to do when the
answer is bad or missing. Returns the exchange's word as an `OrderUpdate`, or None when
nothing is known yet; it never books anything itself.

- A refusal (filters, margin, -2021) becomes a REJECTED update with the code and message.
- A rate limit (429/418) stops this thread for `Retry-After` seconds, then tries again.
- An unknown outcome (timeout, any 5xx, -1007) is looked up by client id, a
  few times a second apart (-2013 can mean "not visible yet"), before the same request
  with the same client id goes again; Binance itself refuses a duplicate of a live id.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from trade import crash_points
from trade.errors import ExchangeUnavailable, OrderRejected, OutcomeUnknown, RateLimited
from trade.exchange import Exchange
from trade.models import Order, OrderStatus, OrderUpdate

log = logging.getLogger(__name__)
UNKNOWN_OUTCOME_QUERIES = 3   # look-ups of an order that may exist, before it is sent again
DUPLICATE_ID = -4116          # "clientOrderId is duplicated": an earlier try with this id is live
SEND_ATTEMPTS = 2


class OrderDesk:
    """Sends, cancels and looks up orders on `exchange` for the trader's thread."""

    def __init__(self, exchange: Exchange, clock: Callable[[], int], sleep: Callable[[float], None] = time.sleep) -> None:
        self.exchange = exchange
        self.clock = clock
        self.sleep = sleep

    def send(self, order: Order) -> OrderUpdate | None:
        """Place `order`; None when its fate is still unknown after every attempt."""
        request = order.request
        place = self.exchange.place_conditional if request.type.is_conditional else self.exchange.place_order
        for _ in range(SEND_ATTEMPTS):
            try:
                answer = place(request)
                if crash_points.ARMED:
                    crash_points.passed(order.role.value)
                return answer
            except OrderRejected as refusal:
                if crash_points.ARMED:
                    crash_points.passed(order.role.value)
                if refusal.code == DUPLICATE_ID:  # our earlier try did land: its id is live
                    found = self.look_up(order, attempts=1)
                    if found is not None:
                        return found
                log.warning("%s order %s refused: %s %s", request.symbol, request.client_order_id, refusal.code, refusal.message)
                return OrderUpdate(request.client_order_id, request.symbol, OrderStatus.REJECTED, self.clock(),
                                   reason=f"{refusal.code} {refusal.message}")
            except RateLimited as limit:
                log.error("rate limited by the exchange: no request for %.0f s (%s)", limit.retry_after, limit.message)
                self.sleep(limit.retry_after)
            except (OutcomeUnknown, ExchangeUnavailable) as unknown:  # a 5xx or timeout on a write: maybe placed
                log.warning("%s order %s outcome unknown (%s): asking the exchange before any resend",
                            request.symbol, request.client_order_id, unknown.message)
                found = self.look_up(order)
                if found is not None:
                    return found
                log.warning("%s order %s not found: sending again with the same id", request.symbol, request.client_order_id)
        log.error("%s order %s: no answer after %d attempts; the protection guard looks again in seconds",
                  request.symbol, request.client_order_id, SEND_ATTEMPTS)
        return None

    def look_up(self, order: Order, attempts: int = UNKNOWN_OUTCOME_QUERIES) -> OrderUpdate | None:
        """The exchange's word on `order`, or None when it does not know it."""
        for attempt in range(attempts):
            try:
                found = self.exchange.query_order(order.request)
            except (OutcomeUnknown, ExchangeUnavailable):
                found = None
            if found is not None:
                return found
            if attempt + 1 < attempts:
                self.sleep(1.0)
        return None

    def cancel(self, order: Order) -> OrderUpdate | None:
        """Cancel `order`; the exchange's word on it after, or None when the cancel failed and the
        order's state is unknown (the protection guard cancels again a few seconds later)."""
        try:
            answer = self.exchange.cancel_order(order.request)
        except (OutcomeUnknown, ExchangeUnavailable) as failed:
            log.warning("%s cancel of %s failed (%s): it is tried again", order.request.symbol, order.client_order_id,
                        failed.message)
            return self.look_up(order, attempts=1)
        if crash_points.ARMED:
            crash_points.passed("cancel")
        if answer is None:
            # the exchange does not know it: it was never placed, so it is as good as cancelled
            return OrderUpdate(order.client_order_id, order.request.symbol, OrderStatus.CANCELED, self.clock(),
                               reason="unknown to the exchange")
        return answer
