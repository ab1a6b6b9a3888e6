"""Where the bot's log records go: the console, the rotating log file, and journald's priorities.

Console: the events at `[bot] log_level`, briefly. Log file (`[bot] log_file`): the events at
`[bot] log_file_level` or the console's level, whichever is lower (the file never holds less
than the console showed), with module and thread; it rotates at `log_max_mb` and keeps
`log_backups` older files (log.txt.1 the newest of them). A record logged with
`extra={"console": False}` (a traceback the console already told in one line) goes to the
file only. The root logger is at the lower of the two levels, so a record no handler writes
is never built (DEBUG lines slow a replay).

Under systemd (`JOURNAL_STREAM` names stderr's device and inode: stderr is journald) the console lines carry no time,
which journald adds, and start with the syslog priority (`<3>` error ... `<7>` debug, as
sd-daemon(3) describes) so `journalctl -p warning` filters them.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from runtime.secrets import RedactSecrets
from runtime.settings import Settings

# logging level -> syslog priority (sd-daemon(3)): CRITICAL 2, ERROR 3, WARNING 4, INFO 6, DEBUG 7
PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


class JournaldFormatter(logging.Formatter):
    """`<priority>LEVEL message`: no time stamp (journald has its own)."""

    def __init__(self) -> None:
        super().__init__("%(levelname)-7s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        priority = next((p for level, p in PRIORITIES if record.levelno >= level), 7)
        return f"<{priority}>" + super().format(record)


def stderr_identity() -> str | None:
    """`device:inode` of this process's stderr, as JOURNAL_STREAM writes it; None when it has no file."""
    try:
        info = os.fstat(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):   # no stderr, or a stream without a file (pythonw, a test capture)
        return None
    return f"{info.st_dev}:{info.st_ino}"


class RotatingLogFile(logging.handlers.RotatingFileHandler):
    """`RotatingFileHandler` that decides on the file's size as written so far (the stream position),
    instead of formatting every record a second time to measure it (a tenth of a replay's time).
    A file may exceed `maxBytes` by its last record."""

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self.stream is None:  # closed after an earlier rollover error: reopen, as the base class does
            self.stream = self._open()
        return self.maxBytes > 0 and self.stream.tell() >= self.maxBytes


def under_journald(environ=None) -> bool:
    """True when stderr goes to systemd's journal: JOURNAL_STREAM (which systemd sets for the service) names the
    device and inode of our own stderr. The variable alone is not enough: it is inherited, e.g. by a shell in a
    terminal that a systemd user unit started, whose stderr is the terminal (systemd.exec(5), JOURNAL_STREAM)."""
    stream = (os.environ if environ is None else environ).get("JOURNAL_STREAM")
    return bool(stream) and stream == stderr_identity()


def setup_logging(settings: Settings, environ=None) -> RedactSecrets:
    """Install the console and log-file handlers (see the module docstring); both pass through a
    filter that masks the API key, secret, listenKey and Telegram token once known. Returns it."""
    redact = RedactSecrets()
    root = logging.getLogger()
    root.handlers.clear()
    console_level = logging.getLevelName(settings.bot.log_level)
    file_level = min(console_level, logging.getLevelName(settings.bot.log_file_level))
    root.setLevel(file_level)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    if under_journald(environ):
        console.setFormatter(JournaldFormatter())
    else:
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    console.addFilter(lambda record: getattr(record, "console", True))  # extra={"console": False}: for the file only
    log_file = RotatingLogFile(settings.resolve(settings.bot.log_file), encoding="utf-8",
                               maxBytes=settings.bot.log_max_mb * 1024 * 1024, backupCount=settings.bot.log_backups)
    log_file.setLevel(file_level)
    log_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"))
    for handler in (console, log_file):
        handler.addFilter(redact)
        root.addHandler(handler)
    # python-binance logs request headers (the API key) and bodies (the signature) at DEBUG;
    # urllib3 and websocket-client log URLs with signatures and listenKeys: keep them quiet
    for noisy in ("binance", "urllib3", "websocket", "transitions", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redact
