"""Tests of one MarketStream connection serving several symbols and intervals (issue #11 item 3).

Against the fake Binance, as tests/test_streams.py: the stream reads the combined
`/market/stream?streams=a/b` route. BTCUSDT bars are the real 1m bars of 2022-05-06;
ETHUSDT bars are the same bars at a tenth of the price, and the BTCUSDT 5m bars are
built from the 1m bars, so every subscription has its own history on the fake's REST.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from decimal import Decimal
from typing import Iterator

import pytest

from ict.models import Candle
from tests.fake_exchange import FakeBinance, ReplayClock
from tests.fake_exchange.candles import Kline, make_kline, ws_payload
from tests.fake_exchange.symbols import SymbolRules
from tests.test_streams import (BARS, HISTORY, QUICK, Recorder, candle_of, market_stream, new_client,  # noqa: F401
                                streams, wait_until)
from trade.binance.market_stream import MAX_STREAMS, MarketStream

BTC1, ETH1, BTC5 = ("BTCUSDT", "1m"), ("ETHUSDT", "1m"), ("BTCUSDT", "5m")
ETH_RULES = SymbolRules(symbol="ETHUSDT", base_asset="ETH", tick_size=Decimal("0.01"), min_price=Decimal("39.86"))


def tenth(bar: Kline) -> Kline:
    """The bar at a tenth of the price: an ETHUSDT bar (exact in Decimal, two decimals)."""
    return replace(bar, open=bar.open / 10, high=bar.high / 10, low=bar.low / 10, close=bar.close / 10)


def five_minute(first: int) -> Kline:
    """The 5m bar made of BARS[first:first + 5] (`first` on a 5-minute boundary)."""
    part = BARS[first:first + 5]
    assert part[0].open_time % 300_000 == 0
    return make_kline(part[0].open_time, "5m", part[0].open, max(b.high for b in part), min(b.low for b in part),
                      part[-1].close, sum((b.volume for b in part), Decimal(0)))


ETH = [tenth(bar) for bar in BARS]
FIVE = [five_minute(first) for first in range(0, HISTORY + 10, 5)]  # FIVE[HISTORY // 5] opens with BARS[HISTORY]


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    fx = FakeBinance(symbols=[SymbolRules(), ETH_RULES], clock=ReplayClock(BARS[HISTORY].open_time),
                     check_recv_window=False, ws_ping_interval=None)
    fx.load_candles(BARS[:HISTORY])
    fx.load_candles(ETH[:HISTORY], "ETHUSDT")
    fx.load_candles(FIVE[:HISTORY // 5], "BTCUSDT", "5m")
    with fx:
        yield fx


def push_both(fake: FakeBinance, index: int, closed: bool = True) -> None:
    """The 1m bar BARS[index] of BTCUSDT, then of ETHUSDT."""
    fake.push_kline(replace(BARS[index], closed=closed))
    fake.push_kline(replace(ETH[index], closed=closed), "ETHUSDT")


def of(got: Recorder, pair: tuple[str, str]) -> list[Candle]:
    """The candles the recorder got for one subscription, in delivery order."""
    return [candle for symbol, interval, candle in got.snapshot() if (symbol, interval) == pair]


def started(stream: MarketStream, subscriptions: int) -> None:
    """Wait until the first connect's backfill of every subscription is over (nothing was missed)."""
    wait_until(lambda: len(stream.fetch_closed_klines.calls) >= subscriptions,  # type: ignore[attr-defined]
               what="the first backfills")


def test_market_stream_two_symbols_and_intervals_on_one_socket_each_closed_candle_once_tagged(
        fake, new_client, streams) -> None:
    got = Recorder()
    warm_up_end = {BTC1: BARS[HISTORY - 1].open_time, ETH1: ETH[HISTORY - 1].open_time,
                   BTC5: FIVE[HISTORY // 5 - 1].open_time}
    stream = streams(market_stream(fake, new_client(), got, pairs=(BTC1, ETH1, BTC5), last_open_times=warm_up_end))
    assert fake.wait_for_market_sockets(1)
    started(stream, 3)
    expected = []
    for index in range(HISTORY, HISTORY + 5):
        push_both(fake, index, closed=False)  # forming updates are not candles
        push_both(fake, index)
        expected += [("BTCUSDT", "1m", candle_of(BARS[index])), ("ETHUSDT", "1m", candle_of(ETH[index]))]
    fake.push_kline(replace(FIVE[HISTORY // 5], closed=False), "BTCUSDT", "5m")
    fake.push_kline(FIVE[HISTORY // 5], "BTCUSDT", "5m")
    expected.append(("BTCUSDT", "5m", candle_of(FIVE[HISTORY // 5])))
    push_both(fake, HISTORY + 5)  # a barrier: once it is in, anything duplicated would be too
    expected += [("BTCUSDT", "1m", candle_of(BARS[HISTORY + 5])), ("ETHUSDT", "1m", candle_of(ETH[HISTORY + 5]))]
    wait_until(lambda: len(got.snapshot()) >= len(expected), what="every closed candle")
    assert got.snapshot() == expected
    assert fake.ws.count("market") == 1
    assert (stream.delivered, stream.backfilled, stream.reconnects) == (13, 0, 0)
    assert [stream.delivered_of(*pair) for pair in (BTC1, ETH1, BTC5)] == [6, 6, 1]
    assert stream.last_open_time("ETHUSDT", "1m") == ETH[HISTORY + 5].open_time
    assert stream.last_open_time("btcusdt", "5m") == FIVE[HISTORY // 5].open_time
    assert stream.name == "market-stream"


def test_market_stream_dropped_connection_backfills_both_symbols_exactly_once(fake, new_client, streams) -> None:
    got, gate = Recorder(), threading.Event()
    # the reconnect waits for the test, so the missed bars can only come back over REST
    stream = streams(market_stream(fake, new_client(), got, pairs=(BTC1, ETH1), sleep=lambda seconds: gate.wait(5)))
    assert fake.wait_for_market_sockets(1)
    push_both(fake, HISTORY)
    wait_until(lambda: len(got.snapshot()) == 2, what="the first candles")
    before = stream.backfilled  # the first candles may have come live or through the first backfill
    assert fake.drop_market_sockets() == 1
    for index in range(HISTORY + 1, HISTORY + 6):
        push_both(fake, index)
    push_both(fake, HISTORY + 6, closed=False)  # forming: REST must not hand it over
    gate.set()
    wait_until(lambda: len(got.snapshot()) >= 12, what="the backfill of both symbols")
    assert fake.wait_for_market_sockets(1)
    push_both(fake, HISTORY + 6)
    push_both(fake, HISTORY + 7)
    wait_until(lambda: len(got.snapshot()) >= 16, what="live candles after the reconnect")
    assert of(got, BTC1) == [candle_of(bar) for bar in BARS[HISTORY:HISTORY + 8]]
    assert of(got, ETH1) == [candle_of(bar) for bar in ETH[HISTORY:HISTORY + 8]]
    assert len(got.snapshot()) == 16
    assert (stream.reconnects, stream.backfilled - before) == (1, 10)


def test_market_stream_gap_in_one_symbol_backfills_only_that_one(fake, new_client, streams) -> None:
    got = Recorder()
    stream = streams(market_stream(fake, new_client(), got, pairs=(BTC1, ETH1)))
    assert fake.wait_for_market_sockets(1)
    started(stream, 2)
    push_both(fake, HISTORY)
    wait_until(lambda: len(got.snapshot()) == 2, what="the first candles")
    # BTCUSDT's next bar closes while no socket hears it (REST only); ETHUSDT's arrives as usual
    fake.candles.add("BTCUSDT", "1m", BARS[HISTORY + 1])
    fake.push_kline(ETH[HISTORY + 1], "ETHUSDT")
    push_both(fake, HISTORY + 2)
    wait_until(lambda: len(got.snapshot()) >= 6, what="the gap filled")
    assert of(got, BTC1) == [candle_of(bar) for bar in BARS[HISTORY:HISTORY + 3]]
    assert of(got, ETH1) == [candle_of(bar) for bar in ETH[HISTORY:HISTORY + 3]]
    first = [(symbol, interval, BARS[HISTORY].open_time) for symbol, interval in (BTC1, ETH1)]
    gap = ("BTCUSDT", "1m", BARS[HISTORY + 1].open_time)
    assert stream.fetch_closed_klines.calls == first + [gap]  # type: ignore[attr-defined]
    # the frame that showed the gap is already closed on REST when the stream reads it: both come from there
    assert (stream.backfilled, stream.reconnects) == (2, 0)


def test_market_stream_one_symbol_silent_reconnects_and_names_it(fake, new_client, streams, caplog) -> None:
    got, done = Recorder(), threading.Event()

    def feed_eth() -> None:  # ETHUSDT keeps trading: a forming frame every 50 ms
        while not done.wait(0.05):
            fake.push_kline(replace(ETH[HISTORY], closed=False), "ETHUSDT")

    feeder = threading.Thread(target=feed_eth, daemon=True)
    with caplog.at_level(logging.WARNING, logger="trade"):
        stream = streams(market_stream(fake, new_client(), got, pairs=(BTC1, ETH1), silence_seconds=0.6))
        assert fake.wait_for_market_sockets(1)
        began = time.monotonic()
        feeder.start()
        try:
            wait_until(lambda: stream.reconnects >= 1, what="a reconnect after BTCUSDT's silence")
            waited = time.monotonic() - began
            silent = [r.getMessage() for r in caplog.records if "no kline frame" in r.getMessage()]
        finally:
            done.set()
            feeder.join(5)
    assert waited >= 0.6
    assert silent and all("BTCUSDT 1m" in text and "ETHUSDT" not in text for text in silent)
    assert got.snapshot() == []  # forming frames only: nothing to deliver


def test_market_stream_foreign_and_malformed_frames_are_skipped_with_one_warning_each(
        fake, new_client, streams, caplog) -> None:
    got = Recorder()
    with caplog.at_level(logging.WARNING, logger="trade"):
        stream = streams(market_stream(fake, new_client(), got))
        assert fake.wait_for_market_sockets(1)
        started(stream, 1)
        later = BARS[HISTORY + 5]  # a closed candle: delivering it from any of these frames would show
        btc_payload = ws_payload(later, SymbolRules(), "1m", later.close_time + 1)
        eth_payload = ws_payload(later, ETH_RULES, "1m", later.close_time + 1)
        bad = [json.dumps(btc_payload),                                                # not wrapped
               json.dumps({"stream": "ethusdt@kline_1m", "data": eth_payload}),        # not subscribed
               json.dumps({"stream": "btcusdt@kline_5m", "data": btc_payload}),        # not subscribed either
               json.dumps({"stream": "btcusdt@kline_1m", "data": eth_payload}),        # symbol disagrees
               "not json", "[1, 2]"]
        for text in bad:
            assert fake.ws.send_raw("market", text) == 1
        fake.push_kline(BARS[HISTORY])
        fake.push_kline(BARS[HISTORY + 1])
        wait_until(lambda: len(got.snapshot()) >= 2, what="the candles after the bad frames")
    assert got.snapshot() == [("BTCUSDT", "1m", candle_of(bar)) for bar in BARS[HISTORY:HISTORY + 2]]
    assert (stream.delivered, stream.reconnects) == (2, 0)
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "trade.binance.market_stream" and r.levelno == logging.WARNING]
    assert len(warnings) == len(bad)
    assert "not wrapped" in warnings[0] and "'ethusdt@kline_1m'" in warnings[1]
    assert "'btcusdt@kline_5m'" in warnings[2] and "'ETHUSDT'" in warnings[3]


def test_market_stream_more_than_1024_streams_raises_value_error() -> None:
    pairs = [(f"S{n}USDT", "1m") for n in range(MAX_STREAMS + 1)]
    with pytest.raises(ValueError, match="at most 1024 streams per connection"):
        MarketStream("ws://127.0.0.1:1", pairs, on_candle=print, fetch_closed_klines=lambda s, i, start: [])
    most = MarketStream("ws://127.0.0.1:1", pairs[:MAX_STREAMS], on_candle=print,
                        fetch_closed_klines=lambda s, i, start: [])
    assert most.url.count("@kline_1m") == MAX_STREAMS and "/market/stream?streams=s0usdt@kline_1m/" in most.url


def test_market_stream_repeated_pair_or_stray_warm_up_raises_value_error() -> None:
    with pytest.raises(ValueError, match="BTCUSDT 1m is asked for twice"):
        MarketStream("ws://127.0.0.1:1", [BTC1, ("btcusdt", "1m")], on_candle=print,
                     fetch_closed_klines=lambda s, i, start: [])
    with pytest.raises(ValueError, match="last_open_times names ETHUSDT 1m"):
        MarketStream("ws://127.0.0.1:1", [BTC1], on_candle=print, fetch_closed_klines=lambda s, i, start: [],
                     last_open_times={ETH1: 0})
