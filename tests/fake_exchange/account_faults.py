"""The account-side faults of the fake exchange, mixed into `FakeBinance`: what users of
other Binance bots have been hurt by.

- the account changes outside the client: trades and closes by hand in Binance's app
  (client id `web_...`), liquidations (`autoclose-...`) and auto-deleverage (`adl_autoclose...`);
- triggered stops that fill in part and expire; closePosition orders that stay NEW
  when their position goes flat (Binance's expiry coming late);
- refusals and failures on any endpoint: -2022/-4118 on orders, 5xx on algo placement
  and on cancels;
- user-data events held back, then delivered reversed and/or twice.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .orders import Order


class AccountFaults:
    """Mixin for `FakeBinance` (uses its `engine`, `account`, `rest`, `clock` and `_emit`)."""

    def reject_next_order(self, code: int = -2022) -> None:
        """The next POST /fapi/v1/order is refused with `code` (e.g. -2022, -4118), nothing executed."""
        with self.rest.lock:
            self.rest.faults.order_rejects.append(code)

    def fail_next(self, method: str, path: str, status: int = 503, after_accept: bool = False, body: dict | None = None,
                  n: int = 1) -> None:
        """The next `n` requests to `method path` fail with HTTP `status` (Binance's unknown-status body
        unless `body` is given); with `after_accept` each is carried out first (the answer is lost)."""
        with self.rest.lock:
            queued = self.rest.faults.failures.setdefault((method, path), [])
            queued.extend({"status": status, "after_accept": after_accept, "body": body, "disconnect": False,
                           "delay_s": 0.0} for _ in range(n))

    def fail_next_algo(self, status: int = 503, after_accept: bool = False, n: int = 1) -> None:
        """The next `n` POST /fapi/v1/algoOrder (stop-loss, take-profit placement) fail with a 5xx."""
        self.fail_next("POST", "/fapi/v1/algoOrder", status, after_accept, n=n)

    def fail_next_cancel(self, status: int = 500, algo: bool = True, n: int = 1) -> None:
        """The next `n` cancels (DELETE /fapi/v1/algoOrder, or /fapi/v1/order) fail with a 5xx, nothing cancelled."""
        body = {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}
        self.fail_next("DELETE", "/fapi/v1/algoOrder" if algo else "/fapi/v1/order", status, False, body, n)

    def keep_close_position_orders_when_flat(self) -> None:
        """closePosition stops and targets stay NEW when their position goes flat (Binance expires
        them, but that expiry can come late): only a cancel ends them."""
        with self.engine.lock:
            self.engine.expire_close_position_when_flat = False

    def partial_fill_next_trigger(self, qty) -> None:
        """The next algo order to trigger fills only `qty`; the rest of its MARKET order expires."""
        with self.engine.lock:
            self.engine.partial_triggers.append(Decimal(str(qty)))

    # ----- the account, outside the client -----------------------------------------------------

    def trade_by_hand(self, side: str, qty, symbol: str = "BTCUSDT", position_side: str = "BOTH") -> Order:
        """A MARKET order placed in Binance's app by the user (client id `web_...`), filled at the last price."""
        with self.engine.lock:
            return self.engine.outside_order(symbol, side, Decimal(str(qty)), position_side,
                                             "web_" + self.engine.new_client_id())

    def close_by_hand(self, symbol: str = "BTCUSDT", position_side: str = "BOTH", qty=None) -> Order:
        """The user closes the position (or `qty` of it) in the app, at the last price."""
        with self.engine.lock:
            amount = self.account.position(symbol, position_side).amount
            if amount == 0:
                raise RuntimeError(f"no {position_side} position on {symbol} to close")
            side = "SELL" if amount > 0 else "BUY"
            return self.trade_by_hand(side, abs(amount) if qty is None else qty, symbol, position_side)

    def liquidate(self, symbol: str = "BTCUSDT", position_side: str = "BOTH", price=None, adl: bool = False) -> Order:
        """Binance closes the whole position: a liquidation (`autoclose-...`) or an auto-deleverage
        (`adl_autoclose...`), filled at `price` (default: the last price)."""
        with self.engine.lock:
            amount = self.account.position(symbol, position_side).amount
            if amount == 0:
                raise RuntimeError(f"no {position_side} position on {symbol} to liquidate")
            client_id = f"{'adl_autoclose' if adl else 'autoclose'}-{self.clock()}"
            return self.engine.outside_order(symbol, "SELL" if amount > 0 else "BUY", abs(amount), position_side,
                                             client_id, None if price is None else Decimal(str(price)), "LIMIT")

    # ----- the user-data stream's delivery ------------------------------------------------

    def hold_user_events(self) -> None:
        """Keep user-data events back (not recorded, not pushed) until `release_user_events`."""
        self._held_events = []

    def release_user_events(self, reverse: bool = False, duplicate: bool = False) -> int:
        """Push the held events, in reverse order if asked, each twice if asked; returns how many were held."""
        held, self._held_events = self._held_events or [], None
        for event, payload in (list(reversed(held)) if reverse else held):
            for _ in range(2 if duplicate else 1):
                self._emit(event, payload)
        return len(held)
