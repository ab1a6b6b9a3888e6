"""The REST connection to Binance USDⓈ-M futures: python-binance's Client, held safely.

`BinanceRest.call` is the only way our code reaches the Client. It
- builds the Client with `ping=False` (no spot ping) and our own host, recvWindow and timeout;
- keeps the clock offset from /fapi/v1/time (python-binance's sync Client never syncs),
  again every 30 minutes and on -1021/-5028;
- reads X-MBX-USED-WEIGHT-1M after every answer and slows down before Binance's limit;
- on 429/418 stops sending until Retry-After (or 60 s) has passed, loudly;
- retries reads with backoff, never a write: a write whose outcome is unknown raises
  OutcomeUnknown and the trader asks by client id first;
- translates every failure into trade.errors, with Binance's code and message and never
  a URL (which would carry the signature) or a key.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException

from trade.errors import ExchangeError, ExchangeFatal, ExchangeUnavailable, OrderRejected, OutcomeUnknown, RateLimited

log = logging.getLogger(__name__)

HOSTS = {  # mode: (REST base, stream base), binance.md §1
    "demo": ("https://demo-fapi.binance.com", "wss://demo-fstream.binance.com"),
    "testnet": ("https://testnet.binancefuture.com", "wss://fstream.binancefuture.com"),
    "mainnet": ("https://fapi.binance.com", "wss://fstream.binance.com"),
    "paper": ("https://fapi.binance.com", "wss://fstream.binance.com"),
}
UNKNOWN_OUTCOME_CODES = {-1000, -1006, -1007}   # "execution status unknown"
TIME_CODES = {-1021, -5028}                     # timestamp outside recvWindow
AUTH_CODES = {-2014, -2015, -1022, -1002}       # key format, key/IP/permissions, signature, unauthorized
READ_RETRIES = 3
TIME_SYNC_SECONDS = 30 * 60
WEIGHT_SLOWDOWN = 0.9                           # fraction of the minute's weight limit that makes us wait


class BinanceRest:
    """One python-binance Client and the rules for using it. Thread-safe: one call at a time.

    `api_key`/`api_secret` may be empty for public data (paper mode, streams' backfill).
    `sleep` and `now` are injected so tests never wait.
    """

    def __init__(self, rest_base: str, api_key: str = "", api_secret: str = "", recv_window_ms: int = 5000,
                 timeout_seconds: float = 10.0, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], float] = time.time) -> None:
        self.client = Client(api_key or None, api_secret or None, ping=False, requests_params={"timeout": timeout_seconds})
        self.client.FUTURES_URL = rest_base.rstrip("/") + "/fapi"
        self.client.REQUEST_RECVWINDOW = recv_window_ms
        self.sleep = sleep
        self.now = now
        self.weight_limit = 2400
        self.used_weight = 0
        self.paused_until = 0.0
        self._weight_minute = 0
        self._synced_at: float | None = None
        self._lock = threading.RLock()

    def sync_time(self) -> int:
        """Set the clock offset from Binance's server time; return it in ms."""
        before = self.now()
        server = self.call("futures_time", sync=False)["serverTime"]
        after = self.now()
        offset = int(server - (before + after) / 2 * 1000)
        self.client.timestamp_offset = offset
        self._synced_at = after
        log.info("clock offset to Binance: %d ms", offset)
        return offset

    def call(self, method: str, write: bool = False, sync: bool = True, **params: Any) -> Any:
        """Call `Client.<method>(**params)`; raise trade.errors on failure (see the module doc)."""
        with self._lock:
            if sync and self._synced_at is not None and self.now() - self._synced_at > TIME_SYNC_SECONDS:
                self.sync_time()
            attempts, attempt, resynced = (1 if write else READ_RETRIES), 0, False
            while True:
                attempt += 1
                self._wait_if_paused(write)
                try:
                    result = getattr(self.client, method)(**params)
                    self._read_weight()
                    return result
                except BinanceAPIException as exc:
                    self._read_weight()
                    error = self._translate(exc, write)
                except (requests.Timeout, requests.ConnectionError) as exc:
                    # the request may have reached the matching engine: only a query can tell
                    error = (OutcomeUnknown if write else ExchangeUnavailable)(f"{method}: no answer ({type(exc).__name__})")
                except (requests.RequestException, BinanceRequestException, ValueError) as exc:
                    error = (OutcomeUnknown if write else ExchangeUnavailable)(f"{method}: bad answer ({type(exc).__name__})")
                if error.code in TIME_CODES and sync and not resynced:
                    # -1021 means refused before execution, so even a write may go again once
                    log.warning("%s: Binance says our clock is off (%s); syncing and trying again", method, error.code)
                    self.sync_time()
                    resynced, attempt = True, attempt - 1
                    continue
                if isinstance(error, ExchangeUnavailable) and attempt < attempts:
                    log.warning("%s failed (%s); retrying in %.1f s", method, error.message, 0.2 * 2 ** attempt)
                    self.sleep(0.2 * 2 ** attempt)
                    continue
                raise error

    def _translate(self, exc: BinanceAPIException, write: bool) -> ExchangeError:
        status, code, message = exc.status_code, exc.code, exc.message or ""
        if status in (418, 429):
            retry_after = _retry_after(exc)
            self.paused_until = self.now() + retry_after
            log.error("Binance rate limit hit (HTTP %s, %s): sending nothing for %.0f s", status, message, retry_after)
            return RateLimited(f"HTTP {status}: {message}", retry_after, code)
        if code in AUTH_CODES:
            return ExchangeFatal(f"Binance refused the API key ({code} {message}); check the key, its permissions "
                                 "(futures trading enabled) and its IP restriction", code)
        if code in UNKNOWN_OUTCOME_CODES or (status == 503 and "unknown" in message.lower()):
            return (OutcomeUnknown if write else ExchangeUnavailable)(f"{code} {message}", code)
        if status >= 500:
            return ExchangeUnavailable(f"HTTP {status} {code} {message}", code)
        return OrderRejected(message, code)

    def _read_weight(self) -> None:
        response = getattr(self.client, "response", None)
        headers = getattr(response, "headers", None) or {}
        used = headers.get("x-mbx-used-weight-1m") or headers.get("X-MBX-USED-WEIGHT-1M")
        if used is not None and str(used).isdigit():
            self.used_weight = int(used)
            self._weight_minute = int(self.now() // 60)

    def _wait_if_paused(self, write: bool) -> None:
        wait = self.paused_until - self.now()
        if wait > 0:
            log.warning("waiting %.0f s for Binance's rate limit before sending", wait)
            self.sleep(wait)
        if not write and self.used_weight >= WEIGHT_SLOWDOWN * self.weight_limit and int(self.now() // 60) == self._weight_minute:
            wait = 60 - self.now() % 60 + 0.5
            log.warning("used %d of %d request weight this minute: waiting %.0f s", self.used_weight, self.weight_limit, wait)
            self.sleep(wait)


def _retry_after(exc: BinanceAPIException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return 60.0
    try:
        return max(1.0, float(value))
    except (TypeError, ValueError):
        return 60.0
