"""Under systemd: `python bot.py` (demo, fake exchange) with NOTIFY_SOCKET pointing at a Unix datagram
socket this test owns. READY=1 comes only after recovery has protected the open position and the
streams are up; WATCHDOG=1 comes from the trader loop and stops while the trader thread is stuck;
the journal heartbeat feeds `python bot.py status`; STOPPING=1 and a stopped beat at the end."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.live_bot import PRICE, ROOT, LiveBot, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not hasattr(socket, "AF_UNIX"),
                                reason="systemd's notify socket is a Unix datagram socket")


class NotifySocket:
    """What systemd would receive: (monotonic time, message) per datagram, and, at READY, how many live
    stop-loss orders the fake exchange held."""

    def __init__(self, bot: LiveBot) -> None:
        self.folder = tempfile.mkdtemp(prefix="sdn", dir="/tmp")   # AF_UNIX paths are short
        self.path = str(Path(self.folder) / "notify")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.socket.settimeout(0.1)
        self.bot = bot
        self.received: list[tuple[float, str]] = []
        self.stops_at_ready: int | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.done.is_set():
            try:
                data = self.socket.recv(4096).decode()
            except socket.timeout:
                continue
            if "READY=1" in data and self.stops_at_ready is None:
                self.stops_at_ready = len([a for a in self.bot.fake.algo_orders
                                           if a.type == "STOP_MARKET" and a.status == "NEW"])
            self.received.append((time.monotonic(), data))

    def times(self, line: str) -> list[float]:
        return [at for at, data in list(self.received) if line in data.split("\n")]

    def close(self) -> None:
        self.done.set()
        self.thread.join(2)
        self.socket.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def status(bot: LiveBot) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bot.py", "status", "--settings", str(bot.settings)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)


def test_systemd_ready_after_recovery_watchdog_from_trader_loop_stops_when_stuck(tmp_path):
    settings = {"bot.heartbeat_seconds": "2", "exchange.stream_silence_seconds": "60"}
    with LiveBot(tmp_path, settings=settings) as bot:
        bot.start()
        bot.three_bullish()
        wait_until(lambda: len([a for a in bot.fake.algo_orders if a.status == "NEW"]) == 2, what="protection")
        bot.process.kill()                                 # a crash, and the stop vanishes meanwhile
        bot.process.wait(10)
        bot.fake.drop_private_sockets()
        stop = next(a for a in bot.fake.algo_orders if a.type == "STOP_MARKET")
        with bot.fake.engine.lock:
            bot.fake.engine.end_algo(stop, "EXPIRED")
        sd = NotifySocket(bot)
        try:
            bot.start(env={"NOTIFY_SOCKET": sd.path, "WATCHDOG_USEC": "2000000"})   # pings every 1 s
            wait_until(lambda: sd.times("READY=1"), what="READY=1")
            assert sd.stops_at_ready == 1                  # recovery had placed the stop again before READY
            assert len(sd.times("READY=1")) == 1
            wait_until(lambda: len(sd.times("WATCHDOG=1")) >= 3, what="watchdog pings")
            report = wait_until(lambda: (r := status(bot)).returncode == 0 and r, what="a fresh heartbeat")
            assert "bot: running" in report.stdout and "open positions: 1" in report.stdout
            assert "OPEN qty 1.666 entry 36055 stop 35995 target 36175 unrealized +0.00 USDT" in report.stdout   # at the last close (the entry)

            bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)       # through the target: closed
            wait_until(lambda: bot.rows("SELECT id FROM positions WHERE state = 'CLOSED'"), what="the close")

            # the next entry request hangs for 6 s: the trader thread is stuck, the pings stop, then resume
            bot.fake.fail_next_order(status=503, after_accept=True, delay_s=6)
            hang_started = time.monotonic()
            bot.three_bullish(PRICE + 170)
            wait_until(lambda: time.monotonic() - hang_started > 9 and len(sd.times("WATCHDOG=1")) > 0,
                       timeout=20, what="the hang to pass")
            assert len(bot.fake.requests_to("/fapi/v1/order", "POST")) == 2   # the hanging entry was sent
            pings = [at for at in sd.times("WATCHDOG=1") if at > hang_started - 1.5]
            gaps = [round(b - a, 1) for a, b in zip(pings, pings[1:])]
            assert gaps and max(gaps) >= 4, f"the watchdog kept pinging while the trader was stuck: {gaps}"
            assert pings[-1] > hang_started + 6.5               # and resumed once the trader was free
        finally:
            code = bot.stop()
            sd.close()
        assert code == 0
        assert sd.times("STOPPING=1")
        report = status(bot)
        assert report.returncode == 1 and "bot: stopped: cleanly" in report.stdout


def test_telegram_messages_for_start_fill_close_and_stop_from_the_live_bot(tmp_path):
    from tests.fake_telegram import FakeTelegram

    with FakeTelegram() as telegram:
        settings = {"notify.telegram": "true", "notify.telegram_api_url": f'"{telegram.url}"'}
        with LiveBot(tmp_path, settings=settings) as bot:
            bot.start(env={"TELEGRAM_TOKEN": telegram.token, "TELEGRAM_CHAT_ID": "42"})
            wait_until(lambda: any(t.startswith("started demo: BTCUSDT 1m") for t in telegram.texts()), what="start message")
            bot.three_bullish()
            wait_until(lambda: any("entry filled" in t for t in telegram.texts()), what="the entry fill message")
            wait_until(lambda: len([a for a in bot.fake.algo_orders if a.status == "NEW"]) == 2, what="protection")
            bot.push(PRICE + 55, PRICE + 180, PRICE + 50, PRICE + 170)       # through the target
            wait_until(lambda: any("take-profit hit" in t for t in telegram.texts()), what=f"the close in {telegram.texts()}")
            assert bot.stop() == 0
        texts = telegram.texts()
        assert any(t.startswith("BTCUSDT LONG #1 take-profit hit: 1.666 @ 36175, net +") for t in texts)
        assert texts[-1].startswith("stopped demo BTCUSDT; 0 position(s) stay open")
        assert telegram.token not in (tmp_path / "log.txt").read_text() and telegram.token not in bot.err
