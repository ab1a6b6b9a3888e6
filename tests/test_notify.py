"""Telegram notifications (#10 item 8): the sender against tests/fake_telegram.py, its settings and secrets, the texts."""
from __future__ import annotations

import logging
import socket
import time
from decimal import Decimal

import pytest

from ict.models import Side
from runtime.notify import ErrorAlerts, NullNotifier, TelegramNotifier, TradeNotices, build_notifier, messages
from runtime.notify.alerts import DAY_MS, DailySummaryClock
from runtime.secrets import RedactSecrets, TelegramSecrets, load_keys, load_telegram
from runtime.settings import NotifySettings, SettingsError, load_settings
from trade.position import Position
from tests.fake_telegram import TOKEN, FakeTelegram

CHAT = "-1001234567890"


@pytest.fixture
def telegram():
    with FakeTelegram() as fake:
        yield fake


def notifier_for(fake: FakeTelegram, **options) -> TelegramNotifier:
    options = {"backoff_s": 0.01, "timeout_s": 2.0, "drain_s": 2.0, **options}
    return TelegramNotifier(fake.url, fake.token, CHAT, **options)


def warnings_and_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


# ----- delivery ------------------------------------------------------------------------------------------
def test_notifier_messages_arrive_in_order_with_the_chat_id_and_text(telegram):
    notifier = notifier_for(telegram).start()
    for text in ("one", "two", "three"):
        notifier.send(text)
    assert notifier.flush(5)
    notifier.stop()
    assert telegram.texts() == ["one", "two", "three"]
    assert {r.json["chat_id"] for r in telegram.requests} == {CHAT}
    assert {r.path for r in telegram.requests} == {f"/bot{TOKEN}/sendMessage"}
    assert (notifier.sent, notifier.dropped) == (3, 0)


def test_notifier_send_returns_at_once_while_the_server_hangs(telegram):
    telegram.answers.append("hang")
    notifier = notifier_for(telegram, timeout_s=5.0).start()
    notifier.send("held")
    assert telegram.hanging.wait(5)          # the sender thread is now inside a request that does not end
    started = time.perf_counter()
    for index in range(50):
        notifier.send(f"queued {index}")
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5                     # 50 sends behind a request hung for up to 5 s: none waited on it
    assert telegram.texts() == ["held"]      # nothing else went out meanwhile: they were queued
    telegram.release()
    assert notifier.flush(5)
    notifier.stop()
    assert telegram.texts() == ["held"] + [f"queued {index}" for index in range(50)]


def test_notifier_5xx_is_retried_then_delivered(telegram, caplog):
    telegram.answers += ["502", "500"]
    notifier = notifier_for(telegram).start()
    notifier.send("after two failures")
    assert notifier.flush(5)
    notifier.stop()
    assert telegram.texts() == ["after two failures"] * 3
    assert (notifier.sent, notifier.dropped) == (1, 0)
    assert warnings_and_errors(caplog) == []


def test_notifier_429_waits_retry_after_before_the_next_try(telegram):
    telegram.answers.append("429:0.3")
    # a backoff of 5 s would end the test by timeout: only retry_after can explain a retry within it
    notifier = notifier_for(telegram, backoff_s=5.0).start()
    notifier.send("flooded")
    assert notifier.flush(4)
    notifier.stop()
    first, second = telegram.requests
    assert 0.3 <= second.at - first.at < 2.0
    assert notifier.sent == 1


def test_notifier_repeated_failure_drops_the_message_with_one_warning_and_keeps_working(telegram, caplog):
    telegram.answers += ["500"] * 3
    notifier = notifier_for(telegram, attempts=3).start()
    notifier.send("lost")
    notifier.send("delivered")
    assert notifier.flush(5)
    notifier.stop()
    assert telegram.texts() == ["lost"] * 3 + ["delivered"]
    lines = warnings_and_errors(caplog)
    assert [r.levelname for r in lines] == ["WARNING"]
    assert lines[0].getMessage() == "Telegram message dropped after 3 attempts (last: HTTP 500: Internal Server Error): lost"
    assert (notifier.sent, notifier.dropped) == (1, 1)


def test_notifier_401_is_not_retried_and_the_error_names_the_token_setting(telegram, caplog):
    telegram.answers += ["401", "401"]
    notifier = notifier_for(telegram).start()
    notifier.send("first")
    notifier.send("second")
    assert notifier.flush(5)
    notifier.stop()
    assert telegram.texts() == ["first", "second"]          # one request each: no retry
    lines = warnings_and_errors(caplog)
    assert len(lines) == 1 and lines[0].levelname == "ERROR"   # the second refusal alike goes to DEBUG
    assert lines[0].getMessage() == ("Telegram refused the message (HTTP 401: Unauthorized): check [telegram] token "
                                     "(secrets.toml) or TELEGRAM_TOKEN; not retried, later refusals like it are logged at DEBUG")
    assert TOKEN not in caplog.text


def test_notifier_400_error_names_the_chat_id_setting(telegram, caplog):
    telegram.answers.append("400")
    notifier = notifier_for(telegram).start()
    notifier.send("to nowhere")
    assert notifier.flush(5)
    notifier.stop()
    assert "HTTP 400: Bad Request: chat not found): check [telegram] chat_id (secrets.toml) or TELEGRAM_CHAT_ID" in caplog.text


def test_notifier_token_appears_in_no_log_record_repr_or_exception_text(telegram, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")   # urllib3 writes each request's URL, token included, at DEBUG
    with socket.socket() as probe:                      # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    refused = TelegramNotifier(closed_url, TOKEN, CHAT, attempts=2, backoff_s=0.01).start()
    refused.send("never arrives")
    telegram.answers.append("404")
    served = notifier_for(telegram).start()
    served.send("refused by the fake")
    served.send("delivered")
    assert refused.flush(5) and served.flush(5)
    refused.stop()
    served.stop()
    assert any("sendMessage" in r.getMessage() for r in caplog.records if r.name.startswith("urllib3"))  # masked, not absent
    for record in caplog.records:
        assert TOKEN not in record.getMessage() and TOKEN.split(":")[1] not in record.getMessage()
        assert record.exc_info is None and record.exc_text is None
    assert "cannot connect to 127.0.0.1" in caplog.text
    assert TOKEN not in repr(refused) + repr(served) + repr(TelegramSecrets(TOKEN, CHAT, "environment"))


def test_notifier_registers_its_token_with_the_bots_log_filter():
    redact = RedactSecrets()
    TelegramNotifier("https://api.telegram.org", TOKEN, CHAT, redact=redact)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "url /bot%s/sendMessage", (TOKEN,), None)
    redact.filter(record)
    assert record.getMessage() == "url /bot1234…/sendMessage"


def test_notifier_stop_delivers_what_is_queued(telegram):
    notifier = notifier_for(telegram).start()
    for text in ("a", "b", "c"):
        notifier.send(text)
    notifier.stop()
    assert telegram.texts() == ["a", "b", "c"] and not notifier._thread.is_alive()


def test_notifier_stop_ends_the_thread_within_its_bound_while_the_server_hangs(telegram, caplog):
    telegram.answers += ["hang", "hang"]   # the server never answers: whatever the timing, nothing is delivered
    notifier = notifier_for(telegram, timeout_s=0.5, drain_s=0.5).start()
    notifier.send("hangs")
    notifier.send("never sent")
    assert telegram.hanging.wait(5)
    started = time.monotonic()
    notifier.stop()
    assert time.monotonic() - started < 1.5          # max(drain_s, timeout_s) + 1 s
    assert not notifier._thread.is_alive()
    assert (notifier.sent, notifier.dropped) == (0, 2)
    assert "Telegram message dropped at stop (no answer from 127.0.0.1" in caplog.text
    assert [r.levelname for r in caplog.records if r.name == "runtime.notify.telegram"] == ["WARNING"] * 2
    notifier.send("after stop")                      # ignored, never raises
    assert notifier.flush(0.1)


def test_notifier_full_queue_drops_the_oldest_with_a_warning(telegram, caplog):
    notifier = notifier_for(telegram, queue_size=2)     # not started yet: everything waits in the queue
    for text in ("oldest", "middle", "newest"):
        notifier.send(text)
    assert "notification queue full (2 messages; Telegram slow or unreachable): dropped the oldest: oldest" in caplog.text
    notifier.start()
    assert notifier.flush(5)
    notifier.stop()
    assert telegram.texts() == ["middle", "newest"]


def test_null_notifier_has_the_same_calls_and_does_nothing():
    notifier = NullNotifier().start()
    notifier.send("anything")
    assert notifier.flush(0) is True
    notifier.stop()
    assert set(dir(TelegramNotifier)) >= {"start", "send", "flush", "stop"}


# ----- settings and secrets ----------------------------------------------------------------------------
def test_settings_notify_table_is_optional_and_off_by_default(write_settings):
    settings = load_settings(write_settings({"notify.telegram": None}))
    assert settings.notify == NotifySettings(telegram=False, telegram_api_url="https://api.telegram.org", daily_summary_utc="00:00")
    assert isinstance(build_notifier(settings, environ={}), NullNotifier)


@pytest.mark.parametrize("change, message", [
    ({"notify.daily_summary_utc": '"24:00"'}, 'settings.toml [notify] daily_summary_utc = "24:00" is out of range; '
                                               'use a UTC time of day "HH:MM" such as "00:00"'),
    ({"notify.telegram_api_url": '"api.telegram.org"'}, 'settings.toml [notify] telegram_api_url = "api.telegram.org" is out '
                                                         'of range; use an http(s):// URL such as "https://api.telegram.org"'),
    ({"notify.telegram": '"yes"'}, 'settings.toml [notify] telegram = "yes" has the wrong type; use true or false'),
])
def test_settings_bad_notify_value_is_one_line(write_settings, change, message):
    with pytest.raises(SettingsError) as error:
        load_settings(write_settings(change))
    assert str(error.value) == message


def test_build_notifier_on_without_a_token_is_one_line_naming_both_ways(write_settings, tmp_path):
    settings = load_settings(write_settings({"notify.telegram": "true"}))
    with pytest.raises(SettingsError) as error:
        build_notifier(settings, environ={})
    assert str(error.value) == ("[notify] telegram = true needs a bot token: set TELEGRAM_TOKEN and TELEGRAM_CHAT_ID, or fill "
                                f"in [telegram] token and chat_id in {tmp_path / 'secrets.toml'} (a token comes from @BotFather)")


def test_build_notifier_on_with_secrets_points_at_telegram_api_url(write_settings, tmp_path, telegram):
    settings = load_settings(write_settings({"notify.telegram": "true", "notify.telegram_api_url": f'"{telegram.url}"'}))
    (tmp_path / "secrets.toml").write_text(f'[telegram]\ntoken = "{TOKEN}"\nchat_id = {CHAT}\n')
    notifier = build_notifier(settings, environ={}).start()
    notifier.send("hello")
    assert notifier.flush(5)
    notifier.stop()
    assert [(r.json["chat_id"], r.json["text"]) for r in telegram.requests] == [(CHAT, "hello")]


def test_telegram_secrets_from_the_environment_win(tmp_path):
    (tmp_path / "secrets.toml").write_text('[telegram]\ntoken = "1:file"\nchat_id = "7"\n')
    found = load_telegram(tmp_path, {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "@alerts_channel"})
    assert (found.token, found.chat_id, found.source) == (TOKEN, "@alerts_channel", "environment")


def test_telegram_half_pair_in_the_environment_is_refused(tmp_path):
    with pytest.raises(SettingsError, match=r"^TELEGRAM_CHAT_ID is not set while TELEGRAM_TOKEN is; set both"):
        load_telegram(tmp_path, {"TELEGRAM_TOKEN": TOKEN})


def test_telegram_missing_chat_id_in_the_file_names_it(tmp_path):
    (tmp_path / "secrets.toml").write_text(f'[telegram]\ntoken = "{TOKEN}"\n')
    with pytest.raises(SettingsError) as error:
        load_telegram(tmp_path, {})
    assert str(error.value) == (f"[notify] telegram = true needs a chat id: set [telegram] chat_id in "
                                f"{tmp_path / 'secrets.toml'} to the chat the bot should write to")


def test_telegram_malformed_token_is_refused_without_showing_it(tmp_path):
    bad = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"     # the colon part missing
    with pytest.raises(SettingsError) as error:
        load_telegram(tmp_path, {"TELEGRAM_TOKEN": bad, "TELEGRAM_CHAT_ID": "42"})
    assert str(error.value) == ("the Telegram token from TELEGRAM_TOKEN and TELEGRAM_CHAT_ID does not look like a bot token "
                                "(digits, a colon, then letters and digits); copy it again from @BotFather")
    assert bad not in str(error.value) and "\n" not in str(error.value)


def test_telegram_unknown_key_in_the_table_is_refused(tmp_path):
    (tmp_path / "secrets.toml").write_text(f'[telegram]\ntoken = "{TOKEN}"\nchat = "42"\n')
    with pytest.raises(SettingsError, match=r"\[telegram\] has an unknown key chat; it takes only token and chat_id$"):
        load_telegram(tmp_path, {})


def test_secrets_file_with_a_telegram_table_still_gives_the_binance_keys(tmp_path):
    (tmp_path / "secrets.toml").write_text(f'api_key = "{"A" * 64}"\napi_secret = "{"b" * 64}"\n\n[telegram]\n'
                                           f'token = "{TOKEN}"\nchat_id = "42"\n')
    assert load_keys(tmp_path, {}).key == "A" * 64
    assert load_telegram(tmp_path, {}).chat_id == "42"


# ----- the texts -----------------------------------------------------------------------------------------
def test_message_close_shows_net_pnl_after_fees_in_cents_from_decimal():
    text = messages.position_closed("BTCUSDT", "LONG", 12, "take_profit", Decimal("1.666"), Decimal("199.92"),
                                    Decimal("59.96710500"), Decimal("36175.0000000000000000000001"))
    assert text == ("BTCUSDT LONG #12 take-profit hit: 1.666 @ 36175, net +139.95 USDT (pnl +199.92, fees 59.97)")


def test_message_close_outside_the_bot_and_liquidation_are_loud():
    outside = messages.position_closed("BTCUSDT", "SHORT", 3, "closed_outside_bot", Decimal("0.5"), Decimal("-10"),
                                       Decimal("0.005"), Decimal("36100.5"))
    liquidated = messages.position_closed("BTCUSDT", "LONG", 4, "liquidation", Decimal("2"), Decimal("-480.1"), Decimal("24"))
    assert outside == "BTCUSDT SHORT #3 CLOSED OUTSIDE THE BOT: 0.5 @ 36100.5, net -10.01 USDT (pnl -10.00, fees 0.01)"
    assert liquidated == "BTCUSDT LONG #4 LIQUIDATED: 2 @ ?, net -504.10 USDT (pnl -480.10, fees 24.00)"


def test_message_close_of_a_position_never_filled_says_so():
    assert messages.position_closed("BTCUSDT", "LONG", 5, "entry_expired", Decimal(0), Decimal(0), Decimal(0)) == \
        "BTCUSDT LONG #5 ended without a fill (entry_expired)"


def test_message_money_rounds_half_up_and_zero_has_no_sign():
    assert [messages.usdt(Decimal(v), signed=True) for v in ("0.005", "-0.004", "12", "-0.015")] == \
        ["+0.01", "0.00", "+12.00", "-0.02"]


def test_message_unreadable_balance_or_price_shows_a_question_mark():
    # live's status line uses Decimal("NaN") for a balance it could not read: a message must not raise on it
    assert (messages.usdt(Decimal("NaN")), messages.plain(Decimal("NaN")), messages.plain(None)) == ("?", "?", "?")


def test_message_entry_start_stop_stop_replaced_and_daily_summary():
    assert messages.entry_filled("BTCUSDT", "LONG", 1, Decimal("1.666"), Decimal("36055.00"), Decimal("30.033815"),
                                 Decimal("35995.0"), Decimal("36175.0")) == \
        "BTCUSDT LONG #1 entry filled 1.666 @ 36055 (fee 30.03 USDT); stop 35995, target 36175"
    assert messages.started("demo", "BTCUSDT", "1m", "Mock_ThreeCandles_v1", 1) == \
        "started demo: BTCUSDT 1m Mock_ThreeCandles_v1; 1 position(s) open after recovery"
    assert messages.stopped("demo", "BTCUSDT", 2, unprotected=1) == \
        "stopped demo BTCUSDT; 2 position(s) stay open, 1 WITHOUT a stop-loss: start the bot again or protect them on Binance"
    assert messages.stop_replaced("BTCUSDT", "SHORT", 9, Decimal("36200.10"), "the stop vanished") == \
        "BTCUSDT SHORT #9 stop-loss replaced at 36200.1 (the stop vanished)"
    assert messages.daily_summary("2026-11-30 UTC", 4, 3, Decimal("-1.234"), Decimal("2.5"), Decimal("10001.999")) == \
        "daily summary 2026-11-30 UTC: 4 trade(s), 3 won, net -1.23 USDT, fees 2.50 USDT; balance 10002.00 USDT"


# ----- alerts -----------------------------------------------------------------------------------------------
class Collect:
    def __init__(self):
        self.texts = []

    def send(self, text):
        self.texts.append(text)


def test_error_alerts_send_the_first_error_at_once_and_count_repeats_per_window():
    now = [0.0]
    sink = Collect()
    alerts = ErrorAlerts(sink, window_s=600, clock=lambda: now[0])
    logger = logging.getLogger("trade.test_alerts")
    logger.addHandler(alerts)
    try:
        logger.error("stop refused %d times", 3)
        logger.warning("only a warning")
        for index in range(4):
            now[0] += 10
            logger.error("again %d", index)
        logging.getLogger("runtime.notify.telegram").error("Telegram refused the message")   # never sent to itself
        alerts.tick()                       # window not over: nothing yet
        now[0] = 601
        alerts.tick()
    finally:
        logger.removeHandler(alerts)
    assert sink.texts == ["ERROR: stop refused 3 times", "4 more error(s) in the last 10 min; the last: ERROR: again 3"]


def test_daily_summary_clock_is_due_once_per_day_at_its_time():
    start = 1_764_500_000_000 - 1_764_500_000_000 % DAY_MS + 3_600_000   # 01:00 UTC
    clock = DailySummaryClock("00:30", start)
    assert clock.due(start) is None
    midnight_30 = start - 3_600_000 + DAY_MS + 1_800_000
    assert clock.due(midnight_30 - 1) is None
    assert clock.due(midnight_30) == (midnight_30 - DAY_MS, midnight_30)
    assert clock.due(midnight_30 + 60_000) is None
    assert clock.due(midnight_30 + 3 * DAY_MS + 5) == (midnight_30 + 2 * DAY_MS, midnight_30 + 3 * DAY_MS)   # one, not three


def test_trade_notices_word_a_positions_fill_close_and_replaced_stop():
    sink = Collect()
    notices = TradeNotices(sink)
    position = Position(7, "BTCUSDT", Side.SHORT, "Mock_ThreeCandles_v1", Decimal("0.5"), Decimal("36200.0"),
                        Decimal("35800.0"), created_at=0, filled_entry_quantity=Decimal("0.5"), entry_value=Decimal("18000.00"),
                        fees=Decimal("9.0"))
    notices.entry_filled(position)
    notices.stop_replaced(position, "the stop vanished")
    position.filled_exit_quantity, position.exit_value = Decimal("0.5"), Decimal("18100.0")
    position.realized_pnl, position.fees, position.close_reason = Decimal("-50"), Decimal("18.05"), "liquidation"
    notices.closed(position)
    assert sink.texts == ["BTCUSDT SHORT #7 entry filled 0.5 @ 36000 (fee 9.00 USDT); stop 36200, target 35800",
                          "BTCUSDT SHORT #7 stop-loss replaced at 36200 (the stop vanished)",
                          "BTCUSDT SHORT #7 LIQUIDATED: 0.5 @ 36200, net -68.05 USDT (pnl -50.00, fees 18.05)"]
