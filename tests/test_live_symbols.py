"""End to end with two symbols: one `python bot.py` in demo mode trades BTCUSDT and ETHUSDT
against the fake Binance through ONE combined market-stream connection, under shared limits.

Mock_ThreeCandles_v1 runs on each symbol (one `[[strategies]]` block each) and fires on
three bullish closes of its own symbol."""
from __future__ import annotations

import re
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fake_exchange import SymbolRules
from tests.fake_exchange.candles import make_kline
from tests.live_bot import MINUTE, ROOT, LiveBot, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")

ETH_RULES = SymbolRules(symbol="ETHUSDT", base_asset="ETH", price_precision=2, quantity_precision=3,
                        min_price=Decimal("39.86"), max_price=Decimal("306177"), tick_size=Decimal("0.01"),
                        min_qty=Decimal("0.001"), max_qty=Decimal("10000"), step_size=Decimal("0.001"),
                        market_min_qty=Decimal("0.001"), market_max_qty=Decimal("2000"), min_notional="20")
BASE = {"BTCUSDT": 36_000.0, "ETHUSDT": 2_000.0}
STEP = {"BTCUSDT": 20.0, "ETHUSDT": 2.0}   # one candle's rise


class TwoSymbolBot(LiveBot):
    """`LiveBot` with ETHUSDT listed too, alternating history on both, and a `[[strategies]]` block per symbol."""

    def __init__(self, tmp: Path, symbols=("BTCUSDT", "ETHUSDT"), listed=("BTCUSDT", "ETHUSDT"), **options) -> None:
        self.traded = symbols
        rules = [SymbolRules() if s == "BTCUSDT" else ETH_RULES for s in listed]
        super().__init__(tmp, symbols=rules, **options)
        self.next_opens = {"BTCUSDT": self.next_open}
        if "ETHUSDT" in listed:
            start = self.next_open - 60 * MINUTE
            bars = []
            for index in range(60):
                bullish = (60 - index) % 2 == 0
                price = BASE["ETHUSDT"]
                o, c = (price, price + 1) if bullish else (price + 1, price)
                bars.append(make_kline(start + index * MINUTE, "1m", o, max(o, c) + 0.5, min(o, c) - 0.5, c, "1", True))
            self.fake.load_candles(bars, "ETHUSDT")
            self.next_opens["ETHUSDT"] = self.next_open

    def _write_settings(self, changes: dict[str, str]) -> Path:
        path = super()._write_settings({"risk.max_positions": "2", **changes})
        text = path.read_text(encoding="utf-8")
        start, end = text.index("\n[strategy]\n"), text.index("\n[risk]\n")
        blocks = "".join(f'\n[[strategies]]\nsymbol = "{symbol}"\ninterval = "1m"\nstrategy_name = "Mock_ThreeCandles_v1"\n'
                         for symbol in self.traded)
        path.write_text(text[:start] + blocks + text[end:], encoding="utf-8")
        return path

    def push_on(self, symbol: str, o: float, h: float, l: float, c: float) -> int:
        open_time = self.next_opens[symbol]
        self.fake.push_candle(open_time, o, h, l, c, "1", symbol=symbol)
        self.next_opens[symbol] += MINUTE
        return open_time

    def skip_on(self, symbol: str, o: float, h: float, l: float, c: float) -> int:
        """A closed candle of `symbol` the exchange has (REST) but that no socket saw."""
        open_time = self.next_opens[symbol]
        self.fake.candles.add(symbol, "1m", make_kline(open_time, "1m", o, h, l, c, "1", True))
        self.next_opens[symbol] += MINUTE
        return open_time

    def three_bullish_on(self, symbol: str) -> None:
        """Three up-closes: a LONG at base + 2.75 steps, stop at base − 0.25 step, target 6 steps above the entry
        (BTCUSDT: 36055, 35995, 36175; ETHUSDT: 2005.5, 1999.5, 2017.5)."""
        base, step = BASE[symbol], STEP[symbol]
        for n in range(3):
            self.push_on(symbol, base + n * step, base + (n + 1.25) * step, base + (n - 0.25) * step, base + (n + 0.75) * step)


def protected_on(bot: LiveBot, symbol: str) -> bool:
    return len([a for a in bot.fake.algo_orders if a.symbol == symbol and a.status == "NEW"]) == 2


def held(bot: LiveBot) -> dict[str, str]:
    return {row["symbol"]: row["state"] for row in bot.rows("SELECT symbol, state FROM positions WHERE state != 'CLOSED'")}


def test_e2e_two_symbols_one_combined_stream_entries_protection_backfill_and_recovery(tmp_path):
    with TwoSymbolBot(tmp_path, settings={"bot.heartbeat_seconds": "2"}) as bot:
        bot.start()
        assert bot.fake.ws.count("market") == 1                      # one connection for both symbols
        bot.three_bullish_on("BTCUSDT")
        bot.three_bullish_on("ETHUSDT")
        wait_until(lambda: protected_on(bot, "BTCUSDT") and protected_on(bot, "ETHUSDT"), what="protection on both")
        wait_until(lambda: held(bot) == {"BTCUSDT": "OPEN", "ETHUSDT": "OPEN"}, what="both positions OPEN in the journal")
        entries = {r.params["symbol"]: r.params for r in bot.fake.requests_to("/fapi/v1/order", "POST")}
        assert set(entries) == {"BTCUSDT", "ETHUSDT"}
        assert re.fullmatch(r"\d+\.\d{3}", entries["ETHUSDT"]["quantity"])   # ETHUSDT's own step
        for symbol in ("BTCUSDT", "ETHUSDT"):
            assert bot.fake.position(symbol).amount > 0

        # a dropped connection: candles of both symbols closed meanwhile come over REST, once each
        bot.fake.drop_market_sockets()
        missed = {symbol: bot.skip_on(symbol, BASE[symbol] + 3 * STEP[symbol], BASE[symbol] + 3.5 * STEP[symbol],
                                      BASE[symbol] + 2.5 * STEP[symbol], BASE[symbol] + 3 * STEP[symbol])
                  for symbol in ("BTCUSDT", "ETHUSDT")}   # inside both positions' stop and target
        wait_until(lambda: bot.fake.wait_for_market_sockets(1, 0.05), what="the market socket to come back")

        def marked() -> dict[str, str]:
            return {r["symbol"]: r["candle_open_time"] for r in bot.rows("SELECT symbol, candle_open_time FROM market_marks")}
        from journal.journal import iso_time
        wait_until(lambda: marked() == {s: iso_time(t) for s, t in missed.items()}, 20, "both backfilled candles seen")
        log = bot.log.read_text()
        for symbol in ("BTCUSDT", "ETHUSDT"):
            assert re.search(rf"{symbol} 1m kline backfill after connecting: 1 closed candle", log), symbol
            seen = [int(t) for t in re.findall(rf"{symbol} 1m candle (\d+) closed", log)]
            assert seen.count(missed[symbol]) == 1

        # killed: the next start finds both positions, with their stops, and sends nothing twice
        bot.process.kill()
        bot.process.wait(10)
        bot.fake.drop_private_sockets()
        bot.start()
        wait_until(lambda: "recovery done: 2 position(s) still open" in bot.log.read_text(), what="recovery of both")
        assert held(bot) == {"BTCUSDT": "OPEN", "ETHUSDT": "OPEN"}
        assert len(bot.fake.requests_to("/fapi/v1/order", "POST")) == 2
        assert len(bot.fake.requests_to("/fapi/v1/algoOrder", "POST")) == 4
        bot.push_on("ETHUSDT", 2006, 2020, 2005, 2019)                  # through ETHUSDT's target (2017.5) only
        wait_until(lambda: held(bot) == {"BTCUSDT": "OPEN"}, what="the ETHUSDT position to close")
        row = bot.rows("SELECT close_reason, realized_pnl FROM positions WHERE symbol = 'ETHUSDT'")[0]
        assert row["close_reason"] == "take_profit" and Decimal(row["realized_pnl"]) == bot.fake.realized_pnl("ETHUSDT")
        assert bot.stop() == 0
        assert "stopped cleanly; 1 position(s) stay open with their stop-loss" in bot.err


def test_e2e_shared_max_positions_refuses_the_second_symbol(tmp_path):
    with TwoSymbolBot(tmp_path, settings={"risk.max_positions": "1"}) as bot:
        bot.start()
        bot.three_bullish_on("BTCUSDT")
        wait_until(lambda: protected_on(bot, "BTCUSDT"), what="protection on BTCUSDT")
        bot.three_bullish_on("ETHUSDT")
        refused = wait_until(lambda: bot.rows("SELECT symbol, refusal FROM signals WHERE accepted = 0"), what="a refusal")
        assert refused == [{"symbol": "ETHUSDT", "refusal": "MAX_POSITIONS: 1 positions open, max_positions is 1"}]
        assert [r.params["symbol"] for r in bot.fake.requests_to("/fapi/v1/order", "POST")] == ["BTCUSDT"]
        assert bot.stop() == 0


def test_e2e_symbol_not_listed_on_the_exchange_is_one_line_exit_2(tmp_path):
    with TwoSymbolBot(tmp_path, listed=("BTCUSDT",)) as bot:
        bot.start(wait=False)
        assert bot.process.wait(30) == 2
        bot.stop()
        assert "ETHUSDT is not listed on this exchange; check the symbol of its strategy in settings.toml" in bot.err
        assert bot.rows("SELECT * FROM positions") == []


def test_e2e_paper_mode_two_symbols_fill_each_on_its_own_candles_and_rules(tmp_path):
    with TwoSymbolBot(tmp_path, settings={"bot.mode": '"paper"'}) as bot:
        bot.start_paper()
        assert bot.fake.ws.count("market") == 1
        bot.three_bullish_on("BTCUSDT")
        bot.three_bullish_on("ETHUSDT")
        # each simulated entry fills at its own symbol's next open, one of its ticks worse; the high passes the target
        bot.push_on("BTCUSDT", 36_055, 36_180, 36_050, 36_170)
        bot.push_on("ETHUSDT", 2005.5, 2018, 2005, 2017)
        rows = wait_until(lambda: len(bot.rows("SELECT * FROM positions WHERE state = 'CLOSED'")) == 2 and
                          bot.rows("SELECT symbol, entry_price, exit_price, close_reason FROM positions ORDER BY symbol"),
                          what="both paper positions to close")
        assert rows == [{"symbol": "BTCUSDT", "entry_price": "36055.1", "exit_price": "36174.9", "close_reason": "take_profit"},
                        {"symbol": "ETHUSDT", "entry_price": "2005.51", "exit_price": "2017.49", "close_reason": "take_profit"}]
        assert bot.fake.requests_to("/fapi/v1/order", "POST") == []
        assert bot.stop() == 0
