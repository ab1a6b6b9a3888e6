"""Phone notifications (`[notify]`, #10 item 8): the Telegram sender, the message texts, error alerts.

    notifier = build_notifier(settings, redact).start()    # a NullNotifier when [notify] telegram = false
    notifier.send(messages.started("demo", "BTCUSDT", "1m", "Mock_ThreeCandles_v1"))   # returns at once
    notifier.stop()                                        # at shutdown: drains for a few seconds

`telegram.py` sends, `messages.py` words the events, `notices.py` is what the trader's event
points call, `alerts.py` forwards ERROR log lines and keeps the daily summary's time.
"""
from __future__ import annotations

import logging

from runtime.notify import messages
from runtime.notify.alerts import DailySummaryClock, ErrorAlerts
from runtime.notify.notices import TradeNotices
from runtime.notify.telegram import NullNotifier, TelegramNotifier
from runtime.secrets import RedactSecrets, load_telegram

log = logging.getLogger(__name__)

__all__ = ["DailySummaryClock", "ErrorAlerts", "NullNotifier", "TelegramNotifier", "TradeNotices", "build_notifier",
           "messages"]


def build_notifier(settings, redact: RedactSecrets | None = None, environ: dict | None = None) -> TelegramNotifier | NullNotifier:
    """The notifier `[notify]` asks for, not started yet. With `telegram = true`, the token and chat
    id come from `load_telegram` (SettingsError, one line, when either is missing or malformed)."""
    table = settings.notify
    if not table.telegram:
        return NullNotifier()
    secrets = load_telegram(settings.path.parent, environ)
    log.info("Telegram notifications on, to %s (token and chat id from %s)", table.telegram_api_url, secrets.source)
    return TelegramNotifier(table.telegram_api_url, secrets.token, secrets.chat_id, redact=redact)
