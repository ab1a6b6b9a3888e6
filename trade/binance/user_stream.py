"""The user-data stream: our order fills, algo-order changes and account updates, live.

`UserStream` is a thread that owns the listenKey life cycle (binance.md §3.1) and the
socket `{ws_url}/private/ws?listenKey=<key>&events=<allow-list>` (the query form with
an explicit events list, as §1.3 recommends: without `events` Binance may deliver
nothing, and an event left out of the list, listenKeyExpired included, never comes).
Each frame goes through a `UserEventTranslator`; `OrderUpdate`s and `AccountUpdate`s
go to `on_event`.

Life cycle of one connection: POST a key (Binance returns the account's active key if
there is one), connect, call `on_resync()` (events may have been missed while no
socket was open: the trader reconciles over REST), read. Every `keepalive_seconds`
the key is extended (PUT). The connection is replaced when Binance says
listenKeyExpired, when a keepalive answers -1125 (`ListenKeyGone`), when the socket
errors, closes, or stays silent for `silence_seconds` (the thread pings every
`ping_seconds`, and Binance pings every 3 min, so a live socket is never that quiet),
and before Binance's 24 h connection limit. A listenKey is never logged in full.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Callable, Protocol

from trade.binance.events import ListenKeyExpired, StreamMessageError, UserEvent, UserEventTranslator
from trade.binance.stream_socket import (MAX_CONNECTION_SECONDS, SOCKET_ERRORS, SocketThread, StreamClosed, StreamSilent,
                                 is_data)

log = logging.getLogger(__name__)

EVENTS = ("ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ALGO_UPDATE", "ACCOUNT_CONFIG_UPDATE", "MARGIN_CALL",
          "listenKeyExpired")
KEEPALIVE_RETRY_SECONDS = 60.0  # after a keepalive that failed for a passing reason (the key lasts 60 min)


class ListenKeyGone(Exception):
    """The exchange no longer knows the listenKey (-1125): the stream must POST a new one."""


class ListenKeySource(Protocol):
    """The listenKey REST calls: `new()` POSTs and returns the key; `keepalive(key)` PUTs
    and raises `ListenKeyGone` when Binance answers -1125 (other failures raise anything)."""

    def new(self) -> str: ...

    def keepalive(self, key: str) -> None: ...


def short_key(key: str) -> str:
    """A listenKey as it may appear in logs: its first 6 characters."""
    return f"{key[:6]}…"


class _Replace(Exception):
    """This connection must be replaced: its key expired or is gone, or it is nearly 24 h old."""


class UserStream(SocketThread):
    """Our account's user-data events, delivered on this thread.

    - `ws_url`: stream root without a route, e.g. "wss://fstream.binance.com".
    - `listen_key`: a `ListenKeySource` (POST and PUT /fapi/v1/listenKey).
    - `translator`: a `UserEventTranslator`; it decides which orders are ours.
    - `on_event(item)`: gets each `OrderUpdate` and `AccountUpdate`, in arrival order; it
      should return quickly (e.g. put the item on the trader's queue).
    - `on_resync()`: called after each connection is up, when events may have been missed:
      the caller reconciles open orders and positions over REST. With
      `resync_on_first_connect` (default) it is called after the first connection too,
      which covers the time between the caller's start-up reconciliation and the socket.
    - `keepalive_seconds`: how often the key is extended (Binance keeps it 60 min).
    - `ping_seconds`, `silence_seconds`: liveness (see the module docstring).
    - `events`: the allow-list sent with the key.
    - `max_connection_seconds`, `connect_timeout`, `backoff_base`, `backoff_max`, `sleep`:
      as for `MarketStream`.

    Counters, readable from any thread: `reconnects` (connections after the first),
    `resyncs` (calls of `on_resync`), `events` (items passed to `on_event`),
    `keepalives` (successful PUTs).
    """

    def __init__(self, ws_url: str, listen_key: ListenKeySource, translator: UserEventTranslator,
                 on_event: Callable[[UserEvent], None], on_resync: Callable[[], None], *,
                 keepalive_seconds: float = 1800.0, ping_seconds: float = 60.0, silence_seconds: float = 300.0,
                 resync_on_first_connect: bool = True, events: tuple[str, ...] = EVENTS,
                 max_connection_seconds: float = MAX_CONNECTION_SECONDS, connect_timeout: float = 10.0,
                 backoff_base: float = 1.0, backoff_max: float = 60.0,
                 sleep: Callable[[float], object] | None = None) -> None:
        super().__init__("user-stream", connect_timeout, backoff_base, backoff_max, sleep)
        self.ws_url = ws_url.rstrip("/")
        self.listen_key = listen_key
        self.translator = translator
        self.on_event = on_event
        self.on_resync = on_resync
        self.keepalive_seconds = keepalive_seconds
        self.ping_seconds = ping_seconds
        self.silence_seconds = silence_seconds
        self.resync_on_first_connect = resync_on_first_connect
        self.event_names = "/".join(events)
        self.max_connection_seconds = max_connection_seconds
        self.reconnects = 0
        self.resyncs = 0
        self.events = 0
        self.keepalives = 0

    def run(self) -> None:
        connections = 0
        while not self.stopping:
            try:
                key = self.listen_key.new()
            except Exception as error:  # POST listenKey failed (network, 5xx, rate limit)
                self._wait_before_retry("user-data stream could not get a listenKey", _describe(error))
                continue
            try:
                ws = self._open(f"{self.ws_url}/private/ws?listenKey={key}&events={self.event_names}")
            except SOCKET_ERRORS as error:
                if not self.stopping:  # the error text is not expected to hold the URL, but never risk the key
                    self._wait_before_retry("user-data stream could not connect",
                                            _describe(error).replace(key, short_key(key)))
                continue
            connections += 1
            if connections > 1:
                self.reconnects += 1
            log.info("user-data stream %s with listenKey %s (events %s)",
                     "connected" if connections == 1 else f"reconnected (reconnect {self.reconnects})",
                     short_key(key), self.event_names)
            if connections > 1 or self.resync_on_first_connect:
                self._resync()
            problem = self._serve(ws, key)
            if not self.stopping:
                self._wait_before_retry("user-data stream", problem)
        log.info("user-data stream stopped after %d events, %d reconnects", self.events, self.reconnects)

    def _serve(self, ws, key: str) -> str:
        """Read until the connection must be replaced; returns why.

        Every reason goes through the backoff, expiry included: a healthy connection has
        reset it to `backoff_base`, and a key that expired at once must not make a loop."""
        try:
            self._pump(ws, key)
            return "stopping"
        except _Replace as reason:
            return f"{reason}; getting a listenKey again"
        except StreamSilent as problem:
            return str(problem)
        except (StreamClosed, *SOCKET_ERRORS) as problem:
            return f"connection lost ({_describe(problem)})"
        finally:
            self._close(ws)

    def _pump(self, ws, key: str) -> None:
        opened = last_frame = time.monotonic()
        next_keepalive, next_ping = opened + self.keepalive_seconds, opened + self.ping_seconds
        while not self.stopping:
            now = time.monotonic()
            if now - opened >= self.max_connection_seconds:
                raise _Replace("connection is close to Binance's 24 h limit")
            if now - last_frame >= self.silence_seconds:
                raise StreamSilent(f"no frame, not even a ping or pong, for {self.silence_seconds:g} s")
            if now >= next_keepalive:
                next_keepalive = now + self._keepalive(key)
            if now >= next_ping:
                ws.ping()  # Binance answers with a pong, which proves the socket is alive
                next_ping = now + self.ping_seconds
            wake = min(next_keepalive, next_ping, last_frame + self.silence_seconds, opened + self.max_connection_seconds)
            frame = self._receive(ws, wake - time.monotonic())
            if frame is None:
                continue
            last_frame = time.monotonic()
            self.backoff.reset()  # the socket answers: this connection is healthy
            if is_data(frame[0]):
                self._on_frame(frame[1], key)

    def _keepalive(self, key: str) -> float:
        """PUT the key; returns the seconds until the next keepalive."""
        try:
            self.listen_key.keepalive(key)
        except ListenKeyGone:
            raise _Replace(f"listenKey {short_key(key)} is gone (-1125)") from None
        except Exception as problem:  # a passing failure: the key still has most of its 60 min
            log.warning("user-data stream: keepalive of listenKey %s failed (%s); retrying in %g s", short_key(key),
                        _describe(problem), KEEPALIVE_RETRY_SECONDS)
            return min(KEEPALIVE_RETRY_SECONDS, self.keepalive_seconds)
        self.keepalives += 1
        log.debug("user-data stream: listenKey %s kept alive", short_key(key))
        return self.keepalive_seconds

    def _on_frame(self, data, key: str) -> None:
        try:
            items = self.translator.translate(json.loads(data))
        except (ValueError, StreamMessageError) as problem:  # JSONDecodeError is a ValueError
            log.warning("user-data stream: skipped a frame we cannot read: %s", problem)
            return
        except Exception:  # a frame shaped in a way nobody foresaw must not end the stream
            log.warning("user-data stream: skipped a frame that failed translation", exc_info=True)
            return
        for item in items:
            if isinstance(item, ListenKeyExpired):
                # reconnect even if it names another key: a needless reconnect costs one
                # reconciliation, a missed expiry costs a silent stream
                raise _Replace(f"Binance says listenKey {short_key(item.listen_key or key)} expired")
            self.events += 1
            try:
                self.on_event(item)
            except Exception:  # the consumer's bug must not kill the stream
                log.exception("user-data stream: on_event failed for %s", type(item).__name__)

    def _resync(self) -> None:
        self.resyncs += 1
        try:
            self.on_resync()
        except Exception:
            log.exception("user-data stream: on_resync failed")


def _describe(problem: BaseException) -> str:
    return f"{type(problem).__name__}: {problem}" if str(problem) else type(problem).__name__
