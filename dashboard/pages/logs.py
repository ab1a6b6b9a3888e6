"""The logs page ("/logs") and GET /api/logs: the tail of the bot's log file (`[bot] log_file`)
with a level filter, and the last ERROR lines the heartbeat journaled.

Only the last `TAIL_BYTES` of the file are read, however large it grew. The bot masks its
own secrets before a line is written; the dashboard also hides anything it holds itself
(its password hash and session key) should it ever appear in a line.
"""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template

from dashboard.app import dashboard_config
from dashboard.query import choice_arg, symbol_arg, when
from journal.browse import ErrorRow, connect_read_only, recent_errors
from journal.journal import JournalError

bp = Blueprint("logs", __name__)
TAIL_BYTES = 256 * 1024
RANKS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
LEVELS = {"": "DEBUG", "debug": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "ERROR"}
# runtime/logs.py's file format: "2025-05-04 15:33:00,123 INFO    MainThread trade.trader: ..."
LINE_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")
HIDDEN = "[hidden]"


@bp.get("/logs")
def page():
    return render_template("logs.html")


def tail_lines(path: Path, limit: int = TAIL_BYTES) -> tuple[list[tuple[str, str]], bool]:
    """The complete lines in the last `limit` bytes of `path` as (level, text), and whether the file
    is longer than that. A line without a level of its own (a traceback's) takes its entry's level."""
    with path.open("rb") as log_file:
        size = log_file.seek(0, 2)
        log_file.seek(max(0, size - limit))
        data = log_file.read(limit)
    lines = data.decode("utf-8", errors="replace").splitlines()
    cut = size > limit
    if cut and lines:
        lines = lines[1:]   # starts inside a line
    level, found = "INFO", []
    for text in lines:
        start = LINE_START.match(text)
        if start:
            level = start.group(1)
        found.append((level, text))
    return found, cut


def _hide(text: str, held: list[str]) -> str:
    for secret in held:
        text = text.replace(secret, HIDDEN)
    return text


def _held_secrets() -> list[str]:
    """What this process holds that must never reach a page: the password hash, the session key."""
    key = current_app.secret_key
    held = [dashboard_config().password_hash or "", key.hex() if isinstance(key, bytes) else str(key or "")]
    return [secret for secret in held if len(secret) >= 8]


@bp.get("/api/logs")
def api_logs():
    """`lines`: [{level, text}] oldest first, at `level` or above (DEBUG shows all), only lines naming
    ?symbol= when given; `note`: one line when there is no log to show; `cut`: the file is longer than
    the part read; `errors`: the journal's last ERROR lines, newest first (`journal_note`: why none
    could be read)."""
    level, symbol = choice_arg("level", LEVELS), symbol_arg()
    path, note, shown, cut = dashboard_config().log_path, None, [], False
    if path is None:
        note = "no log file is set ([bot] log_file in settings.toml)"
    elif not path.is_file():
        note = f"log file {path} does not exist yet: the bot writes it once it runs"
    else:
        held = _held_secrets()
        lines, cut = tail_lines(path)
        least = RANKS[level]
        shown = [{"level": kind, "text": _hide(text, held)} for kind, text in lines
                 if RANKS[kind] >= least and (symbol is None or symbol in text)]
    errors, journal_note = _errors(symbol)
    return jsonify(file=str(path) if path else None, level=level, note=note, cut=cut, lines=shown,
                   errors=[{"id": e.id, "at": when(e.at_ms), "source": e.source, "message": e.message} for e in errors],
                   journal_note=journal_note)


def _errors(symbol: str | None) -> tuple[tuple[ErrorRow, ...], str | None]:
    """The journal's last ERROR lines; without a journal, none and its one line (the log still shows)."""
    try:
        connection = connect_read_only(dashboard_config().journal_path)
    except JournalError as problem:
        return (), str(problem)
    try:
        return recent_errors(connection, symbol, 20), None
    finally:
        connection.close()
