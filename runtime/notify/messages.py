"""The notification texts: one line per event, built from plain values (pure functions).

Money is USDT shown from `Decimal`, rounded half-up to cents (`usdt`), never through a
float; prices and quantities are shown as exact decimals without trailing zeros (`plain`).
Net PnL is the exchange's realized PnL minus fees, as in the journal (`positions.realized_pnl`
is before fees). The `*_of` variants read a `trade.position.Position`.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from trade.position import Position

CENT = Decimal("0.01")
CLOSE_WORDS = {   # positions.close_reason -> what the phone shows; the loud ones in capitals
    "stop_loss": "stop-loss hit",
    "take_profit": "take-profit hit",
    "exit": "closed at market",
    "unprotected": "closed at market: no live stop within [risk] protect_within_seconds",
    "protection_refused": "closed at market: its stop or target was refused",
    "closed_outside_bot": "CLOSED OUTSIDE THE BOT",
    "liquidation": "LIQUIDATED",
    "adl": "AUTO-DELEVERAGED (ADL)",
    "settlement": "settled by Binance",
}


def usdt(value: Decimal, signed: bool = False) -> str:
    """`value` USDT to the cent, e.g. "12.35" or, `signed`, "+12.35" / "-0.40" ("0.00" has no sign); "?" for NaN
    (the live status shows a balance it could not read as NaN)."""
    if not value.is_finite():
        return "?"
    cents = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if cents == 0:
        return "0.00"
    return ("+" if signed and cents > 0 else "") + format(cents, "f")


def plain(value: Decimal | None) -> str:
    """A price or quantity as written, without exponent or trailing zeros (at most 8 decimals); "?" when unknown."""
    if value is None or not value.is_finite():
        return "?"
    if value.as_tuple().exponent < -8:  # type: ignore[operator]  # an average price from a division (exponent: an int once finite)
        value = value.quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def started(mode: str, symbol: str, interval: str, strategy: str, open_positions: int = 0) -> str:
    return f"started {mode}: {symbol} {interval} {strategy}; {open_positions} position(s) open after recovery"


def stopped(mode: str, symbol: str, open_positions: int, unprotected: int = 0, failure: str | None = None) -> str:
    """`unprotected`: positions held without a live stop at that moment; `failure`: why, when not asked to stop."""
    how = f"stopped {mode} {symbol} after a failure ({failure})" if failure else f"stopped {mode} {symbol}"
    words = f"{how}; {open_positions} position(s) stay open"
    return words + (f", {unprotected} WITHOUT a stop-loss: start the bot again or protect them on Binance" if unprotected else "")


def entry_filled(symbol: str, side: str, position_id: int, quantity: Decimal, price: Decimal | None, fee: Decimal,
                 stop: Decimal | None = None, target: Decimal | None = None) -> str:
    """`quantity` and `price`: the position's filled entry so far (base asset, average price)."""
    return (f"{symbol} {side} #{position_id} entry filled {plain(quantity)} @ {plain(price)} (fee {usdt(fee)} USDT); "
            f"stop {plain(stop)}, target {plain(target)}")


def position_closed(symbol: str, side: str, position_id: int, reason: str | None, quantity: Decimal, realized_pnl: Decimal,
                    fees: Decimal, exit_price: Decimal | None = None) -> str:
    """`quantity`: the filled entry (0: the position ended before any fill); `realized_pnl` before fees, USDT."""
    reason = reason or "closed"
    if quantity == 0:
        return f"{symbol} {side} #{position_id} ended without a fill ({reason})"
    words = CLOSE_WORDS.get(reason, reason)
    return (f"{symbol} {side} #{position_id} {words}: {plain(quantity)} @ {plain(exit_price)}, net "
            f"{usdt(realized_pnl - fees, signed=True)} USDT (pnl {usdt(realized_pnl, signed=True)}, fees {usdt(fees)})")


def stop_replaced(symbol: str, side: str, position_id: int, stop: Decimal, why: str) -> str:
    return f"{symbol} {side} #{position_id} stop-loss replaced at {plain(stop)} ({why})"


def error_alert(level: str, text: str) -> str:
    return f"{level}: {text}"


def repeated_errors(count: int, minutes: int, last: str) -> str:
    return f"{count} more error(s) in the last {minutes} min; the last: {last}"


def daily_summary(day: str, trades: int, wins: int, net_pnl: Decimal, fees: Decimal, balance: Decimal | None = None) -> str:
    """`day`: the period's words (e.g. "2026-11-30 UTC"); `net_pnl` after fees and `fees`, USDT, of the trades closed in it."""
    words = f"daily summary {day}: {trades} trade(s), {wins} won, net {usdt(net_pnl, signed=True)} USDT, fees {usdt(fees)} USDT"
    return words + (f"; balance {usdt(balance)} USDT" if balance is not None else "")


def entry_filled_of(position: Position) -> str:
    return entry_filled(position.symbol, position.side.value, position.id, position.filled_entry_quantity,
                        position.entry_price, position.fees, position.stop_price, position.take_profit_price)


def position_closed_of(position: Position) -> str:
    return position_closed(position.symbol, position.side.value, position.id, position.close_reason,
                           position.filled_entry_quantity, position.realized_pnl, position.fees, position.exit_price)
