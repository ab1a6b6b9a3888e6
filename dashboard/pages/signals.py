"""The signals page ("/signals") and GET /api/signals: every signal, accepted or refused, newest
first, 50 a page, with the refusal and the ICT events it was built from (`basis`).
Filters: ?symbol=&accepted=accepted|refused&strategy=&refusal=CODE&page=.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from dashboard.query import choice_arg, journal_connection, name_arg, page_arg, strategy_price, symbol_arg, when
from journal.browse_lists import SignalFilter, SignalRow, refusal_codes, signals_page, strategies

bp = Blueprint("signals", __name__)
ACCEPTED: dict[str, bool | None] = {"": None, "accepted": True, "refused": False, "1": True, "0": False}


@bp.get("/signals")
def page():
    return render_template("signals.html")


def signal_json(signal: SignalRow) -> dict:
    """A signal as JSON: prices as decimal text (USDT, as the strategy gave them, to 8 decimals), ISO times and
    `*_ms`, `refusal` "CODE: words" (null when accepted), `basis` the engine event refs."""
    return {"id": signal.id, "at": when(signal.at_ms), "at_ms": signal.at_ms, "candle_time": when(signal.candle_time_ms),
            "symbol": signal.symbol, "side": signal.side, "entry_type": signal.entry_type,
            "entry_price": strategy_price(signal.entry_price), "stop_price": strategy_price(signal.stop_price),
            "take_profit_price": strategy_price(signal.take_profit_price), "strategy": signal.strategy, "reason": signal.reason,
            "accepted": signal.accepted, "refusal": signal.refusal, "refusal_code": signal.refusal_code,
            "position_id": signal.position_id, "basis": list(signal.basis)}


@bp.get("/api/signals")
def api_signals():
    chosen = SignalFilter(symbol_arg(), choice_arg("accepted", ACCEPTED), name_arg("strategy"), name_arg("refusal"))
    number = page_arg()
    with journal_connection() as connection:
        found = signals_page(connection, chosen, number)
        names, codes = strategies(connection, chosen.symbol), refusal_codes(connection, chosen.symbol)
    return jsonify(signals=[signal_json(signal) for signal in found.rows], page=found.number, pages=found.pages,
                   total=found.total, page_size=found.size, strategies=list(names), refusal_codes=list(codes))
