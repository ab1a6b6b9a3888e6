"""The account settings the bot needs before its first order: position mode, margin type and
leverage, each read first and changed only when different (binance.md §5).

Reads: `GET /fapi/v1/accountConfig` (position mode, weight 5) and `GET /fapi/v1/symbolConfig`
(margin type and leverage of one symbol). Writes happen only when the read shows another
value. A refused write is read again before it counts as a failure: Binance answers "no need
to change" (-4046, -4059) and, on some hosts, -4067 to a change that was not needed, so what
the account really holds decides.
"""
from __future__ import annotations

import logging

from trade.binance.rest import BinanceRest
from trade.errors import ExchangeFatal, OrderRejected

log = logging.getLogger(__name__)

NO_CHANGE_CODES = {-4046, -4059}   # "No need to change margin type / position side": already so
BLOCKED_BY_ORDERS_OR_POSITION = {-4047, -4048, -4067, -4068}


def read_position_mode(rest: BinanceRest) -> bool:
    """True when the account is in hedge mode (LONG and SHORT held apart). The bot trades in
    either mode, so it never changes it."""
    return bool(rest.call("futures_account_config")["dualSidePosition"])


def read_symbol_config(rest: BinanceRest, symbol: str) -> dict | None:
    """`{"marginType": "CROSSED" | "ISOLATED", "leverage": int, "maxNotionalValue": str}` for `symbol`,
    or None when this host has no symbolConfig endpoint (then the bot writes without reading)."""
    try:
        rows = rest.call("futures_symbol_config", symbol=symbol)
    except OrderRejected as refusal:
        log.info("symbolConfig not available (%s %s): setting margin type and leverage without reading them first",
                 refusal.code, refusal.message)
        return None
    row = next((r for r in (rows if isinstance(rows, list) else [rows]) if r.get("symbol") == symbol), None)
    if row is None:
        return None
    return {"marginType": _margin_name(row.get("marginType", "")), "leverage": int(row.get("leverage", 0)),
            "maxNotionalValue": row.get("maxNotionalValue")}


def ensure_margin_type(rest: BinanceRest, symbol: str, wanted: str, config: dict | None) -> None:
    """Make `symbol`'s margin type `wanted` (CROSSED or ISOLATED); `config` is what
    `read_symbol_config` read. Raises ExchangeFatal, naming what the account holds and the fix,
    when it differs and Binance refuses the change."""
    if config is not None and config["marginType"] == wanted:
        log.info("%s margin type already %s", symbol, wanted)
        return
    try:
        rest.call("futures_change_margin_type", write=True, symbol=symbol, marginType=wanted)
        log.info("%s margin type set to %s", symbol, wanted)
        return
    except OrderRejected as refusal:
        problem = refusal
    if problem.code in NO_CHANGE_CODES:
        log.info("%s margin type already %s", symbol, wanted)
        return
    now = read_symbol_config(rest, symbol)
    if now is not None and now["marginType"] == wanted:
        log.info("%s margin type already %s (Binance answered %s %s to a change that was not needed)",
                 symbol, wanted, problem.code, problem.message)
        return
    held = f"it is {now['marginType']}" if now is not None else "its current value could not be read"
    fix = ("close the open positions and orders on the symbol, or set [risk] margin_type to the current value"
           if problem.code in BLOCKED_BY_ORDERS_OR_POSITION else "or set [risk] margin_type to the current value")
    raise ExchangeFatal(f"cannot set {symbol} margin type to {wanted} ({held}): Binance said {problem.code} "
                        f"{problem.message}; {fix}", problem.code)


def ensure_leverage(rest: BinanceRest, symbol: str, leverage: int, config: dict | None) -> None:
    """Make `symbol`'s leverage `leverage` (checked against its brackets' maximum); `config` is
    what `read_symbol_config` read. Raises ExchangeFatal when the value is above what the symbol allows."""
    brackets = rest.call("futures_leverage_bracket", symbol=symbol)
    if isinstance(brackets, list):  # an array without symbol, an object with it (binance.md §5)
        brackets = next((b for b in brackets if b.get("symbol") == symbol), brackets[0] if brackets else {})
    highest = max((int(b["initialLeverage"]) for b in brackets.get("brackets", [])), default=125)
    if leverage > highest:
        raise ExchangeFatal(f"[risk] leverage = {leverage} is above {symbol}'s maximum {highest}; set a value from 1 to {highest}")
    if config is not None and config["leverage"] == leverage:
        log.info("%s leverage already %sx (max notional %s USDT)", symbol, leverage, config["maxNotionalValue"])
        return
    answer = rest.call("futures_change_leverage", write=True, symbol=symbol, leverage=leverage)
    log.info("%s leverage set to %sx (max notional %s USDT)", symbol, answer.get("leverage"), answer.get("maxNotionalValue"))


def _margin_name(text: str) -> str:
    # symbolConfig says CROSSED/ISOLATED; positionRisk v2 says cross/isolated
    upper = str(text).upper()
    return "CROSSED" if upper == "CROSS" else upper
