"""Symbol rules as last read from exchangeInfo, and when to read them again.

Binance changes a symbol's filters now and then (a new minimum notional, a new tick). The
book re-reads exchangeInfo once after an order is refused for a reason a filter explains
(-4164 notional, -1111 precision, -1013 filter failure, -4131 PERCENT_PRICE of a MARKET
order) and once a day, so the next signal is sized with the rules in force instead of
every signal being refused the same way.
"""
from __future__ import annotations

import logging
from typing import Callable

from trade.errors import ExchangeError
from trade.symbol_rules import SymbolRules

log = logging.getLogger(__name__)

REFRESH_CODES = {-4164, -1111, -1013, -4131}
MAX_AGE_SECONDS = 24 * 3600


class RulesBook:
    """Rules by symbol. `load(symbol)` reads them from the exchange (and logs them); `now()`
    is the time in seconds. Used from the trader thread only."""

    def __init__(self, load: Callable[[str], SymbolRules], now: Callable[[], float],
                 max_age_seconds: float = MAX_AGE_SECONDS) -> None:
        self.rules: dict[str, SymbolRules] = {}
        self._load = load
        self._now = now
        self._max_age = max_age_seconds
        self._read_at: dict[str, float] = {}
        self._stale: dict[str, str] = {}      # symbol -> why it must be read again

    def put(self, rules: SymbolRules) -> None:
        """Keep freshly read rules."""
        self.rules[rules.symbol] = rules
        self._read_at[rules.symbol] = self._now()
        self._stale.pop(rules.symbol, None)

    def get(self, symbol: str) -> SymbolRules:
        """The rules for `symbol`, read again first when a refusal or their age asks for it.
        A failed re-read keeps the old rules (logged) and is tried again at the next call.
        Raises KeyError for a symbol never read."""
        read_at = self._read_at.setdefault(symbol, self._now())
        why = self._stale.get(symbol) or ("a day old" if self._now() - read_at >= self._max_age else None)
        if why is not None:
            log.info("%s rules are %s: reading exchangeInfo again", symbol, why)
            try:
                self.put(self._load(symbol))
            except ExchangeError as problem:
                log.warning("%s rules could not be read again (%s); using the ones from before", symbol, problem.message)
        return self.rules[symbol]

    def refused(self, symbol: str, code: int | None, message: str) -> None:
        """An order on `symbol` was refused with `code`: when a filter explains it, the rules
        are read again before the next signal is sized."""
        if code in REFRESH_CODES:
            log.warning("%s order refused by a symbol filter (%s %s): the rules are read again before the next signal",
                        symbol, code, message)
            self._stale[symbol] = f"questioned by a {code} refusal"
