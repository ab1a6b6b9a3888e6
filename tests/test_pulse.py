"""runtime/pulse.py: the heartbeat and systemd's watchdog from the trader loop."""
from __future__ import annotations

import logging
from decimal import Decimal

from ict.models import Candle
from journal.health import MarketMark, read_status
from journal.journal import Journal
from runtime.heartbeat import ErrorCollector, HeartbeatWriter
from runtime.pulse import Pulse

T0 = 1_780_000_000_000


def _pulse(tmp_path, fresh, watchdog_seconds=2.0):
    journal = Journal.open(tmp_path / "journal.db", "demo")
    clock = [T0]
    sent = []
    heartbeat = HeartbeatWriter(journal, "demo", ["BTCUSDT"], 10, T0, ErrorCollector(lambda: clock[0]))
    pulse = Pulse(heartbeat, lambda: fresh[0], watchdog_seconds, lambda: clock[0], send=lambda **kw: sent.append(kw) or True)
    return journal, clock, sent, pulse


def test_pulse_pings_at_half_the_watchdog_interval_while_the_market_is_fresh(tmp_path):
    journal, clock, sent, pulse = _pulse(tmp_path, [True])
    for _ in range(5):        # ticks 0, 0.5, 1.0, 1.5, 2.0 s
        pulse.tick()
        clock[0] += 500
    journal.close()
    assert sent == [{"watchdog": True}] * 3


def test_pulse_stale_market_stops_the_pings_with_one_error_line(tmp_path, caplog):
    fresh = [True]
    journal, clock, sent, pulse = _pulse(tmp_path, fresh)
    pulse.tick()
    fresh[0] = False
    with caplog.at_level(logging.ERROR, logger="runtime.pulse"):
        for _ in range(4):
            clock[0] += 1000
            pulse.tick()
    fresh[0] = True
    clock[0] += 1000
    pulse.tick()
    journal.close()
    assert sent == [{"watchdog": True}] * 2       # before and after the stale stretch only
    assert [r.getMessage()[:21] for r in caplog.records] == ["market stream stale: "]


def test_pulse_without_systemd_writes_the_heartbeat_with_the_last_candle(tmp_path):
    journal, clock, sent, pulse = _pulse(tmp_path, [True], watchdog_seconds=None)
    pulse.note_candle("BTCUSDT", "1m", Candle(T0 - 60_000, 100.5, 101.0, 99.0, 100.25, 3.0))
    pulse.tick()
    status = read_status(tmp_path / "journal.db", T0)
    journal.close()
    assert sent == []
    assert status.heartbeat.last_price == Decimal("100.25") and status.heartbeat.last_candle_ms == T0 - 60_000


def test_pulse_failed_heartbeat_is_logged_and_the_watchdog_still_fed(tmp_path, caplog):
    journal, clock, sent, pulse = _pulse(tmp_path, [True])
    journal.connection.close()           # the journal can no longer be written
    with caplog.at_level(logging.ERROR, logger="runtime.pulse"):
        pulse.tick()
    assert sent == [{"watchdog": True}]
    assert "heartbeat: could not write to the journal" in caplog.text


def test_pulse_writes_the_last_candle_of_every_symbol_it_is_given(tmp_path):
    journal, clock, sent, pulse = _pulse(tmp_path, [True], watchdog_seconds=None)
    pulse.note_candle("ETHUSDT", "5m", Candle(T0 - 300_000, 3000.0, 3010.0, 2990.0, 3005.5, 7.0))
    pulse.note_candle("BTCUSDT", "1m", Candle(T0 - 60_000, 100.5, 101.0, 99.0, 100.25, 3.0))
    pulse.tick()
    status = read_status(tmp_path / "journal.db", T0)
    journal.close()
    assert status.marks == (MarketMark("BTCUSDT", "1m", T0 - 60_000, Decimal("100.25"), T0),
                            MarketMark("ETHUSDT", "5m", T0 - 300_000, Decimal("3005.5"), T0))
