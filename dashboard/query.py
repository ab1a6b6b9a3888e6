"""What the read pages share: the journal connection of one request, the query-string values
checked (a bad one is a 400 with one line naming the field and the fix), and the JSON forms of
money and times (decimal text as journaled, never a float; ISO-8601 UTC plus `*_ms`).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from typing import TypeVar

from flask import abort, request

from dashboard.app import dashboard_config
from journal.browse import Connection, connect_read_only, reading
from journal.journal import JournalError
from journal.values import DAY_MS, iso_time

SYMBOL = re.compile(r"[A-Z0-9]{2,30}\Z")
NAME = re.compile(r"[A-Za-z0-9_.:-]{1,80}\Z")   # a strategy name or a refusal code
MAX_PAGE = 1_000_000
Chosen = TypeVar("Chosen")


def open_journal() -> Connection:
    """A read-only connection to the bot's journal for this request; the caller closes it (a journal
    opened while no bot ran is immutable to SQLite: the next request must open it anew).
    A missing or unreadable journal is a 503 with the journal's one line."""
    try:
        return connect_read_only(dashboard_config().journal_path)
    except JournalError as problem:
        abort(503, description=str(problem))


@contextmanager
def journal_connection() -> Iterator[Connection]:
    """A read-only connection to the journal for the length of the block (`journal.browse.reading`);
    a journal that is missing or cannot be read is a 503 with its one line."""
    try:
        with reading(dashboard_config().journal_path) as connection:
            yield connection
    except JournalError as problem:
        abort(503, description=str(problem))


def symbol_arg() -> str | None:
    """?symbol=: None for all symbols; 400 unless upper-case letters and digits (BTCUSDT)."""
    text = request.args.get("symbol", "").strip()
    if not text:
        return None
    if not SYMBOL.match(text):
        abort(400, description=f"symbol={text[:40]!r} is not a symbol; pass one such as BTCUSDT, or none for all")
    return text


def page_arg() -> int:
    """?page=: 1 when absent; 400 unless a whole number from 1."""
    text = request.args.get("page", "").strip()
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        abort(400, description=f"page={text[:40]!r} is not a page number; pass 1 or more")
    return int(text)


def choice_arg(name: str, choices: dict[str, Chosen]) -> Chosen:
    """?`name`= as one of `choices` (case-insensitive keys, "" = any: the value of ""); 400 otherwise."""
    text = request.args.get(name, "").strip()
    if text.lower() not in choices:
        shown = ", ".join(key for key in choices if key)
        abort(400, description=f"{name}={text[:40]!r} is not one of {shown}; pass one of them, or none for all")
    return choices[text.lower()]


def name_arg(name: str) -> str | None:
    """?`name`= a strategy name or refusal code: None when absent; 400 when it holds other characters."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not NAME.match(text):
        abort(400, description=f"{name}={text[:40]!r} is not a name; pass letters, digits and _ . : - only")
    return text


FIRST_YEAR, LAST_YEAR = 2000, 2100   # the days a filter may name (a journal's times are UTC ISO text of these years)


def day_arg(name: str, end: bool = False) -> int | None:
    """?`name`= a UTC day YYYY-MM-DD as epoch ms of its midnight (the next day's with `end`: the
    day itself included); None when absent; 400 when it is not a date."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        abort(400, description=f"{name}={text[:40]!r} is not a date; pass a UTC day as YYYY-MM-DD, e.g. 2025-05-04")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        abort(400, description=f"{name}={text!r} is out of range; pass a day from {FIRST_YEAR} to {LAST_YEAR}")
    return int(day.timestamp() * 1000) + (DAY_MS if end else 0)


PRICE_STEP = Decimal("1e-8")


def dec(value: Decimal | None) -> str | None:
    """A Decimal as JSON text: plain digits, never an exponent or a float (None stays null)."""
    if value is None:
        return None
    text = str(value)   # several times faster than format(); the same text unless it has an exponent
    return format(value, "f") if "E" in text else text


def strategy_price(value: Decimal | None) -> str | None:
    """A price as a strategy gave it (float text such as 36100.20000000001) shown to 8 decimals at
    most, trailing zeros dropped: the journal keeps the exact text, the page a readable one."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    finer = isinstance(exponent, int) and exponent < -8   # NaN and Infinity have a letter here
    return dec(value.quantize(PRICE_STEP).normalize() if finer else value)


def when(ms: int | None) -> str | None:
    """Epoch ms as ISO-8601 UTC text (None stays null)."""
    return None if ms is None else iso_time(ms)
