"""A fake Telegram Bot API on 127.0.0.1 for the notifier's tests (http.server in a thread).

    with FakeTelegram() as tg:
        notifier = TelegramNotifier(tg.url, tg.token, "42")
        tg.answers += ["500", "429:0.2", "401", "hang"]   # the next requests' fates, in order; then 200
        tg.requests[-1].json["text"], tg.texts()

It serves `POST /bot<token>/sendMessage` the way Telegram answers (https://core.telegram.org/bots/api#making-requests):
200 `{"ok": true, "result": {message}}`; errors `{"ok": false, "error_code", "description"}`, a
429 with `parameters.retry_after`. A request for another token gets 401 (Telegram's answer to a
wrong token); another path 404. "hang" holds the request without answering until `release()`
or `stop()`, and sets `hanging` when it arrives, so a test can wait on it instead of sleeping.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"   # the shape @BotFather gives; a made-up value
ERRORS = {400: "Bad Request: chat not found", 401: "Unauthorized", 403: "Forbidden: bot was blocked by the user",
          404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway"}


@dataclass
class Recorded:
    """One request: path, JSON body, and when it arrived (time.monotonic)."""

    path: str
    json: dict
    at: float


class FakeTelegram:
    """See the module doc. `answers`: a list the test appends to ("200", "500", "502", "401", "400",
    "403", "404", "429:<seconds>", "hang"); consumed one per request; empty means 200."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.answers: list[str] = []
        self.requests: list[Recorded] = []
        self.hanging = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-telegram", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._message_id = 0

    def __enter__(self) -> "FakeTelegram":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def release(self) -> None:
        """Answer the hanging request(s) (200) and hang no more."""
        self._release.set()

    def texts(self) -> list[str]:
        with self._lock:
            return [r.json.get("text") for r in self.requests]

    def answer(self, path: str, body: dict) -> tuple[int, dict | None]:
        """(status, JSON body) for one request; None means: hang up without answering."""
        with self._lock:
            self.requests.append(Recorded(path, body, time.monotonic()))
            fate = self.answers.pop(0) if self.answers else "200"
        if path != f"/bot{self.token}/sendMessage":
            status = 401 if path.startswith("/bot") and path.endswith("/sendMessage") else 404
            return status, _error(status)
        if fate == "hang":
            self.hanging.set()
            self._release.wait(10)
            fate = "200"
        if fate.startswith("429:"):
            seconds = float(fate[4:])
            return 429, {**_error(429, f"Too Many Requests: retry after {seconds:g}"), "parameters": {"retry_after": seconds}}
        if fate != "200":
            return int(fate), _error(int(fate))
        with self._lock:
            self._message_id += 1
            message_id = self._message_id
        return 200, {"ok": True, "result": {"message_id": message_id, "date": int(time.time()),
                                            "chat": {"id": body.get("chat_id"), "type": "private"}, "text": body.get("text")}}


def _error(status: int, description: str | None = None) -> dict:
    return {"ok": False, "error_code": status, "description": description or ERRORS.get(status, "Error")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body leave in two writes: no 40 ms delayed-ACK wait per message

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        status, payload = self.server.fake.answer(self.path, body)
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:   # the client gave up (its timeout) while the request hung
            self.close_connection = True

    do_GET = do_POST

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        pass
