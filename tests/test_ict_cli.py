"""`python -m ict scan` and `plot`: output format, time filters, and one-line errors with status 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ict.__main__ import main
from ict.engine import scan
from ict.events import Event
from ict.scan import CliError, parse_time
from tests.ict_helpers import DAY_FILE, ROOT, real_candles

EVENT_FIELDS = ["id", "kind", "direction", "level", "formed_at", "confirmed_at", "top", "bottom"]
DAY_START = 1_651_795_200_000  # 2022-05-06 00:00 UTC


def scan_lines(capsys, *args):
    assert main(["scan", str(DAY_FILE), *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_scan_jsonl_has_exactly_the_public_fields_in_time_order(capsys):
    rows = [json.loads(line) for line in scan_lines(capsys, "--jsonl")]
    assert len(rows) == len(scan(real_candles(DAY_FILE)))
    for row in rows:
        assert list(row) in (EVENT_FIELDS, ["ref", "state", "at"])
    times = [row.get("confirmed_at", row.get("at")) for row in rows]
    assert times == sorted(times)


def test_scan_jsonl_prices_keep_the_file_text():
    candles = real_candles(DAY_FILE)
    highs = {c.high for c in candles} | {c.low for c in candles}
    reports = [r for r in scan(candles) if isinstance(r, Event) and r.kind == "fvg"]
    assert all(r.top in highs and r.bottom in highs for r in reports)


def test_scan_jsonl_whole_prices_are_written_like_the_file(capsys):
    # the file writes 36540, not 36540.0
    rows = [json.loads(line) for line in scan_lines(capsys, "--jsonl")]
    assert "36540.0" not in json.dumps(rows)
    assert any(isinstance(row.get("top"), int) for row in rows)


def test_scan_from_and_to_keep_only_reports_in_the_window(capsys):
    rows = [json.loads(line) for line in scan_lines(capsys, "--jsonl", "--from", "2022-05-06T12:00",
                                                    "--to", "2022-05-06T13:00")]
    times = [row.get("confirmed_at", row.get("at")) for row in rows]
    assert rows and min(times) >= DAY_START + 12 * 3_600_000 and max(times) <= DAY_START + 13 * 3_600_000


def test_scan_text_lines_name_time_kind_and_zone(capsys):
    lines = scan_lines(capsys, "--from", "2022-05-06T12:00", "--to", "2022-05-06T12:30")
    assert lines[0].startswith("2022-05-06 12:")
    assert any(" fvg " in line and "zone " in line for line in lines)


@pytest.mark.parametrize("text, expected", [
    ("2025-05-05", 1_746_403_200_000),
    ("2025-05-05T12:00", 1_746_446_400_000),
    ("2025-05-05 12:00:00Z", 1_746_446_400_000),
    ("1746403200000", 1_746_403_200_000),
])
def test_parse_time_accepts_utc_dates_datetimes_and_epoch_ms(text, expected):
    assert parse_time(text, "--from") == expected


def test_parse_time_refuses_an_impossible_date():
    with pytest.raises(CliError, match=r"^--from '2025-02-30' is not a time; use a UTC date"):
        parse_time("2025-02-30", "--from")


def test_scan_missing_file_prints_one_line_and_exits_2(capsys, tmp_path):
    assert main(["scan", str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: candle file ") and "does not exist" in err


def test_scan_bad_time_prints_one_line_and_exits_2(capsys):
    assert main(["scan", str(DAY_FILE), "--to", "yesterday"]) == 2
    assert capsys.readouterr().err == ("error: --to 'yesterday' is not a time; use a UTC date like 2025-05-05, "
                                       "a date and time like 2025-05-05T12:00, or epoch milliseconds\n")


def test_scan_bad_settings_value_prints_one_line_and_exits_2(capsys, tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[bot]\nname = 'x'\n\n[ict]\nswing_length = 0\n")
    assert main(["scan", str(DAY_FILE), "--settings", str(path)]) == 2
    assert capsys.readouterr().err == (f"error: settings file {path} [ict] swing_length = 0 is out of range; "
                                       "use a whole number from 2 to 200\n")


def test_scan_settings_without_ict_table_uses_the_defaults(capsys, tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[bot]\nname = 'x'\n")
    with_file = scan_lines(capsys, "--settings", str(path), "--jsonl")
    assert with_file == scan_lines(capsys, "--jsonl")


def test_scan_settings_are_applied(capsys, tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[ict]\nfvg_min_size_atr = 1.0  # only gaps of one ATR or more\n")
    filtered = [json.loads(line) for line in scan_lines(capsys, "--settings", str(path), "--jsonl")]
    everything = [json.loads(line) for line in scan_lines(capsys, "--jsonl")]
    count = lambda rows: sum(row.get("kind") == "fvg" for row in rows)  # noqa: E731
    assert 0 < count(filtered) < count(everything)


def test_scan_broken_toml_prints_one_line_and_exits_2(capsys, tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[ict\n")
    assert main(["scan", str(DAY_FILE), "--settings", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be read" in err


def test_plot_writes_a_png_of_the_window(tmp_path, capsys):
    out = tmp_path / "chart.png"
    assert main(["plot", str(DAY_FILE), "--from", "2022-05-06T10:00", "--to", "2022-05-06T14:00",
                 "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "241 candles" in capsys.readouterr().out


def test_plot_window_without_candles_prints_one_line_and_exits_2(tmp_path, capsys):
    assert main(["plot", str(DAY_FILE), "--from", "2030-01-01", "--to", "2030-01-02",
                 "--out", str(tmp_path / "c.png")]) == 2
    assert capsys.readouterr().err.startswith("error: no candle lies between --from and --to")


def test_module_runs_as_a_command_without_traceback():
    done = subprocess.run([sys.executable, "-m", "ict", "scan", "missing.csv"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: candle file missing.csv")
