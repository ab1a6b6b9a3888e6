"""Replay journals commit in batches of whole candles; live journals keep one commit per step."""
from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal as D

import pytest

import runtime.replay as replay_module
from journal.journal import Journal
from tests.test_trader import RULES, Harness, long_signal
from trade.simulated.exchange import SimulatedExchange
from runtime.replay import StrategyError, run_replay
from runtime.settings import Settings, load_settings

TABLES = ("signals", "positions", "orders", "fills", "transitions")


def _committed(path, sql: str, *params) -> list[tuple]:
    """What another process would read: a second connection sees only committed rows."""
    other = sqlite3.connect(path)
    try:
        return other.execute(sql, params).fetchall()
    finally:
        other.close()


def _count(path, table: str = "meta") -> int:
    return _committed(path, f"SELECT COUNT(*) FROM {table}")[0][0]


def _step(journal: Journal, key: str) -> None:
    with journal.transaction():
        journal.connection.execute("INSERT INTO meta VALUES (?, 'x')", (key,))


def test_deferred_commits_replay_journal_commits_every_n_candles(journal_path):
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    before = _count(journal_path)
    with journal.deferred_commits(every_candles=3):
        _step(journal, "a")
        journal.candle_done()
        journal.candle_done()
        assert _count(journal_path) == before   # two candles: still in the batch
        journal.candle_done()
        assert _count(journal_path) == before + 1
        _step(journal, "b")
        assert _count(journal_path) == before + 1
    assert _count(journal_path) == before + 2   # the end of the block commits the rest
    journal.close()


def test_deferred_commits_step_broken_off_rolls_back_to_the_last_candle_boundary(journal_path):
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    before = _count(journal_path)
    with pytest.raises(KeyboardInterrupt):
        with journal.deferred_commits(every_candles=1):
            _step(journal, "a")
            journal.candle_done()
            _step(journal, "b")
            with journal.transaction():
                journal.connection.execute("INSERT INTO meta VALUES ('c', 'x')")
                raise KeyboardInterrupt   # Ctrl+C in the middle of a step
    assert _count(journal_path) == before + 1
    assert journal.meta("a") == "x" and journal.meta("b") is None and journal.meta("c") is None
    journal.close()


def test_deferred_commits_exception_between_steps_commits_every_whole_step(journal_path):
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    before = _count(journal_path)
    with pytest.raises(ValueError):
        with journal.deferred_commits(every_candles=1000):
            _step(journal, "a")
            raise ValueError("the strategy failed")
    assert _count(journal_path) == before + 1
    journal.close()


def test_deferred_commits_durable_journal_still_commits_every_step(journal_path):
    journal = Journal.open(journal_path, "demo", durable=True, fsync=False)
    commits = []
    journal.after_commit = lambda: commits.append(_count(journal_path))
    before = _count(journal_path)
    with journal.deferred_commits(every_candles=1000):
        _step(journal, "a")
        assert commits == [before + 1]   # committed before anything the step announces is sent
        _step(journal, "b")
        assert commits == [before + 1, before + 2]
    journal.close()


def test_deferred_commits_live_trader_commits_each_order_before_it_is_sent(journal_path):
    journal = Journal.open(journal_path, "demo", durable=True, fsync=False)
    exchange = SimulatedExchange(RULES, D(10_000), leverage=10)
    seen = []

    def spy(send):
        def place(request):
            seen.append(_committed(journal_path, "SELECT status FROM orders WHERE client_order_id = ?", request.client_order_id))
            return send(request)
        return place

    exchange.place_order, exchange.place_conditional = spy(exchange.place_order), spy(exchange.place_conditional)
    h = Harness(journal, exchange)
    with journal.deferred_commits(every_candles=1000):   # asked of a live journal: it changes nothing
        h.trader.on_signal(long_signal())
        h.candle(100, 100.5, 99.5, 100)
    assert len(seen) == 3 and all(rows == [("INTENT",)] for rows in seen)   # entry, stop and target
    journal.close()


class _StopAfter(threading.Event):
    """A stop event that is set once `candles` candles were replayed (the replay checks it before each)."""

    def __init__(self, candles: int) -> None:
        super().__init__()
        self.checks_left = candles

    def is_set(self) -> bool:
        self.checks_left -= 1
        return self.checks_left < 0


def _rows(path, table: str) -> list[tuple]:
    """A table's committed rows, with the journal's own client-id prefix written as `P`."""
    prefix = _committed(path, "SELECT value FROM meta WHERE key = 'id_prefix'")[0][0] + "-"
    return [tuple(v.replace(prefix, "P-") if isinstance(v, str) else v for v in row)
            for row in _committed(path, f"SELECT * FROM {table} ORDER BY rowid")]


@pytest.fixture
def full_run(write_settings, day_candles, tmp_path):
    """The whole day replayed, for an interrupted run to compare with."""
    settings_file = write_settings()
    path = tmp_path / "full.db"
    journal = Journal.open(path, "replay", durable=False, fresh=True)
    run_replay(load_settings(settings_file), day_candles, journal)
    journal.close()
    return settings_file, {table: _rows(path, table) for table in TABLES}


def test_replay_stop_event_mid_run_commits_a_journal_equal_to_a_prefix_of_the_full_run(full_run, day_candles, journal_path,
                                                                                       monkeypatch):
    monkeypatch.setattr(replay_module, "COMMIT_EVERY_CANDLES", 100)
    settings_file, full = full_run
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    summary = run_replay(load_settings(settings_file), day_candles, journal, _StopAfter(750))
    assert summary.candles == 750
    # committed before the journal is closed: another connection sees everything the journal does
    assert _count(journal_path, "transitions") == journal.rows("SELECT COUNT(*) AS n FROM transitions")[0]["n"]
    journal.close()
    stopped = {table: _rows(journal_path, table) for table in TABLES}
    assert stopped["signals"] and stopped["signals"] == full["signals"][:len(stopped["signals"])]
    assert all(p[4] == "CLOSED" for p in stopped["positions"])   # the stop closes what is open, at the last close
    # positions that ended before the stop ended as in the full run, with the same orders and fills
    ended = [p for p in stopped["positions"] if p[14] != "end_of_replay"]
    full_positions = {p[0]: p for p in full["positions"]}
    assert ended and all(p == full_positions[p[0]] for p in ended)
    ended_ids = {p[0] for p in ended}
    assert [o for o in stopped["orders"] if o[1] in ended_ids] == [o for o in full["orders"] if o[1] in ended_ids]
    assert [f for f in stopped["fills"] if f[2] in ended_ids] == [f for f in full["fills"] if f[2] in ended_ids]
    assert [t for t in stopped["transitions"] if t[1] in ended_ids] == [t for t in full["transitions"] if t[1] in ended_ids]


def test_replay_interrupted_mid_step_leaves_the_journal_of_the_last_committed_candle(full_run, day_candles, journal_path,
                                                                                      monkeypatch):
    monkeypatch.setattr(replay_module, "COMMIT_EVERY_CANDLES", 100)
    settings_file, full = full_run
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    fills_before_ctrl_c = 40
    original = Journal.record_fill

    def record_fill(self, fill):
        nonlocal fills_before_ctrl_c
        fills_before_ctrl_c -= 1
        if fills_before_ctrl_c < 0:
            raise KeyboardInterrupt   # Ctrl+C while a fill is booked
        original(self, fill)

    monkeypatch.setattr(Journal, "record_fill", record_fill)
    with pytest.raises(KeyboardInterrupt):
        run_replay(load_settings(settings_file), day_candles, journal)
    journal.close()
    cut = {table: _rows(journal_path, table) for table in TABLES}
    # the insert-only tables are a prefix of the full run's, up to a candle boundary
    for table in ("signals", "fills", "transitions"):
        assert cut[table] == full[table][:len(cut[table])]
    assert 0 < len(cut["fills"]) < 40
    # ... and that boundary is a commit of the batch: every signal of the first k * 100 candles, none after
    assert any(cut["signals"] == [s for s in full["signals"] if _epoch(s[2]) < day_candles[k * 100].open_time]
               for k in range(1, len(day_candles) // 100))
    # every committed position is whole: closed ones equal the full run's, each has its orders and transitions
    full_positions = {p[0]: p for p in full["positions"]}
    for position in cut["positions"]:
        if position[4] == "CLOSED":
            assert position == full_positions[position[0]]
        assert any(o[1] == position[0] for o in cut["orders"])
        assert any(t[1] == position[0] and t[4] == "submit_entry" for t in cut["transitions"])
    orders = {o[0] for o in cut["orders"]}
    assert all(f[1] in orders for f in cut["fills"])


def test_replay_strategy_error_commits_the_candles_before_it(write_settings, day_candles, journal_path, monkeypatch):
    settings = load_settings(write_settings())
    journal = Journal.open(journal_path, "replay", durable=False, fresh=True)
    calls = {"n": 0}
    real_build = Settings.build_runner

    def build(self, feedback=None, block=None):   # the strategy raises at the 501st candle
        runner = real_build(self, feedback, block)
        real_on_candle = runner.on_candle

        def failing(candle):
            calls["n"] += 1
            if calls["n"] > 500:
                raise RuntimeError("failed at candle 501")
            return real_on_candle(candle)

        runner.on_candle = failing
        return runner

    monkeypatch.setattr(Settings, "build_runner", build)
    with pytest.raises(StrategyError):
        run_replay(settings, day_candles, journal)
    in_journal = journal.rows("SELECT COUNT(*) AS n FROM transitions")[0]["n"]
    assert in_journal > 0 and _count(journal_path, "transitions") == in_journal
    journal.close()


def _epoch(iso: str) -> int:
    from journal.journal import epoch_ms
    return epoch_ms(iso)
