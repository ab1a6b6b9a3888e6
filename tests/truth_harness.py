"""A trader on the real Binance exchange code against the fake exchange, in one process.

REST goes over HTTP to the fake on 127.0.0.1 (python-binance, signatures, filters); the
fake's user-data events are fed to the trader by `pump()` on the test's thread, through
the real `UserEventTranslator`, in the order the fake emitted them (or as the test
reorders them with the fake's `hold_user_events`). The trader's clock is wall time plus
an offset the test moves with `tick(seconds)`, so nothing sleeps.
"""
from __future__ import annotations

import time
from decimal import Decimal

from ict.models import EntryType, Side, Signal
from journal.journal import Journal
from tests.fake_exchange import DEFAULT_API_KEY, DEFAULT_API_SECRET, FakeBinance
from trade.binance.events import AccountUpdate, UserEventTranslator
from trade.binance.exchange import BinanceExchange
from trade.binance.rest import BinanceRest
from runtime.live import positions_changed
from trade.models import OrderUpdate
from trade.risk import RiskSettings
from trade.trader import Trader

PRICE = 36_000


class TruthBot:
    """Fake exchange + trader. Use as a context manager."""

    def __init__(self, tmp_path, dual_side: bool = False, protect_within_seconds: int = 10) -> None:
        self.fake = FakeBinance(ws_ping_interval=None, dual_side=dual_side).start()
        self.fake.set_price(PRICE)
        self.exchange = BinanceExchange(BinanceRest(self.fake.rest_url, DEFAULT_API_KEY, DEFAULT_API_SECRET))
        self.exchange.prepare("BTCUSDT", 10, "ISOLATED")
        self.journal_path = tmp_path / "journal.db"
        self.journal = Journal.open(self.journal_path, "demo")
        self.offset_ms = 0
        self.sleeps_take_time = False
        self.risk = RiskSettings(leverage=10, max_positions=2, loss_per_trade_percent=Decimal(1),
                                 protect_within_seconds=protect_within_seconds)
        self.trader = self.new_trader()
        self.dropped: set[str] = set()
        self._seen = 0

    def new_trader(self) -> Trader:
        prefix = self.journal.id_prefix + "-"
        self.translator = UserEventTranslator(is_ours=lambda client_id: client_id.startswith(prefix))
        return Trader(self.exchange, self.journal, self.risk, self.clock, sleep=self.sleep,
                      reconcile_every_ms=300_000)

    def sleep(self, seconds: float) -> None:
        """The trader's waits (retry backoffs) pass on its clock only when `sleeps_take_time` is set."""
        if self.sleeps_take_time:
            self.offset_ms += int(seconds * 1000)

    def clock(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def pump(self) -> None:
        """Hand every user-data event emitted so far to the trader (those named in `dropped` are lost)."""
        while self._seen < len(self.fake.events):
            name, payload = self.fake.events[self._seen]
            self._seen += 1
            if name in self.dropped:
                continue
            for item in self.translator.translate(payload):
                if isinstance(item, OrderUpdate):
                    self.trader.on_order_update(item)
                elif isinstance(item, AccountUpdate):
                    for change in positions_changed(item):
                        self.trader.on_account_update(change.symbol, change.amounts)

    def tick(self, seconds: float = 1.0, times: int = 1) -> None:
        for _ in range(times):
            self.offset_ms += int(seconds * 1000)
            self.trader.on_tick()
            self.pump()

    def signal(self, side: Side = Side.LONG, stop: float = PRICE - 100, target: float = PRICE + 200):
        position = self.trader.on_signal(Signal("BTCUSDT", side, EntryType.MARKET, stop, target, PRICE, 0, "test", "because"))
        self.pump()
        return position

    def rows(self, sql: str, *params) -> list[dict]:
        return self.journal.rows(sql, *params)

    def position_row(self, position_id: int = 1) -> dict:
        return self.rows("SELECT * FROM positions WHERE id = ?", position_id)[0]

    def open_algos(self) -> list:
        return [a for a in self.fake.algo_orders if a.status == "NEW"]

    def requests(self, path: str, method: str = "POST") -> int:
        return len(self.fake.requests_to(path, method))

    def close(self) -> None:
        self.journal.close()
        self.fake.stop()

    def __enter__(self) -> "TruthBot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
