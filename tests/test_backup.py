"""`python bot.py backup [PATH]` (journal/backup.py, runtime/backup.py): a whole, consistent copy of the journal while it is written."""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone

import pytest

import bot
from journal.journal import Journal
from journal.backup import BackupError, backup_journal, backup_target, default_name


def _journal(path):
    Journal.open(path, "demo").close()
    return path


class _Writer(threading.Thread):
    """Commits one meta row per transaction into the journal, as the bot's trader thread would, until stopped.
    `committed` is the number of rows whose COMMIT has returned."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.committed, self.halt = path, 0, threading.Event()

    def run(self):
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        while not self.halt.is_set():
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO meta VALUES (?, ?)", (f"tick-{self.committed:06d}", "x" * 200))
            connection.execute("COMMIT")
            self.committed += 1
        connection.close()


def _ticks(path):
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [key for (key,) in connection.execute("SELECT key FROM meta WHERE key LIKE 'tick-%' ORDER BY key")]
    finally:
        connection.close()


def test_backup_while_a_writer_commits_copy_is_whole_with_rows_committed_before(tmp_path):
    journal = _journal(tmp_path / "journal.db")
    writer = _Writer(journal)
    writer.start()
    try:
        copies = []
        for number in range(5):
            while writer.committed < 200 * (number + 1):  # the writer keeps going during each backup
                threading.Event().wait(0.001)
            before = writer.committed
            target = tmp_path / f"copy-{number}.db"
            backup_journal(journal, target)
            copies.append((before, target))
    finally:
        writer.halt.set()
        writer.join(10)
    for before, target in copies:
        ticks = _ticks(target)
        assert len(ticks) >= before  # every row committed before the backup began
        assert ticks == [f"tick-{n:06d}" for n in range(len(ticks))]  # a snapshot: no hole, no half transaction
    assert not list(tmp_path.glob("*.partial"))


def test_backup_copy_is_one_file_without_wal(tmp_path):
    journal = _journal(tmp_path / "journal.db")
    target = tmp_path / "copy.db"
    backup_journal(journal, target)
    connection = sqlite3.connect(target)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "journal.db"]  # no -wal/-shm left behind


def test_backup_without_path_writes_into_backups_beside_the_journal(tmp_path, capsys, write_settings):
    (tmp_path / "state").mkdir()
    journal = _journal(tmp_path / "state" / "journal.db")
    settings = write_settings({"bot.journal": '"state/journal.db"'})
    assert bot.main(["backup", "--settings", str(settings)]) == 0
    copies = list((journal.parent / "backups").glob("journal-*.db"))
    assert len(copies) == 1 and _ticks(copies[0]) == []
    out = capsys.readouterr().out
    assert str(copies[0]) in out and "integrity ok" in out


def test_backup_target_folder_gets_the_dated_name():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert default_name(at) == "journal-20260102-030405.db"


def test_backup_into_an_existing_folder_uses_the_dated_name(tmp_path):
    journal = _journal(tmp_path / "journal.db")
    (tmp_path / "out").mkdir()
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert backup_target(journal, tmp_path / "out", at) == tmp_path / "out" / "journal-20260102-030405.db"


def test_backup_never_overwrites_an_existing_file(tmp_path):
    journal = _journal(tmp_path / "journal.db")
    (tmp_path / "old.db").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup_target(journal, tmp_path / "old.db")
    assert (tmp_path / "old.db").read_bytes() == b"keep me"


@pytest.mark.parametrize("case", ["missing journal", "missing folder", "not a journal", "existing target"])
def test_backup_problem_gives_one_line_and_exit_2(tmp_path, capsys, case):
    journal = tmp_path / "journal.db"
    target = tmp_path / "copy.db"
    if case != "missing journal":
        _journal(journal)
    if case == "missing folder":
        target = tmp_path / "no-such-folder" / "copy.db"
    if case == "not a journal":
        journal = tmp_path / "notes.db"
        journal.write_text("not sqlite at all, just text " * 50, encoding="utf-8")
    if case == "existing target":
        target.write_bytes(b"old")
    assert bot.main(["backup", str(target), "--journal", str(journal)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert not (tmp_path / "backups").exists()
    assert not list(tmp_path.rglob("*.partial"))
    if case == "existing target":
        assert target.read_bytes() == b"old"


def test_backup_to_a_missing_folder_with_trailing_slash_is_refused_not_made_a_file(tmp_path, capsys):
    journal = _journal(tmp_path / "journal.db")
    folder = tmp_path / "no-such-folder"
    assert bot.main(["backup", str(folder) + "/", "--journal", str(journal)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: backup folder ") and "does not exist" in captured.err
    assert captured.err.count("\n") == 1
    assert not folder.exists()


def test_backup_of_a_folder_as_journal_is_one_line_exit_2(tmp_path, capsys):
    assert bot.main(["backup", str(tmp_path / "copy.db"), "--journal", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: journal {tmp_path} is a folder, not a journal file; pass --journal with the journal's file\n"
    assert not (tmp_path / "copy.db").exists()
