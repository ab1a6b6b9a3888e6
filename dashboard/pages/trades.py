"""The trades page ("/trades"), GET /api/trades (50 a page, newest close first) and
GET /api/trades.csv (every matching trade, streamed), filtered by closing day, side, strategy
and symbol: ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC days, both included)&side=LONG|SHORT&strategy=&symbol=&page=.
"""
from __future__ import annotations

import csv
import io
from typing import Iterator

from flask import Blueprint, Response, abort, jsonify, render_template, stream_with_context

from dashboard.query import choice_arg, day_arg, dec, journal_connection, name_arg, open_journal, page_arg, symbol_arg, when
from journal.browse_lists import TABLE_COLUMNS, TradeFilter, TradeRow, strategies, trade_table, trades_page

bp = Blueprint("trades", __name__)
SIDES: dict[str, str | None] = {"": None, "long": "LONG", "short": "SHORT"}
CSV_BATCH = 500   # rows per chunk sent
TEXT_INDEXES = [TABLE_COLUMNS.index(name) for name in ("strategy", "close_reason", "reason")]   # words: see _text


@bp.get("/trades")
def page():
    return render_template("trades.html")


def trade_filter() -> TradeFilter:
    """The request's filter; a bad value is a 400 naming it."""
    start, end = day_arg("from"), day_arg("to", end=True)
    if start is not None and end is not None and start >= end:
        abort(400, description="from= is after to=; pass a from day on or before the to day")
    return TradeFilter(symbol_arg(), choice_arg("side", SIDES), name_arg("strategy"), start, end)


def trade_json(trade: TradeRow) -> dict:
    """A trade as JSON: decimal text (USDT; quantity base asset), ISO times and `*_ms`, R to 0.01."""
    return {"id": trade.id, "symbol": trade.symbol, "side": trade.side, "strategy": trade.strategy,
            "quantity": dec(trade.quantity), "entry_price": dec(trade.entry_price), "exit_price": dec(trade.exit_price),
            "initial_stop": dec(trade.initial_stop), "stop_price": dec(trade.stop_price),
            "take_profit_price": dec(trade.take_profit_price), "opened_at": when(trade.opened_at_ms),
            "opened_at_ms": trade.opened_at_ms, "closed_at": when(trade.closed_at_ms), "closed_at_ms": trade.closed_at_ms,
            "duration_seconds": trade.duration_ms // 1000, "close_reason": trade.close_reason, "reason": trade.reason,
            "realized_pnl": dec(trade.realized_pnl), "fees": dec(trade.fees), "net_pnl": dec(trade.net_pnl),
            "r_multiple": dec(trade.r_multiple)}


@bp.get("/api/trades")
def api_trades():
    chosen, number = trade_filter(), page_arg()
    with journal_connection() as connection:
        found = trades_page(connection, chosen, number)
        names = strategies(connection, chosen.symbol)
    return jsonify(trades=[trade_json(trade) for trade in found.rows], page=found.number, pages=found.pages,
                   total=found.total, page_size=found.size, strategies=list(names))


@bp.get("/api/trades.csv")
def api_trades_csv():
    """Every trade of the filter, newest first, one CSV row each (`journal.browse_lists.TABLE_COLUMNS`: the
    journal's own decimal text and ISO-8601 UTC times, as the JSON gives them), streamed:
    the journal is read as the download goes, never held whole in memory."""
    chosen = trade_filter()
    connection = open_journal()

    def rows() -> Iterator[str]:
        try:
            buffer = io.StringIO()
            out = csv.writer(buffer, lineterminator="\r\n")
            out.writerow(TABLE_COLUMNS)
            for count, row in enumerate(trade_table(connection, chosen), start=1):
                cells = list(row)
                for index in TEXT_INDEXES:
                    cells[index] = _text(cells[index])
                out.writerow(cells)
                if count % CSV_BATCH == 0:
                    yield _take(buffer)
            yield _take(buffer)
        finally:
            connection.close()

    name = f"trades-{chosen.symbol}.csv" if chosen.symbol else "trades.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _text(value: str | None) -> str | None:
    # words starting like a formula would run as one in a spreadsheet: make them plain text
    return "'" + value if value and value[0] in "=+-@" else value
