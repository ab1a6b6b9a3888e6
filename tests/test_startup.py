"""Start-up against the fake exchange: account settings read before written, journal modes."""
from __future__ import annotations

import sys

import pytest

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
