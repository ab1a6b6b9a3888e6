"""The settings page (/settings): the risk settings as settings.toml says now, the form that
changes them (one set_risk command per changed field), pause / resume / stop, the command log,
and when no bot runs how to start it (the Start button with `--start-bot`).

GET /api/settings: {"risk": {key: text}, "keys": [the keys the form shows], "error": one line or
null}, read from the file on every call (the bot writes a change back there).
POST /api/bot/start: {"pid": n}, or {"error": one line} with 409 (dashboard/bot_starter.py).
"""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, jsonify, render_template

from dashboard.app import dashboard_config
from dashboard.bot_starter import BotStarter, StartRefused
from dashboard.command_checks import CommandRefused, current_risk
from runtime.settings_writer import RISK_KEYS

bp = Blueprint("settings", __name__)
STARTER_KEY = "bot_starter"   # app.extensions: one BotStarter per app, it remembers the bot it started


@bp.get("/settings")
def page():
    config = dashboard_config()
    return render_template("settings.html", can_start_here=config.start_command is not None and not config.under_systemd)


@bp.get("/api/settings")
def api_settings():
    try:
        risk = current_risk(dashboard_config())
    except CommandRefused as problem:
        return jsonify(risk={}, keys=[], error=str(problem))
    shown = {key: _text(getattr(risk, key)) for key in RISK_KEYS if getattr(risk, key) is not None}
    return jsonify(risk=shown, keys=list(shown), error=None)


@bp.post("/api/bot/start")
def start():
    try:
        pid = current_app.extensions.setdefault(STARTER_KEY, BotStarter()).start(dashboard_config())
    except StartRefused as refused:
        return jsonify(error=str(refused)), 409
    return jsonify(pid=pid)


def _text(value: object) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)
