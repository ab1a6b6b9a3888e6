"""The live bot's minute status line: balance, positions with their symbol, and each symbol's stream."""
from __future__ import annotations

import logging
from decimal import Decimal

from ict.models import Side
from ict.strategies.context import PositionView
from runtime import live
from trade.snapshot import PublishedPosition, TraderSnapshot

NOW = 1_700_000_400_000   # 2023-11-14 22:20 UTC


class Market:
    reconnects = 2

    def last_open_time(self, symbol, interval):
        return {("BTCUSDT", "1m"): NOW - 120_000, ("ETHUSDT", "5m"): None}[(symbol, interval)]

    def delivered_of(self, symbol, interval):
        return {("BTCUSDT", "1m"): 41, ("ETHUSDT", "5m"): 0}[(symbol, interval)]


class Exchange:
    def wallet_balance(self):
        return Decimal("1000.5")


class Trader:
    snapshot = TraderSnapshot((PublishedPosition("S", PositionView(
        id=7, side=Side.SHORT, state="OPEN", entry_type=None, entry_price=2000.0, stop_price=2010.0, take_profit_price=1980.0,
        quantity=1.0, filled_quantity=1.0, age_candles=0, basis=(), candle_time=0), Decimal("1.5"), True, "ETHUSDT"),))


def test_status_line_names_each_symbol_its_candles_and_the_last_ones_age(monkeypatch, caplog):
    monkeypatch.setattr(live, "wall_ms", lambda: NOW)
    sent = []
    monkeypatch.setattr(live.systemd_notify, "notify", lambda **fields: sent.append(fields))
    with caplog.at_level(logging.INFO, logger=live.log.name):
        live._status(Trader(), Exchange(), Market(), [("BTCUSDT", "1m"), ("ETHUSDT", "5m")])
    line, = [r.getMessage() for r in caplog.records]
    assert line == ("status: balance 1000.5 USDT, positions: #7 ETHUSDT SHORT 1.5 OPEN; BTCUSDT 1m 41 candles (last "
                    "2023-11-14 22:18 UTC, closed 60 s ago); ETHUSDT 5m 0 candles (none yet); stream reconnects 2")
    assert sent == [{"status": "balance 1000.5 USDT, positions: #7 ETHUSDT SHORT 1.5 OPEN"}]
