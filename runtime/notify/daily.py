"""The daily summary message: trades closed in the UTC day just ended, once per day.

`tick(now_ms)` runs on the trader thread (runtime/pulse.py), the journal's only user, so
reading the day's trades never races a commit.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Callable

from ict.intervals import utc_text
from journal.journal import Journal
from runtime.notify import messages
from runtime.notify.alerts import DailySummaryClock

log = logging.getLogger(__name__)


class DailySummary:
    """At `[notify] daily_summary_utc` each day: trades, wins (net of fees > 0), net PnL after fees
    and fees (USDT) of the positions closed in the 24 hours just ended, and the wallet balance
    (`balance()`, None when it cannot be read)."""

    def __init__(self, journal: Journal, notifier, hhmm: str, now_ms: int, balance: Callable[[], Decimal | None]) -> None:
        self.journal, self.notifier, self.balance = journal, notifier, balance
        self.clock = DailySummaryClock(hhmm, now_ms)

    def tick(self, now_ms: int) -> None:
        period = self.clock.due(now_ms)
        if period is None:
            return
        start, end = period
        trades = [t for t in self.journal.closed_trades() if start <= t.closed_at < end]
        nets = [t.realized_pnl - t.fees for t in trades]
        self.notifier.send(messages.daily_summary(
            f"{utc_text(start)} to {utc_text(end)}", len(trades), sum(1 for net in nets if net > 0),
            sum(nets, Decimal(0)), sum((t.fees for t in trades), Decimal(0)), self.balance()))
