"""Start-up against the fake exchange: account settings read before written, journal modes."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from tests.conftest import DAY_FILE, ROOT
from tests.fake_exchange import DEFAULT_API_KEY, DEFAULT_API_SECRET
from tests.live_bot import PRICE, LiveBot, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")


def test_startup_4067_on_a_margin_type_already_set_starts_trading(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.fake.account.margin_type["BTCUSDT"] = "ISOLATED"    # what settings.toml asks for
        bot.fake.refuse_margin_type_changes(-4067)              # this host answers -4067 to any change
        bot.start()
        wait_until(lambda: "trading BTCUSDT" in bot.log.read_text(), what="the bot trading")
        assert bot.fake.requests_to("/fapi/v1/marginType", "POST") == []
        assert bot.stop() == 0
        assert "margin type already ISOLATED" in bot.log.read_text()


def test_startup_failed_demo_start_leaves_the_journal_to_the_default_replay(tmp_path):
    journal = tmp_path / "journal.db"
    with LiveBot(tmp_path) as bot:
        bot.fake.rest.keys.clear()                   # the fake knows no key: -2015 at the first signed call
        environment = {**os.environ, "BINANCE_API_KEY": DEFAULT_API_KEY, "BINANCE_API_SECRET": DEFAULT_API_SECRET}
        demo = subprocess.run([sys.executable, "bot.py", "--settings", str(bot.settings)], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, env=environment)
    assert demo.returncode == 2 and "refused the API key" in demo.stderr
    replay = subprocess.run([sys.executable, "bot.py", "--replay", str(DAY_FILE), "--journal", str(journal)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert replay.returncode == 0, replay.stderr
    assert "replay summary" in replay.stdout


def test_startup_raised_min_notional_is_learnt_after_one_refusal(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        reads_at_start = len(bot.fake.requests_to("/fapi/v1/exchangeInfo", "GET"))
        # Binance raises BTCUSDT's minimum notional above the ~60,000 USDT entry the mock sizes
        bot.fake.rules["BTCUSDT"] = dataclasses.replace(bot.fake.rules["BTCUSDT"], min_notional="100000")
        bot.three_bullish()
        wait_until(lambda: bot.rows("SELECT * FROM positions WHERE close_reason = 'entry_rejected'"),
                   what="the first entry refused by the exchange")
        bot.push(PRICE + 60, PRICE + 65, PRICE + 30, PRICE + 35)            # bearish: resets the mock
        bot.three_bullish(PRICE + 35)
        refused = wait_until(lambda: bot.rows("SELECT refusal FROM signals WHERE accepted = 0"), what="the second signal")
        assert refused[0]["refusal"].startswith("NOTIONAL_BELOW_MIN") and "minimum 100000" in refused[0]["refusal"]
        assert len(bot.fake.requests_to("/fapi/v1/order", "POST")) == 1     # the second signal never reached the exchange
        assert len(bot.fake.requests_to("/fapi/v1/exchangeInfo", "GET")) == reads_at_start + 1
        assert bot.stop() == 0
