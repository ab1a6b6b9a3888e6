"""Prefix invariance: a replay cut at candle N journals exactly what the full replay journaled up to N.

Strategies, engines and the trader must not look ahead; if one did, a row written before
the cut would differ between the two runs. The replay closes what is still open at its
end (`end_of_replay`), so each comparison stops before the close of the cut's last candle,
and positions and orders (rows that change later) are compared once final.
"""
from __future__ import annotations

import pytest

from ict.candle_file import load_candles
from journal.journal import Journal, iso_time
from tests.conftest import DATA
from runtime.replay import run_replay
from runtime.settings import load_settings

FILE = DATA / "BTCUSDT-perp-5m-2023-01-01.csv"
SLICE = 5200                 # 18 days of 5m candles: every shipped strategy signals in it
CUTS = (1400, 3100, 5090)    # each a few candles after signals of several strategies
CLOSED_BEFORE = "state = 'CLOSED' AND closed_at < ?"


@pytest.fixture(scope="module")
def five_minute(tmp_path_factory):
    # the header and the first SLICE rows only: reading the whole year would cost more than the replays
    with FILE.open(encoding="utf-8") as source:
        head = [next(source) for _ in range(SLICE + 1)]
    path = tmp_path_factory.mktemp("prefix") / FILE.name
    path.write_text("".join(head), encoding="utf-8")
    return load_candles(path)


def journal_up_to(journal: Journal, end: str) -> dict[str, list[dict]]:
    """Every row known for good before `end` (ISO time; signals up to it): append-only tables by time,
    positions once closed, orders once filled or their position closed. The journal's id prefix (random
    per journal file, in client order ids and details) is masked."""
    tables = {
        "signals": journal.rows("SELECT * FROM signals WHERE at <= ? ORDER BY id", end),
        "transitions": journal.rows("SELECT * FROM transitions WHERE at < ? ORDER BY id", end),
        "fills": journal.rows("SELECT * FROM fills WHERE at < ? ORDER BY id", end),
        "positions": journal.rows(f"SELECT * FROM positions WHERE {CLOSED_BEFORE} ORDER BY id", end),
        # a fill is final; other ends (cancel, expiry) only once the position closed before the cut,
        # since the end_of_replay cancel of a resting order is stamped with the last candle's time
        "orders": journal.rows(f"SELECT * FROM orders WHERE updated_at < ? AND (status = 'FILLED' OR position_id IN "
                               f"(SELECT id FROM positions WHERE {CLOSED_BEFORE})) ORDER BY client_order_id", end, end),
    }
    prefix = journal.id_prefix
    return {table: [{key: value.replace(prefix, "<journal>") if isinstance(value, str) else value
                     for key, value in row.items()} for row in rows] for table, rows in tables.items()}


@pytest.mark.parametrize("name", ["FVG_Market_Entry_v1", "OB_Limit_Entry_v1", "Silver_Bullet_v1", "Mock_ThreeCandles_v1"])
def test_strategy_replay_cut_anywhere_journals_the_same_rows_up_to_the_cut(name, write_settings, five_minute):
    settings = load_settings(write_settings({"strategy.strategy_name": f'"{name}"', "strategy.interval": '"5m"',
                                             "replay.file": f'"{FILE.as_posix()}"'}))
    full = Journal.open(":memory:", "replay", durable=False)
    run_replay(settings, five_minute, full)
    assert full.rows("SELECT COUNT(*) AS n FROM signals")[0]["n"] > 0
    for cut in CUTS:
        part = Journal.open(":memory:", "replay", durable=False)
        run_replay(settings, five_minute[:cut], part)
        end = iso_time(five_minute[cut - 1].open_time + 300_000)  # the cut's last close: end_of_replay happens here
        expected, got = journal_up_to(full, end), journal_up_to(part, end)
        for table in expected:
            assert got[table] == expected[table], f"{name}: {table} differ before candle {cut}"
        assert sum(len(rows) for rows in got.values()) > 0
        part.close()
    full.close()
