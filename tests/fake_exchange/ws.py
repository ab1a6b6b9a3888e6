"""The WebSocket side: Binance's 2026 routed stream endpoints on one local port.

Routes (binance.md §1.2–1.3):
- `/market/ws/<stream>` raw frames, `/market/stream?streams=a/b` wrapped as
  `{"stream": name, "data": payload}`; JSON SUBSCRIBE/UNSUBSCRIBE are answered with
  `{"result": null, "id": n}`.
- `/private/ws?listenKey=K&events=E1/E2` (and `/private/stream?...`, wrapped with the
  listenKey as stream name): only the events named in `events` (an allow-list), only
  while K is valid. Without `events` nothing is delivered unless the server was built
  with `private_default_events="all"`.
- Legacy `/ws/...`, `/stream...`, `/public/...` and the path form `/private/ws/<key>`
  accept the connection and stay silent, as Binance does now.

The server runs `websockets` on its own event loop in a daemon thread. `publish_*`
may be called from any thread; frames to one connection keep their call order. The
server pings every `ping_interval` seconds and answers client pings.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    """One accepted socket: its route kind, streams or listenKey, and its send queue."""

    conn: ServerConnection
    kind: str  # "market", "private" or "silent"
    queue: asyncio.Queue
    combined: bool = False
    streams: set[str] = field(default_factory=set)
    listen_key: str = ""
    events: set[str] | None = None


def _dumps(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"))


class WsServer:
    """Routed market/private stream server on 127.0.0.1."""

    def __init__(self, key_is_valid: Callable[[str], bool], host: str = "127.0.0.1", port: int = 0,
                 ping_interval: float | None = 180.0, ping_timeout: float | None = 600.0,
                 private_default_events: str = "none") -> None:
        self._key_is_valid = key_is_valid
        self._host, self._port = host, port
        self._ping_interval, self._ping_timeout = ping_interval, ping_timeout
        self._default_all = private_default_events == "all"
        self._subs: dict[ServerConnection, Subscriber] = {}
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ----- lifecycle ---------------------------------------------------------------------

    def start(self) -> int:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fake-binance-ws", daemon=True)
        self._thread.start()
        if not ready.wait(10) or not self.port:
            raise RuntimeError("fake Binance websocket server did not start within 10 s")
        return self.port

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def open_server() -> None:
            self._server = await serve(self._handler, self._host, self._port, process_request=self._route,
                                       ping_interval=self._ping_interval, ping_timeout=self._ping_timeout,
                                       compression=None)
            self.port = self._server.sockets[0].getsockname()[1]

        self._loop.run_until_complete(open_server())
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        async def close() -> None:
            # Abort rather than wait for close handshakes: a client that is not reading
            # would otherwise hold the shutdown for close_timeout.
            for sub in self._snapshot():
                sub.conn.transport.abort()
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    # ----- routing ---------------------------------------------------------------------

    def _route(self, conn: ServerConnection, request):
        url = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        parts = [p for p in url.path.split("/") if p]
        sub = Subscriber(conn, "silent", asyncio.Queue())
        if parts[:2] == ["market", "ws"] and len(parts) == 3:
            sub.kind, sub.streams = "market", {parts[2]}
        elif parts == ["market", "stream"]:
            sub.kind, sub.combined = "market", True
            sub.streams = {s for s in query.get("streams", "").split("/") if s}
        elif parts in (["private", "ws"], ["private", "stream"]) and query.get("listenKey"):
            sub.kind, sub.combined, sub.listen_key = "private", parts[1] == "stream", query["listenKey"]
            if "events" in query:
                sub.events = {e for e in query["events"].split("/") if e}
            elif not self._default_all:
                sub.events = set()
        elif not parts or parts[0] not in ("ws", "stream", "public", "market", "private"):
            return conn.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        with self._changed:
            self._subs[conn] = sub
            self._changed.notify_all()
        return None

    async def _handler(self, conn: ServerConnection) -> None:
        sub = self._subs.get(conn)
        if sub is None:
            return
        writer = asyncio.create_task(self._write(sub))
        try:
            async for message in conn:
                await self._on_message(sub, message)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            with self._changed:
                self._subs.pop(conn, None)
                self._changed.notify_all()

    async def _write(self, sub: Subscriber) -> None:
        try:
            while True:
                await sub.conn.send(await sub.queue.get())
        except ConnectionClosed:
            pass

    async def _on_message(self, sub: Subscriber, message) -> None:
        try:
            request = json.loads(message)
            method, params, req_id = request["method"], request.get("params", []), request.get("id")
        except (ValueError, KeyError, TypeError):
            await sub.conn.send(_dumps({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}))
            return
        if method == "SUBSCRIBE" and sub.kind == "market":
            sub.streams.update(params)
        elif method == "UNSUBSCRIBE" and sub.kind == "market":
            sub.streams.difference_update(params)
        elif method == "LIST_SUBSCRIPTIONS":
            await sub.conn.send(_dumps({"result": sorted(sub.streams), "id": req_id}))
            return
        await sub.conn.send(_dumps({"result": None, "id": req_id}))

    # ----- publishing (any thread) -----------------------------------------------------

    def _send(self, sub: Subscriber, text: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(sub.queue.put_nowait, text)

    def _snapshot(self) -> list[Subscriber]:
        with self._changed:
            return list(self._subs.values())

    def publish_market(self, stream: str, payload: dict) -> int:
        """Send a market event to every socket subscribed to `stream`; returns how many."""
        raw, wrapped, sent = _dumps(payload), None, 0
        for sub in self._snapshot():
            if sub.kind == "market" and stream in sub.streams:
                if sub.combined:
                    wrapped = wrapped or _dumps({"stream": stream, "data": payload})
                self._send(sub, wrapped if sub.combined else raw)
                sent += 1
        return sent

    def publish_private(self, event: str, payload: dict, listen_key: str | None = None) -> int:
        """Send a user-data event to private sockets whose key is valid and allow-list names it."""
        raw, sent = _dumps(payload), 0
        for sub in self._snapshot():
            if sub.kind != "private" or (listen_key and sub.listen_key != listen_key):
                continue
            if not self._key_is_valid(sub.listen_key) or (sub.events is not None and event not in sub.events):
                continue
            self._send(sub, _dumps({"stream": sub.listen_key, "data": payload}) if sub.combined else raw)
            sent += 1
        return sent

    # ----- fault injection and inspection ------------------------------------------------

    def drop(self, kind: str, timeout: float = 5.0) -> int:
        """Abort every socket of `kind` without a close frame; wait until they are gone."""
        victims = [s for s in self._snapshot() if s.kind == kind]
        for sub in victims:
            self._loop.call_soon_threadsafe(sub.conn.transport.abort)
        with self._changed:
            self._changed.wait_for(lambda: not any(s in self._subs.values() for s in victims), timeout)
        return len(victims)

    def send_raw(self, kind: str, text: str) -> int:
        """Send `text` as it is to every socket of `kind` (a malformed or foreign frame); returns how many."""
        targets = [s for s in self._snapshot() if s.kind == kind]
        for sub in targets:
            self._send(sub, text)
        return len(targets)

    def count(self, kind: str) -> int:
        return sum(1 for s in self._snapshot() if s.kind == kind)

    def latencies(self) -> list[float]:
        """Round-trip time of each socket's last answered server ping (0 before the first pong)."""
        return [s.conn.latency for s in self._snapshot()]

    def wait_for_count(self, kind: str, n: int, timeout: float) -> bool:
        """Block until exactly `n` sockets of `kind` are connected (or the timeout passes)."""
        with self._changed:
            return self._changed.wait_for(lambda: sum(1 for s in self._subs.values() if s.kind == kind) == n,
                                          timeout)
