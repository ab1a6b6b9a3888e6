"""runtime/systemd_notify.py against a real Unix datagram socket the test owns, as systemd's would be."""
from __future__ import annotations

import os
import socket
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from runtime.systemd_notify import message, notify, watchdog_interval_seconds

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no AF_UNIX sockets on this platform")


@pytest.fixture
def listener():
    """A bound datagram socket in a short temporary folder (socket paths are limited to ~100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="sdn"))
    path = folder / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()
    path.unlink()
    folder.rmdir()


def test_notify_ready_with_status_sends_one_datagram(listener):
    sock, path = listener
    assert notify(ready=True, status="trading BTCUSDT\n1m", environ={"NOTIFY_SOCKET": path})
    assert sock.recv(4096).decode() == "READY=1\nSTATUS=trading BTCUSDT 1m"


def test_notify_watchdog_and_stopping_send_their_lines(listener):
    sock, path = listener
    assert notify(watchdog=True, environ={"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert notify(stopping=True, status="stopping", environ={"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the abstract socket namespace is Linux only")
def test_notify_abstract_socket_name_with_at_sign_is_reached():
    name = f"ict-bot-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert notify(ready=True, environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"READY=1"


def test_notify_without_notify_socket_is_a_no_op():
    assert notify(ready=True, environ={}) is False
    assert notify(ready=True, environ={"NOTIFY_SOCKET": ""}) is False


def test_notify_to_a_vanished_socket_returns_false_without_raising(tmp_path):
    assert notify(watchdog=True, environ={"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_notify_with_nothing_to_say_sends_nothing(listener):
    sock, path = listener
    assert notify(environ={"NOTIFY_SOCKET": path}) is False
    assert message() == ""


def test_watchdog_interval_from_watchdog_usec_is_in_seconds():
    assert watchdog_interval_seconds({"WATCHDOG_USEC": "60000000"}) == 60.0
    assert watchdog_interval_seconds({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}) == 60.0


@pytest.mark.parametrize("environ", [{}, {"WATCHDOG_USEC": "0"}, {"WATCHDOG_USEC": "soon"},
                                     {"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}])
def test_watchdog_interval_absent_invalid_or_for_another_process_is_none(environ):
    assert watchdog_interval_seconds(environ) is None
