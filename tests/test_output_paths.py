"""Every output path is checked before any work: one line and exit 2 (runtime/output_paths.py, bot.py)."""
from __future__ import annotations

import argparse
import os
import sys
import threading

import pytest

import bot
from tests.conftest import DAY_FILE
from runtime.output_paths import OutputPathError, check_output_file
from runtime.settings import load_settings


def test_output_file_in_missing_folder_names_the_folder_and_fix(tmp_path):
    with pytest.raises(OutputPathError, match=r"^log file .*x.txt: the folder .*nope does not exist; create it, or FIX$"):
        check_output_file(tmp_path / "nope" / "x.txt", "log file", "FIX")


def test_output_file_that_is_a_folder_or_under_a_file_is_refused(tmp_path):
    with pytest.raises(OutputPathError, match="is a folder, not a file"):
        check_output_file(tmp_path, "journal", "FIX")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(OutputPathError, match="plain is a file, not a folder"):
        check_output_file(tmp_path / "plain" / "x.db", "journal", "FIX")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="permissions do not bind root (or Windows)")
def test_output_file_in_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match="cannot write there"):
            check_output_file(folder / "log.txt", "log file", "FIX")
    finally:
        folder.chmod(0o700)


def test_output_file_check_leaves_nothing_behind(tmp_path):
    assert check_output_file(tmp_path / "summary.json", "--summary-json", "FIX") == tmp_path / "summary.json"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change, option, expected", [
    ({"bot.log_file": '"missing/log.txt"'}, [], "error: log file .*missing.log.txt: the folder .*missing does not exist; "
                                                "create it, or change \\[bot\\] log_file in settings.toml"),
    ({}, ["--journal", "missing/j.db"], "error: journal missing.j.db: the folder missing does not exist; create it, or pass "
                                         "--journal with another path"),
    ({}, ["--summary-json", "missing/s.json"], "error: --summary-json missing.s.json: the folder missing does not exist"),
])
def test_bot_bad_output_path_is_one_line_exit_2_before_any_work(write_settings, tmp_path, monkeypatch, capsys, change,
                                                                 option, expected):
    settings = write_settings(change)
    monkeypatch.chdir(tmp_path)
    assert bot.main(["--settings", str(settings), *option]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    import re
    assert re.match(expected, err), err
    assert not (tmp_path / "journal.db").exists() and not list(tmp_path.glob("*.db"))   # no replay ran


@pytest.mark.parametrize("change, option, expected", [
    ({}, ["--journal", "run.db", "--summary-json", "run.db"],
     "error: --summary-json run.db is also the journal; pass a file of its own in a folder you can write to\n"),
    ({}, ["--summary-json", "settings.toml"],
     "error: --summary-json settings.toml is also the settings file; pass a file of its own in a folder you can write to\n"),
    ({"bot.log_file": '"run.db"'}, ["--journal", "run.db"],
     "error: journal run.db is also the log file; pass --journal with another path, or change [bot] journal in "
     "settings.toml\n"),
    ({}, ["--replay", "candles.csv", "--summary-json", "candles.csv"],
     "error: --summary-json candles.csv is also the candle file; pass a file of its own in a folder you can write to\n"),
])
def test_bot_output_that_is_another_output_or_an_input_is_one_line_exit_2_nothing_touched(
        write_settings, tmp_path, monkeypatch, capsys, change, option, expected):
    settings = write_settings(change)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "candles.csv").write_bytes(DAY_FILE.read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert bot.main(["--settings", "settings.toml", *option]) == 2
    assert capsys.readouterr().err == expected
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before   # nothing written, nothing replaced


def test_bot_stop_while_candles_load_keeps_the_previous_journal(write_settings, tmp_path, monkeypatch, capsys):
    settings_path = write_settings()
    monkeypatch.chdir(tmp_path)
    assert bot.main(["--settings", str(settings_path), "--journal", "run.db"]) == 0   # an earlier replay's journal
    before = (tmp_path / "run.db").read_bytes()
    capsys.readouterr()
    stop = threading.Event()
    stop.set()   # Ctrl+C came while the candle file was read
    args = argparse.Namespace(report=None, replay=None, journal="run.db", summary_json="summary.json")
    assert bot.replay(load_settings(settings_path), args, stop) == 0
    assert (tmp_path / "run.db").read_bytes() == before
    assert not (tmp_path / "summary.json").exists()
    assert capsys.readouterr().out == ""
