"""The journal file: schema version, WAL, commit durability, rollback, and delayed refusal rows."""
from __future__ import annotations

import re
import sqlite3

import pytest

from journal.journal import SCHEMA_FILE, SCHEMA_VERSION, Journal, JournalError, epoch_ms, iso_time


def test_journal_new_file_has_schema_version_wal_and_every_table(journal_path):
    Journal.open(journal_path, "demo").close()
    reader = sqlite3.connect(journal_path)
    assert reader.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {row[0] for row in reader.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert {"meta", "signals", "positions", "orders", "fills", "transitions", "trades"} <= names


@pytest.mark.parametrize("fsync, level", [(True, 2), (False, 1)])  # FULL = 2, NORMAL = 1
def test_journal_live_commits_wait_for_the_disk_unless_told_not_to(journal_path, fsync, level):
    journal = Journal.open(journal_path, "demo", fsync=fsync)
    assert journal.connection.execute("PRAGMA synchronous").fetchone()[0] == level
    journal.close()


def test_journal_newer_schema_is_refused(journal_path):
    Journal.open(journal_path, "demo").close()
    sqlite3.connect(journal_path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(JournalError, match="newer than this bot's"):
        Journal.open(journal_path, "demo")


def test_journal_failed_step_leaves_no_rows(memory_journal):
    with pytest.raises(RuntimeError):
        with memory_journal.transaction():
            memory_journal.insert("positions", symbol="X", side="LONG", strategy="s", state="IDLE", quantity="1",
                                  stop_price="1", take_profit_price="2", created_at=iso_time(0))
            raise RuntimeError("crash mid-step")
    assert memory_journal.rows("SELECT COUNT(*) AS n FROM positions")[0]["n"] == 0


def test_journal_replay_refusals_wait_but_keep_their_order(memory_journal):
    row = dict(at=iso_time(0), candle_time=iso_time(0), symbol="X", side="LONG", entry_type="MARKET", entry_price="1",
               stop_price="1", take_profit_price="2", strategy="s", reason="r", accepted=0)
    memory_journal.insert_soon("signals", **row, refusal="FIRST: a")
    with memory_journal.transaction():
        memory_journal.insert("signals", **{**row, "accepted": 1})
    memory_journal.insert_soon("signals", **row, refusal="LAST: b")
    refusals = [r["refusal"] for r in memory_journal.rows("SELECT refusal FROM signals ORDER BY id")]
    assert refusals == ["FIRST: a", None, "LAST: b"]


def test_journal_times_are_utc_iso_and_round_trip():
    assert iso_time(1651795200000) == "2022-05-06T00:00:00.000Z"
    assert epoch_ms(iso_time(1651795260123)) == 1651795260123


def test_journal_of_schema_version_1_is_upgraded_keeping_its_rows(tmp_path):
    # a journal written by the previous bot: version 1, no `basis` or `expiry_candles` column yet
    path = tmp_path / "old.db"
    old_schema = re.sub(r",\n    basis .*?(?=\n\);)", "", SCHEMA_FILE.read_text(encoding="utf-8"), flags=re.S)
    old_schema = old_schema.replace(
        ",        -- this fill's realized PnL before fees\n    trade_id          TEXT", "         -- this fill's realized PnL before fees\n    --")
    old_schema = old_schema.replace("CREATE UNIQUE INDEX IF NOT EXISTS fills_by_trade ON fills(client_order_id, trade_id);", "")
    old_schema = old_schema.split("-- The live bot's pulse")[0]   # no heartbeat or errors table (version 3) yet
    assert "basis" not in old_schema and "expiry_candles" not in old_schema and "trade_id" not in old_schema.replace("-- the exchange's trade id", "")
    connection = sqlite3.connect(path)
    connection.executescript(old_schema + "PRAGMA user_version=1;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo'), ('id_prefix', 'abcdef')")
    connection.execute("INSERT INTO signals (at, candle_time, symbol, side, entry_type, entry_price, stop_price, "
                       "take_profit_price, strategy, reason, accepted) VALUES ('t', 't', 'BTCUSDT', 'LONG', 'MARKET', "
                       "'1', '0.5', '2', 'S', 'r', 0)")
    connection.commit()
    connection.close()
    journal = Journal.open(path, "demo")
    assert journal.rows("SELECT symbol, basis, expiry_candles FROM signals") == [
        {"symbol": "BTCUSDT", "basis": None, "expiry_candles": None}]
    assert journal.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert "trade_id" in [row[1] for row in journal.connection.execute("PRAGMA table_info(fills)")]
    tables = {row[0] for row in journal.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"heartbeat", "errors", "market_marks"} <= tables
    journal.close()


def test_journal_of_schema_version_2_gains_heartbeat_and_errors_keeping_its_rows(tmp_path):
    path = tmp_path / "v2.db"
    v2_schema = SCHEMA_FILE.read_text(encoding="utf-8").split("-- The live bot's pulse")[0]
    assert "heartbeat" not in v2_schema
    connection = sqlite3.connect(path)
    connection.executescript(v2_schema + "PRAGMA user_version=2;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo'), ('id_prefix', 'abcdef')")
    connection.commit()
    connection.close()
    journal = Journal.open(path, "demo")
    assert journal.id_prefix == "abcdef" and journal.mode == "demo"
    assert journal.rows("SELECT COUNT(*) AS n FROM heartbeat") == [{"n": 0}]
    assert journal.rows("SELECT COUNT(*) AS n FROM errors") == [{"n": 0}]
    journal.close()


def test_journal_of_schema_version_3_gains_market_marks_keeping_its_heartbeat(tmp_path):
    path = tmp_path / "v3.db"
    v3_schema = _without_v5(SCHEMA_FILE.read_text(encoding="utf-8")).split("-- The last closed candle of each")[0]
    assert "TABLE IF NOT EXISTS market_marks" not in v3_schema and "TABLE IF NOT EXISTS heartbeat" in v3_schema
    connection = sqlite3.connect(path)
    connection.executescript(v3_schema + "PRAGMA user_version=3;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo'), ('id_prefix', 'abcdef')")
    connection.execute("INSERT INTO heartbeat VALUES (1, '2026-11-30T12:00:00.000Z', '2026-11-30T11:00:00.000Z', 42, "
                       "'demo', 'BTCUSDT', 10, '2026-11-30T11:59:00.000Z', '91234.5', 'running')")
    connection.execute("INSERT INTO errors (at, source, message) VALUES ('2026-11-30T11:30:00.000Z', 'x', 'boom')")
    connection.commit()
    connection.close()
    journal = Journal.open(path, "demo")
    assert journal.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert journal.rows("SELECT symbol, last_price FROM heartbeat") == [{"symbol": "BTCUSDT", "last_price": "91234.5"}]
    assert journal.rows("SELECT message FROM errors") == [{"message": "boom"}]
    assert journal.rows("SELECT COUNT(*) AS n FROM market_marks") == [{"n": 0}]
    columns = [row[1] for row in journal.connection.execute("PRAGMA table_info(market_marks)")]
    journal.close()
    assert columns == ["symbol", "interval", "candle_open_time", "close", "seen_at"]


def _without_v5(schema: str) -> str:
    """The schema as version 4 had it: no heartbeat balance, no commands table."""
    lines = [line for line in schema.split("-- Commands from the web dashboard")[0].splitlines()
             if not line.lstrip().startswith("balance ")]
    return "\n".join(line.replace("NOT NULL,", "NOT NULL") if "-- one line: running" in line else line for line in lines)


def test_journal_of_schema_version_4_gains_commands_and_heartbeat_balance_keeping_its_rows(tmp_path):
    path = tmp_path / "v4.db"
    v4_schema = _without_v5(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert "commands" not in v4_schema and "balance" not in v4_schema
    connection = sqlite3.connect(path)
    connection.executescript(v4_schema + "PRAGMA user_version=4;")
    connection.execute("INSERT INTO meta VALUES ('mode', 'demo'), ('id_prefix', 'abcdef')")
    connection.execute("INSERT INTO heartbeat VALUES (1, '2026-11-30T12:00:00.000Z', '2026-11-30T11:00:00.000Z', 42, "
                       "'demo', 'BTCUSDT', 10, '2026-11-30T11:59:00.000Z', '91234.5', 'running')")
    connection.commit()
    connection.close()
    journal = Journal.open(path, "demo")
    assert journal.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert journal.rows("SELECT state, balance FROM heartbeat") == [{"state": "running", "balance": None}]
    journal.insert("commands", created_at="2026-11-30T12:00:01.000Z", kind="pause")
    assert journal.rows("SELECT kind, status, target, value FROM commands") == [
        {"kind": "pause", "status": "pending", "target": "", "value": ""}]
    journal.close()


def _add_position(journal: Journal) -> None:
    journal.insert("positions", symbol="BTCUSDT", side="LONG", strategy="s", state="OPEN", quantity="1", stop_price="1",
                   take_profit_price="2", created_at=iso_time(0))


def test_journal_opened_without_claim_takes_no_mode_until_claimed(journal_path):
    journal = Journal.open(journal_path, "demo", claim=False)
    assert journal.mode is None
    journal.close()
    assert Journal.open(journal_path, "paper", claim=False).mode is None   # a failed start left nothing behind
    journal = Journal.open(journal_path, "paper", claim=False)
    journal.claim_mode("paper")
    journal.close()
    assert Journal.open(journal_path, "paper").mode == "paper"


def test_journal_of_another_mode_without_positions_is_reused(journal_path):
    Journal.open(journal_path, "paper").close()
    journal = Journal.open(journal_path, "demo")
    assert journal.mode == "demo"
    journal.close()


def test_journal_of_another_mode_with_positions_is_refused_naming_that_mode(journal_path):
    journal = Journal.open(journal_path, "paper")
    _add_position(journal)
    journal.close()
    with pytest.raises(JournalError, match="was written in paper mode and holds its positions; it cannot be used in demo mode"):
        Journal.open(journal_path, "demo", claim=False)
    assert Journal.open(journal_path, "paper").mode == "paper"


def test_epoch_ms_reads_the_journals_time_text_as_strptime_does_and_refuses_what_strptime_refuses():
    from datetime import datetime, timezone
    for ms in (0, 951_782_400_000, 1_709_164_800_123, 1_651_795_260_999, 4_102_444_799_999):   # 2000-02-29, 2024-02-29
        text = iso_time(ms)
        slow = int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000 + 0.5)
        assert epoch_ms(text) == slow == ms
    for bad in ("2025-02-30T00:00:00.000Z", "2025-05-04T24:00:00.000Z", "2025-05-04T15:60:00.000Z", "2025-05-04 15:33:00.000Z"):
        with pytest.raises(ValueError):
            epoch_ms(bad)
