"""Every output path is checked before any work: one line and exit 2 (runtime/output_paths.py, bot.py)."""
from __future__ import annotations

import os
import sys

import pytest

import bot
from runtime.output_paths import OutputPathError, check_output_file


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
