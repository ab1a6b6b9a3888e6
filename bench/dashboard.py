"""Benchmark: the web dashboard on a year of trading, and the bot's journal writes beside it.

    python bench/dashboard.py [--signals 100000] [--trades 5000] [--runs 15] [--seconds 20]

Builds a journal of 100,000 signals and 5,000 trades (bench/year_journal.py, through the
journal's own writes), then prints the median and worst of `--runs` runs of every journal read
behind the pages (each on a connection of its own, as a page request opens one) and of every
page and JSON route through Flask's test client. Target: under 200 ms each.

Then the bot's side: a heartbeat write and a trader-like step (position, signal, entry order,
transition in one fsync'd commit), p50/p99/max over `--seconds`, first with nothing reading,
then while another process runs 4 threads polling the JSON routes as fast as they can (the
dashboard polling hard; a separate process, as `python -m dashboard` is).
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.year_journal import build  # noqa: E402
from journal import browse, browse_lists  # noqa: E402
from journal.browse_lists import SignalFilter, TradeFilter  # noqa: E402
from journal.health import Heartbeat, write_heartbeat  # noqa: E402
from journal.journal import Journal  # noqa: E402
from journal.records import OrderRecord, PositionRecord, SignalRecord, TransitionRecord  # noqa: E402

NOW = 1_764_460_800_000   # the end of the built year (the journal's "today")
DAY = 86_400_000
READS: list[tuple[str, Callable]] = [
    ("overview", lambda c: browse.overview(c, NOW)),
    ("overview ?symbol=ETHUSDT", lambda c: browse.overview(c, NOW, "ETHUSDT")),
    ("equity curve (5,000 trades)", lambda c: browse.equity_curve(c)),
    ("open positions + last prices", lambda c: (browse.open_positions(c), browse.last_prices(c))),
    ("trades page 1", lambda c: browse_lists.trades_page(c, TradeFilter())),
    ("trades page 100 (last)", lambda c: browse_lists.trades_page(c, TradeFilter(), 100)),
    ("trades side+strategy+symbol", lambda c: browse_lists.trades_page(c, TradeFilter("ETHUSDT", "SHORT", "Silver_Bullet_v1"))),
    ("trades last 30 days", lambda c: browse_lists.trades_page(c, TradeFilter(from_ms=NOW - 30 * DAY, to_ms=NOW))),
    ("trades CSV rows, all 5,000", lambda c: sum(1 for _ in browse_lists.trade_table(c, TradeFilter()))),
    ("signals page 1", lambda c: browse_lists.signals_page(c, SignalFilter())),
    ("signals page 2,000 (last)", lambda c: browse_lists.signals_page(c, SignalFilter(), 2000)),
    ("signals accepted, ETHUSDT", lambda c: browse_lists.signals_page(c, SignalFilter("ETHUSDT", True))),
    ("signals refused PAUSED, last page", lambda c: browse_lists.signals_page(c, SignalFilter(refusal_code="PAUSED"), 400)),
    ("signals by strategy, page 10", lambda c: browse_lists.signals_page(c, SignalFilter(strategy="Silver_Bullet_v1"), 10)),
    ("filter choices (strategies, codes)", lambda c: (browse_lists.strategies(c), browse_lists.refusal_codes(c))),
    ("recent errors", lambda c: browse.recent_errors(c)),
]
ROUTES = ["/", "/api/overview", "/api/overview?symbol=ETHUSDT", "/positions", "/api/positions", "/trades",
          "/api/trades", "/api/trades?page=100", "/api/trades?side=SHORT&strategy=Silver_Bullet_v1&symbol=ETHUSDT",
          "/api/trades?from=2025-11-01&to=2025-11-30", "/api/trades.csv", "/signals", "/api/signals",
          "/api/signals?page=2000", "/api/signals?accepted=refused&refusal=PAUSED&page=400", "/logs", "/api/logs",
          "/api/logs?level=ERROR", "/chart", "/api/chart", "/settings", "/api/settings", "/api/commands", "/api/bot"]
POLLED = ["/api/overview", "/api/positions", "/api/trades", "/api/signals", "/api/logs", "/api/chart", "/api/settings",
          "/api/commands", "/api/bot"]


def timed(runs: int, once: Callable[[], object]) -> tuple[float, float]:
    """(median, worst) of `runs` calls of `once`, in ms."""
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        once()
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent), max(spent)


def time_reads(path: Path, runs: int) -> None:
    print(f"{'journal read (own read-only connection)':44s} {'median':>8s} {'worst':>8s}")
    for name, read in READS:
        def once(read=read):
            connection = browse.connect_read_only(path)
            try:
                read(connection)
            finally:
                connection.close()
        median, worst = timed(runs, once)
        print(f"{name:44s} {median:6.1f} ms {worst:6.1f} ms")


def make_app(path: Path, log: Path):
    from dashboard.app import create_app
    from dashboard.config import DashboardConfig
    from runtime.settings import load_settings
    config = DashboardConfig.from_settings(load_settings(ROOT / "settings.toml"), path, log_path=log)
    return create_app(config)


def write_log(log: Path) -> None:
    """A 10 MB log (the rotation size), so the logs page reads its tail from a full file."""
    line = "2025-11-30 11:59:59,123 INFO    trade.trader: signal refused BTCUSDT LONG FVG_Market_Entry_v1: MAX_POSITIONS\n"
    with log.open("w", encoding="utf-8") as out:
        out.write(line * (10_000_000 // len(line)))


def time_routes(path: Path, log: Path, runs: int) -> list[str]:
    """Print the figures of every route the app serves; return the JSON routes it has of `POLLED`."""
    from werkzeug.exceptions import HTTPException
    app = make_app(path, log)
    client, urls = app.test_client(), app.url_map.bind("localhost")
    print(f"\n{'page or JSON route (Flask test client)':44s} {'median':>8s} {'worst':>8s}")
    for route in ROUTES:
        try:
            urls.match(route.split("?")[0])
        except HTTPException:
            print(f"{route:44s}   (not served by this build)")
            continue
        status = client.get(route).status_code
        median, worst = timed(runs, lambda route=route: client.get(route).get_data())
        print(f"{route[:44]:44s} {median:6.1f} ms {worst:6.1f} ms" + ("" if status == 200 else f"  HTTP {status}"))
    return [route for route in POLLED if _served(urls, route)]


def _served(urls, route: str) -> bool:
    from werkzeug.exceptions import HTTPException
    try:
        urls.match(route)
        return True
    except HTTPException:
        return False


def poll_hard(path: str, log: str, routes: list[str], stop, counted) -> None:
    """In its own process: 4 threads GET the JSON `routes` in turn as fast as they can until `stop`."""
    app = make_app(Path(path), Path(log))

    def hammer() -> None:
        client, done = app.test_client(), 0
        while not stop.is_set():
            client.get(routes[done % len(routes)]).get_data()
            done += 1
        with counted.get_lock():
            counted.value += done

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def bot_writes(path: Path, seconds: float) -> tuple[list[float], list[float]]:
    """Heartbeat writes and trader-like steps, alternating every 20 ms for `seconds`: their latencies in ms."""
    journal = Journal.open(path, "demo")   # durable, fsync on: as live
    beats, steps = [], []
    deadline, at = time.monotonic() + seconds, NOW
    while time.monotonic() < deadline:
        at += 1000
        start = time.perf_counter()
        write_heartbeat(journal, Heartbeat(at, NOW - DAY, 4242, "demo", "BTCUSDT,ETHUSDT", 10, at - 60_000,
                                           Decimal("91000.5"), "running", Decimal("10512.25")), [])
        beats.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
        start = time.perf_counter()
        with journal.transaction():
            signal = SignalRecord(at, at - 60_000, "BTCUSDT", "LONG", "MARKET", "91000.5", "90500", "92000", "bench",
                                  "bench step", ("fvg:1",))
            position = journal.record_position(PositionRecord("BTCUSDT", "LONG", "bench", "IDLE", Decimal("0.2"),
                                                              Decimal("90500"), Decimal("92000"), at))
            journal.record_signal(signal, position)
            journal.record_order(OrderRecord(f"bench-w-{position}-en1", position, "entry", "MARKET", "BUY",
                                             Decimal("0.2"), None, None, "INTENT", at))
            journal.record_transition(TransitionRecord(position, "IDLE", "ENTERING", "submit_entry", at,
                                                       f"bench-w-{position}-en1"))
        steps.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    journal.close()
    return beats, steps


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):5.2f} ms, p99 {p99:6.2f} ms, max {ordered[-1]:6.2f} ms ({len(ordered)})"


def write_latency(path: Path, log: Path, routes: list[str], seconds: float) -> None:
    print(f"\nbot's journal writes ({seconds:.0f} s each; fsync on)")
    beats, steps = bot_writes(path, seconds)
    print(f"  idle      heartbeat {percentiles(beats)}\n            trader step {percentiles(steps)}")
    if not routes:
        print("  (no JSON route served by this build: nothing to poll)")
        return
    spawn = multiprocessing.get_context("spawn")
    stop, counted = spawn.Event(), spawn.Value("i", 0)
    poller = spawn.Process(target=poll_hard, args=(str(path), str(log), routes, stop, counted))
    poller.start()
    time.sleep(3)   # the poller's imports and first requests
    beats, steps = bot_writes(path, seconds)
    stop.set()
    poller.join()
    print(f"  polled    heartbeat {percentiles(beats)}\n            trader step {percentiles(steps)}")
    print(f"  the poller answered {counted.value} requests ({counted.value / (seconds + 3):.0f}/s) "
          f"of {', '.join(routes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--trades", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path, log = Path(folder) / "journal.db", Path(folder) / "log.txt"
        start = time.perf_counter()
        build(path, args.signals, args.trades, NOW)
        write_log(log)
        print(f"journal: {args.signals:,} signals, {args.trades:,} trades, {path.stat().st_size / 1e6:.0f} MB, "
              f"built in {time.perf_counter() - start:.1f} s\n")
        time_reads(path, args.runs)
        routes = time_routes(path, log, args.runs)
        write_latency(path, log, routes, args.seconds)


if __name__ == "__main__":
    main()
