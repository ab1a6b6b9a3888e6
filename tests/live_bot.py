"""A real `python bot.py` process in demo mode against the fake exchange, for end-to-end tests
and the latency benchmark.

History is synthetic: candles that alternate colour around 36,000 (so Mock_ThreeCandles_v1
stays quiet during warm-up), ending a few hours before now so every bar is closed for
the fake's wall clock. `push` continues the series one closed candle at a time.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.fake_exchange import DEFAULT_API_KEY, DEFAULT_API_SECRET, FakeBinance

ROOT = Path(__file__).resolve().parent.parent
MINUTE = 60_000
PRICE = 36_000.0


def wait_until(condition, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class LiveBot:
    """Fake exchange + bot process. Use as a context manager; `bot.stop()` returns the exit code."""

    def __init__(self, tmp: Path, history: int = 60, settings: dict[str, str] | None = None, **fake_options) -> None:
        self.tmp = tmp
        self.fake = FakeBinance(**fake_options).start()
        now = int(time.time() * 1000) // MINUTE * MINUTE
        self.next_open = now - 180 * MINUTE
        bars = []
        for index in range(history):  # alternate colours, last one bearish
            bullish = (history - index) % 2 == 0
            o, c = (PRICE, PRICE + 10) if bullish else (PRICE + 10, PRICE)
            bars.append((self.next_open, o, max(o, c) + 5, min(o, c) - 5, c))
            self.next_open += MINUTE
        from tests.fake_exchange import Kline  # noqa: F401  (re-exported type)
        from tests.fake_exchange.candles import make_kline

        self.fake.load_candles([make_kline(t, "1m", o, h, l, c, "1", True) for t, o, h, l, c in bars])
        self.journal = tmp / "journal.db"
        self.log = tmp / "log.txt"
        self.settings = self._write_settings(settings or {})
        self.process: subprocess.Popen | None = None

    def _write_settings(self, changes: dict[str, str]) -> Path:
        values = {
            "bot.mode": '"demo"', "bot.journal": f'"{self.journal.as_posix()}"', "bot.log_file": f'"{self.log.as_posix()}"',
            "bot.log_level": '"DEBUG"', "risk.leverage": "20", "exchange.rest_url": f'"{self.fake.rest_url}"',
            "exchange.ws_url": f'"{self.fake.ws_url}"', "exchange.warmup_candles": "50", "exchange.stream_silence_seconds": "5",
        }
        values.update(changes)
        from tests.conftest import _set

        text = (ROOT / "settings.toml").read_text(encoding="utf-8")
        for dotted, value in values.items():
            table, key = dotted.rsplit(".", 1)
            text = _set(text, table, key, value)
        path = self.tmp / "settings.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def environment(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The bot process's environment: ours, the fake's demo keys, and `env`."""
        return {**os.environ, "BINANCE_API_KEY": DEFAULT_API_KEY, "BINANCE_API_SECRET": DEFAULT_API_SECRET, **(env or {})}

    def start(self, env: dict[str, str] | None = None, wait: bool = True) -> "LiveBot":
        """Start `python bot.py` (with `env` added to its environment); with `wait`, until its sockets are up."""
        environment = self.environment(env)
        self.process = subprocess.Popen([sys.executable, "bot.py", "--settings", str(self.settings)], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        if not wait:
            return self
        wait_until(lambda: self.fake.wait_for_market_sockets(1, 0.05) and self.fake.wait_for_private_sockets(1, 0.05),
                   30, "the bot's market and private sockets")
        return self

    def start_paper(self) -> "LiveBot":
        """Paper mode: no keys in the environment, only the market socket."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
        self.process = subprocess.Popen([sys.executable, "bot.py", "--settings", str(self.settings)], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        wait_until(lambda: self.fake.wait_for_market_sockets(1, 0.05), 30, "the bot's market socket")
        return self

    def push(self, o: float, h: float, l: float, c: float) -> int:
        """One closed 1m candle; returns its open time."""
        open_time = self.next_open
        self.fake.push_candle(open_time, o, h, l, c, "1")
        self.next_open += MINUTE
        return open_time

    def skip(self, o: float, h: float, l: float, c: float) -> int:
        """A closed candle the exchange has (REST) but that no socket saw."""
        from tests.fake_exchange.candles import make_kline

        open_time = self.next_open
        self.fake.candles.add("BTCUSDT", "1m", make_kline(open_time, "1m", o, h, l, c, "1", True))
        self.next_open += MINUTE
        return open_time

    def rows(self, sql: str, *params) -> list[dict]:
        if not self.journal.exists():
            return []
        connection = sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True)
        try:
            cursor = connection.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        except sqlite3.OperationalError:
            return []
        finally:
            connection.close()

    def stop(self) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.out, self.err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.out, self.err = self.process.communicate()
        return self.process.returncode

    def __enter__(self) -> "LiveBot":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.fake.stop()

    def three_bullish(self, base: float = PRICE) -> None:
        """Three up-closes: Mock_ThreeCandles_v1 goes LONG at the third close (base + 55),
        stop at base − 5, take-profit at base + 175."""
        self.push(base, base + 20, base - 5, base + 15)
        self.push(base + 15, base + 40, base + 10, base + 35)
        self.push(base + 35, base + 60, base + 30, base + 55)
