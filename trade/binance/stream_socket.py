"""What both stream threads share: one websocket at a time, backoff, and a stop from any thread.

`SocketThread` is the base of `MarketStream` and `UserStream`. It opens sockets with
websocket-client (`create_connection`), reads frames with a deadline, closes them, and
waits between attempts with `Backoff`. `stop()` may be called from any thread: it wakes
a backoff wait at once and aborts a socket blocked in `recv`, then joins the thread.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import websocket

log = logging.getLogger(__name__)

MAX_CONNECTION_SECONDS = 23.5 * 3600  # Binance disconnects every stream at 24 h; leave well before it

# A socket that broke, closed or could not be opened; the stream reconnects after a backoff.
SOCKET_ERRORS = (websocket.WebSocketException, OSError)


class StreamSilent(Exception):
    """No frame arrived for longer than the stream's silence limit: treat the socket as dead."""


class StreamClosed(Exception):
    """The server closed the socket (a close frame)."""


class Backoff:
    """Delays between reconnect attempts: `base`, then doubling up to `maximum` seconds.

    `reset()` after a healthy connection so the next failure waits `base` again."""

    def __init__(self, base: float = 1.0, maximum: float = 60.0) -> None:
        if base <= 0 or maximum < base:
            raise ValueError(f"backoff base {base} must be > 0 and at most the maximum {maximum}")
        self.base, self.maximum = base, maximum
        self._failures = 0

    def next(self) -> float:
        delay = min(self.maximum, self.base * 2 ** min(self._failures, 30))
        self._failures += 1
        return delay

    def reset(self) -> None:
        self._failures = 0

    @property
    def failures(self) -> int:
        """Failures since the last reset (how many delays `next` has handed out)."""
        return self._failures


class SocketThread(threading.Thread):
    """A daemon thread owning one websocket at a time (subclasses write `run`).

    - `connect_timeout`: seconds for the TCP and websocket handshake.
    - `backoff_base` / `backoff_max`: reconnect delays in seconds (see `Backoff`).
    - `sleep(seconds)`: how backoff waits; the default returns early when `stop()` is called.
    """

    def __init__(self, name: str, connect_timeout: float, backoff_base: float, backoff_max: float,
                 sleep: Callable[[float], object] | None) -> None:
        super().__init__(name=name, daemon=True)
        self.connect_timeout = connect_timeout
        self.backoff = Backoff(backoff_base, backoff_max)
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._socket_lock = threading.Lock()
        self._socket: websocket.WebSocket | None = None
        self.connected = threading.Event()   # set once the first connection is up (systemd's READY waits for it)
        self.last_data_at = time.monotonic()   # monotonic time of the last data frame, or of the last connect

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the socket and end the thread; returns once it has ended (or after `timeout`)."""
        self._stopping.set()
        with self._socket_lock:
            ws = self._socket
        if ws is not None:
            ws.abort()  # wakes the stream thread out of recv; it then releases the socket itself
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
            if self.is_alive():
                log.warning("%s did not stop within %.1f s (blocked in a connect or a REST call)", self.name, timeout)

    # ----- for subclasses ----------------------------------------------------------------------
    def _open(self, url: str) -> websocket.WebSocket:
        ws = websocket.create_connection(url, timeout=self.connect_timeout, enable_multithread=True)
        with self._socket_lock:
            self._socket = ws
        if self.stopping:  # stop() ran during the handshake and could not abort this socket
            self._close(ws)
            raise websocket.WebSocketConnectionClosedException("stopping")
        self.last_data_at = time.monotonic()
        self.connected.set()
        return ws

    def _close(self, ws: websocket.WebSocket) -> None:
        with self._socket_lock:
            if self._socket is ws:
                self._socket = None
        try:
            if not self.stopping:
                ws.close(timeout=1)  # a polite close frame; after an abort there is nothing to be polite to
        except SOCKET_ERRORS:
            pass
        finally:
            ws.shutdown()

    def _receive(self, ws: websocket.WebSocket, timeout: float) -> tuple[int, object] | None:
        """The next frame as (opcode, data), control frames included, or None after `timeout` s."""
        ws.settimeout(max(timeout, 0.001))
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketTimeoutException, TimeoutError):
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise StreamClosed("the server closed the socket")
        return opcode, data

    def _wait_before_retry(self, what: str, problem: object) -> None:
        delay = self.backoff.next()
        log.warning("%s: %s; reconnecting in %g s", what, problem, delay)
        self._sleep(delay)


def is_data(opcode: int) -> bool:
    return opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY)
