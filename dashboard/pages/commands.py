"""POST /api/commands: check a command (dashboard/command_checks.py) and append it to the
journal's `commands` table for the bot to apply; GET /api/commands?limit=N: the newest commands
with their status and the bot's answer (the page polls until a command is no longer pending)."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, jsonify, request

from dashboard.app import dashboard_config
from dashboard.command_checks import CommandRefused, check_command
from dashboard.pages.bot_state import bot_state
from journal.commands import CommandRow, append_command, read_commands
from journal.journal import JournalError, iso_time

bp = Blueprint("commands", __name__)
log = logging.getLogger(__name__)
MAX_LIMIT = 200


@bp.post("/api/commands")
def send():
    config, now_ms = dashboard_config(), int(time.time() * 1000)
    fields = {name: request.form.get(name, "") for name in ("kind", "target", "value")}
    try:
        command = check_command(config, bot_state(config, now_ms), now_ms, **fields)
        command_id = append_command(config.journal_path, command.kind, command.target, command.value, now_ms)
    except CommandRefused as refused:
        return jsonify(error=str(refused)), refused.status
    except JournalError as problem:
        return jsonify(error=str(problem)), 409
    log.info("command %d sent: %s %s %s", command_id, command.kind, command.target, command.value)
    return jsonify(id=command_id)


@bp.get("/api/commands")
def recent():
    limit = request.args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        return jsonify(error=f"limit {limit!r} is out of range; pass a whole number from 1 to {MAX_LIMIT}"), 400
    try:
        rows = read_commands(dashboard_config().journal_path, int(limit))
    except JournalError as problem:
        return jsonify(error=str(problem)), 409
    return jsonify(commands=[_json(row) for row in rows])


def _json(row: CommandRow) -> dict:
    return {"id": row.id, "kind": row.kind, "target": row.target, "value": row.value, "status": row.status,
            "result": row.result, "created_at": iso_time(row.created_at_ms), "created_at_ms": row.created_at_ms,
            "done_at": iso_time(row.done_at_ms) if row.done_at_ms is not None else None, "done_at_ms": row.done_at_ms}
