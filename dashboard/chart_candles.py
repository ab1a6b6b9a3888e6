"""Where the chart page's candles come from: the replay's candle files, or the exchange's klines.

- `ReplayCandles` (mode replay): each symbol's candle file from settings.toml (`[replay] file`,
  `[replay.SYMBOL] file`), fitted to the interval as the replay fits it (`ict.candle_file`), read
  once per file version.
- `LiveCandles` (paper, testnet, demo, mainnet): the closed klines of the mode's REST host
  (`[exchange] rest_url`, else `trade.binance.rest.HOSTS`), read with the bot's own
  `BinanceExchange.closed_klines`. Each (symbol, interval) is kept for `fresh_seconds`; after
  that only candles newer than the last one kept are asked for, and only once the next candle
  can have closed, so a page polling every few seconds costs about one small request per candle.

Both give a `CandleWindow`: the last `limit` closed candles, oldest first. A source that cannot be
read gives the candles it had (maybe none) and `problem`, one line for the page, never a traceback.
"""
from __future__ import annotations

import bisect
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ict.candle_file import CandleFileError, fit_to_interval, load_candles
from ict.intervals import INTERVAL_MS
from ict.models import Candle
from runtime.settings import Settings, SettingsError, check_replay_file
from trade.errors import ExchangeError

log = logging.getLogger(__name__)
FRESH_SECONDS = 5.0     # a live (symbol, interval) is not asked again within this many seconds
MAX_CANDLES = 1500      # the most candles one chart shows: one klines request (Binance's page size)

KlinesFetch = Callable[[str, str, "int | None", int], list[Candle]]
"""(symbol, interval, start_ms or None for the latest, limit) -> closed candles, oldest first;
raises trade.errors.ExchangeError (`BinanceExchange.closed_klines` in this shape)."""


@dataclass(frozen=True)
class CandleWindow:
    """The last closed candles of one symbol and interval, oldest first (open times in epoch ms UTC,
    prices in the quote asset). `source`: the candle file or REST host they came from. `problem`: one
    line saying why the newest candles could not be read (then `candles` are the last ones read,
    maybe none), else None."""

    candles: tuple[Candle, ...]
    source: str
    problem: str | None = None


class CandleSource(Protocol):
    def window(self, symbol: str, interval: str, limit: int, end_ms: int | None = None) -> CandleWindow:
        """The last `limit` closed candles at or before open time `end_ms` (None: the newest)."""


class ReplayCandles:
    """The replay's candle files as a `CandleSource`. Thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._files: dict[tuple[Path, str], tuple[tuple[int, int], list[Candle]]] = {}
        self._lock = threading.Lock()

    def window(self, symbol: str, interval: str, limit: int, end_ms: int | None = None) -> CandleWindow:
        """`end_ms`: the last candle to show (a replay journal's last candle); None or outside the
        file: the file's end."""
        setting = f"[replay.{symbol}] file" if symbol in self.settings.replay_symbols else "[replay] file"
        shown = self.settings.replay_file_of(symbol)
        try:
            path = check_replay_file(self.settings, shown, setting, relative_to_settings=True)
            candles = self._fitted(path, interval)
        except (SettingsError, CandleFileError, OSError) as problem:
            return CandleWindow((), shown, f"no candles for {symbol}: {problem}")
        end = len(candles)
        if end_ms is not None:
            cut = bisect.bisect_right(candles, end_ms, key=lambda c: c.open_time)
            end = cut or end
        return CandleWindow(tuple(candles[max(0, end - limit):end]), shown)

    def _fitted(self, path: Path, interval: str) -> list[Candle]:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        key = (path.resolve(), interval)
        with self._lock:   # one load per file version, also when several pages ask at once
            known = self._files.get(key)
            if known is None or known[0] != version:
                candles = fit_to_interval(path, load_candles(path), INTERVAL_MS[interval], f"chart interval {interval}")
                self._files[key] = known = (version, candles)
            return known[1]


@dataclass
class _Kept:
    candles: list[Candle]
    depth: int            # how many candles the full read asked for
    asked_at: float       # when the exchange was last asked (seconds, `now`)
    problem: str | None = None   # why the last request failed, until one succeeds


class LiveCandles:
    """The exchange's closed klines as a `CandleSource`, kept per (symbol, interval). Thread-safe.

    `fetch`: see `KlinesFetch`; `source`: the REST host, for people; `now`: wall clock in seconds.
    A failed request is not repeated within `fresh_seconds` either: the page keeps its one line."""

    def __init__(self, fetch: KlinesFetch, source: str, now: Callable[[], float] = time.time,
                 fresh_seconds: float = FRESH_SECONDS) -> None:
        self.fetch = fetch
        self.source = source
        self.now = now
        self.fresh_seconds = fresh_seconds
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._lock = threading.Lock()

    def window(self, symbol: str, interval: str, limit: int, end_ms: int | None = None) -> CandleWindow:
        """The newest `limit` closed candles (`end_ms` is not used: live candles end at the last closed one)."""
        with self._lock:   # one request at a time: a second page waits, then finds them kept
            kept = self._kept.get((symbol, interval))
            now = self.now()
            if kept is None or limit > kept.depth:
                kept = self._kept[(symbol, interval)] = _Kept([], limit, now - self.fresh_seconds)
            if now - kept.asked_at >= self.fresh_seconds:
                self._ask(symbol, interval, kept, now)
            return CandleWindow(tuple(kept.candles[-limit:]), self.source, kept.problem)

    def _ask(self, symbol: str, interval: str, kept: _Kept, now: float) -> None:
        step = INTERVAL_MS[interval]
        last = kept.candles[-1].open_time if kept.candles else None
        if last is not None and now * 1000 < last + 2 * step:   # the candle after the last one is still forming
            return
        kept.asked_at = now
        try:
            missing = (int(now * 1000) - last) // step if last is not None else kept.depth + 1
            if last is None or missing > kept.depth:   # none kept, or away longer than the window: read afresh
                kept.candles = list(self.fetch(symbol, interval, None, kept.depth))
            else:                                      # only the newer ones: one small request
                newer = self.fetch(symbol, interval, last + step, missing + 1)
                kept.candles = (kept.candles + [c for c in newer if c.open_time > last])[-kept.depth:]
            kept.problem = None
        except ExchangeError as error:
            shown = "showing the last ones read" if kept.candles else "check the network and [exchange] rest_url"
            kept.problem = f"candles from {self.source} unavailable ({error.message}); {shown}"
            log.warning("chart %s %s: %s", symbol, interval, kept.problem)


def exchange_klines(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> tuple[KlinesFetch, str]:
    """A `KlinesFetch` over the mode's REST host (no keys: klines are public), and that host.

    Reuses the bot's `BinanceRest` (retries, rate-limit pause, errors as trade.errors) and
    `BinanceExchange.closed_klines` (the forming candle dropped by the server's time; a call is
    two requests of weight 1 and 1-2: /fapi/v1/time and /fapi/v1/klines). `sleep`: the retries' wait. While
    Binance asks us to wait (HTTP 429/418), the chart asks nothing and says so."""
    from trade.binance.exchange import BinanceExchange
    from trade.binance.rest import HOSTS, BinanceRest
    from trade.errors import RateLimited

    host = settings.exchange.rest_url or HOSTS[settings.mode][0]
    rest = BinanceRest(host, recv_window_ms=settings.exchange.recv_window_ms, timeout_seconds=5.0, sleep=sleep)
    exchange = BinanceExchange(rest)

    def fetch(symbol: str, interval: str, start_ms: int | None, limit: int) -> list[Candle]:
        wait = rest.paused_until - rest.now()
        if wait > 0:   # BinanceRest would sleep through it, holding the page
            raise RateLimited(f"Binance's rate limit: waiting {wait:.0f} s", wait)
        return exchange.closed_klines(symbol, interval, INTERVAL_MS[interval], start_ms=start_ms, limit=limit)

    return fetch, host


def candle_source(settings: Settings) -> CandleSource:
    """The candle source of the settings' mode: the candle files in replay, the exchange otherwise."""
    if settings.mode == "replay":
        return ReplayCandles(settings)
    fetch, host = exchange_klines(settings)
    return LiveCandles(fetch, host)
