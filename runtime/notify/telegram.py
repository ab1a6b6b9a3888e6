"""Sending messages to a Telegram chat without ever making the caller wait.

`TelegramNotifier.send(text)` puts the text on a bounded queue and returns at once; one
daemon thread posts each text, in order, to the Bot API's `sendMessage`
(`POST <api_url>/bot<token>/sendMessage` with JSON `chat_id` and `text`; the answer is
`{"ok": true, "result": {...}}` or `{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}`, https://core.telegram.org/bots/api#making-requests).

- A connection error, a timeout or a 5xx is tried again after 1, 2, 4 … s (`backoff_s`
  doubling, at most `max_backoff_s`); a 429 waits the `retry_after` Telegram gives (at most
  `max_retry_after_s`). After `attempts` tries the message is dropped with one WARNING.
- A 400, 401, 403 or 404 means a wrong token or chat id: not retried; one ERROR naming the
  setting to check, once per status per run (every later message would fail the same way).
- A full queue drops its OLDEST message, with a WARNING: by then Telegram has been
  unreachable for a while, and the newest messages (a close, a liquidation) say what the
  account is like now, which is what a person reading them later needs.
- `stop()` lets the thread deliver what is queued for up to `drain_s` seconds, then it ends:
  it returns within max(`drain_s`, `timeout_s`) + 1 s (a request under way keeps its timeout;
  later ones get only the time left), 5 s + 1 s by default.

The token sits in the URL, and requests and urllib3 put URLs into exception texts and
DEBUG lines: exceptions are re-worded here (never `str(exc)`), urllib3's connection pool
logger gets a masking filter while the notifier runs, and the token is registered with the
bot's `RedactSecrets` log filter.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from runtime.secrets import RedactSecrets

log = logging.getLogger(__name__)
MAX_TEXT = 4096   # Telegram's limit for one message, in characters
_STOP = object()
SETTING_TO_CHECK = {
    400: "[telegram] chat_id (secrets.toml) or TELEGRAM_CHAT_ID",
    401: "[telegram] token (secrets.toml) or TELEGRAM_TOKEN",
    403: "[telegram] chat_id (secrets.toml) or TELEGRAM_CHAT_ID, and that the chat has sent /start to the bot",
    404: "[telegram] token (secrets.toml) or TELEGRAM_TOKEN, and [notify] telegram_api_url",
}


class NullNotifier:
    """What the bot holds when `[notify]` is off: the same calls, doing nothing."""

    sent = dropped = 0

    def start(self) -> "NullNotifier":
        return self

    def send(self, text: str) -> None:
        pass

    def flush(self, timeout_s: float) -> bool:
        return True

    def stop(self) -> None:
        pass


class TelegramNotifier:
    """Posts texts to one Telegram chat from its own thread (see the module doc).

    `api_url`: Telegram's address (`[notify] telegram_api_url`); `token`, `chat_id`: from
    `runtime.secrets.load_telegram`; `timeout_s`: per request (connect and read);
    `redact`: the bot's log filter, told the token. `sent` and `dropped` count messages."""

    def __init__(self, api_url: str, token: str, chat_id: str, *, redact: RedactSecrets | None = None,
                 queue_size: int = 100, timeout_s: float = 5.0, attempts: int = 4, backoff_s: float = 1.0,
                 max_backoff_s: float = 30.0, max_retry_after_s: float = 60.0, drain_s: float = 5.0) -> None:
        self._url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self._host = urlsplit(api_url).netloc
        self._token, self._chat_id = token, chat_id
        self._mask = RedactSecrets(token)
        if redact is not None:
            redact.add(token)
        self.queue_size, self.timeout_s, self.attempts = queue_size, timeout_s, attempts
        self.backoff_s, self.max_backoff_s, self.max_retry_after_s, self.drain_s = backoff_s, max_backoff_s, max_retry_after_s, drain_s
        self.sent = self.dropped = 0
        self._queue: queue.Queue[Any] = queue.Queue()   # bounded by send(), so stop()'s marker always fits
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0                                # queued or being sent
        self._closed = False
        self._stopping = threading.Event()
        self._deadline = float("inf")
        self._refused: set[int] = set()                  # statuses already reported with an ERROR
        self._thread = threading.Thread(target=self._run, name="telegram", daemon=True)

    def __repr__(self) -> str:
        return f"TelegramNotifier({self._host}, sent {self.sent}, dropped {self.dropped})"

    # ----- the caller's side ----------------------------------------------------------------------
    def start(self) -> "TelegramNotifier":
        logging.getLogger("urllib3.connectionpool").addFilter(self._mask)   # its DEBUG lines show the URL
        self._thread.start()
        return self

    def send(self, text: str) -> None:
        """Queue `text` (cut to 4096 characters) and return at once; never raises, never waits on the network."""
        text = str(text)[:MAX_TEXT] or "(empty)"
        dropped = None
        with self._lock:
            if self._closed:
                log.debug("notifier stopped: message not sent: %.80s", text)
                return
            if self._pending >= self.queue_size:
                try:
                    dropped = self._queue.get_nowait()
                    self._pending -= 1
                    self.dropped += 1
                except queue.Empty:   # the thread took it meanwhile
                    pass
            self._queue.put_nowait(text)
            self._pending += 1
        if dropped is not None:
            log.warning("notification queue full (%d messages; Telegram slow or unreachable): dropped the oldest: %.80s",
                        self.queue_size, dropped)

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued message is delivered or dropped; False if `timeout_s` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout_s)

    def stop(self) -> None:
        """Deliver what is queued for up to `drain_s` seconds, then end the thread (a backoff is cut short);
        returns within max(`drain_s`, `timeout_s`) + 1 s."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._deadline = time.monotonic() + self.drain_s
            self._queue.put_nowait(_STOP)
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(max(self.drain_s, self.timeout_s) + 1.0)
        if self._thread.is_alive():   # e.g. a name look-up, which requests' timeout does not bound
            log.warning("Telegram sender still busy %.0f s after stop; leaving it behind", max(self.drain_s, self.timeout_s))
        logging.getLogger("urllib3.connectionpool").removeFilter(self._mask)

    # ----- the sending thread -----------------------------------------------------------------------
    def _run(self) -> None:
        unsent = 0   # queued when stop()'s time ran out
        with requests.Session() as session:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                if time.monotonic() >= self._deadline:
                    unsent += 1
                    delivered = False
                else:
                    try:
                        delivered = self._deliver(session, item)
                    except Exception as exc:  # a bug must not end the thread; re-worded, never str(exc) (the URL)
                        log.error("Telegram sender: unexpected %s; message dropped: %.80s", type(exc).__name__, item)
                        delivered = False
                with self._idle:
                    self._pending -= 1
                    self.sent += delivered
                    self.dropped += not delivered
                    self._idle.notify_all()
        if unsent:
            log.warning("%d Telegram message(s) not sent: the notifier stopped after %.0f s of trying", unsent, self.drain_s)

    def _deliver(self, session: requests.Session, text: str) -> bool:
        """Post `text`, retrying what may pass later; True when Telegram took it."""
        wait, why = 0.0, ""
        for attempt in range(1, self.attempts + 1):
            if wait and not self._pause(wait):
                log.warning("Telegram message dropped at stop (%s): %.80s", why, text)
                return False
            left = self._deadline - time.monotonic()
            if left <= 0:
                log.warning("Telegram message dropped at stop (%s): %.80s", why or "no time left", text)
                return False
            status, retry_after, why = self._post(session, text, min(self.timeout_s, left))
            if status == 200:
                return True
            if 400 <= status < 500 and status != 429:   # a wrong token or chat id: the next try would fail the same way
                self._refused_once(status, why, text)
                return False
            wait = retry_after if retry_after is not None else min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)
        log.warning("Telegram message dropped after %d attempts (last: %s): %.80s", self.attempts, why, text)
        return False

    def _post(self, session: requests.Session, text: str, timeout: float) -> tuple[int, float | None, str]:
        """One request: (HTTP status or 0 for no answer, seconds Telegram asks to wait or None, words for the log)."""
        try:
            response = session.post(self._url, json={"chat_id": self._chat_id, "text": text}, timeout=timeout)
        except requests.Timeout:
            return 0, None, f"no answer from {self._host} within {timeout:.1f} s"
        except requests.ConnectionError:
            return 0, None, f"cannot connect to {self._host}"
        except requests.RequestException as exc:
            return 0, None, f"{type(exc).__name__} talking to {self._host}"
        body = _json(response)
        description = self._mask_text(str(body.get("description") or response.reason or ""))[:200]
        status = response.status_code
        if status == 200 and body.get("ok") is True:
            return 200, None, "ok"
        if status == 200:   # a 200 without "ok": a proxy's page, not Telegram's answer
            return 502, None, f"HTTP 200 without ok from {self._host}"
        retry_after = None
        if status == 429:
            parameters = body.get("parameters")
            seconds = parameters.get("retry_after") if isinstance(parameters, dict) else None
            seconds = response.headers.get("Retry-After") if seconds is None else seconds
            retry_after = min(_seconds(seconds, self.backoff_s), self.max_retry_after_s)
        return status, retry_after, f"HTTP {status}{': ' + description if description else ''}"

    def _refused_once(self, status: int, why: str, text: str) -> None:
        if status in self._refused:
            log.debug("Telegram refused a message again (%s): %.80s", why, text)
            return
        self._refused.add(status)
        setting = SETTING_TO_CHECK.get(status, SETTING_TO_CHECK[400])
        log.error("Telegram refused the message (%s): check %s; not retried, later refusals like it are logged at DEBUG",
                  why, setting)

    def _pause(self, seconds: float) -> bool:
        """Wait `seconds`; False when stop() leaves less time than that."""
        end = time.monotonic() + seconds
        if not self._stopping.wait(seconds):
            return True
        if end > self._deadline:
            return False
        time.sleep(max(0.0, end - time.monotonic()))
        return True

    def _mask_text(self, text: str) -> str:
        return text.replace(self._token, self._token[:4] + "…") if self._token else text


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: Any, default: float) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default
