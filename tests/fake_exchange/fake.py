"""`FakeBinance`: the facade tests and the benchmark use to run the fake exchange.

It wires the pieces together — REST server (`rest.py`, routes in `routes*.py`),
WebSocket server (`ws.py`), matching engine (`engine.py`, `matching.py`), account
(`account.py`), candle store (`candles.py`) and listenKeys — and gives the test a
driver's seat: load and push candles, move prices, inspect orders, positions, PnL
and recorded requests, and inject faults (those of the account, the
stream's delivery and any endpoint live in `account_faults.py`).

Time: the server clock (`/fapi/v1/time`, the recvWindow check, event times, which
klines are visible) is wall time unless a `clock` is given. A `ReplayClock` stands
still until told to move, and `push_candle` moves it to each bar's close; with it,
pass `check_recv_window=False` unless the client syncs its timestamp offset.
"""
from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable

from .account import Account, Position, Trade
from .account_faults import AccountFaults
from .candles import CandleStore, Kline, make_kline, read_candle_file, ws_payload
from .engine import Engine
from .listen_keys import ListenKeys
from .matching import move, walk
from .orders import AlgoOrder, Order
from .rest import RecordedRequest, RestServer
from .routes import ROUTES
from .symbols import SymbolRules
from .ws import WsServer

# Binance's documented HMAC example key pair (binance.md §8.2); public test values.
DEFAULT_API_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DEFAULT_API_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class ReplayClock:
    """A server clock that moves only when told: `set`, `advance`, `advance_to` (never back)."""

    def __init__(self, start_ms: int = 0) -> None:
        self._ms = start_ms
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._ms

    def set(self, ms: int) -> None:
        with self._lock:
            self._ms = ms

    def advance(self, ms: int) -> None:
        with self._lock:
            self._ms += ms

    def advance_to(self, ms: int) -> None:
        with self._lock:
            self._ms = max(self._ms, ms)


class FakeBinance(AccountFaults):
    """A local Binance USDⓈ-M futures exchange speaking the real REST and stream formats."""

    def __init__(self, *, api_key: str = DEFAULT_API_KEY, api_secret: str = DEFAULT_API_SECRET,
                 symbols: Iterable[SymbolRules] | None = None, balance: str = "10000",
                 maker_rate: str = "0.0002", taker_rate: str = "0.0005", dual_side: bool = False,
                 clock: Callable[[], int] | None = None, check_recv_window: bool = True,
                 strict_booleans: bool = True, weight_limit: int = 2400, ws_ping_interval: float | None = 180.0,
                 ws_ping_timeout: float | None = 600.0, private_default_events: str = "none",
                 triggered_client_id: str = "generated", host: str = "127.0.0.1", rest_port: int = 0,
                 ws_port: int = 0) -> None:
        self.api_key, self.api_secret = api_key, api_secret
        self.clock = clock or wall_clock_ms
        self.rules: dict[str, SymbolRules] = {r.symbol: r for r in (symbols or [SymbolRules()])}
        self.strict_booleans = strict_booleans
        self.account = Account(Decimal(balance), Decimal(maker_rate), Decimal(taker_rate), self.rules)
        self.account.dual_side = dual_side
        self.candles = CandleStore()
        self.listen_keys = ListenKeys(self.clock)
        self.events: list[tuple[str, dict]] = []
        self._held_events: list[tuple[str, dict]] | None = None
        self.engine = Engine(self.rules, self.account, self.clock, self._emit, triggered_client_id)
        self.rest = RestServer(self, ROUTES, {api_key: api_secret}, self.clock, weight_limit, check_recv_window)
        self.ws = WsServer(self.listen_keys.is_valid, host, ws_port, ws_ping_interval, ws_ping_timeout,
                           private_default_events)
        self._host, self._rest_port = host, rest_port
        self.rest_url = self.ws_url = ""

    # ----- lifecycle ---------------------------------------------------------------------

    def start(self) -> "FakeBinance":
        self.rest_url = f"http://{self._host}:{self.rest.start(self._host, self._rest_port)}"
        self.ws_url = f"ws://{self._host}:{self.ws.start()}"
        return self

    def stop(self) -> None:
        self.ws.stop()
        self.rest.stop()

    def __enter__(self) -> "FakeBinance":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _emit(self, event: str, payload: dict) -> None:
        if self._held_events is not None:
            self._held_events.append((event, payload))
            return
        self.events.append((event, payload))
        self.ws.publish_private(event, payload)

    # ----- market ------------------------------------------------------------------------

    def load_candles(self, source: str | Path | Iterable[Kline], symbol: str = "BTCUSDT",
                     interval: str = "1m") -> int:
        """Add history bars (a candle file or `Kline`s) without events; sets the price to the last close."""
        bars = read_candle_file(source, interval) if isinstance(source, (str, Path)) else list(source)
        for bar in bars:
            self.candles.add(symbol, interval, bar)
        if bars:
            with self.engine.lock:
                self.engine.last.setdefault(symbol, bars[-1].close)
        return len(bars)

    def push_candle(self, open_time: int, o, h, l, c, v="1", closed: bool = True, symbol: str = "BTCUSDT",
                    interval: str = "1m") -> dict:
        """Trade through one bar (fills, triggers), then push its kline frame; returns the frame."""
        return self.push_kline(make_kline(open_time, interval, o, h, l, c, v, closed), symbol, interval)

    def push_kline(self, kline: Kline, symbol: str = "BTCUSDT", interval: str = "1m") -> dict:
        bars = self.candles.bars(symbol, interval)
        update = bool(bars) and bars[-1].open_time == kline.open_time
        stored = self.candles.add(symbol, interval, kline)
        advance = getattr(self.clock, "advance_to", None)
        if advance is not None:
            advance(kline.close_time + 1 if kline.closed else kline.open_time)
        with self.engine.lock:
            if update:
                for point in ((kline.low, kline.high) if kline.close >= kline.open else (kline.high, kline.low)):
                    move(self.engine, symbol, point, gap=False, refs={"last", "mark"})
                move(self.engine, symbol, kline.close, gap=False, refs={"last", "mark"})
            else:
                walk(self.engine, symbol, kline.open, kline.high, kline.low, kline.close)
        payload = ws_payload(stored, self.rules[symbol], interval, self.clock())
        self.ws.publish_market(f"{symbol.lower()}@kline_{interval}", payload)
        return payload

    def set_price(self, price, symbol: str = "BTCUSDT", mark=None) -> None:
        """Jump the last price (and the mark, unless `mark` is given) to `price`, firing what it crosses."""
        price = Decimal(str(price))
        if mark is None:
            move(self.engine, symbol, price, gap=True, refs={"last", "mark"})
        else:
            move(self.engine, symbol, Decimal(str(mark)), gap=True, refs={"mark"})
            move(self.engine, symbol, price, gap=True, refs={"last"})

    def set_mark_price(self, mark, symbol: str = "BTCUSDT") -> None:
        move(self.engine, symbol, Decimal(str(mark)), gap=True, refs={"mark"})

    # ----- inspection --------------------------------------------------------------------

    @property
    def orders(self) -> list[Order]:
        with self.engine.lock:
            return list(self.engine.orders.values())

    @property
    def algo_orders(self) -> list[AlgoOrder]:
        with self.engine.lock:
            return list(self.engine.algo_orders.values())

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.rest.lock:
            return list(self.rest.requests)

    @property
    def trades(self) -> list[Trade]:
        with self.engine.lock:
            return list(self.account.trades)

    @property
    def wallet_balance(self) -> Decimal:
        return self.account.wallet

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def realized_pnl(self, symbol: str | None = None) -> Decimal:
        """Sum of `rp` over all fills (before commission)."""
        return sum((t.realized_pnl for t in self.trades if symbol in (None, t.symbol)), Decimal(0))

    def commission_paid(self, symbol: str | None = None) -> Decimal:
        return sum((t.commission for t in self.trades if symbol in (None, t.symbol)), Decimal(0))

    def position(self, symbol: str = "BTCUSDT", position_side: str = "BOTH") -> Position:
        with self.engine.lock:
            return self.account.position(symbol, position_side)

    def user_events(self, name: str | None = None) -> list[dict]:
        """Every user-data event emitted so far (whether or not a socket was listening)."""
        return [p for e, p in list(self.events) if name in (None, e)]

    def wait_for_market_sockets(self, n: int, timeout: float = 5.0) -> bool:
        return self.ws.wait_for_count("market", n, timeout)

    def wait_for_private_sockets(self, n: int, timeout: float = 5.0) -> bool:
        return self.ws.wait_for_count("private", n, timeout)

    # ----- fault injection ---------------------------------------------------------------

    def drop_market_sockets(self) -> int:
        """Abort every /market socket (no close frame); returns how many were dropped."""
        return self.ws.drop("market")

    def drop_private_sockets(self) -> int:
        return self.ws.drop("private")

    def expire_listen_key(self, key: str | None = None) -> str:
        """Push listenKeyExpired on the key's sockets (allow-list permitting), then invalidate it."""
        key = key or self.listen_keys.active()
        if key is None:
            raise RuntimeError("no active listenKey to expire; the client has not created one")
        now = self.clock()
        payload = {"e": "listenKeyExpired", "E": now, "listenKey": key}
        self.events.append(("listenKeyExpired", payload))
        self.ws.publish_private("listenKeyExpired", payload, listen_key=key)
        self.listen_keys.expire(key)
        return key

    def fail_next_order(self, status: int = 503, after_accept: bool = True, body: dict | None = None,
                        disconnect: bool = False, delay_s: float = 0.0) -> None:
        """The next POST /fapi/v1/order fails: HTTP `status` with Binance's unknown-status 503 body
        (or `body`), or a dropped connection (`disconnect`), optionally after `delay_s`. With
        `after_accept` the order is executed first, so its status is really unknown to the client."""
        with self.rest.lock:
            self.rest.faults.order_failures.append({"status": status, "after_accept": after_accept, "body": body,
                                                    "disconnect": disconnect, "delay_s": delay_s})

    def rate_limit_next(self, n: int = 1, retry_after: int = 60) -> None:
        """The next `n` requests get HTTP 429 -1003 with a `Retry-After` header."""
        with self.rest.lock:
            self.rest.faults.rate_limited += n
            self.rest.faults.retry_after = retry_after

    def reject_next_algo(self, code: int = -2021) -> None:
        """The next POST /fapi/v1/algoOrder is refused with `code` (Binance's message for it)."""
        with self.rest.lock:
            self.rest.faults.algo_rejects.append(code)

    def reject_next_trigger(self, reason: str = "Margin is insufficient.") -> None:
        """The next algo order to trigger goes REJECTED with `rm` = `reason` instead of filling."""
        with self.engine.lock:
            self.engine.trigger_rejects.append(reason)

    def refuse_margin_type_changes(self, code: int = -4067) -> None:
        """Every POST /fapi/v1/marginType is refused with `code`, whatever the account holds: some
        hosts answer -4067 to a change that was not needed."""
        with self.engine.lock:
            self.account.margin_type_refusal = code
