"""A tiny sd_notify client: tell systemd that the bot is ready, alive, what it is doing, or stopping.

Protocol (sd_notify(3), https://www.freedesktop.org/software/systemd/man/sd_notify.html): one datagram of
newline-separated `KEY=VALUE` lines sent to the AF_UNIX socket named in `$NOTIFY_SOCKET`; a name starting with
`@` is in Linux's abstract namespace (the `@` stands for a leading NUL byte). No compiled dependency.

When `$NOTIFY_SOCKET` is unset (not started by systemd with Type=notify), or the platform has no `socket.AF_UNIX`
(older Windows Pythons), every call is a no-op that returns False, so the bot behaves the same everywhere.
A failed send is never raised: losing a notification must not stop the trader (systemd notices a missing
WATCHDOG=1 on its own).

Intended use (deploy/ict-bot.service has Type=notify, NotifyAccess=main, WatchdogSec=60):
`notify(ready=True, status="trading BTCUSDT")` once recovery has protected every position and the streams are up;
`notify(watchdog=True)` every `watchdog_interval_seconds() / 2` from the trader loop while it is healthy;
`notify(stopping=True)` when a stop begins.
"""
from __future__ import annotations

import os
import socket

NOTIFY_SOCKET = "NOTIFY_SOCKET"


def _address(environ) -> str | None:
    name = environ.get(NOTIFY_SOCKET, "")
    if not name or not hasattr(socket, "AF_UNIX"):
        return None
    if name.startswith("@"):
        return "\0" + name[1:]
    if name.startswith("/"):
        return name
    return None  # sd_notify accepts only absolute paths and abstract names (vsock addresses are not ours)


def message(ready: bool = False, status: str | None = None, watchdog: bool = False, stopping: bool = False) -> str:
    """The datagram's text: the chosen `KEY=VALUE` lines, in a fixed order; `status` is made one line."""
    lines = []
    if ready:
        lines.append("READY=1")
    if stopping:
        lines.append("STOPPING=1")
    if watchdog:
        lines.append("WATCHDOG=1")
    if status is not None:
        lines.append("STATUS=" + " ".join(status.split()))
    return "\n".join(lines)


def notify(ready: bool = False, status: str | None = None, watchdog: bool = False, stopping: bool = False,
           environ=None) -> bool:
    """Send the given states to systemd. Returns True when a datagram was sent, False when there is nowhere
    to send it (not under systemd) or the send failed. `environ` defaults to os.environ (tests pass their own)."""
    address = _address(os.environ if environ is None else environ)
    text = message(ready, status, watchdog, stopping)
    if address is None or not text:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(text.encode("utf-8"), address)
        return True
    except OSError:
        return False


def watchdog_interval_seconds(environ=None) -> float | None:
    """The watchdog interval systemd asks of this process (`$WATCHDOG_USEC`, microseconds) in seconds, or None
    when there is no watchdog: unset, not a positive integer, or `$WATCHDOG_PID` names another process.
    Send WATCHDOG=1 at half this interval, as sd_watchdog_enabled(3) recommends."""
    environ = os.environ if environ is None else environ
    pid = environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None
