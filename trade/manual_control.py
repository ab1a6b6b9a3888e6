"""What the user may ask of the trader by hand (from the web dashboard, through the journal's
`commands` table; runtime/commands.py reads and checks them): pause and resume new entries,
close one position or all of them at market, and take new `[risk]` settings.
Part of the `Trader` (a mixin on the same thread and books).

Paused means no new entries: a signal is journaled as refused with the code `PAUSED`, while
the streams, the protection guard, the strategies' own exits, stops and targets carry on.
Each method answers with one line for the command's result, or raises `ManualRefusal`
whose message is that line.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Callable

from trade.errors import ExchangeError
from trade.models import Order
from trade.position import Position
from trade.risk import Refusal, RiskSettings

if TYPE_CHECKING:
    from trade.exchange import Exchange

log = logging.getLogger(__name__)
MANUAL_CLOSE = "manual_close"   # positions.close_reason of a close asked from the dashboard


class ManualRefusal(Exception):
    """A command the trader cannot carry out; the message is one line saying why."""


class ManualControl:
    """`pause`, `resume`, `close_by_hand`, `close_all_by_hand`, `take_risk` for the Trader."""

    # given by Trader (declared so a type checker sees them; no values here)
    exchange: Exchange
    clock: Callable[[], int]
    positions: dict[int, Position]
    risk: RiskSettings
    _actions: deque[tuple[str, Order]]
    _changes: int
    paused_since: int | None = None   # epoch ms since when entries are paused; None: trading

    if TYPE_CHECKING:   # given by Trader
        def close_position(self, position: Position, close_reason: str, detail: str) -> bool: ...
        def _run_actions(self) -> None: ...
        def _publish(self) -> None: ...

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def paused_refusal(self) -> Refusal | None:
        """The refusal of a new entry while paused, None while trading."""
        if self.paused_since is None:
            return None
        return Refusal("PAUSED", "new entries are paused from the dashboard; resume there to trade again")

    def pause(self, now_ms: int) -> str:
        if self.paused:
            return "entries were already paused"
        self.paused_since = now_ms
        log.warning("entries PAUSED by hand: signals are refused (PAUSED); stops, targets and exits carry on")
        return "entries paused: new signals are refused as PAUSED; open positions keep their stop and target"

    def resume(self) -> str:
        if not self.paused:
            return "entries were not paused"
        self.paused_since = None
        log.warning("entries RESUMED by hand: signals are traded again")
        return "entries resumed: new signals are traded again"

    def close_by_hand(self, position_id: int) -> str:
        """Close one position at market (or cancel its resting entry). Raises ManualRefusal when
        this bot holds no such position or its state allows no close (already closing)."""
        position = self.positions.get(position_id)
        if position is None:
            raise ManualRefusal(f"position {position_id} is not open in this bot (closed already, or never its own)")
        if not self.close_position(position, MANUAL_CLOSE, "closed by hand from the dashboard"):
            raise ManualRefusal(f"position {position_id} is {position.state.value}: nothing to close by hand")
        self._run_actions()
        self._changes += 1
        self._publish()
        return f"position {position_id} {position.symbol} {position.side.value}: closing at market"

    def close_all_by_hand(self) -> str:
        """Close every open position at market; one line naming how many were asked to close."""
        asked = [position.id for position in list(self.positions.values())
                 if self.close_position(position, MANUAL_CLOSE, "closed by hand from the dashboard (close all)")]
        self._run_actions()
        self._changes += 1
        self._publish()
        if not asked:
            return "no open position to close"
        return f"closing {len(asked)} position(s) at market: " + ", ".join(str(number) for number in asked)

    def take_risk(self, risk: RiskSettings) -> None:
        """Size the next signals with `risk` (checked by the caller, as settings.toml is). A new
        leverage is set on the exchange first, for every symbol; when the exchange refuses it, its
        error (trade.errors.ExchangeError) is raised, the symbols already set are put back (best
        effort, an ERROR line when that fails too) and the trader keeps its settings."""
        if risk.leverage != self.risk.leverage:
            try:
                self.exchange.change_leverage(risk.leverage)
            except ExchangeError:
                self._put_leverage_back()
                raise
        self.risk = risk
        self._changes += 1

    def _put_leverage_back(self) -> None:
        # the symbols set before the refusal go back to the leverage the bot sizes with
        try:
            self.exchange.change_leverage(self.risk.leverage)
        except ExchangeError as problem:
            log.error("leverage may now differ between symbols: putting back %sx failed (%s); check it on Binance or "
                      "restart the bot, which sets [risk] leverage on every symbol", self.risk.leverage, problem.message)
