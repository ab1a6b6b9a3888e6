"""End to end with an ICT strategy: OB_Limit_Entry_v1 rests a LIMIT entry on the fake Binance, then
cancels it itself (CancelEntry) when structure flips, in demo mode through the real bot process.

The candles are the hand-made break of `tests.strategy_cases.BREAK_LEG` scaled around 36,000
(price p becomes 36,000 + 100 × (p − 100)) after the bot's flat warm-up history; the engine runs
with short lengths so structure forms in a few candles."""
from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from tests.live_bot import PRICE, LiveBot, wait_until
from tests.strategy_cases import BREAK_LEG

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")

SETTINGS = {
    "strategy.strategy_name": '"OB_Limit_Entry_v1"', "strategy.params.level": '"internal"',
    "strategy.params.stop_buffer_atr": "0.0", "ict.internal_length": "2", "ict.swing_length": "3",
    "ict.previous_day_pools": "false", "ict.previous_week_pools": "false",
}
FLIP = [(107.5, 109, 106, 108), (108, 108.5, 106.5, 107), (107, 107.5, 103, 104)]  # an internal swing low at 105, then a close below


def scaled(p: float) -> float:
    return PRICE + 100 * (p - 100)


def test_e2e_ob_limit_entry_is_placed_then_cancelled_when_structure_flips(tmp_path):
    with LiveBot(tmp_path, settings=SETTINGS) as bot:
        bot.start()
        for o, h, l, c in BREAK_LEG[:12]:   # the bullish break closes at candle 11
            bot.push(scaled(o), scaled(h), scaled(l), scaled(c))
        limit = wait_until(lambda: [o for o in bot.fake.orders if o.type == "LIMIT" and o.status == "NEW"],
                           what="the LIMIT entry resting on the exchange")[0]
        assert (limit.side, limit.price) == ("BUY", Decimal("35700"))    # the order block's top, 97 scaled
        wait_until(lambda: bot.rows("SELECT * FROM orders WHERE role = 'entry' AND status = 'NEW'"),
                   what="the entry journaled as resting")
        for o, h, l, c in BREAK_LEG[12:] + FLIP:   # never back down to the limit; the last candle flips structure
            bot.push(scaled(o), scaled(h), scaled(l), scaled(c))
        wait_until(lambda: limit.status == "CANCELED", what="the strategy's cancel of the resting entry")
        cancels = bot.fake.requests_to("/fapi/v1/order", "DELETE")
        assert [r.params["origClientOrderId"] for r in cancels] == [limit.client_id]
        wait_until(lambda: bot.rows("SELECT * FROM positions WHERE id = 1 AND state = 'CLOSED'"), what="position 1 closed")
        position = bot.rows("SELECT * FROM positions WHERE id = 1")[0]
        assert (position["close_reason"], position["opened_at"], position["realized_pnl"]) == ("entry_canceled", None, "0")
        signal = bot.rows("SELECT * FROM signals WHERE position_id = 1")[0]
        assert (signal["entry_type"], signal["side"], signal["entry_price"], signal["stop_price"], signal["take_profit_price"]) == \
            ("LIMIT", "LONG", "35700.0", "35400.0", "36300.0")   # block [94, 97] scaled; no liquidity above: 2 R
        assert signal["basis"] == "order_block:15,choch:12" and signal["expiry_candles"] == 50
        moves = bot.rows("SELECT event, detail FROM transitions WHERE position_id = 1 ORDER BY id")
        assert [m["event"] for m in moves] == ["submit_entry", "cancel_entry", "entry_failed"]
        assert moves[1]["detail"] == "strategy: structure flipped bearish at internal level"
        assert bot.rows("SELECT status FROM orders WHERE position_id = 1") == [{"status": "CANCELED"}]
        # the flip's own bearish order block: a LIMIT sell now rests above the price
        short = wait_until(lambda: [o for o in bot.fake.orders if o.side == "SELL" and o.type == "LIMIT"], what="the short entry")[0]
        assert short.price == Decimal("36600") and short.status == "NEW"
        assert bot.fake.position().amount == 0
        assert bot.stop() == 0
