"""The heartbeat and error rows in the journal, and `status` read from them (journal/health.py,
runtime/heartbeat.py, runtime/status.py)."""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from decimal import Decimal

import pytest

import bot
from journal.health import Heartbeat, LoggedError, read_status, write_heartbeat
from journal.journal import Journal, JournalError, epoch_ms, iso_time
from journal.lock import JournalLock
from runtime.heartbeat import ErrorCollector, HeartbeatWriter
from runtime.status import exit_status, status_lines

NOW = epoch_ms("2026-11-30T12:00:00.000Z")


def _position(journal: Journal, state: str, side: str = "LONG", entry: str | None = "100") -> int:
    with journal.transaction():
        return journal.insert("positions", symbol="BTCUSDT", side=side, strategy="s", state=state, quantity="2",
                              entry_price=entry, stop_price="90", take_profit_price="120", created_at=iso_time(NOW))


def _fill(journal: Journal, position_id: int, at_ms: int, pnl: str, fee: str) -> None:
    with journal.transaction():
        order = f"x-{position_id}-{at_ms}"
        journal.insert("orders", client_order_id=order, position_id=position_id, role="exit", type="MARKET",
                       side="SELL", status="FILLED", updated_at=iso_time(at_ms))
        journal.insert("fills", client_order_id=order, position_id=position_id, at=iso_time(at_ms), quantity="1",
                       price="100", fee=fee, realized_pnl=pnl, trade_id=str(at_ms))


def _beat(at_ms: int, state: str = "running", interval: int = 10, price: str | None = "110") -> Heartbeat:
    return Heartbeat(at_ms, NOW - 3_600_000, 4242, "demo", "BTCUSDT", interval, at_ms - 60_000,
                     Decimal(price) if price else None, state)


def test_status_of_running_bot_shows_positions_pnl_today_and_errors(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    long_id = _position(journal, "OPEN")
    _position(journal, "OPEN", side="SHORT")
    _position(journal, "ENTERING", entry=None)
    _position(journal, "CLOSED")
    _fill(journal, long_id, NOW - 3_600_000, "5.5", "0.25")           # today
    _fill(journal, long_id, NOW - 13 * 3_600_000, "100", "1")        # yesterday (UTC): not today's
    write_heartbeat(journal, _beat(NOW - 5_000), [LoggedError(NOW - 9_000, "trade.trader", "first"),
                                                  LoggedError(NOW - 8_000, "runtime.live", "second")])
    status = read_status(path, NOW)
    journal.close()
    assert [p.state for p in status.positions] == ["OPEN", "OPEN", "ENTERING"]
    assert [p.unrealized_pnl(Decimal("110")) for p in status.positions] == [Decimal("20"), Decimal("-20"), None]
    assert (status.realized_today, status.fees_today) == (Decimal("5.5"), Decimal("0.25"))
    assert [e.message for e in status.errors] == ["second", "first"]
    assert not status.is_stale(NOW) and exit_status(status, NOW) == 0
    text = "\n".join(status_lines(status, NOW))
    assert "bot: running (pid 4242" in text and "unrealized +20.00 USDT" in text and "unrealized -20.00 USDT" in text
    assert "realized +5.50 USDT, fees -0.25 USDT" in text and "runtime.live: second" in text
    assert "last candle: 2026-11-30 11:58 UTC" in text


def test_status_heartbeat_older_than_three_beats_is_stale_exit_1(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW - 29_000), [])
    assert exit_status(read_status(path, NOW), NOW) == 0                  # 2.9 intervals: still fresh
    write_heartbeat(journal, _beat(NOW - 31_000), [])
    status = read_status(path, NOW)
    journal.close()
    assert exit_status(status, NOW) == 1 and "NOT RUNNING?" in "\n".join(status_lines(status, NOW))


def test_status_of_stopped_bot_or_journal_without_heartbeat_exits_1(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "replay")
    assert exit_status(read_status(path, NOW), NOW) == 1
    assert "no heartbeat" in "\n".join(status_lines(read_status(path, NOW), NOW))
    write_heartbeat(journal, _beat(NOW, state="stopped: Ctrl+C"), [])
    status = read_status(path, NOW)
    journal.close()
    assert exit_status(status, NOW) == 1 and "bot: stopped: Ctrl+C" in "\n".join(status_lines(status, NOW))


def test_status_reads_without_writing_and_while_a_writer_holds_the_journal(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW), [])
    journal.connection.execute("BEGIN IMMEDIATE")        # the bot is in the middle of a step
    journal.insert("signals", at="t", candle_time="t", symbol="BTCUSDT", side="LONG", entry_type="MARKET",
                   entry_price="1", stop_price="0.5", take_profit_price="2", strategy="s", reason="r", accepted=0)
    before = path.read_bytes()
    status = read_status(path, NOW)
    assert status.heartbeat is not None and path.read_bytes() == before
    journal.connection.execute("COMMIT")
    journal.close()


def test_status_of_missing_or_foreign_file_is_one_line_error(tmp_path):
    with pytest.raises(JournalError, match="does not exist; pass --journal"):
        read_status(tmp_path / "nope.db", NOW)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)")
    with pytest.raises(JournalError, match="cannot be read .*journal written by this bot"):
        read_status(other, NOW)


def test_heartbeat_writer_beats_on_interval_and_carries_logged_errors(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    clock = [NOW]
    collector = ErrorCollector(lambda: clock[0])
    logger = logging.getLogger("test.heartbeat")
    logger.addHandler(collector)
    try:
        writer = HeartbeatWriter(journal, "demo", "BTCUSDT", 10, NOW, collector)
        writer.note_candle(NOW - 60_000, Decimal("101.5"))
        assert writer.beat(NOW) is True
        logger.error("order refused: %s", "bad\nsecond line")
        logger.warning("not an error")
        assert writer.beat(NOW + 9_999) is False                    # not yet due: nothing written
        assert read_status(path, NOW + 9_999).errors == ()
        assert writer.beat(NOW + 10_000) is True
        writer.stopped(NOW + 12_000, "Ctrl+C")
    finally:
        logger.removeHandler(collector)
    status = read_status(path, NOW + 12_000)
    journal.close()
    assert [(e.source, e.message) for e in status.errors] == [("test.heartbeat", "order refused: bad")]
    assert status.heartbeat.last_price == Decimal("101.5") and status.heartbeat.state == "stopped: Ctrl+C"


def test_heartbeat_write_is_not_a_trading_commit(tmp_path):
    journal = Journal.open(tmp_path / "journal.db", "demo")
    commits = []
    journal.after_commit = lambda: commits.append(1)   # crash points count trading commits
    write_heartbeat(journal, _beat(NOW), [])
    journal.close()
    assert commits == []


def test_status_of_stopped_bot_creates_no_file_beside_the_journal(tmp_path):
    path = tmp_path / "journal.db"
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, _beat(NOW, state="stopped: Ctrl+C"), [])
    journal.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert before == ["journal.db"]
    assert read_status(path, NOW).heartbeat.state == "stopped: Ctrl+C"
    assert sorted(p.name for p in tmp_path.iterdir()) == before    # no -wal/-shm owned by the reader


def test_status_of_a_folder_as_journal_is_one_line_naming_it_exit_2(tmp_path, capsys):
    assert bot.main(["status", "--journal", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: journal {tmp_path} is a folder, not a journal file; pass --journal with the journal's file\n"


def test_bot_help_names_the_status_and_backup_commands(capsys):
    with pytest.raises(SystemExit) as done:
        bot.main(["--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "'python bot.py status'" in help_text and "'python bot.py backup [PATH]'" in help_text


def _live_journal(path, state: str, beat_age_ms: int) -> bytes:
    now = int(time.time() * 1000)
    journal = Journal.open(path, "demo")
    write_heartbeat(journal, Heartbeat(now - beat_age_ms, now - 600_000, os.getpid(), "demo", "BTCUSDT", 10, None, None,
                                       state), [])
    journal.close()
    return path.read_bytes()


def test_replay_onto_the_journal_of_a_running_bot_is_refused_and_keeps_it(tmp_path, capsys, write_settings):
    path = tmp_path / "live.db"
    before = _live_journal(path, "running", 2_000)
    with JournalLock(path):   # the running bot holds its journal's lock
        assert bot.main(["--settings", str(write_settings()), "--journal", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf"error: journal {re.escape(str(path))} is in use by another bot \(it holds "
                        rf"{re.escape(str(path))}\.lock\); stop that bot first, or pass --journal with another file\n", err), err
    assert path.read_bytes() == before


@pytest.mark.parametrize("state, beat_age_ms", [("running", 600_000), ("stopped: Ctrl+C", 1_000)])
def test_replay_onto_the_journal_of_a_stale_or_stopped_bot_without_positions_replaces_it(tmp_path, write_settings,
                                                                                         state, beat_age_ms):
    path = tmp_path / "live.db"
    _live_journal(path, state, beat_age_ms)
    assert bot.main(["--settings", str(write_settings()), "--journal", str(path)]) == 0
    assert read_status(path, NOW).mode == "replay"
