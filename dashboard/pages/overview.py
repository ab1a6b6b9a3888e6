"""The overview page ("/") and GET /api/overview: mode, balance, today's and total realized PnL
net of fees (fees beside), open risk, and the equity curve (cumulative net PnL per closed trade).
"""
from __future__ import annotations

import time
from decimal import Decimal

from flask import Blueprint, jsonify, render_template

from dashboard.app import dashboard_config
from dashboard.open_risk import total_open_risk
from dashboard.query import dec, journal_connection, symbol_arg, when
from journal.browse import Money, Overview, equity_curve, open_positions, overview

bp = Blueprint("overview", __name__)


@bp.get("/")
def page():
    return render_template("overview.html")


@bp.get("/api/overview")
def api_overview():
    """Money in USDT as decimal text. `balance` is the wallet's: the heartbeat's (a live bot), else
    for a replay journal [replay] starting_balance_usdt plus the net PnL of every symbol, and for a
    paper journal its starting balance plus that net (`balance_source` says which); always the
    whole account's, also with ?symbol=. `equity` is at most ~2,000 points (journal/browse.py)."""
    symbol = symbol_arg()
    now_ms = int(time.time() * 1000)
    with journal_connection() as connection:
        figures = overview(connection, now_ms, symbol)
        account = overview(connection, now_ms) if symbol else figures
        risk = total_open_risk(open_positions(connection, symbol))
        curve = equity_curve(connection, symbol)
    balance, source = _balance(account)
    return jsonify(mode=figures.mode, symbol=symbol or "", balance=dec(balance), balance_source=source,
                   pnl_today=_money(figures.today), pnl_total=_money(figures.total), fees_total=dec(figures.total.fees),
                   trades=figures.trades, open_risk=dec(risk),
                   equity=[{"time_ms": p.time_ms, "time": when(p.time_ms), "value": dec(p.value)} for p in curve])


def _money(money: Money) -> dict:
    return {"realized": dec(money.realized), "fees": dec(money.fees), "net": dec(money.net)}


def _balance(account: Overview) -> tuple[Decimal | None, str | None]:
    if account.balance is not None:
        return account.balance, "heartbeat"
    if account.mode == "replay":
        return dashboard_config().settings.replay.starting_balance_usdt + account.total.net, "replay"
    if account.starting_balance is not None:
        return account.starting_balance + account.total.net, "paper"
    return None, None
