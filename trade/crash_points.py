"""Test-only crash points: end the process abruptly at a named step, to test recovery.

    BOT_CRASH_AT=<point>[:<n>]     e.g. commit:3, entry, cancel:2

ends the bot with `os._exit(CRASH_EXIT_CODE)` (no cleanup, no flush: as a kill would) right
after the n-th time (default the first) it passes `<point>`:
- `commit`: a journal transaction has committed;
- `entry`, `stop`, `take_profit`, `exit`: that order's request has been answered (the
  exchange has it; the answer is not booked yet);
- `cancel`: a cancel request has been answered.
tests/test_crash.py restarts the bot after each and checks what the exchange and the journal
say. Unset (always, outside tests) nothing is armed: `ARMED` is False and callers skip the call.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Callable

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "BOT_CRASH_AT"
CRASH_EXIT_CODE = 86
POINTS = {"commit", "entry", "stop", "take_profit", "exit", "cancel"}


def _parse(text: str) -> tuple[str, int] | None:
    if not text:
        return None
    point, _, count = text.partition(":")
    if point not in POINTS or (count and not count.isdigit()):
        print(f"error: {ENVIRONMENT_VARIABLE}={text} is not a crash point; use one of {', '.join(sorted(POINTS))}, "
              "optionally followed by :<n>, or unset it", file=sys.stderr)
        raise SystemExit(2)
    return point, int(count or 1)


_TARGET = _parse(os.environ.get(ENVIRONMENT_VARIABLE, ""))
ARMED = _TARGET is not None
_passed: dict[str, int] = {}


def passed(point: str) -> None:
    """Count one pass of `point`; end the process at the armed one."""
    if _TARGET is None:
        return
    _passed[point] = _passed.get(point, 0) + 1
    log.debug("crash point %s:%d passed", point, _passed[point])
    if (point, _passed[point]) == _TARGET:
        log.critical("crash point %s:%d reached: ending the process now (%s)", point, _passed[point], ENVIRONMENT_VARIABLE)
        os._exit(CRASH_EXIT_CODE)   # log handlers flush every record; nothing else is flushed, as in a kill


def commit_hook() -> Callable[[], None] | None:
    """What the journal calls after each commit, or None when no crash point is armed."""
    return (lambda: passed("commit")) if ARMED else None
