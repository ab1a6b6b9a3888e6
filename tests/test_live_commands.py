"""End to end, without a browser: the dashboard's commands reach a real `python bot.py` (demo
mode, on the fake Binance) through the journal's `commands` table, appended the way the
dashboard appends them (journal.commands.append_command). Mock_ThreeCandles_v1 fires on
three bullish closes; each test ends the bot with the `stop` command (no signal needed)."""
from __future__ import annotations

import time

from journal.commands import ANSWERS, append_command
from tests.live_bot import PRICE, LiveBot, wait_until

# a quick beat, so "paused" and "stopped" are in the heartbeat row without a wait
SETTINGS = {"bot.heartbeat_seconds": "2"}


def send(bot: LiveBot, kind: str, target: str = "", value: str = "") -> dict:
    """Append a command as the dashboard does; wait for the bot's final answer; return the row."""
    command_id = append_command(bot.journal, kind, target, value, int(time.time() * 1000))
    return wait_until(lambda: next((row for row in bot.rows("SELECT * FROM commands WHERE id = ?", command_id)
                                    if row["status"] in ANSWERS), None), 5, f"the bot to answer command {command_id} {kind}")


def newest_signal(bot: LiveBot) -> dict | None:
    return next(iter(bot.rows("SELECT * FROM signals ORDER BY id DESC LIMIT 1")), None)


def signals_after(bot: LiveBot, count: int) -> dict:
    return wait_until(lambda: len(bot.rows("SELECT id FROM signals")) > count and newest_signal(bot), 10, "a new signal")


def stop_by_command(bot: LiveBot) -> int:
    assert send(bot, "stop")["status"] == "applied"
    assert bot.process is not None
    bot.out, bot.err = bot.process.communicate(timeout=30)   # drains its pipes while it stops
    return bot.process.returncode


def test_live_commands_pause_then_resume_refuses_as_paused_then_trades(tmp_path):
    with LiveBot(tmp_path, settings=SETTINGS) as bot:
        bot.start()
        paused = send(bot, "pause")
        assert paused["status"] == "applied"
        wait_until(lambda: bot.rows("SELECT state FROM heartbeat WHERE state LIKE 'paused%'"), 3, "a paused heartbeat")
        bot.three_bullish()
        refused = signals_after(bot, 0)
        assert refused["accepted"] == 0 and refused["refusal"].startswith("PAUSED: ")
        assert bot.rows("SELECT id FROM positions") == []
        assert bot.fake.requests_to("/fapi/v1/order", "POST") == []

        assert send(bot, "resume")["status"] == "applied"
        bot.three_bullish(PRICE + 55)
        accepted = signals_after(bot, 1)
        assert accepted["accepted"] == 1 and accepted["refusal"] is None and accepted["position_id"] == 1
        wait_until(lambda: bot.rows("SELECT id FROM positions WHERE state = 'OPEN'"), what="the position OPEN")
        assert len(bot.fake.requests_to("/fapi/v1/order", "POST")) == 1
        assert stop_by_command(bot) == 0


def test_live_commands_set_leverage_then_stop_reaches_exchange_and_file_and_exits_cleanly(tmp_path):
    with LiveBot(tmp_path, settings=SETTINGS) as bot:
        before = bot.settings.read_text(encoding="utf-8").splitlines()
        bot.start()
        answer = send(bot, "set_risk", "leverage", "7")
        assert answer["status"] == "applied", answer["result"]
        assert bot.fake.requests_to("/fapi/v1/leverage", "POST")[-1].params["leverage"] == "7"
        assert bot.fake.account.leverage["BTCUSDT"] == 7
        after = bot.settings.read_text(encoding="utf-8").splitlines()
        changed = [(old, new) for old, new in zip(before, after) if old != new]
        assert len(after) == len(before) and changed == [("leverage = 20", "leverage = 7")]

        refused = send(bot, "set_risk", "leverage", "500")   # settings.toml's own rule, the file untouched
        assert refused["status"] == "rejected" and "leverage" in refused["result"]
        assert bot.settings.read_text(encoding="utf-8").splitlines() == after

        assert stop_by_command(bot) == 0
        assert bot.rows("SELECT state FROM heartbeat") == [{"state": "stopped: cleanly, from the dashboard"}]
