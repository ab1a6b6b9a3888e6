"""The test-only crash points: armed only by BOT_CRASH_AT, and a bad value is one clear line."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = ("from trade import crash_points as c; print(c.ARMED); "
         "[c.passed('commit') for _ in range(2)]; print('still alive'); c.passed('commit')")


def run_probe(value: str | None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "BOT_CRASH_AT"}
    if value is not None:
        environment["BOT_CRASH_AT"] = value
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60, env=environment)


def test_crash_points_unset_arm_nothing():
    result = run_probe(None)
    assert result.returncode == 0 and result.stdout.split() == ["False", "still", "alive"]


def test_crash_points_end_the_process_at_the_nth_pass():
    from trade.crash_points import CRASH_EXIT_CODE

    result = run_probe("commit:3")
    assert result.returncode == CRASH_EXIT_CODE and result.stdout.split() == ["True", "still", "alive"]


def test_crash_points_unknown_point_exits_2_with_one_line():
    result = run_probe("comit")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: BOT_CRASH_AT=comit is not a crash point; use one of cancel, commit, entry, exit, "
                                     "stop, take_profit, optionally followed by :<n>, or unset it")
