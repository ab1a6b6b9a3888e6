"""Tests of MarketStream and UserStream against the fake Binance on 127.0.0.1.

The streams run as in production (websocket-client sockets, real threads); REST goes
through python-binance's `Client` pointed at the fake. The fake's clock is a
`ReplayClock`, so a pushed bar is closed exactly when Binance would say so, and REST
shows the still-forming bar as forming. Candles are the real BTCUSDT 1m bars of
2022-05-06 from `data/`. Tests wait on conditions with timeouts, never on fixed sleeps.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from decimal import Decimal
from typing import Callable, Iterator

import pytest
from binance import Client
from binance.exceptions import BinanceAPIException

from ict.intervals import INTERVAL_MS
from ict.models import Candle
from tests.fake_exchange import FakeBinance, ReplayClock
from tests.fake_exchange.candles import Kline, read_candle_file
from trade.binance.events import UserEventTranslator
from trade.binance.market_stream import MarketStream
from trade.models import OrderStatus, OrderUpdate
from trade.binance.user_stream import ListenKeyGone, UserStream, short_key
from tests.conftest import DAY_FILE

BARS: list[Kline] = read_candle_file(DAY_FILE, "1m")
HISTORY = 100  # bars the fake holds before a test starts; BARS[HISTORY:] are pushed by tests
PREFIX = "k3x9qa-"
QUICK = dict(backoff_base=0.02, backoff_max=0.2, connect_timeout=5.0)


def candle_of(bar: Kline) -> Candle:
    return Candle(bar.open_time, float(bar.open), float(bar.high), float(bar.low), float(bar.close), float(bar.volume))


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.005)


def rest_closed_klines(client: Client) -> Callable[[str, str, int], list[Candle]]:
    """`fetch_closed_klines` over python-binance: pages of 1500 from `start_ms`, the forming bar dropped
    (binance.md §2.3). The production one lives in the REST wrapper; this is the test's own.
    `fetch.calls` lists the (symbol, interval, start_ms) of each call, once it has returned."""
    calls: list[tuple[str, str, int]] = []

    def fetch(symbol: str, interval: str, start_ms: int) -> list[Candle]:
        candles = _fetch(symbol, interval, start_ms)
        calls.append((symbol, interval, start_ms))
        return candles

    def _fetch(symbol: str, interval: str, start_ms: int) -> list[Candle]:
        interval_ms = INTERVAL_MS[interval]
        server_ms = client.futures_time()["serverTime"]
        candles: list[Candle] = []
        while True:
            rows = client.futures_klines(symbol=symbol, interval=interval, startTime=start_ms, limit=1500)
            closed = [row for row in rows if int(row[6]) < server_ms]
            candles += [Candle(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])) for r in closed]
            if len(rows) < 1500 or len(closed) < len(rows):
                return candles
            start_ms = int(rows[-1][0]) + interval_ms

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


class ClientListenKeys:
    """The `ListenKeySource` over python-binance, as the lead's wrapper does it over ours."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.issued: list[str] = []

    def new(self) -> str:
        key = self.client.futures_stream_get_listen_key()
        self.issued.append(key)
        return key

    def keepalive(self, key: str) -> None:
        try:
            self.client.futures_stream_keepalive(listenKey=key)
        except BinanceAPIException as problem:
            if problem.code == -1125:
                raise ListenKeyGone(problem.message) from None
            raise


class Recorder:
    """Collects what a stream hands over, from the stream's thread."""

    def __init__(self) -> None:
        self.items: list = []
        self.resyncs = 0
        self._lock = threading.Lock()

    def __call__(self, item) -> None:
        with self._lock:
            self.items.append(item)

    def resync(self) -> None:
        with self._lock:
            self.resyncs += 1

    def snapshot(self) -> list:
        with self._lock:
            return list(self.items)

    def order_updates(self, client_id: str | None = None) -> list[OrderUpdate]:
        return [i for i in self.snapshot() if isinstance(i, OrderUpdate) and client_id in (None, i.client_order_id)]


# ----- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    fx = FakeBinance(clock=ReplayClock(BARS[HISTORY].open_time), check_recv_window=False, ws_ping_interval=None)
    fx.load_candles(BARS[:HISTORY])
    with fx:
        yield fx


@pytest.fixture
def new_client(fake: FakeBinance) -> Iterator[Callable[[], Client]]:
    """python-binance clients on the fake: one per thread, since a requests session is not shared."""
    made: list[Client] = []

    def make() -> Client:
        client = Client(fake.api_key, fake.api_secret, ping=False)
        client.FUTURES_URL = fake.rest_url + "/fapi"
        made.append(client)
        return client

    yield make
    for client in made:
        client.close_connection()


@pytest.fixture
def streams() -> Iterator[Callable]:
    """Start stream threads; every one is stopped after the test, and must stop quickly."""
    started = []

    def start(stream):
        started.append(stream)
        stream.start()
        return stream

    yield start
    for stream in started:
        began = time.monotonic()
        stream.stop(timeout=5)
        assert not stream.is_alive() and time.monotonic() - began < 3


def market_stream(fake: FakeBinance, client: Client, recorder: Recorder,
                  pairs: tuple[tuple[str, str], ...] = (("BTCUSDT", "1m"),), **options) -> MarketStream:
    """A stream of `pairs` whose candles reach `recorder` as (symbol, interval, candle)."""
    # warm-up ended with the fake's history
    options.setdefault("last_open_times", {pair: BARS[HISTORY - 1].open_time for pair in pairs})
    return MarketStream(fake.ws_url, pairs, on_candle=lambda symbol, interval, candle: recorder((symbol, interval, candle)),
                        fetch_closed_klines=rest_closed_klines(client), **{**QUICK, **options})


def btc(bars: list[Kline]) -> list[tuple[str, str, Candle]]:
    """What the recorder of a BTCUSDT 1m stream holds after `bars`."""
    return [("BTCUSDT", "1m", candle_of(bar)) for bar in bars]


# ----- MarketStream -------------------------------------------------------------------------------


def test_market_stream_delivers_closed_candles_once_each_in_order(fake, new_client, streams) -> None:
    got = Recorder()
    stream = streams(market_stream(fake, new_client(), got))
    assert fake.wait_for_market_sockets(1)
    for bar in BARS[HISTORY:HISTORY + 3]:
        fake.push_kline(replace(bar, close=bar.open, closed=False))  # forming updates are not candles
        fake.push_kline(replace(bar, closed=False))
        fake.push_kline(bar)
    wait_until(lambda: len(got.snapshot()) >= 3, what="three closed candles")
    fake.push_kline(BARS[HISTORY + 3])  # a barrier: once it is in, anything duplicated would be too
    wait_until(lambda: len(got.snapshot()) >= 4, what="the fourth candle")
    assert got.snapshot() == btc(BARS[HISTORY:HISTORY + 4])
    assert (stream.delivered, stream.reconnects) == (4, 0)


def test_market_stream_first_connect_backfills_from_warm_up_end(fake, new_client, streams) -> None:
    # the warm-up ended 3 bars before the fake's last closed bar: those 3 come over REST
    got = Recorder()
    warm_up_end = {("BTCUSDT", "1m"): BARS[HISTORY - 4].open_time}
    stream = streams(market_stream(fake, new_client(), got, last_open_times=warm_up_end))
    wait_until(lambda: len(got.snapshot()) >= 3, what="the backfilled candles")
    assert fake.wait_for_market_sockets(1)
    fake.push_kline(BARS[HISTORY])
    wait_until(lambda: len(got.snapshot()) >= 4, what="the live candle")
    assert got.snapshot() == btc(BARS[HISTORY - 3:HISTORY + 1])
    assert stream.backfilled == 3


def test_market_stream_dropped_socket_backfills_missed_candles_exactly_once(fake, new_client, streams) -> None:
    got, gate = Recorder(), threading.Event()
    # the reconnect waits for the test, so the missed bars can only come back over REST
    stream = streams(market_stream(fake, new_client(), got, sleep=lambda seconds: gate.wait(5)))
    assert fake.wait_for_market_sockets(1)
    fake.push_kline(BARS[HISTORY])
    wait_until(lambda: len(got.snapshot()) == 1, what="the first candle")
    before = stream.backfilled  # the first candle may have come live or through the first backfill
    assert fake.drop_market_sockets() == 1
    for bar in BARS[HISTORY + 1:HISTORY + 6]:
        fake.push_kline(bar)
    fake.push_kline(replace(BARS[HISTORY + 6], closed=False))  # forming: REST must not hand it over
    gate.set()
    wait_until(lambda: len(got.snapshot()) >= 6, what="the backfill")
    assert fake.wait_for_market_sockets(1)
    fake.push_kline(BARS[HISTORY + 6])
    fake.push_kline(BARS[HISTORY + 7])
    wait_until(lambda: len(got.snapshot()) >= 8, what="live candles after the reconnect")
    assert got.snapshot() == btc(BARS[HISTORY:HISTORY + 8])
    assert (stream.reconnects, stream.backfilled - before) == (1, 5)


def test_market_stream_silent_socket_reconnects_and_backfills(fake, new_client, streams) -> None:
    got = Recorder()
    stream = streams(market_stream(fake, new_client(), got, silence_seconds=0.3))
    wait_until(lambda: stream.reconnects >= 2, what="reconnects after silence")
    fake.push_kline(BARS[HISTORY])  # lands live or, between sockets, through the next backfill
    wait_until(lambda: len(got.snapshot()) >= 1, what="a candle after silence")
    assert got.snapshot() == btc([BARS[HISTORY]])


def test_market_stream_old_connection_is_replaced_and_keeps_delivering(fake, new_client, streams) -> None:
    got = Recorder()
    stream = streams(market_stream(fake, new_client(), got, max_connection_seconds=0.2))
    wait_until(lambda: stream.reconnects >= 2, what="proactive reconnects")
    for bar in BARS[HISTORY:HISTORY + 3]:
        fake.push_kline(bar)
    wait_until(lambda: len(got.snapshot()) >= 3, what="candles across connections")
    assert got.snapshot() == btc(BARS[HISTORY:HISTORY + 3])


def test_market_stream_lost_closing_frame_is_fetched_before_next_candle(fake, new_client, streams) -> None:
    got = Recorder()
    streams(market_stream(fake, new_client(), got))
    assert fake.wait_for_market_sockets(1)
    fake.push_kline(BARS[HISTORY])
    wait_until(lambda: len(got.snapshot()) == 1, what="the first candle")
    # the next bar closes while no socket hears it (added to REST only), then the stream goes on
    fake.candles.add("BTCUSDT", "1m", BARS[HISTORY + 1])
    fake.clock.advance_to(BARS[HISTORY + 1].close_time + 1)
    fake.push_kline(replace(BARS[HISTORY + 2], closed=False))
    fake.push_kline(BARS[HISTORY + 2])
    wait_until(lambda: len(got.snapshot()) >= 3, what="the gap filled")
    assert got.snapshot() == btc(BARS[HISTORY:HISTORY + 3])


def test_market_stream_stop_while_waiting_to_reconnect_returns_at_once(fake, new_client) -> None:
    stream = market_stream(fake, new_client(), Recorder(), backoff_base=30, backoff_max=60)
    stream.start()
    assert fake.wait_for_market_sockets(1)
    fake.drop_market_sockets()  # the stream now waits 30 s before reconnecting
    wait_until(lambda: stream.backoff.failures == 1, what="the backoff wait")
    began = time.monotonic()
    stream.stop()
    assert not stream.is_alive() and time.monotonic() - began < 2


# ----- UserStream ---------------------------------------------------------------------------------


def user_stream(fake: FakeBinance, client: Client, recorder: Recorder, **options) -> tuple[UserStream, ClientListenKeys]:
    keys = ClientListenKeys(client)
    translator = UserEventTranslator(is_ours=lambda client_id: client_id.startswith(PREFIX))
    stream = UserStream(fake.ws_url, keys, translator, on_event=recorder, on_resync=recorder.resync,
                        **{**QUICK, **options})
    return stream, keys


def wait_connected(stream: UserStream, resyncs: int = 1) -> None:
    # on_resync runs right after the socket is open, so the fake already routes events to it
    wait_until(lambda: stream.resyncs >= resyncs, what=f"connection {resyncs}")


def filled(recorder: Recorder, client_id: str) -> list[OrderUpdate]:
    return [u for u in recorder.order_updates(client_id) if u.status is OrderStatus.FILLED]


def test_user_stream_market_order_fill_of_ours_gives_filled_update(fake, new_client, streams) -> None:
    got, trading = Recorder(), new_client()
    stream, _ = user_stream(fake, new_client(), got)
    streams(stream)
    wait_connected(stream)
    trading.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")  # not ours
    trading.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                 newClientOrderId="k3x9qa-7-en1")
    wait_until(lambda: filled(got, "k3x9qa-7-en1"), what="the FILLED update")
    [fill] = filled(got, "k3x9qa-7-en1")
    price = BARS[HISTORY - 1].close
    assert (fill.cumulative_quantity, fill.last_quantity, fill.last_price) == (Decimal("0.010"), Decimal("0.010"), price)
    assert fill.fee == (Decimal("0.010") * price * Decimal("0.0005")).quantize(Decimal("1e-8"))
    assert {u.client_order_id for u in got.order_updates()} == {"k3x9qa-7-en1"}
    assert got.resyncs == 1


def test_user_stream_triggered_algo_stop_is_reported_as_fill_of_client_algo_id(fake, new_client, streams) -> None:
    got, trading = Recorder(), new_client()
    stream, _ = user_stream(fake, new_client(), got)
    streams(stream)
    wait_connected(stream)
    trading.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                 newClientOrderId="k3x9qa-7-en1")
    last, bar = BARS[HISTORY - 1].close, BARS[HISTORY]
    trigger = ((last + bar.low) / 2).quantize(Decimal("0.1"))  # between the price now and the next bar's low
    assert bar.low < trigger < last
    trading.futures_create_algo_order(symbol="BTCUSDT", side="SELL", type="STOP_MARKET", closePosition="true",
                                      triggerPrice=str(trigger), workingType="MARK_PRICE", clientAlgoId="k3x9qa-7-sl1")
    fake.push_kline(bar)
    wait_until(lambda: filled(got, "k3x9qa-7-sl1"), what="the stop's fill")
    [fill] = filled(got, "k3x9qa-7-sl1")
    actual = next(o for o in fake.orders if o.orig_type == "STOP_MARKET")
    assert actual.client_id != "k3x9qa-7-sl1"  # the order the stop became has an id of Binance's choosing
    assert (fill.exchange_order_id, fill.cumulative_quantity) == (str(actual.order_id), Decimal("0.010"))
    assert fill.realized_pnl == (fill.last_price - last) * Decimal("0.010")
    assert fake.position().amount == 0


def test_user_stream_expired_listen_key_gets_new_key_reconnects_and_resyncs(fake, new_client, streams, caplog) -> None:
    got, trading = Recorder(), new_client()
    stream, keys = user_stream(fake, new_client(), got)
    with caplog.at_level(logging.DEBUG, logger="trade"):
        streams(stream)
        wait_connected(stream)
        old_key = fake.expire_listen_key()
        wait_connected(stream, resyncs=2)
        assert keys.issued[-1] != old_key and fake.listen_keys.is_valid(keys.issued[-1])
        trading.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                     newClientOrderId="k3x9qa-8-en1")
        wait_until(lambda: filled(got, "k3x9qa-8-en1"), what="a fill after the new key")
    assert (stream.reconnects, got.resyncs) == (1, 2)
    trade_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("trade"))
    assert short_key(old_key) in trade_logs
    assert not any(key in trade_logs for key in keys.issued)  # never the whole key


def test_user_stream_keepalive_refused_1125_gets_new_key_and_resyncs(fake, new_client, streams) -> None:
    got, trading = Recorder(), new_client()
    stream, keys = user_stream(fake, new_client(), got, keepalive_seconds=0.1)
    streams(stream)
    wait_connected(stream)
    wait_until(lambda: stream.keepalives >= 1, what="a keepalive")
    fake.listen_keys.expire(keys.issued[-1])  # expired without the event: only the keepalive can tell
    wait_connected(stream, resyncs=2)
    trading.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010",
                                 newClientOrderId="k3x9qa-9-en1")
    wait_until(lambda: filled(got, "k3x9qa-9-en1"), what="a fill after the new key")
    assert len(set(keys.issued)) == 2


def test_user_stream_dropped_socket_reconnects_and_resyncs(fake, new_client, streams) -> None:
    got = Recorder()
    stream, _ = user_stream(fake, new_client(), got)
    streams(stream)
    wait_connected(stream)
    assert fake.drop_private_sockets() == 1
    wait_connected(stream, resyncs=2)
    assert stream.reconnects == 1
