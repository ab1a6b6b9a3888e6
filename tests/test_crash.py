"""Crash test: the bot is killed right after each journal commit and each order request of a
position's life, and during start-up recovery, then restarted (trade/crash_points.py).

Two lives against the fake exchange, one signal each:
- `target`: entry, stop, take-profit, the target fills, the stop is cancelled;
- `exit`: entry, the stop is refused (-2021), the position is closed at market, the target cancelled.
After every run: never more than one entry per signal, every open position protected within
5 s of a restart, no order of ours open on a flat position, the journal's PnL and fees equal
the exchange's, every CLOSED trade has its reason.
"""
from __future__ import annotations

import sys
import time
from decimal import Decimal

import pytest

from tests.live_bot import PRICE, LiveBot, wait_until
from trade.crash_points import CRASH_EXIT_CODE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")

PROTECTED_WITHIN = 5.0    # seconds from a restart to a live stop and target on an open position
FLAT_CLEAN_WITHIN = 10.0  # seconds for a flat position to have no order of ours left

# A target life commits 13 times, an exit life 11 (commits 1-4 are the same in both); a crash after
# the last one (CLOSED) leaves nothing to recover, so it is not among the cases.
TARGET_CASES = [f"commit:{n}" for n in range(1, 13)] + ["entry", "stop", "take_profit", "cancel"]
EXIT_CASES = [f"commit:{n}" for n in range(5, 11)] + ["exit", "cancel"]
# (first crash, crash during the recovery that follows it)
RECOVERY_CASES = [("entry", "commit:1"), ("stop", "commit:1"), ("take_profit", "commit:1"), ("commit:12", "commit:1"),
                  ("commit:4", "stop"), ("commit:4", "take_profit"), ("commit:12", "cancel")]


def ours(bot: LiveBot, prefix: str) -> tuple[list, list]:
    orders = [o for o in bot.fake.orders if o.client_id.startswith(prefix)]
    algos = [a for a in bot.fake.algo_orders if a.client_algo_id.startswith(prefix)]
    return orders, algos


def protected(bot: LiveBot) -> bool:
    live = {a.type for a in bot.fake.algo_orders if a.is_open}
    return {"STOP_MARKET", "TAKE_PROFIT_MARKET"} <= live


def dead(bot: LiveBot) -> bool:
    return bot.process.poll() is not None


class Run:
    """One bot through one life; restarts it after every crash, with the next environment."""

    def __init__(self, bot: LiveBot, environments: list[dict]) -> None:
        # Binance expires a closePosition order once its position is flat, but that expiry can come
        # after the other order's fill: the fake keeps them, so every life ends with a cancel of ours
        bot.fake.keep_close_position_orders_when_flat()
        self.bot = bot
        self.environments = environments
        self.crashes = 0
        self.bot.start(env=self.environments.pop(0))

    def until(self, condition, what: str, timeout: float = 20.0) -> None:
        """Wait for `condition`, restarting the bot each time it crashes on the way."""
        while True:
            wait_until(lambda: condition() or dead(self.bot), timeout, what)
            if not dead(self.bot):
                return
            assert self.bot.process.wait() == CRASH_EXIT_CODE, self.bot.process.stderr.read()[-2000:]
            self.restart()

    def restart(self) -> None:
        self.crashes += 1
        self.bot.process.stdout.close()
        self.bot.process.stderr.close()
        self.bot.fake.drop_private_sockets()
        self.bot.fake.drop_market_sockets()
        started, seen = time.monotonic(), len(self.bot.log.read_text())
        self.bot.start(env=self.environments.pop(0) if self.environments else {}, wait=False)
        wait_until(lambda: dead(self.bot) or "recovery done" in self.bot.log.read_text()[seen:], 30, "recovery after the restart")
        if dead(self.bot):
            return                      # killed during recovery: `until` restarts it again
        if self.bot.fake.position().amount != 0:   # protected, or closed at market, within 5 s
            left = PROTECTED_WITHIN - (time.monotonic() - started)
            wait_until(lambda: protected(self.bot) or self.bot.fake.position().amount == 0 or dead(self.bot), max(left, 0.01),
                       f"a stop and a target (or a flat account) within {PROTECTED_WITHIN} s of the restart")


def finish_and_check(run: Run) -> None:
    bot = run.bot
    prefix = bot.rows("SELECT value FROM meta WHERE key = 'id_prefix'")[0]["value"] + "-"
    wait_until(lambda: bot.fake.position().amount == 0, 10, "the account flat")
    wait_until(lambda: not any(o.is_open for group in ours(bot, prefix) for o in group), FLAT_CLEAN_WITHIN,
               "no order of ours left on the flat account")
    positions = bot.rows("SELECT * FROM positions")
    assert len(positions) == 1                                               # one signal, one position
    orders, _ = ours(bot, prefix)
    assert len([o for o in orders if "-en" in o.client_id]) <= 1             # never more than one entry
    assert [(p["state"], bool(p["close_reason"])) for p in positions] == [("CLOSED", True)], \
        [(p["state"], p["close_reason"]) for p in positions]
    assert sum(Decimal(p["realized_pnl"]) for p in positions) == bot.fake.realized_pnl()
    assert sum(Decimal(p["fees"]) for p in positions) == bot.fake.commission_paid()
    assert bot.stop() == 0


def target_life(run: Run) -> None:
    bot = run.bot
    bot.three_bullish()   # LONG 1.666 at 36055: stop 35995, target 36175
    run.until(lambda: bot.rows("SELECT 1 FROM positions WHERE state IN ('OPEN', 'CLOSED')"), "the position OPEN (or never entered)")
    if bot.rows("SELECT 1 FROM positions WHERE state = 'OPEN'"):
        bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)          # through the target
    run.until(lambda: bot.rows("SELECT 1 FROM positions WHERE state = 'CLOSED'"), "the position CLOSED")


def exit_life(run: Run) -> None:
    bot = run.bot
    bot.fake.reject_next_algo(-2021)                                        # the stop: "would immediately trigger"
    bot.three_bullish()
    run.until(lambda: bot.rows("SELECT 1 FROM positions WHERE state = 'CLOSED'"), "the position closed at market")


@pytest.mark.parametrize("crash_at", TARGET_CASES)
def test_crash_target_life_killed_at_each_step_ends_flat_and_booked(tmp_path, crash_at):
    with LiveBot(tmp_path) as bot:
        run = Run(bot, [{"BOT_CRASH_AT": crash_at}])
        target_life(run)
        assert run.crashes == 1
        finish_and_check(run)


@pytest.mark.parametrize("crash_at", EXIT_CASES)
def test_crash_exit_life_killed_at_each_step_ends_flat_and_booked(tmp_path, crash_at):
    with LiveBot(tmp_path) as bot:
        run = Run(bot, [{"BOT_CRASH_AT": crash_at}])
        exit_life(run)
        assert run.crashes == 1
        finish_and_check(run)


@pytest.mark.parametrize("first, in_recovery", RECOVERY_CASES)
def test_crash_during_recovery_after_a_crash_ends_flat_and_booked(tmp_path, first, in_recovery):
    with LiveBot(tmp_path) as bot:
        run = Run(bot, [{"BOT_CRASH_AT": first}, {"BOT_CRASH_AT": in_recovery}])
        target_life(run)
        assert run.crashes == 2
        finish_and_check(run)
