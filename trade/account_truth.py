"""The account is the truth: square the journal's positions with what the exchange holds.

A position can end without any order of ours: closed by hand in Binance's app, liquidated
(an order whose client id starts `autoclose-`), or auto-deleveraged (`adl_autoclose`).
The bot then learns it only from the account. `AccountTruth.check(symbol)` runs on every
ACCOUNT_UPDATE that moves a position of ours, on every reconcile (start-up included), when
a closing order is refused as reduce-only (-2022, -4118, "Reduce Only reject") and when a
stop or target vanished:

1. compare, per side, the account's amount with the open quantity of the journal's
   positions that are not CLOSED;
2. when the account holds less, first ask the exchange about our own open orders (their
   fills may not have reached us yet) and book what they say;
3. whatever is still missing was closed outside the bot: its exit fills are read from the
   account's trades (price, quantity, fee, realized PnL, each by trade id), booked on an
   `outside` order row, and the position closes with `close_reason` `closed_outside_bot`,
   `liquidation` or `adl`; our stop and target are cancelled. A position only reduced
   outside the bot is closed too: its rest goes at market with a reduce-only order.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from trade.models import ZERO, AccountTrade, Order, OrderRole, OrderStatus, OrderUpdate
from trade.position import Position
from trade.position_machine import CLOSING, ENTERING, OPEN

if TYPE_CHECKING:
    from trade.trader import Trader

log = logging.getLogger(__name__)
LOOKBACK_MS = 5_000   # account trades are read from a little before the position's first fill
SETTLE_MS = 1_000     # an ACCOUNT_UPDATE showing less than the journal waits this long for our own order events
UNEXPLAINED_ERROR_EVERY = 5   # a difference no trade explains is an ERROR on every 5th check (about 10 s)
REASONS = (("autoclose-", "liquidation"), ("adl_autoclose", "adl"), ("settlement_autoclose-", "settlement"))


def close_reason_of(client_id: str) -> str:
    """`liquidation`, `adl`, `settlement` by Binance's client id prefix (binance.md §3.2), else `closed_outside_bot`."""
    return next((reason for prefix, reason in REASONS if client_id.startswith(prefix)), "closed_outside_bot")


class AccountTruth:
    """Compares the account with the trader's positions and books closes made outside the bot.

    Runs on the trader's thread, inside its steps; it only books (through the trader's
    journal transaction) and queues actions, which the trader then runs."""

    def __init__(self, trader: "Trader") -> None:
        self.trader = trader
        self.squaring = False   # True while checking: no exit is started on numbers about to change
        self.unexplained: dict[int, int] = {}   # position id -> checks that found no trade for a difference
        self.reported: dict[str, tuple[dict[str, Decimal], int]] = {}   # symbol -> (amounts by side, when), to settle

    def on_account_update(self, symbol: str, amounts: dict[str, Decimal], now: int) -> None:
        """An ACCOUNT_UPDATE: `amounts` maps each changed leg's side (LONG/SHORT) to its size (≥ 0).

        Binance usually sends it just before the ORDER_TRADE_UPDATE of the fill that caused it,
        so a smaller amount is kept for `SETTLE_MS` and compared again in `settle`: our own
        fills are booked by then, and only a difference they do not explain costs a REST check
        (without this, every stop or target fill would spend request weight on one)."""
        earlier = self.reported.get(symbol)
        merged = {**earlier[0], **amounts} if earlier else dict(amounts)
        if any(amount < self._journal_quantity(symbol, side) for side, amount in merged.items()):
            self.reported[symbol] = (merged, earlier[1] if earlier else now)
        else:
            self.reported.pop(symbol, None)

    def settle(self, now: int) -> None:
        """Check each symbol whose last reported amounts, `SETTLE_MS` old, still fall short of the journal."""
        for symbol, (amounts, since) in list(self.reported.items()):
            if now - since < SETTLE_MS:
                continue
            del self.reported[symbol]
            if any(amount < self._journal_quantity(symbol, side) for side, amount in amounts.items()):
                self.check(symbol, "ACCOUNT_UPDATE")

    def check(self, symbol: str, why: str) -> None:
        """Square every tracked position on `symbol` with the account (see the module doc)."""
        self.unexplained = {pid: n for pid, n in self.unexplained.items() if pid in self.trader.positions}
        if not self._tracked(symbol) or self.squaring:
            return
        self.squaring = True
        try:
            self._square(symbol, why)
        finally:
            self.squaring = False

    def _square(self, symbol: str, why: str) -> None:
        held = self._held(symbol)
        for side in sorted({p.side.value for p in self._tracked(symbol)}):
            if held.get(side, ZERO) >= self._journal_quantity(symbol, side):
                continue
            for position in self._tracked(symbol, side):
                self.trader.look_up_open_orders(position)
            missing = self._journal_quantity(symbol, side) - held.get(side, ZERO)  # our own fills booked by now
            if missing > 0:
                log.warning("%s %s: the account holds %s less than the journal (%s): looking for trades outside the bot",
                            symbol, side, missing, why)
                for position in self._tracked(symbol, side):
                    self._book_outside(position, missing)

    def after_refusal(self, order: Order) -> None:
        """A closing order refused as reduce-only: the account says whether anything is left to close.
        A stop or target refused while the account does hold the position → close it at market."""
        trader = self.trader
        position = trader.positions[order.position_id]
        self.check(position.symbol, f"{order.role.value} {order.client_order_id} refused as reduce-only")
        if position.id not in trader.positions:
            return
        if position.state in (ENTERING, OPEN) and order.role is not OrderRole.EXIT and position.orders.get(order.role) is order:
            log.error("%s position %d %s refused though the account holds it: closing at market", position.symbol,
                      position.id, order.role.value)
            trader.close_at_market(position, "protection_refused", "reduce-only refusal")
        elif position.state is CLOSING:
            trader.settle_again(position)

    # ----- helpers ---------------------------------------------------------------------------
    def _tracked(self, symbol: str, side: str | None = None) -> list[Position]:
        return [p for p in self.trader.positions.values() if p.symbol == symbol and p.state in (ENTERING, OPEN, CLOSING)
                and p.open_quantity > 0 and side in (None, p.side.value)]

    def _journal_quantity(self, symbol: str, side: str) -> Decimal:
        return sum((p.open_quantity for p in self._tracked(symbol, side)), ZERO)

    def _held(self, symbol: str) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for leg in self.trader.exchange.account_positions(symbol):
            if leg.side is not None:
                held[leg.side] = held.get(leg.side, ZERO) + abs(leg.amount)
        return held

    def _book_outside(self, position: Position, missing: Decimal) -> None:
        """Book the account's exit trades that no order of ours explains, up to `missing`."""
        trades, client_ids = self._outside_trades(position), {}
        taken, left = [], min(missing, position.open_quantity)
        for trade in trades:
            if left <= 0:
                break
            if trade.order_id not in client_ids:
                client_ids[trade.order_id] = self.trader.exchange.order_client_id(position.symbol, trade.order_id)
            if client_ids[trade.order_id].startswith(self.trader.journal.id_prefix + "-"):
                continue  # an order of ours after all (its fills come through its own row)
            taken.append(trade)
            left -= trade.fill.quantity
        if not taken:  # the trades can lag the position by a moment; for long, something needs a person
            times = self.unexplained[position.id] = self.unexplained.get(position.id, 0) + 1
            (log.error if times % UNEXPLAINED_ERROR_EVERY == 0 else log.warning)(
                "%s position %d: the account holds %s less than the journal, but no trade explains it yet (%d checks); "
                "the bot looks again in a few seconds. If this lasts, check the position and trade history on Binance",
                position.symbol, position.id, missing, times)
            self.trader.guard.watch(position)
            return
        self.unexplained.pop(position.id, None)
        reasons = {close_reason_of(client_ids[t.order_id]) for t in taken}
        reason = next((r for _, r in REASONS if r in reasons), "closed_outside_bot")  # Binance's own close names it
        quantity = sum((t.fill.quantity for t in taken), ZERO)
        closes = quantity >= position.open_quantity
        words = f"{reason}: {quantity} by order(s) {', '.join(sorted({client_ids[t.order_id] or t.order_id for t in taken}))}"
        (log.error if reason in ("liquidation", "adl") else log.warning)(
            "%s position %d %s outside the bot (%s); booking the account's fills", position.symbol, position.id,
            "CLOSED" if closes else "reduced", words)
        with self.trader.journal.transaction():
            position.close_reason = reason  # a partial close outside the bot ends the position too: the rest goes at market
            order = self.trader.intend_outside(position, quantity)
            order.exchange_order_id = taken[-1].order_id
            self.trader.book(OrderUpdate(order.client_order_id, position.symbol, OrderStatus.FILLED, taken[-1].fill.at,
                                         taken[-1].order_id, cumulative_quantity=quantity, reason=words, totals=True,
                                         trades=tuple(t.fill for t in taken)))

    def _outside_trades(self, position: Position) -> list[AccountTrade]:
        """Trades since the position opened that reduce its side and are no fill of ours, nor already
        booked (e.g. the liquidation of an earlier position, inside the look-back)."""
        since = (position.opened_at or position.created_at) - LOOKBACK_MS
        ours = {tid for o in self.trader.orders.values() for tid in o.trade_ids} | self.trader.journal.trade_ids_since(since)
        our_orders = {o.exchange_order_id for o in self.trader.orders.values() if o.exchange_order_id}
        hedge = self.trader.exchange.hedge_mode
        return [t for t in self.trader.exchange.account_trades(position.symbol, since)
                if t.side is position.exit_side and t.fill.trade_id not in ours and t.order_id not in our_orders
                and (not hedge or t.position_side == position.side.value)]


def is_reduce_only_refusal(reason: str | None) -> bool:
    """A refusal that means "nothing (or less) to reduce": -2022, -4118, or an algo trigger's
    "Reduce Only reject". It is answered by reading the position, never by sending again."""
    text = (reason or "").lower()
    return text.startswith(("-2022", "-4118")) or "reduce only" in text or "reduceonly" in text

