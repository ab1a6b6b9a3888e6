"""Where one strategy trades: its symbol, the sides it may open, its candle length.

A bot runs one strategy per symbol and side (settings.toml's `[[strategies]]` blocks). The
trader takes each intent together with the slot of the strategy that made it, so a signal
on a side the slot does not trade is refused, and a request about a position reaches only
the strategy that opened it (the same strategy may trade two symbols).
"""
from __future__ import annotations

from dataclasses import dataclass

from ict.models import Side

BOTH_SIDES = frozenset((Side.LONG, Side.SHORT))


@dataclass(frozen=True, slots=True)
class StrategySlot:
    """One strategy's place in the bot.

    - `name`: the strategy's name (a signal's `strategy`, a position's `strategy`).
    - `symbol`: the symbol it trades; "" for any (a trader driven without settings, in tests).
    - `sides`: the sides it may open.
    - `interval_ms`: its candle length (a signal's `expiry_candles` counts these); None: the trader's.
    - `limit_entry_timeout_ms`: how long its LIMIT entries rest unfilled; None: the trader's.
    """

    name: str
    symbol: str = ""
    sides: frozenset[Side] = BOTH_SIDES
    interval_ms: int | None = None
    limit_entry_timeout_ms: int | None = None

    def owns(self, strategy: str, symbol: str, side: Side) -> bool:
        """Whether a position of `strategy` on `symbol`, `side` is this slot's."""
        return strategy == self.name and (not self.symbol or symbol == self.symbol) and side in self.sides
