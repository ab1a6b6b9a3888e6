"""The chart page: candles of one traded symbol with the ICT engine's zones and every trade.

GET /chart?symbol=&interval=&limit= is the page (static/chart.js draws it with lightweight-charts);
GET /api/chart?symbol=&interval=&limit= is its data (`dashboard.chart_data.ChartData.as_json`), which
the page polls every few seconds. `symbol` empty or absent: the first traded symbol (the chart shows
one symbol); `interval` empty or absent: that symbol's shortest strategy interval; `limit`: the last
closed candles shown, 1 to 1500 (default 500). A bad parameter is a 400 with one line naming it.
"""
from __future__ import annotations

import threading

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from dashboard.app import dashboard_config
from dashboard.chart_candles import MAX_CANDLES, CandleSource, candle_source
from dashboard.chart_data import build_chart
from ict.intervals import INTERVAL_MS
from runtime.settings import Settings

bp = Blueprint("chart", __name__)
DEFAULT_CANDLES = 500
LIMITS = (200, 500, 1000, 1500)   # the page's choices
_SOURCE_KEY = "chart_candles"
_source_lock = threading.Lock()


def intervals_of(settings: Settings, symbol: str) -> list[str]:
    """The intervals the strategies of `symbol` read, shortest first ("1m", "1h")."""
    return sorted({block.interval for block in settings.strategies if block.symbol == symbol}, key=INTERVAL_MS.__getitem__)


def chart_query(settings: Settings) -> tuple[str, str, int]:
    """(symbol, interval, limit) from the request's query, defaults filled in; a 400 naming the
    parameter and what it accepts when one is wrong."""
    symbols = settings.symbols
    symbol = request.args.get("symbol", "").strip().upper() or symbols[0]
    if symbol not in symbols:
        abort(400, f"symbol {symbol} is not traded by {settings.path.name}; use one of {', '.join(symbols)}")
    intervals = intervals_of(settings, symbol)
    interval = request.args.get("interval", "").strip() or intervals[0]
    if interval not in intervals:
        abort(400, f"interval {interval} is not one the strategies of {symbol} use; use one of {', '.join(intervals)}")
    text = request.args.get("limit", "").strip() or str(DEFAULT_CANDLES)
    if not text.isdigit() or not 1 <= int(text) <= MAX_CANDLES:
        abort(400, f"limit {text} is not a number of candles from 1 to {MAX_CANDLES}; use e.g. limit={DEFAULT_CANDLES}")
    return symbol, interval, int(text)


def _source() -> CandleSource:
    """The app's one candle source (its live cache is shared by every page and poll)."""
    with _source_lock:
        source = current_app.extensions.get(_SOURCE_KEY)
        if source is None:
            source = current_app.extensions[_SOURCE_KEY] = candle_source(dashboard_config().settings)
        return source


@bp.get("/chart")
def page():
    settings = dashboard_config().settings
    symbol, interval, limit = chart_query(settings)
    return render_template("chart.html", symbol=symbol, interval=interval, intervals=intervals_of(settings, symbol),
                           limit=limit, limits=sorted(set(LIMITS) | {limit}))


@bp.get("/api/chart")
def api_chart():
    config = dashboard_config()
    symbol, interval, limit = chart_query(config.settings)
    chart = build_chart(config.settings, config.journal_path, _source(), symbol, interval, limit)
    return jsonify(chart.as_json())
