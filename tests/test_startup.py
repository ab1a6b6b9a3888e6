"""Start-up against the fake exchange: account settings read before written, journal modes."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import DAY_FILE, ROOT
from tests.fake_exchange import DEFAULT_API_KEY, DEFAULT_API_SECRET
from tests.live_bot import LiveBot, wait_until

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
