"""End to end: `python bot.py` in demo mode against the fake Binance on 127.0.0.1.

The bot runs as a real process with its real python-binance REST client and
websocket-client streams; the fake checks signatures and filters and speaks Binance's
wire format. Mock_ThreeCandles_v1 fires on three bullish closes."""
from __future__ import annotations

import re
import sys
from decimal import Decimal

import pytest

from tests.fake_exchange import DEFAULT_API_KEY, DEFAULT_API_SECRET
from tests.live_bot import PRICE, LiveBot, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")


def protected(bot: LiveBot) -> bool:
    return len([a for a in bot.fake.algo_orders if a.status == "NEW"]) == 2


def closed(bot: LiveBot) -> list[dict]:
    return bot.rows("SELECT * FROM positions WHERE state = 'CLOSED'")


def test_e2e_target_hit_closes_the_position_with_the_exchange_pnl(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        bot.three_bullish()
        wait_until(lambda: protected(bot), what="stop-loss and take-profit live as algo orders")
        entries = bot.fake.requests_to("/fapi/v1/order", "POST")
        assert len(entries) == 1
        entry = entries[0].params
        assert entry["type"] == "MARKET" and entry["side"] == "BUY" and re.fullmatch(r"[a-z0-9]{6}-1-en1", entry["newClientOrderId"])
        algos = {a.type: a for a in bot.fake.algo_orders}
        assert algos["STOP_MARKET"].trigger_price == Decimal(str(PRICE - 5))
        assert algos["TAKE_PROFIT_MARKET"].trigger_price == Decimal(str(PRICE + 175))
        assert all(a.working_type == "MARK_PRICE" and a.close_position for a in algos.values())
        wait_until(lambda: bot.rows("SELECT state FROM positions WHERE state = 'OPEN'"), what="the position OPEN in the journal")

        bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)   # through the target
        row = wait_until(lambda: closed(bot), what="the position to close")[0]
        assert row["close_reason"] == "take_profit"
        assert Decimal(row["realized_pnl"]) == bot.fake.realized_pnl() != 0
        assert Decimal(row["fees"]) == bot.fake.commission_paid()
        statuses = {a.type: a.status for a in bot.fake.algo_orders}
        # a closePosition stop expires by itself once the position is flat; otherwise our cancel ends it
        assert statuses["TAKE_PROFIT_MARKET"] == "FINISHED" and statuses["STOP_MARKET"] in ("CANCELED", "EXPIRED")
        assert bot.rows("SELECT status FROM orders WHERE role = 'stop'")[0]["status"] in ("CANCELED", "EXPIRED")
        assert bot.fake.position().amount == 0
        assert bot.stop() == 0
        for text in (bot.log.read_text(), bot.err, bot.out, bot.journal.read_bytes().decode("latin-1")):
            assert DEFAULT_API_KEY not in text and DEFAULT_API_SECRET not in text
        assert "stopped cleanly" in bot.err


def test_e2e_dropped_market_socket_missed_candles_arrive_once_each(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        first = bot.push(PRICE + 10, PRICE + 15, PRICE - 5, PRICE)           # bearish: no signal
        wait_until(lambda: f"candle {first} closed" in bot.log.read_text(), what="the first live candle")
        bot.fake.drop_market_sockets()
        missed = [bot.skip(PRICE, PRICE + 15, PRICE - 5, PRICE + 10), bot.skip(PRICE + 10, PRICE + 15, PRICE - 5, PRICE)]
        wait_until(lambda: bot.fake.wait_for_market_sockets(1, 0.05), what="the market socket to come back")
        after = bot.push(PRICE, PRICE + 15, PRICE - 5, PRICE + 10)
        wait_until(lambda: f"candle {after} closed" in bot.log.read_text(), what="the candle after the reconnect")
        seen = [int(t) for t in re.findall(r"candle (\d+) closed", bot.log.read_text())]
        assert seen[-4:] == [first, *missed, after]
        assert len(seen) == len(set(seen))
        assert bot.stop() == 0


def test_e2e_listen_key_expiry_fills_are_still_seen(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        bot.three_bullish()
        wait_until(lambda: protected(bot), what="protection")
        old_key = bot.fake.expire_listen_key()
        wait_until(lambda: bot.fake.listen_keys.active() not in (None, old_key), what="a new listenKey")
        wait_until(lambda: bot.fake.wait_for_private_sockets(1, 0.05), what="the private socket to come back")
        bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)
        row = wait_until(lambda: closed(bot), what="the position to close after the key expired")[0]
        assert row["close_reason"] == "take_profit"
        assert Decimal(row["realized_pnl"]) == bot.fake.realized_pnl()
        assert bot.stop() == 0


def test_e2e_entry_answered_503_after_acceptance_makes_exactly_one_position(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        bot.fake.fail_next_order(status=503, after_accept=True)
        bot.three_bullish()
        wait_until(lambda: protected(bot), what="protection after the lost answer")
        assert len(bot.fake.orders) == 1 + 0  # one entry on the exchange; triggered orders come later
        assert len(bot.rows("SELECT * FROM positions")) == 1
        wait_until(lambda: bot.rows("SELECT state FROM positions WHERE state = 'OPEN'"), what="the position OPEN in the journal")
        assert bot.fake.position().amount > 0
        assert bot.stop() == 0
        assert "outcome unknown" in bot.log.read_text()


def test_e2e_killed_bot_restarts_and_resumes_the_open_position(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        bot.three_bullish()
        wait_until(lambda: protected(bot), what="protection")
        bot.process.kill()                      # no clean stop: a crash
        bot.process.wait(10)
        bot.fake.drop_private_sockets()
        bot.start()                             # same journal, same settings
        wait_until(lambda: "recovery done: 1 position(s) still open" in bot.log.read_text(), what="recovery")
        bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)
        row = wait_until(lambda: closed(bot), what="the restored position to close")[0]
        assert row["close_reason"] == "take_profit"
        assert len(bot.fake.requests_to("/fapi/v1/order", "POST")) == 1       # no second entry
        assert len(bot.fake.requests_to("/fapi/v1/algoOrder", "POST")) == 2   # no duplicate protection
        assert Decimal(row["realized_pnl"]) == bot.fake.realized_pnl()
        assert bot.stop() == 0


def test_e2e_protection_missing_after_restart_is_placed_again(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        bot.three_bullish()
        wait_until(lambda: protected(bot), what="protection")
        bot.process.kill()
        bot.process.wait(10)
        stop = next(a for a in bot.fake.algo_orders if a.type == "STOP_MARKET")
        with bot.fake.engine.lock:              # the stop vanished while the bot was down
            bot.fake.engine.end_algo(stop, "EXPIRED")
        bot.start()
        wait_until(lambda: len([a for a in bot.fake.algo_orders if a.type == "STOP_MARKET" and a.status == "NEW"]) == 1,
                   what="a live stop again")
        wait_until(lambda: bot.rows("SELECT state FROM positions WHERE state = 'OPEN'"), what="the position OPEN in the journal")
        assert bot.stop() == 0


def test_e2e_paper_mode_trades_live_candles_with_simulated_fills_and_no_keys(tmp_path):
    with LiveBot(tmp_path, settings={"bot.mode": '"paper"'}) as bot:
        bot.start_paper()
        bot.three_bullish()
        # the simulated entry fills at this candle's open, and its high reaches the target 36175
        bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)
        row = wait_until(lambda: closed(bot), what="the paper position to close")[0]
        assert row["close_reason"] == "take_profit"
        assert (row["entry_price"], row["exit_price"]) == ("36055.1", "36174.9")   # one tick of slippage each way
        assert bot.fake.requests_to("/fapi/v1/order", "POST") == []            # nothing sent to the exchange
        assert bot.fake.requests_to("/fapi/v1/listenKey", "POST") == []
        assert bot.stop() == 0
