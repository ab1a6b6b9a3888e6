"""The exchange is the truth: positions closed outside the bot, liquidations, refused
reduce-only orders, failed stop placement and cancels, partly filled stops, fills out of
order, and a crash while closing, each reproduced through the fake exchange."""
from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from decimal import Decimal

import pytest

from tests.truth_harness import PRICE, TruthBot
from trade.recovery import recover


@pytest.fixture
def bot(tmp_path):
    with TruthBot(tmp_path) as running:
        yield running


def open_long(bot: TruthBot):
    position = bot.signal()
    assert position is not None and position.state.value == "OPEN", "the long should be protected at once"
    assert len(bot.open_algos()) == 2
    return position


def assert_books_match_the_exchange(bot: TruthBot, row: dict) -> None:
    assert Decimal(row["realized_pnl"]) == bot.fake.realized_pnl()
    assert Decimal(row["fees"]) == bot.fake.commission_paid()


def restart(bot: TruthBot) -> None:
    """The bot was down while the account changed: its events are gone, a new trader recovers."""
    bot._seen = len(bot.fake.events)
    bot.trader = bot.new_trader()
    recover(bot.trader, bot.journal, "BTCUSDT")
    bot.pump()


# ----- 1. position truth from the account ---------------------------------------------------------------

def test_truth_closed_by_hand_while_running_closes_the_journal_position_and_accepts_the_next_signal(bot):
    open_long(bot)
    bot.fake.set_price(PRICE + 50)
    bot.fake.close_by_hand()
    bot.pump()
    row = bot.position_row()
    assert (row["state"], row["close_reason"], row["exit_price"]) == ("CLOSED", "closed_outside_bot", str(PRICE + 50))
    assert_books_match_the_exchange(bot, row)
    assert bot.open_algos() == [] and bot.trader.positions == {}
    assert bot.signal() is not None


def test_truth_closed_by_hand_seen_only_in_account_update_closes_after_the_settle_second(bot):
    # nothing of ours expires or fills: the ACCOUNT_UPDATE alone says the account is flat
    open_long(bot)
    bot.fake.keep_close_position_orders_when_flat()
    bot.fake.close_by_hand()
    bot.pump()
    assert bot.position_row()["state"] == "OPEN"   # our own order events get a second to explain it
    bot.tick(1.0)
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "closed_outside_bot")
    assert bot.open_algos() == []


def test_truth_take_profit_fill_explained_by_our_events_costs_no_position_request(bot):
    # Binance sends ACCOUNT_UPDATE before the fill's ORDER_TRADE_UPDATE; both arrive together here
    open_long(bot)
    before = bot.requests("/fapi/v3/positionRisk", "GET")
    bot.fake.set_price(PRICE + 250)
    bot.pump()
    bot.tick(1.0, times=3)
    assert bot.position_row()["close_reason"] == "take_profit"
    assert bot.requests("/fapi/v3/positionRisk", "GET") == before


def test_truth_closed_by_hand_stop_and_target_fire_on_the_flat_account_without_an_order_loop(bot):
    # the fault: the position is closed by hand, the bot misses the ACCOUNT_UPDATE, its stop and target
    # (not yet expired) fire on the flat account and are refused "Reduce Only"; the bot then sent a
    # reduce-only exit, refused -2022, again and again without end (1,472 times in 5 s)
    open_long(bot)
    bot.dropped = {"ACCOUNT_UPDATE"}
    bot.fake.keep_close_position_orders_when_flat()
    bot.fake.close_by_hand()
    bot.pump()
    bot.fake.set_price(PRICE - 150)       # through the stop
    bot.pump()
    bot.fake.set_price(PRICE + 250)       # through the target
    bot.pump()
    bot.tick(1.0, times=10)
    assert (bot.position_row()["state"], bot.position_row()["close_reason"]) == ("CLOSED", "closed_outside_bot")
    assert bot.requests("/fapi/v1/order") == 1          # the entry only: no exit on a flat account
    assert bot.requests("/fapi/v1/algoOrder") == 2      # no protection placed again on a flat account
    assert len(bot.fake.requests) < 40
    assert bot.signal() is not None


def test_truth_closed_by_hand_while_down_recovery_closes_it_with_the_real_exit(bot):
    open_long(bot)
    bot.fake.set_price(PRICE - 40)
    bot.fake.close_by_hand()
    restart(bot)
    row = bot.position_row()
    assert (row["state"], row["close_reason"], row["exit_price"]) == ("CLOSED", "closed_outside_bot", str(PRICE - 40))
    assert_books_match_the_exchange(bot, row)
    assert bot.trader.positions == {} and bot.open_algos() == []


@pytest.mark.parametrize("adl, reason", [(False, "liquidation"), (True, "adl")])
@pytest.mark.parametrize("while_down", [False, True])
def test_truth_liquidation_or_adl_closes_the_position_with_its_reason(bot, caplog, adl, reason, while_down):
    open_long(bot)
    bot.fake.liquidate(price=PRICE - 90, adl=adl)
    with caplog.at_level(logging.ERROR, logger="trade.account_truth"):
        restart(bot) if while_down else bot.pump()
    row = bot.position_row()
    assert (row["state"], row["close_reason"], row["exit_price"]) == ("CLOSED", reason, str(PRICE - 90))
    assert_books_match_the_exchange(bot, row)
    assert any(r.levelno == logging.ERROR and reason in r.getMessage() for r in caplog.records)
    outside = bot.rows("SELECT role, status, detail FROM orders WHERE role = 'outside'")
    assert outside[0]["status"] == "FILLED" and ("autoclose" in outside[0]["detail"])


def test_truth_second_position_closed_outside_does_not_book_the_first_ones_trades_again(bot):
    # the trades outside the bot are read from 5 s before a position's first fill: a position opened
    # soon after a liquidation was closed by an ADL with the liquidation's trades (its reason and PnL)
    open_long(bot)
    bot.fake.liquidate(price=PRICE - 90)
    bot.pump()
    assert bot.position_row(1)["close_reason"] == "liquidation"
    position = bot.signal()
    assert position.id == 2 and position.state.value == "OPEN"
    before = bot.fake.realized_pnl()
    bot.fake.set_price(PRICE + 30)
    bot.fake.liquidate(adl=True)
    bot.pump()
    row = bot.position_row(2)
    assert (row["state"], row["close_reason"], row["exit_price"]) == ("CLOSED", "adl", str(PRICE + 30))
    assert Decimal(row["realized_pnl"]) == bot.fake.realized_pnl() - before
    assert bot.rows("SELECT COUNT(*) AS n FROM fills")[0]["n"] == len(bot.fake.trades)


def test_truth_hedge_mode_short_closed_by_hand_leaves_the_long_alone(tmp_path):
    from ict.models import Side

    with TruthBot(tmp_path, dual_side=True) as bot:
        long_position = bot.signal()
        short_position = bot.signal(Side.SHORT, stop=PRICE + 100, target=PRICE - 200)
        assert long_position.state.value == short_position.state.value == "OPEN"
        bot.fake.close_by_hand(position_side="SHORT")
        bot.pump()
        states = {r["side"]: (r["state"], r["close_reason"]) for r in bot.rows("SELECT * FROM positions")}
        assert states == {"LONG": ("OPEN", None), "SHORT": ("CLOSED", "closed_outside_bot")}


# ----- 2. no blind retry loops --------------------------------------------------------------------------

def test_truth_exit_refused_2022_while_held_stops_after_three_tries(bot, caplog):
    open_long(bot)
    for _ in range(10):
        bot.fake.reject_next_order(-2022)
    with caplog.at_level(logging.ERROR):
        bot.trader.close_all("asked")
        bot.pump()
        bot.tick(1.0, times=20)
    assert bot.requests("/fapi/v1/order") == 1 + 3
    assert bot.position_row()["state"] == "CLOSING" and bot.position_row()["close_reason"] == "asked"
    assert any("refused 3 times in a row" in r.getMessage() and "position 1" in r.getMessage() for r in caplog.records)
    bot.offset_ms += 300_000                              # the 5-minute reconcile allows one more round, bounded
    bot.tick(1.0, times=5)
    assert bot.requests("/fapi/v1/order") <= 1 + 6


@pytest.mark.parametrize("code", [-2022, -4118])
def test_truth_exit_refused_reduce_only_on_a_flat_account_reads_the_position(bot, code):
    open_long(bot)
    bot.dropped = {"ACCOUNT_UPDATE", "ALGO_UPDATE"}      # the bot learns nothing from the stream
    bot.fake.keep_close_position_orders_when_flat()
    bot.fake.close_by_hand()
    bot.pump()
    bot.fake.reject_next_order(code)
    bot.trader.close_all("asked")
    bot.pump()
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "closed_outside_bot")
    assert bot.requests("/fapi/v1/order") == 2           # the entry and the one refused exit
    assert bot.open_algos() == []                         # our stop and target cancelled


# ----- 3. protection within seconds ---------------------------------------------------------------------

def test_truth_stop_placement_5xx_is_retried_with_the_same_id_within_seconds(bot):
    bot.fake.fail_next_algo(status=502, n=3)             # the first try, its resend, and the guard's first resend
    position = bot.signal()
    assert position.state.value == "ENTERING"
    bot.tick(1.0, times=4)
    stops = [a for a in bot.open_algos() if a.type == "STOP_MARKET"]
    assert len(stops) == 1 and stops[0].client_algo_id.endswith("-sl1")
    assert position.state.value == "OPEN"


def test_truth_stop_never_placed_closes_at_market_after_protect_within_seconds(bot):
    bot.fake.fail_next_algo(status=500, n=100)
    position = bot.signal()
    bot.tick(1.0, times=8)
    assert position.state.value == "ENTERING"            # not yet: 10 s allowed
    bot.tick(1.0, times=4)
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "unprotected")
    assert bot.fake.position().amount == 0
    assert_books_match_the_exchange(bot, row)


def test_truth_stop_5xx_every_time_closes_within_protect_within_seconds_of_the_entry_fill(bot):
    # each placement that gets a 5xx is looked up a few times a second apart before its resend: those
    # waits count. The deadline runs from the entry fill, not from when the guard first looks
    bot.sleeps_take_time = True
    bot.fake.fail_next_algo(status=503, n=1000)
    position = bot.signal()
    filled_at = position.opened_at
    for _ in range(30):
        if bot.position_row()["state"] == "CLOSED":
            break
        bot.tick(1.0)
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "unprotected")
    exit_sent = bot.rows("SELECT at FROM transitions WHERE position_id = 1 AND event = 'protection_failed'")[0]["at"]
    bare_s = (datetime.fromisoformat(exit_sent.replace("Z", "+00:00")).timestamp() * 1000 - filled_at) / 1000
    assert bare_s <= 10 + 1, f"{bare_s:.1f} s without a stop (protect_within_seconds = 10, checked every second)"
    assert bot.requests("/fapi/v1/algoOrder") <= 8      # bounded: a few tries of the stop, no target flood
    assert_books_match_the_exchange(bot, row)


def test_truth_market_exit_without_answer_is_asked_for_and_sent_again(bot):
    # an outage: the stop never placed, and the market exit that follows gets no answer either. The
    # position sat in CLOSING, held and without a stop, after the exchange came back: the unanswered
    # exit counted as "something still closing it"
    bot.fake.fail_next_algo(status=503, n=1000)
    position = bot.signal()
    bot.fake.fail_next("POST", "/fapi/v1/order", 503, n=1000)   # the exit and its resends (never executed)
    bot.tick(1.0, times=20)
    assert position.state.value == "CLOSING" and bot.fake.position().amount != 0
    assert bot.requests("/fapi/v1/order") <= 1 + 2 * 10          # the entry, then 2 tries per 2-second guard round
    with bot.fake.rest.lock:
        bot.fake.rest.faults.failures.clear()                     # the exchange answers again
    bot.tick(1.0, times=3)
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "unprotected")
    assert bot.fake.position().amount == 0
    assert_books_match_the_exchange(bot, row)


def test_truth_failed_cancel_of_the_leftover_target_is_retried_until_gone(bot):
    bot.fake.keep_close_position_orders_when_flat()
    open_long(bot)
    bot.fake.fail_next_cancel(n=3)
    bot.fake.set_price(PRICE - 150)                       # the stop fills; the target must be cancelled
    bot.pump()
    assert bot.position_row()["state"] == "CLOSING"
    bot.tick(1.0, times=8)
    assert bot.position_row()["state"] == "CLOSED" and bot.open_algos() == []
    assert bot.signal() is not None


# ----- 4. partial fills of stops --------------------------------------------------------------------------

@pytest.mark.parametrize("dropped", [set(), {"ACCOUNT_UPDATE"}])
def test_truth_stop_filled_in_part_then_expired_closes_the_rest_at_market(bot, dropped):
    position = open_long(bot)
    bot.dropped = dropped
    bot.fake.partial_fill_next_trigger(position.open_quantity * Decimal("0.4"))
    bot.fake.set_price(PRICE - 150)
    bot.pump()
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "stop_loss")
    assert bot.fake.position().amount == 0
    fills = bot.rows("SELECT o.role, f.quantity FROM fills f JOIN orders o USING (client_order_id) WHERE o.role != 'entry'")
    assert sorted((f["role"], Decimal(f["quantity"])) for f in fills) == [("exit", Decimal("0.6")), ("stop", Decimal("0.4"))]
    assert_books_match_the_exchange(bot, row)


def test_truth_target_filled_in_part_then_expired_gets_a_new_target_for_the_rest(bot):
    position = open_long(bot)
    bot.fake.partial_fill_next_trigger(position.open_quantity * Decimal("0.4"))
    bot.fake.set_price(PRICE + 200)                       # the target triggers, fills 40 %, the rest expires
    bot.fake.set_price(PRICE + 100)                       # and the price falls back
    bot.pump()
    assert position.state.value == "OPEN" and position.open_quantity == Decimal("0.6")
    live = sorted(a.client_algo_id[-3:] for a in bot.open_algos())
    assert live == ["sl1", "tp2"]
    bot.fake.set_price(PRICE + 250)
    bot.pump()
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "take_profit")
    assert_books_match_the_exchange(bot, row)


def test_truth_target_filled_in_part_price_still_past_it_takes_the_rest_at_market(bot):
    position = open_long(bot)
    bot.fake.partial_fill_next_trigger(position.open_quantity * Decimal("0.4"))
    bot.fake.set_price(PRICE + 250)
    bot.pump()
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "take_profit")
    assert bot.fake.position().amount == 0
    assert_books_match_the_exchange(bot, row)


# ----- 5. fills counted by trade id -------------------------------------------------------------------------

def test_truth_fill_events_reversed_and_duplicated_book_every_fee_once(bot):
    position = open_long(bot)
    bot.fake.hold_user_events()
    bot.fake.partial_fill_next_trigger(position.open_quantity * Decimal("0.4"))
    bot.fake.set_price(PRICE - 150)
    bot.fake.release_user_events(reverse=True, duplicate=True)
    bot.pump()
    bot.tick(1.0, times=4)
    row = bot.position_row()
    assert row["state"] == "CLOSED"
    assert_books_match_the_exchange(bot, row)
    assert bot.rows("SELECT COUNT(*) AS n FROM fills")[0]["n"] == len(bot.fake.trades)


def test_truth_stop_expiry_heard_before_its_fill_books_a_stop_loss_not_a_new_stop(bot):
    # events reversed: the stop's EXPIRED (its rest) comes before its partial fill. The bot took the
    # stop for lost, placed a new one (refused -2021, the price being past it) and booked the close as
    # protection_refused; the lost stop itself is asked first now, and its fill is found
    position = open_long(bot)
    bot.fake.hold_user_events()
    bot.fake.partial_fill_next_trigger(position.open_quantity * Decimal("0.4"))
    bot.fake.set_price(PRICE - 150)
    bot.fake.release_user_events(reverse=True)
    bot.pump()
    bot.tick(1.0, times=4)
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "stop_loss")
    assert bot.requests("/fapi/v1/algoOrder") == 2      # no second stop
    assert_books_match_the_exchange(bot, row)


def test_truth_target_filled_and_stop_rejected_on_the_flat_account_while_down_books_the_take_profit(bot):
    # found by a kill loop: while the bot was down the target filled, then the price came back through the
    # stop, whose closePosition order (not yet expired) triggered on the flat account and was REJECTED. Asked
    # over REST the stop says REJECTED without its reason: recovery took it for a refused stop on a held
    # position, sent a market exit (refused -2022) and wrote close_reason protection_refused
    bot.fake.keep_close_position_orders_when_flat()
    open_long(bot)
    bot.fake.set_price(PRICE + 250)                       # through the target
    bot.fake.set_price(PRICE - 150)                       # back through the stop: rejected, nothing to reduce
    assert [a.status for a in bot.fake.algo_orders] == ["REJECTED", "FINISHED"]
    restart(bot)
    row = bot.position_row()
    assert (row["state"], row["close_reason"]) == ("CLOSED", "take_profit")
    assert bot.requests("/fapi/v1/order") == 1            # the entry only: no exit on a flat account
    assert_books_match_the_exchange(bot, row)


# ----- 8. a crash while closing keeps the reason ------------------------------------------------------------

def test_truth_crash_while_closing_keeps_the_close_reason(bot):
    open_long(bot)
    bot.fake.hold_user_events()                           # the exit fills, but the bot dies before hearing it
    bot.trader.close_all("asked")
    reader = sqlite3.connect(bot.journal_path)
    assert reader.execute("SELECT state, close_reason FROM positions").fetchone() == ("CLOSING", "asked")
    reader.close()
    bot.fake.release_user_events()
    restart(bot)
    trade = bot.rows("SELECT close_reason, realized_pnl FROM trades")[0]
    assert trade["close_reason"] == "asked" and Decimal(trade["realized_pnl"]) == bot.fake.realized_pnl()


def test_truth_old_journal_closing_without_reason_gets_one_from_its_fills_on_restart(bot):
    open_long(bot)
    bot.fake.hold_user_events()
    bot.trader.close_all("asked")
    bot.journal.connection.execute("UPDATE positions SET close_reason = NULL")   # as an older bot left it
    bot.fake.release_user_events()
    restart(bot)
    assert bot.rows("SELECT close_reason FROM trades") == [{"close_reason": "exit"}]


def test_truth_stop_placement_answer_lost_after_acceptance_finds_the_live_stop(bot):
    bot.fake.fail_next_algo(status=503, after_accept=True)
    position = bot.signal()
    assert position.state.value == "OPEN"
    assert len([a for a in bot.fake.algo_orders if a.type == "STOP_MARKET"]) == 1
    assert bot.requests("/fapi/v1/algoOrder") == 2                     # the stop once, the target once
