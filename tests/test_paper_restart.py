"""Paper mode across a restart: simulated positions, orders and balance come back from the
journal, and candles missed while the bot was down fill what they would have filled."""
from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from tests.live_bot import PRICE, LiveBot, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")


def open_paper_position(bot: LiveBot) -> None:
    bot.start_paper()
    bot.three_bullish()                                       # LONG: stop 35995, target 36175
    bot.push(PRICE + 55, PRICE + 70, PRICE + 50, PRICE + 60)  # the entry fills at this open; nothing else
    wait_until(lambda: bot.rows("SELECT id FROM positions WHERE state = 'OPEN'"), what="the paper position OPEN")


def restart_paper(bot: LiveBot) -> None:
    bot.fake.drop_market_sockets()
    bot.start_paper()
    wait_until(lambda: "recovery done" in bot.log.read_text(), what="recovery after the restart")


def test_paper_restart_after_ctrl_c_restores_the_position_and_refuses_a_second_one(tmp_path):
    with LiveBot(tmp_path, settings={"bot.mode": '"paper"'}) as bot:
        open_paper_position(bot)
        assert bot.stop() == 0
        assert "1 simulated position(s) are kept in the journal" in bot.err
        assert "stay open with their stop" not in bot.err
        restart_paper(bot)
        log = bot.log.read_text()
        assert "1 open simulated position(s), 2 resting order(s)" in log
        assert "recovery done: 1 position(s) still open" in log
        bot.push(PRICE + 60, PRICE + 65, PRICE + 40, PRICE + 45)     # bearish: resets the mock strategy
        bot.three_bullish(PRICE + 45)                                # a new signal while the restored one is open
        refused = wait_until(lambda: bot.rows("SELECT refusal FROM signals WHERE accepted = 0"), what="the second signal")
        assert refused[0]["refusal"].startswith(("MAX_POSITIONS", "POSITION_OPEN"))
        bot.push(PRICE + 100, PRICE + 180, PRICE + 95, PRICE + 170)  # through the restored target
        row = wait_until(lambda: bot.rows("SELECT * FROM positions WHERE state = 'CLOSED'"), what="the restored position to close")[0]
        assert row["close_reason"] == "take_profit" and row["exit_price"] == "36174.9"
        assert len(bot.rows("SELECT id FROM positions")) == 1
        assert bot.stop() == 0


def test_paper_restart_after_a_crash_fills_the_target_on_a_candle_missed_while_down(tmp_path):
    with LiveBot(tmp_path, settings={"bot.mode": '"paper"'}) as bot:
        open_paper_position(bot)
        bot.process.kill()                                           # no clean stop
        bot.process.wait(10)
        bot.skip(PRICE + 60, PRICE + 180, PRICE + 55, PRICE + 170)   # closed while the bot was down: through the target
        bot.skip(PRICE + 170, PRICE + 175, PRICE + 150, PRICE + 160)
        restart_paper(bot)
        row = wait_until(lambda: bot.rows("SELECT * FROM positions WHERE state = 'CLOSED'"), what="the missed target fill")[0]
        assert row["close_reason"] == "take_profit" and row["exit_price"] == "36174.9"
        fills = bot.rows("SELECT realized_pnl, fee FROM fills")
        assert Decimal(row["realized_pnl"]) == sum(Decimal(f["realized_pnl"]) for f in fills) > 0
        assert bot.rows("SELECT value FROM meta WHERE key = 'paper_starting_balance'") == [{"value": "10000"}]
        assert bot.stop() == 0
