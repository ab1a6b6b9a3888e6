"""The kline stream: every closed candle of each subscribed (symbol, interval), once each and in order.

`MarketStream` is a thread that reads all its subscriptions over ONE connection on Binance's
combined stream of the /market route,
`{ws_url}/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_5m` (the 2026 routed path; the
legacy routes are silent, binance.md §1.2-1.3), whose frames come wrapped as
`{"stream": "<name>", "data": <kline event>}`. The streams are named in the URL, so no
SUBSCRIBE message is sent; one connection carries at most 1024 streams (binance.md §3.1).
It hands each closed candle (`k.x` true) to `on_candle(symbol, interval, candle)`. Per
subscription it never hands over a candle whose open time is at or before the last one it
delivered there, so a candle is delivered once even when it arrives from both the socket and REST.

Gaps are filled from REST with `fetch_closed_klines(symbol, interval, start_ms)` (binance.md §2.3),
per subscription:
- after every (re)connect, before any live frame is handled: the socket is opened first, so
  frames that arrive during the REST calls wait in it and are read afterwards;
- on the very first connect too, for each subscription whose `last_open_times` entry says where
  its warm-up candles (loaded from REST before the stream started) ended;
- when a frame shows that a closed candle of its subscription was skipped (its open time lies
  beyond the next expected one), which happens if a closing frame was lost.

The socket is replaced, after a backoff, when it errors, closes or when ANY subscription stays
silent for `silence_seconds` (a silent stream looks exactly like a quiet market, and one stream
of a combined connection can go quiet while the others flow), and without a backoff before
`max_connection_seconds` (Binance cuts every connection at 24 h). A frame that is not wrapped,
names a stream we did not subscribe to, or whose payload symbol disagrees with its stream name is
skipped with a warning.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ict.intervals import utc_text
from ict.models import Candle
from trade.binance.events import StreamMessageError, parse_kline
from trade.errors import ExchangeError
from ict.intervals import INTERVAL_MS as INTERVALS
from trade.binance.stream_socket import (MAX_CONNECTION_SECONDS, SOCKET_ERRORS, SocketThread, StreamClosed, StreamSilent,
                                 is_data)

log = logging.getLogger(__name__)

MAX_STREAMS = 1024  # streams one connection may carry (binance.md §3.1)


@dataclass(eq=False)
class _Subscription:
    """One (symbol, interval) of the connection and where its delivery stands (the stream thread's own)."""

    symbol: str               # upper case, "BTCUSDT"
    interval: str             # "1m", "5m", ...
    last_open_time: int | None  # open time of the last candle delivered (or of the warm-up's last)
    delivered: int = 0
    heard_at: float = 0.0     # monotonic time of this stream's last frame (or of the connect)
    gap_checked_at: int | None = None  # the frame open time a gap backfill was last tried for

    @property
    def name(self) -> str:
        return f"{self.symbol.lower()}@kline_{self.interval}"

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.interval}"


class MarketStream(SocketThread):
    """Closed candles of several (symbol, interval) subscriptions from Binance's combined kline stream.

    - `ws_url`: stream root without a route, e.g. "wss://fstream.binance.com".
    - `streams`: distinct (symbol, interval) pairs, e.g. [("BTCUSDT", "1m"), ("ETHUSDT", "5m")];
      1 to 1024 of them (`MAX_STREAMS`). Symbols are matched in upper case.
    - `on_candle(symbol, interval, candle)`: called on this thread for each closed candle, in
      open-time order per subscription; it should return quickly (e.g. put the candle on a queue).
      `symbol` is upper case. An exception from it is logged and the candle counts as delivered.
    - `fetch_closed_klines(symbol, interval, start_ms)`: closed candles from `start_ms` (open
      time, epoch ms) up to now, oldest first, the still-forming candle left out. Called on this thread.
    - `last_open_times`: per (symbol, interval), the open time of the last candle the caller
      already has (warm-up); a subscription missing from it starts with the first closed candle
      the socket brings.
    - `silence_seconds`: reconnect when any subscription gets no frame for this long (Binance
      pushes a kline frame every 250 ms while the market trades).
    - `max_connection_seconds`, `connect_timeout`, `backoff_base`, `backoff_max`, `sleep`:
      see the module docstring and `SocketThread`.

    Raises ValueError for no streams, more than 1024, a repeated pair, an unknown interval, or a
    `last_open_times` pair that is not among `streams`.
    Counters, readable from any thread: `delivered` (candles handed to `on_candle`, all
    subscriptions), `backfilled` (of those, how many came from REST), `reconnects` (sockets
    opened after the first), `last_data_at` (monotonic time of the last frame of any
    subscription); per subscription `last_open_time(symbol, interval)` and
    `delivered_of(symbol, interval)`. Start with `start()`, end with `stop()`.
    """

    def __init__(self, ws_url: str, streams: Sequence[tuple[str, str]],
                 on_candle: Callable[[str, str, Candle], None],
                 fetch_closed_klines: Callable[[str, str, int], list[Candle]], *,
                 last_open_times: Mapping[tuple[str, str], int] | None = None,
                 silence_seconds: float = 60.0, max_connection_seconds: float = MAX_CONNECTION_SECONDS,
                 connect_timeout: float = 10.0, backoff_base: float = 1.0, backoff_max: float = 60.0,
                 sleep: Callable[[float], object] | None = None) -> None:
        super().__init__("market-stream", connect_timeout, backoff_base, backoff_max, sleep)
        warmed = {(symbol.upper(), interval): at for (symbol, interval), at in (last_open_times or {}).items()}
        self._subs = _subscriptions(streams, warmed)
        self._by_name = {sub.name: sub for sub in self._subs.values()}
        self.url = f"{ws_url.rstrip('/')}/market/stream?streams={'/'.join(self._by_name)}"
        self.on_candle = on_candle
        self.fetch_closed_klines = fetch_closed_klines
        self.silence_seconds = silence_seconds
        self.max_connection_seconds = max_connection_seconds
        self.delivered = 0
        self.backfilled = 0
        self.reconnects = 0

    def last_open_time(self, symbol: str, interval: str) -> int | None:
        """Open time (epoch ms) of the last candle delivered for the pair (or of its warm-up), else None.

        Raises KeyError for a pair this stream does not carry."""
        return self._subs[(symbol.upper(), interval)].last_open_time

    def delivered_of(self, symbol: str, interval: str) -> int:
        """Candles handed to `on_candle` for the pair. Raises KeyError for a pair this stream does not carry."""
        return self._subs[(symbol.upper(), interval)].delivered

    def run(self) -> None:
        connections = 0
        while not self.stopping:
            try:
                ws = self._open(self.url)
            except SOCKET_ERRORS as error:
                if not self.stopping:
                    self._wait_before_retry("kline stream could not connect", _describe(error))
                continue
            connections += 1
            if connections > 1:
                self.reconnects += 1
            log.info("kline stream of %s %s: %s", self._about(),
                     "connected" if connections == 1 else f"reconnected (reconnect {self.reconnects})",
                     self.url if len(self._subs) <= 8 else self.url.partition("?")[0])
            problem = self._serve(ws)
            if self.stopping:
                break
            if problem is None:
                log.info("kline stream: replacing the connection before Binance's 24 h limit")
            else:
                self._wait_before_retry("kline stream", problem)
        log.info("kline stream stopped after %d candles (%d from REST), %d reconnects", self.delivered,
                 self.backfilled, self.reconnects)

    def _about(self) -> str:
        """The subscriptions for a log line: their names, or how many when there are many."""
        if len(self._subs) <= 8:
            return ", ".join(sub.label for sub in self._subs.values())
        return f"{len(self._subs)} symbol-intervals"

    def _serve(self, ws) -> str | None:
        """Backfill, then read live frames; returns why the connection ended (None: it aged out)."""
        try:
            for sub in self._subs.values():
                if sub.last_open_time is not None:
                    self._backfill(sub, "after connecting")
            self._pump(ws)
            return None
        except StreamSilent as problem:
            return str(problem)
        except (StreamClosed, *SOCKET_ERRORS) as problem:
            return f"connection lost ({_describe(problem)})"
        except ExchangeError as problem:  # REST failed during a backfill: reconnect and backfill again later
            return f"backfill over REST failed ({_describe(problem)})"
        except Exception as problem:  # anything else from fetch_closed_klines (or a bug): keep the traceback
            log.warning("kline stream: unexpected failure", exc_info=True)
            return f"unexpected failure ({_describe(problem)})"
        finally:
            self._close(ws)

    # ----- one connection ----------------------------------------------------------------------
    def _pump(self, ws) -> None:
        """Read frames until the connection is due for replacement (returns) or fails (raises)."""
        opened = time.monotonic()
        for sub in self._subs.values():
            sub.heard_at = opened
        silent_by = opened + self.silence_seconds  # no later than the real deadline: heard_at only grows
        while not self.stopping:
            now = time.monotonic()
            age_left = self.max_connection_seconds - (now - opened)
            if age_left <= 0:
                return
            if now >= silent_by:
                silent_by = self._silence_deadline(now)
            frame = self._receive(ws, min(age_left, silent_by - now))
            if frame is None or not is_data(frame[0]):
                continue  # pings do not count: a wrongly routed socket answers pings and sends no klines
            self._on_frame(frame[1])

    def _silence_deadline(self, now: float) -> float:
        """When the quietest subscription turns silent; raises StreamSilent naming those already silent."""
        silent = [sub.label for sub in self._subs.values() if now - sub.heard_at >= self.silence_seconds]
        if silent:
            more = f" and {len(silent) - 8} more" if len(silent) > 8 else ""
            raise StreamSilent(f"no kline frame for {self.silence_seconds:g} s on {', '.join(silent[:8])}{more}")
        return min(sub.heard_at for sub in self._subs.values()) + self.silence_seconds

    def _on_frame(self, data) -> None:
        try:
            message = json.loads(data)
            sub = self._subscription_of(message)
            if sub is None:
                return
            sub.heard_at = self.last_data_at = time.monotonic()
            candle, closed = parse_kline(message["data"])
        except (ValueError, StreamMessageError) as problem:  # JSONDecodeError is a ValueError
            log.warning("kline stream: skipped a frame we cannot read: %s", problem)
            return
        except Exception:  # a frame shaped in a way nobody foresaw must not end the stream
            log.warning("kline stream: skipped a frame that failed to parse", exc_info=True)
            return
        if message["data"].get("s") != sub.symbol:
            log.warning("kline stream: skipped a frame of stream %s whose symbol is %r", sub.name,
                        message["data"].get("s"))
            return
        self.backoff.reset()  # klines are flowing: this connection is healthy
        expected = None if sub.last_open_time is None else sub.last_open_time + INTERVALS[sub.interval]
        if expected is not None and candle.open_time > expected and sub.gap_checked_at != candle.open_time:
            # a closed candle before this one never came (a lost closing frame): fetch it first
            sub.gap_checked_at = candle.open_time
            log.warning("%s kline stream: candle %s arrived but %s was never closed on the stream", sub.label,
                        utc_text(candle.open_time), utc_text(expected))
            self._backfill(sub, "to fill a gap")
        if closed:
            self._deliver(sub, candle)

    def _subscription_of(self, message) -> _Subscription | None:
        """The subscription a wrapped frame belongs to; None (after a warning) for any other frame."""
        if not (isinstance(message, dict) and isinstance(message.get("stream"), str)
                and isinstance(message.get("data"), dict)):
            log.warning("kline stream: skipped a frame that is not wrapped as {\"stream\", \"data\"}: %.200s", message)
            return None
        sub = self._by_name.get(message["stream"])
        if sub is None:
            log.warning("kline stream: skipped a frame of stream %r, which we did not subscribe to", message["stream"])
        return sub

    # ----- delivery ---------------------------------------------------------------------------
    def _backfill(self, sub: _Subscription, why: str) -> None:
        assert sub.last_open_time is not None  # a backfill starts after a candle the caller has
        start = sub.last_open_time + INTERVALS[sub.interval]
        candles = self.fetch_closed_klines(sub.symbol, sub.interval, start)
        count = sum(1 for candle in candles if self._deliver(sub, candle))
        self.backfilled += count
        if count:  # after a connect this is routine (the reconnect itself was logged); a gap is not
            log.log(logging.INFO if why == "after connecting" else logging.WARNING,
                    "%s kline backfill %s: %d closed candle(s) from %s fetched over REST", sub.label, why,
                    count, utc_text(start))
        else:
            log.info("%s kline backfill %s: nothing missed since %s", sub.label, why, utc_text(start))

    def _deliver(self, sub: _Subscription, candle: Candle) -> bool:
        if self.stopping or (sub.last_open_time is not None and candle.open_time <= sub.last_open_time):
            return False  # already delivered (REST and socket overlap), or shutting down
        sub.last_open_time = candle.open_time
        sub.delivered += 1
        self.delivered += 1
        try:
            self.on_candle(sub.symbol, sub.interval, candle)
        except Exception:  # the consumer's bug must not kill the stream; the candle counts as delivered
            log.exception("%s on_candle failed for candle %s", sub.label, utc_text(candle.open_time))
        return True


def _subscriptions(streams: Sequence[tuple[str, str]],
                   warmed: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], _Subscription]:
    """The subscriptions by (upper-case symbol, interval); ValueError for a list Binance or we cannot serve."""
    if not streams:
        raise ValueError("a market stream needs at least one (symbol, interval)")
    if len(streams) > MAX_STREAMS:
        raise ValueError(f"{len(streams)} kline streams asked for one connection; Binance allows at most "
                         f"{MAX_STREAMS} streams per connection")
    subs: dict[tuple[str, str], _Subscription] = {}
    for symbol, interval in streams:
        if interval not in INTERVALS:
            raise ValueError(f"kline interval {interval!r} is not one of {', '.join(INTERVALS)}")
        key = (symbol.upper(), interval)
        if key in subs:
            raise ValueError(f"kline stream {key[0]} {interval} is asked for twice")
        subs[key] = _Subscription(key[0], interval, warmed.get(key))
    stray = sorted(set(warmed) - set(subs))
    if stray:
        raise ValueError(f"last_open_times names {stray[0][0]} {stray[0][1]}, which is not among the streams")
    return subs


def _describe(problem: BaseException) -> str:
    return f"{type(problem).__name__}: {problem}" if str(problem) else type(problem).__name__
