"""Benchmark: signal latency of the live pipeline against the fake exchange on 127.0.0.1.

    python bench/latency.py [--signals 200]

Starts the fake Binance and a real `python bot.py` in demo mode pointed at it, then
repeats: three bullish candles (Mock_ThreeCandles_v1 goes long on the third), a candle
through the take-profit, a bearish candle. It measures, for every signal, the time from
the closing kline frame being handed to the fake's socket to the entry order request
arriving at the fake (both read from one perf_counter clock in this process), and
prints p50, p99 and max. Target on a 2-core machine: p99 ≤ 5 ms.
"""
from __future__ import annotations

import argparse
import gc
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_bot import PRICE, LiveBot, wait_until  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=200)
    parser.add_argument("--no-fsync", action="store_true", help="run the bot with [bot] journal_fsync = false")
    args = parser.parse_args()
    latencies_ms: list[float] = []
    with tempfile.TemporaryDirectory() as folder, LiveBot(Path(folder), settings={
            "bot.log_level": '"WARNING"', "bot.journal_fsync": "false" if args.no_fsync else "true"}) as bot:
        sent_at: list[int] = []
        entries: queue.Queue[int] = queue.Queue()
        publish, handle = bot.fake.ws.publish_market, bot.fake.rest.handle

        def timed_publish(stream, payload):
            sent_at.append(time.perf_counter_ns())
            return publish(stream, payload)

        def timed_handle(method, target, body, headers):
            if method == "POST" and target.startswith("/fapi/v1/order"):
                entries.put(time.perf_counter_ns())  # the moment the fake has the request in hand
            return handle(method, target, body, headers)

        # block on a queue, not a polling loop, so the measuring thread takes no CPU in the window
        bot.fake.ws.publish_market, bot.fake.rest.handle = timed_publish, timed_handle
        bot.start()
        gc.collect()
        gc.freeze()  # the fake runs in this process: keep its garbage collection out of the figures too
        started = time.monotonic()
        for signal in range(args.signals):
            bot.push(PRICE, PRICE + 20, PRICE - 5, PRICE + 15)
            bot.push(PRICE + 15, PRICE + 40, PRICE + 10, PRICE + 35)
            bot.push(PRICE + 35, PRICE + 60, PRICE + 30, PRICE + 55)
            frame_ns = sent_at[-1]
            latencies_ms.append((entries.get(timeout=10) - frame_ns) / 1e6)
            wait_until(lambda: len([a for a in bot.fake.algo_orders if a.status == "NEW"]) == 2, 10, "protection")
            bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)   # through the take-profit
            wait_until(lambda: len(bot.rows("SELECT id FROM positions WHERE state = 'CLOSED'")) > signal, 10, "the close")
            bot.push(PRICE + 170, PRICE + 175, PRICE - 10, PRICE)        # bearish: resets the three-candle count
        seconds = time.monotonic() - started
        code = bot.stop()
    latencies_ms.sort()
    p99 = latencies_ms[min(len(latencies_ms) - 1, int(len(latencies_ms) * 0.99))]
    print(f"signals: {len(latencies_ms)} in {seconds:.1f} s (bot exit code {code}, journal fsync {'off' if args.no_fsync else 'on'})")
    print(f"kline frame sent → entry order received: p50 {statistics.median(latencies_ms):.2f} ms, "
          f"p99 {p99:.2f} ms, max {latencies_ms[-1]:.2f} ms, min {latencies_ms[0]:.2f} ms")


if __name__ == "__main__":
    main()
