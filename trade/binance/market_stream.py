"""The kline stream: every closed candle of one symbol and interval, once each and in order.

`MarketStream` is a thread that reads `{ws_url}/market/ws/<symbol>@kline_<interval>`
(the 2026 routed path; the legacy `/ws/` route is silent, binance.md §1.2) and hands
each closed candle (`k.x` true) to `on_candle`. It never hands over a candle whose
open time is at or before the last one it delivered, so a candle is delivered once
even when it arrives from both the socket and REST.

Gaps are filled from REST with `fetch_closed_klines(start_ms)` (binance.md §2.3):
- after every (re)connect, before any live frame is handled: the socket is opened
  first, so frames that arrive during the REST call wait in it and are read afterwards;
- on the very first connect too, when `last_open_time` says where the warm-up candles
  (loaded from REST before the stream started) ended;
- when a frame shows that a closed candle was skipped (its open time lies beyond the
  next expected one), which happens if a closing frame was lost.

The socket is replaced, after a backoff, when it errors, closes or stays silent for
`silence_seconds` (a silent socket looks exactly like a quiet market), and without a
backoff before `max_connection_seconds` (Binance cuts every connection at 24 h).
"""
from __future__ import annotations

import json
import logging
import time
from typing import Callable

from ict.intervals import utc_text
from ict.models import Candle
from trade.binance.events import StreamMessageError, parse_kline
from trade.errors import ExchangeError
from ict.intervals import INTERVAL_MS as INTERVALS
from trade.binance.stream_socket import (MAX_CONNECTION_SECONDS, SOCKET_ERRORS, SocketThread, StreamClosed, StreamSilent,
                                 is_data)

log = logging.getLogger(__name__)


class MarketStream(SocketThread):
    """Closed candles of `symbol` at `interval` ("1m", "5m", ...) from Binance's kline stream.

    - `ws_url`: stream root without a route, e.g. "wss://fstream.binance.com".
    - `on_candle(candle)`: called on this thread for each closed candle, in open-time order;
      it should return quickly (e.g. put the candle on a queue).
    - `fetch_closed_klines(start_ms)`: closed candles from `start_ms` (open time, epoch ms)
      up to now, oldest first, the still-forming candle left out. Called on this thread.
    - `last_open_time`: open time of the last candle the caller already has (warm-up), or
      None to start with the first closed candle the socket brings.
    - `silence_seconds`: reconnect when no frame arrives for this long (Binance pushes a
      kline frame every 250 ms while the market trades).
    - `max_connection_seconds`, `connect_timeout`, `backoff_base`, `backoff_max`, `sleep`:
      see the module docstring and `SocketThread`.

    Counters, readable from any thread: `delivered` (candles handed to `on_candle`),
    `backfilled` (of those, how many came from REST), `reconnects` (sockets opened after
    the first), `last_open_time` (of the last delivered candle). Start with `start()`,
    end with `stop()`.
    """

    def __init__(self, ws_url: str, symbol: str, interval: str, on_candle: Callable[[Candle], None],
                 fetch_closed_klines: Callable[[int], list[Candle]], *, last_open_time: int | None = None,
                 silence_seconds: float = 60.0, max_connection_seconds: float = MAX_CONNECTION_SECONDS,
                 connect_timeout: float = 10.0, backoff_base: float = 1.0, backoff_max: float = 60.0,
                 sleep: Callable[[float], object] | None = None) -> None:
        if interval not in INTERVALS:
            raise ValueError(f"kline interval {interval!r} is not one of {', '.join(INTERVALS)}")
        super().__init__(f"market-stream-{symbol.lower()}", connect_timeout, backoff_base, backoff_max, sleep)
        self.url = f"{ws_url.rstrip('/')}/market/ws/{symbol.lower()}@kline_{interval}"
        self.symbol, self.interval, self.interval_ms = symbol.upper(), interval, INTERVALS[interval]
        self.on_candle = on_candle
        self.fetch_closed_klines = fetch_closed_klines
        self.silence_seconds = silence_seconds
        self.max_connection_seconds = max_connection_seconds
        self.last_open_time = last_open_time
        self.delivered = 0
        self.backfilled = 0
        self.reconnects = 0
        self._gap_checked_at: int | None = None  # the frame open time a gap backfill was last tried for

    def run(self) -> None:
        connections = 0
        while not self.stopping:
            try:
                ws = self._open(self.url)
            except SOCKET_ERRORS as error:
                if not self.stopping:
                    self._wait_before_retry(f"{self.symbol} kline stream could not connect", _describe(error))
                continue
            connections += 1
            if connections > 1:
                self.reconnects += 1
            log.info("%s %s kline stream %s: %s", self.symbol, self.interval,
                     "connected" if connections == 1 else f"reconnected (reconnect {self.reconnects})", self.url)
            problem = self._serve(ws)
            if self.stopping:
                break
            if problem is None:
                log.info("%s kline stream: replacing the connection before Binance's 24 h limit", self.symbol)
            else:
                self._wait_before_retry(f"{self.symbol} kline stream", problem)
        log.info("%s kline stream stopped after %d candles (%d from REST), %d reconnects", self.symbol,
                 self.delivered, self.backfilled, self.reconnects)

    def _serve(self, ws) -> str | None:
        """Backfill, then read live frames; returns why the connection ended (None: it aged out)."""
        try:
            if self.last_open_time is not None:
                self._backfill("after connecting")
            self._pump(ws)
            return None
        except StreamSilent as problem:
            return str(problem)
        except (StreamClosed, *SOCKET_ERRORS) as problem:
            return f"connection lost ({_describe(problem)})"
        except ExchangeError as problem:  # REST failed during a backfill: reconnect and backfill again later
            return f"backfill over REST failed ({_describe(problem)})"
        except Exception as problem:  # anything else from fetch_closed_klines (or a bug): keep the traceback
            log.warning("%s kline stream: unexpected failure", self.symbol, exc_info=True)
            return f"unexpected failure ({_describe(problem)})"
        finally:
            self._close(ws)

    # ----- one connection ----------------------------------------------------------------------
    def _pump(self, ws) -> None:
        """Read frames until the connection is due for replacement (returns) or fails (raises)."""
        opened = last_data = time.monotonic()
        while not self.stopping:
            now = time.monotonic()
            age_left = self.max_connection_seconds - (now - opened)
            if age_left <= 0:
                return
            silence_left = self.silence_seconds - (now - last_data)
            if silence_left <= 0:
                raise StreamSilent(f"no kline frame for {self.silence_seconds:g} s")
            frame = self._receive(ws, min(age_left, silence_left))
            if frame is None or not is_data(frame[0]):
                continue  # pings do not count: a wrongly routed socket answers pings and sends no klines
            last_data = self.last_data_at = time.monotonic()
            self._on_frame(frame[1])

    def _on_frame(self, data) -> None:
        try:
            candle, closed = parse_kline(json.loads(data))
        except (ValueError, StreamMessageError) as problem:  # JSONDecodeError is a ValueError
            log.warning("%s kline stream: skipped a frame we cannot read: %s", self.symbol, problem)
            return
        except Exception:  # a frame shaped in a way nobody foresaw must not end the stream
            log.warning("%s kline stream: skipped a frame that failed to parse", self.symbol, exc_info=True)
            return
        self.backoff.reset()  # klines are flowing: this connection is healthy
        expected = None if self.last_open_time is None else self.last_open_time + self.interval_ms
        if expected is not None and candle.open_time > expected and self._gap_checked_at != candle.open_time:
            # a closed candle before this one never came (a lost closing frame): fetch it first
            self._gap_checked_at = candle.open_time
            log.warning("%s kline stream: candle %s arrived but %s was never closed on the stream", self.symbol,
                        utc_text(candle.open_time), utc_text(expected))
            self._backfill("to fill a gap")
        if closed:
            self._deliver(candle)

    # ----- delivery ---------------------------------------------------------------------------
    def _backfill(self, why: str) -> None:
        assert self.last_open_time is not None  # a backfill starts after a candle the caller has
        start = self.last_open_time + self.interval_ms
        candles = self.fetch_closed_klines(start)
        count = sum(1 for candle in candles if self._deliver(candle))
        self.backfilled += count
        if count:  # after a connect this is routine (the reconnect itself was logged); a gap is not
            log.log(logging.INFO if why == "after connecting" else logging.WARNING,
                    "%s kline backfill %s: %d closed candle(s) from %s fetched over REST", self.symbol, why,
                    count, utc_text(start))
        else:
            log.info("%s kline backfill %s: nothing missed since %s", self.symbol, why, utc_text(start))

    def _deliver(self, candle: Candle) -> bool:
        if self.stopping or (self.last_open_time is not None and candle.open_time <= self.last_open_time):
            return False  # already delivered (REST and socket overlap), or shutting down
        self.last_open_time = candle.open_time
        self.delivered += 1
        try:
            self.on_candle(candle)
        except Exception:  # the consumer's bug must not kill the stream; the candle counts as delivered
            log.exception("%s on_candle failed for candle %s", self.symbol, utc_text(candle.open_time))
        return True




def _describe(problem: BaseException) -> str:
    return f"{type(problem).__name__}: {problem}" if str(problem) else type(problem).__name__
