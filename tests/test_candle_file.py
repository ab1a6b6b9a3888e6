"""The candle loader: both Binance layouts give the same candles; broken files name the line."""
from __future__ import annotations

import pytest

from ict.candle_file import CandleFileError, load_candles
from tests.conftest import DATA, DAY_FILE


def test_loader_plain_and_native_layouts_give_identical_candles():
    plain = load_candles(DAY_FILE)
    native = load_candles(DATA / "BTCUSDT-perp-1m-2022-05-06-native12.csv")
    assert len(plain) == 1440
    assert plain == native
    assert plain[0].open_time == 1651795200000 and plain[0].open == 36533.7 and plain[0].volume == 264.779


def test_loader_native_layout_with_header_row_is_accepted(tmp_path):
    header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"
    rows = (DATA / "BTCUSDT-perp-1m-2022-05-06-native12.csv").read_text().splitlines()[:3]
    path = tmp_path / "with-header.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    assert [c.open_time for c in load_candles(path)] == [1651795200000, 1651795260000, 1651795320000]


def test_loader_microsecond_times_become_milliseconds(tmp_path):
    path = tmp_path / "micro.csv"
    path.write_text("1735689600000000,93576.00,93610.93,93537.50,93610.93,8.21827,1735689659999999,768978.0,1,1,1,0\n"
                    "1735689660000000,93610.93,93652.00,93606.15,93641.28,12.6,1735689719999999,1.0,1,1,1,0\n")
    candles = load_candles(path)
    assert [c.open_time for c in candles] == [1735689600000, 1735689660000]


def test_loader_spot_file_with_maintenance_gaps_loads():
    candles = load_candles(DATA / "BTCUSDT-spot-1h-2021-01-01-native12.csv")
    assert len(candles) == 2158
    assert any(c.volume == 0 and c.high == c.low for c in candles)  # the flat maintenance candle


@pytest.mark.parametrize("rows, message", [
    (["1651795200000,1,2,0.5,1.5,1", "1651795200000,1,2,0.5,1.5,1"], "line 3: open_time 1651795200000 repeats the previous row; sort the file by time and drop duplicates"),
    (["1651795260000,1,2,0.5,1.5,1", "1651795200000,1,2,0.5,1.5,1"], "line 3: open_time 1651795200000 goes back before the previous row"),
    (["1651795200000,1,2,0.5,1.5,1", "1651795260000,1,0.4,0.5,1.5,1"], "line 3: high 0.4 is below low 0.5; fix or remove the row"),
    (["1651795200000,1,2,0.5,abc,1"], "line 2: close 'abc' is not a number; fix or remove the row"),
    (["1651795200000,1,2,0.5,1.5"], "line 2: has 5 columns; expected 6"),
    (["1651795200000,1,2,0.5,1.5,1", "1651795260000,1,2,0.5,1.5"], "line 3: has 5 columns where earlier rows have 6"),
    (["1651795200000,1,2,0,1.5,1"], "line 2: low 0 is not above zero"),
    (["nan,1,2,0.5,1.5,1"], "line 2: open_time 'nan' is not a whole number"),
])
def test_loader_broken_file_is_refused_with_its_line_number(tmp_path, rows, message):
    path = tmp_path / "broken.csv"
    path.write_text("open_time,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    with pytest.raises(CandleFileError) as error:
        load_candles(path)
    assert f"candle file {path} {message}" in str(error.value)


def test_loader_missing_file_says_so(tmp_path):
    with pytest.raises(CandleFileError, match="does not exist"):
        load_candles(tmp_path / "missing.csv")


def test_loader_binary_file_is_refused_with_a_fix(tmp_path):
    path = tmp_path / "candles.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CandleFileError) as error:
        load_candles(path)
    assert str(error.value) == (f"candle file {path} is not a text CSV file (byte 0x80 at position 128 is not UTF-8); "
                                "save it as a UTF-8 CSV with a header such as open_time,open,high,low,close,volume")


def test_loader_header_only_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("open_time,open,high,low,close,volume\n")
    with pytest.raises(CandleFileError, match="has no candle rows"):
        load_candles(path)
