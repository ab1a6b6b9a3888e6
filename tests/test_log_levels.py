"""bot.py's logging: each handler at its own level, the root at the lowest, and file-only records."""
from __future__ import annotations

import logging
import os
import sys

import pytest

import bot
from runtime.settings import SettingsError, load_settings


@pytest.fixture
def logged(write_settings, tmp_path, capsys):
    """Set up bot.py's logging from settings with `changes`; log one line per level; return (file text, console text)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def run(changes):
        settings = load_settings(write_settings({"bot.log_file": f'"{(tmp_path / "log.txt").as_posix()}"', **changes}))
        bot.setup_logging(settings)
        log = logging.getLogger("tests.levels")
        for level in ("debug", "info", "warning"):
            getattr(log, level)("a %s line", level)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.error("a file-only failure", exc_info=True, extra={"console": False})
        for handler in logging.getLogger().handlers:
            handler.flush()
        return (tmp_path / "log.txt").read_text(encoding="utf-8"), capsys.readouterr().err, logging.getLogger().level

    yield run
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = saved


def test_log_file_level_default_info_leaves_debug_lines_out_and_root_at_info(logged):
    file, console, root = logged({})
    assert "a debug line" not in file and "a info line" in file and "a warning line" in file
    assert "a debug line" not in console and "a info line" in console
    assert root == logging.INFO   # a DEBUG record is not even built


def test_log_file_level_debug_writes_debug_to_the_file_only(logged):
    file, console, root = logged({"bot.log_file_level": '"DEBUG"', "bot.log_level": '"WARNING"'})
    assert "a debug line" in file and "a info line" in file
    assert "a debug line" not in console and "a info line" not in console and "a warning line" in console
    assert root == logging.DEBUG


def test_log_file_never_holds_less_than_the_console_shows(logged):
    file, console, root = logged({"bot.log_file_level": '"ERROR"', "bot.log_level": '"DEBUG"'})
    assert "a debug line" in console and "a debug line" in file and root == logging.DEBUG


def test_log_record_marked_not_for_the_console_reaches_the_file_only(logged):
    file, console, _ = logged({})
    assert "a file-only failure" in file and "RuntimeError: boom" in file and "Traceback" in file
    assert "a file-only failure" not in console and "Traceback" not in console


def test_settings_bad_log_file_level_names_the_key_and_the_levels(write_settings):
    with pytest.raises(SettingsError, match=r'^settings.toml \[bot\] log_file_level = "verbose" is out of range; use one of '
                                            r'"DEBUG", "INFO", "WARNING", "ERROR"'):
        load_settings(write_settings({"bot.log_file_level": '"verbose"'}))


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = saved


def test_log_file_rotates_at_log_max_mb_keeping_log_backups_files(write_settings, tmp_path, restore_logging):
    from runtime.logs import setup_logging

    settings = load_settings(write_settings({"bot.log_file": f'"{(tmp_path / "log.txt").as_posix()}"', "bot.log_max_mb": "1",
                                             "bot.log_backups": "2"}))
    setup_logging(settings, environ={})
    log = logging.getLogger("tests.rotation")
    line = "x" * 1000
    for _ in range(4_000):   # about 4 MB of lines
        log.warning(line)
    names = sorted(p.name for p in tmp_path.glob("log.txt*"))
    assert names == ["log.txt", "log.txt.1", "log.txt.2"]          # the oldest were deleted
    assert all(p.stat().st_size <= 1024 * 1024 + 2000 for p in tmp_path.glob("log.txt*"))   # the limit + its last record
    assert all(p.stat().st_size >= 1024 * 1024 for p in tmp_path.glob("log.txt.*"))


def test_console_under_journald_has_priority_and_no_time(write_settings, tmp_path, capsys, restore_logging, monkeypatch):
    from runtime import logs
    from runtime.logs import setup_logging

    monkeypatch.setattr(logs, "stderr_identity", lambda: "8:12345")   # stderr is the stream JOURNAL_STREAM names
    settings = load_settings(write_settings({"bot.log_file": f'"{(tmp_path / "log.txt").as_posix()}"'}))
    setup_logging(settings, environ={"JOURNAL_STREAM": "8:12345"})
    log = logging.getLogger("tests.journald")
    log.info("an info line")
    log.warning("a warning line")
    log.error("an error line")
    assert capsys.readouterr().err.splitlines() == ["<6>INFO    an info line", "<4>WARNING a warning line",
                                                    "<3>ERROR   an error line"]
    setup_logging(settings, environ={})
    log.info("an info line")
    assert capsys.readouterr().err[2] == ":"   # HH:MM:SS first, outside systemd


def test_console_with_inherited_journal_stream_not_our_stderr_keeps_times(write_settings, tmp_path, capsys,
                                                                          restore_logging, monkeypatch):
    from runtime import logs

    monkeypatch.setattr(logs, "stderr_identity", lambda: "8:999")   # a terminal, not the journal stream named
    settings = load_settings(write_settings({"bot.log_file": f'"{(tmp_path / "log.txt").as_posix()}"'}))
    logs.setup_logging(settings, environ={"JOURNAL_STREAM": "8:12345"})
    logging.getLogger("tests.journald").warning("a warning line")
    line = capsys.readouterr().err
    assert line[2] == ":" and not line.startswith("<") and line.endswith("WARNING a warning line\n")


def test_stderr_identity_of_a_real_file_is_its_device_and_inode(tmp_path, monkeypatch):
    from runtime import logs

    with open(tmp_path / "err.txt", "w") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        info = os.fstat(stream.fileno())
        assert logs.stderr_identity() == f"{info.st_dev}:{info.st_ino}"
        assert logs.under_journald({"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
        assert not logs.under_journald({"JOURNAL_STREAM": "1:2"})


@pytest.mark.parametrize("key, value", [("log_max_mb", "0"), ("log_backups", "0")])
def test_log_rotation_settings_out_of_range_are_one_line(write_settings, key, value):
    with pytest.raises(SettingsError, match=rf"\[bot\] {key} = 0 is out of range"):
        load_settings(write_settings({f"bot.{key}": value}))
