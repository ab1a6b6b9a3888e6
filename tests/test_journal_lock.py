"""One bot per journal (journal/lock.py): a second bot or a replay on a journal in use stops with one
line and exit 2; the lock goes with its process, however it ends."""
from __future__ import annotations

import subprocess
import sys

import pytest

from journal.journal import JournalError
from journal.lock import JournalLock
from tests.live_bot import ROOT, LiveBot, wait_until


def test_lock_held_refuses_a_second_holder_until_released(tmp_path):
    path = tmp_path / "journal.db"
    with JournalLock(path):
        with pytest.raises(JournalError, match=r"journal .*journal.db is in use by another bot \(it holds .*journal.db.lock\)"):
            with JournalLock(path):
                pass
    with JournalLock(path):   # free again
        pass


def test_lock_of_memory_journal_is_no_lock(tmp_path):
    with JournalLock(":memory:"), JournalLock(":memory:"):
        pass


def test_lock_file_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(JournalError, match="cannot create its lock file .*; check that its folder is writable"):
        with JournalLock(tmp_path / "plain" / "journal.db"):
            pass


@pytest.mark.skipif(sys.platform == "win32", reason="stops the bot with SIGINT")
def test_second_live_bot_on_the_same_journal_exits_2_and_the_first_goes_on(tmp_path):
    with LiveBot(tmp_path) as bot:
        bot.start()
        second = subprocess.run([sys.executable, "bot.py", "--settings", str(bot.settings)], cwd=ROOT, capture_output=True,
                                text=True, timeout=60, env=bot.environment())
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            f"error: journal {bot.journal} is in use by another bot (it holds {bot.journal}.lock); stop that bot first, "
            "or pass --journal with another file"]
        bot.three_bullish()                                       # the first bot still trades
        wait_until(lambda: len([a for a in bot.fake.algo_orders if a.status == "NEW"]) == 2, what="protection")
        bot.process.kill()                                        # a crash releases the lock with the process
        bot.process.wait(10)
        bot.fake.drop_private_sockets()
        bot.start()
        wait_until(lambda: "recovery done: 1 position(s) still open" in bot.log.read_text(), what="the restart's recovery")
        assert bot.stop() == 0
