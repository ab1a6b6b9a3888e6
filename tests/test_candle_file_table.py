"""The candle loader's two readers agree: the whole-file numpy reader gives exactly the candles
(and time units) the row-by-row reader gives, and leaves every file it cannot vouch for to it."""
from __future__ import annotations

import pytest

from ict.candle_file import _is_header, _read_rows, _read_table, load_candles
from tests.conftest import DATA


def both(path):
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    start = 1 if lines and _is_header(lines[0]) else 0
    return _read_table(lines, start), _read_rows(path, lines, start)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.csv")), ids=lambda path: path.name)
def test_candle_table_reader_gives_the_row_readers_candles_for_every_bundled_file(path):
    table, rows = both(path)
    assert table is not None and table == rows
    assert all(type(c.open_time) is int and type(c.close) is float for c in table[0][:10])


def test_candle_table_reader_mixed_time_units_name_their_first_lines_like_the_row_reader(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("open_time,open,high,low,close,volume\n1651795200,1,2,0.5,1.5,1\n1651795260000000,1,2,0.5,1.5,1\n"
                    "1651795320000,1,2,0.5,1.5,1\n1651795380,1,2,0.5,1.5,1\n1651795440000000,1,2,0.5,1.5,1\n")
    table, rows = both(path)
    assert table == rows and list(table[1].items()) == [("seconds", 2), ("microseconds", 3)]


@pytest.mark.parametrize("body", [
    "1651795200000,1,2,0.5,1.5,1\n\n1651795260000,1,2,0.5,1.5,1\n",          # a blank line shifts line numbers
    "1651795200000,1,2,0.5,1.5,1\n1651795260000,1_0,20,5,15,1\n",            # float() reads 1_0, numpy does not
    "1651795200000,1,2,0.5,1.5,1\n1651795260000,１,2,0.5,1.5,1\n",            # nor a full-width digit
])
def test_candle_table_reader_leaves_what_it_cannot_vouch_for_to_the_row_reader(tmp_path, body):
    path = tmp_path / "odd.csv"
    path.write_text("open_time,open,high,low,close,volume\n" + body, encoding="utf-8")
    table, rows = both(path)
    assert table is None and len(rows[0]) == 2 and load_candles(path) == rows[0]


@pytest.mark.parametrize("row", ["1651795260000,1,2,0.5,inf,1", "1651795260000,1,0.4,0.5,1.5,1", "1651795260000,1,2,0,1.5,1",
                                 "1651795260000,1,2,0.5,1.5,-1", "1651795200000,1,2,0.5,1.5,1", "1000,1,2,0.5,1.5,1"])
def test_candle_table_reader_refuses_every_row_the_row_reader_refuses(tmp_path, row):
    path = tmp_path / "bad.csv"
    path.write_text(f"open_time,open,high,low,close,volume\n1651795200000,1,2,0.5,1.5,1\n{row}\n")
    lines = path.read_text().splitlines()
    assert _read_table(lines, 1) is None
