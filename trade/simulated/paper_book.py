"""Paper mode across restarts: the simulated account rebuilt from the journal.

A paper bot that stops (Ctrl+C, a crash, a reboot) keeps its simulated positions: at the next
paper start the wallet, the held quantities and the resting stop, target and limit orders are
rebuilt from the journal (journal/paper.py), the usual recovery squares the positions with
that rebuilt account, and the candles that closed while the bot was down are played through
the simulated exchange, so a stop or target the market reached meanwhile fills as it would
have, at its trigger or at a gapped open. Nothing is closed or dropped silently.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Callable, Sequence

from ict.models import Candle
from journal import paper
from journal.journal import Journal
from journal.records import JournaledOrder
from trade.models import OrderRequest, OrderRole, OrderSide, OrderStatus, OrderType, OrderUpdate
from trade.rules_book import RulesBook
from trade.simulated.exchange import SimulatedExchange, _Holding
from trade.symbol_rules import SymbolRules

log = logging.getLogger(__name__)


class PaperExchange(SimulatedExchange):
    """The simulated exchange of paper mode, rebuilt from the journal; also lists its open orders for recovery.

    `resumed_from` maps each symbol of the restored positions to the open time (epoch ms) of its
    last candle the journal shows was seen (empty when none was restored): later candles are
    played by `play_missed`. Per symbol, because one symbol's fill says nothing of another's candles."""

    rules_book: RulesBook | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.resumed_from: dict[str, int] = {}

    def restore(self, journal: Journal, configured_balance: Decimal) -> int:
        """Wallet, holdings and resting orders as the journal left them; returns the number of
        unfinished positions. `configured_balance` is `[replay] starting_balance_usdt`, which a
        journal holding positions overrides with its own. Call after `watch_rules` (or `set_rules`)."""
        starting = paper.starting_balance(journal, configured_balance)
        if starting != configured_balance:
            log.warning("paper: this journal started with %s USDT; [replay] starting_balance_usdt = %s applies to a new journal",
                        starting, configured_balance)
        realized, fees = paper.fill_totals(journal)
        self._wallet = starting + realized - fees
        self._linear = None
        for held in paper.held_quantities(journal):
            quantity = held.entered - held.exited
            if quantity > 0:
                holding = self._holdings.setdefault((held.symbol, held.side), _Holding())
                holding.entry_price = held.entry_price
                holding.quantity += quantity
                holding.margin += held.entry_price * quantity / self._leverage
        for row in paper.resting_orders(journal):
            request = _request(row)
            self._open[request.client_order_id] = request
            self._bands.clear()
            self._latest[request.client_order_id] = OrderUpdate(request.client_order_id, request.symbol, OrderStatus.NEW,
                                                                row.updated_at, row.exchange_order_id)
        self._next_order_id = paper.highest_exchange_order_id(journal) + 1
        positions = journal.unfinished_positions()
        unfinished = len(positions)
        seen = {symbol: paper.last_candle_ms(journal, symbol) for symbol in {p.symbol for p in positions}}
        self.resumed_from = {symbol: at for symbol, at in seen.items() if at is not None}
        log.info("paper account restored from the journal: wallet %s USDT, %d open simulated position(s), %d resting order(s)",
                 self._wallet, unfinished, len(self._open))
        return unfinished

    def watch_rules(self, symbols: str | Sequence[str], load: Callable[[str], SymbolRules], now: Callable[[], float]) -> None:
        """Trade each of `symbols` under the real exchange's rules, read now with `load` and again
        daily (trade/rules_book.py), as the live modes do."""
        self.rules_book = RulesBook(load, now)
        for symbol in [symbols] if isinstance(symbols, str) else symbols:
            self.rules_book.put(load(symbol))
            self.set_rules(self.rules_book.rules[symbol])

    def symbol_rules(self, symbol: str) -> SymbolRules:
        if self.rules_book is None:
            return super().symbol_rules(symbol)
        rules = self.rules_book.get(symbol)
        if rules is not self._rules.get(symbol):
            self.set_rules(rules)
        return rules

    def play_missed(self, candles: list[Candle], symbol: str) -> int:
        """Fill on the closed `candles` of `symbol` that opened after its `resumed_from` (fills reach
        the trader through the sink); returns how many were played. A candle seen before the crash
        but after the last journaled fill or signal changed nothing then, and changes nothing now."""
        if symbol not in self.resumed_from:
            return 0
        missed = [c for c in candles if c.open_time > self.resumed_from[symbol]]
        for candle in missed:
            self.on_candle(candle, symbol)
        if missed:
            log.info("paper: %d candle(s) closed while the bot was down were played through the simulated exchange", len(missed))
        return len(missed)


def _request(row: JournaledOrder) -> OrderRequest:
    """The simulated exchange's copy of a resting order: its holding is kept per side, so it carries
    the position's side (LONG/SHORT) and no reduce-only flag, whatever the trader sent."""
    role = OrderRole(row.role)
    return OrderRequest(row.client_order_id, row.symbol, OrderSide(row.side), OrderType(row.type), quantity=row.quantity,
                        price=row.price, trigger_price=row.trigger_price,
                        close_position=role in (OrderRole.STOP, OrderRole.TAKE_PROFIT), reduce_only=False,
                        position_side=row.position_side)
