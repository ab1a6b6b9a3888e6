"""Risk sizing: how much to buy or sell for a signal, or why not to trade it at all.

quantity = risk amount / |entry − stop|, floored to the step size, where the risk
amount is `loss_per_trade_percent` of the wallet balance or `fixed_loss_usdt`.
Fees come on top of that loss (about 0.1 % of the notional for a taker round trip).

The limits hold across the whole account, every symbol together: `max_positions`,
`max_positions_per_symbol`, and `max_open_risk_percent`, the sum of what every position
not CLOSED would lose at its stop (`open_risk`) plus the new one, as % of the wallet balance.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Callable

from ict.models import EntryType, Side, Signal
from trade.models import OrderRole
from ict.settings_file import Check, one_of, setting, whole
from trade.symbol_rules import SymbolRules, to_decimal

if TYPE_CHECKING:
    from trade.position import Position


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSettings:
    """The `[risk]` table, in settings.toml's order; each field carries its check (see
    `ict.settings_file.read_table`). Exactly one of `loss_per_trade_percent` (% of the
    wallet balance) and `fixed_loss_usdt` is set; runtime/settings.py checks that."""

    leverage: int = setting(whole(1, 125))
    loss_per_trade_percent: Decimal | None = setting(
        Check(Decimal, "a number above 0 and at most 10", lambda v: 0 < v <= 10), None)
    fixed_loss_usdt: Decimal | None = setting(Check(Decimal, "a number above 0", lambda v: v > 0), None)
    max_positions: int = setting(whole(1, 100))
    # None: as many as max_positions
    max_positions_per_symbol: int | None = setting(whole(1, 100), None)
    # None: no cap on the sum of the losses at the stops
    max_open_risk_percent: Decimal | None = setting(
        Check(Decimal, "a number above 0 and at most 100", lambda v: 0 < v <= 100), None)
    margin_type: str = setting(one_of("ISOLATED", "CROSSED"), "ISOLATED")
    # a held position without a live stop for this long is closed at market
    protect_within_seconds: int = setting(whole(3, 300, " of seconds"), 10)


@dataclass(frozen=True, slots=True)
class SizedEntry:
    """An accepted signal in exchange terms: prices rounded to the tick, quantity to the step."""

    quantity: Decimal
    entry_price: Decimal          # the LIMIT price, or the price seen for a MARKET entry
    stop_price: Decimal
    take_profit_price: Decimal
    risk_amount: Decimal          # USDT lost at the stop, before fees

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.entry_price


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a signal is not traded: a stable `code` for queries and the words for people."""

    code: str
    words: str

    def __str__(self) -> str:
        return f"{self.code}: {self.words}"


def size_entry(
    signal: Signal,
    rules: SymbolRules,
    settings: RiskSettings,
    balances: Callable[[], tuple[Decimal, Decimal]],
    open_sides: list[tuple[str, Side]],
    hedge_mode: bool = True,
    sides: frozenset[Side] | None = None,
    open_risk: Callable[[], Decimal] | None = None,
) -> SizedEntry | Refusal:
    """Size `signal`, or say why it is refused. `balances` returns the (wallet, available)
    USDT balances, asked only when the signal gets that far; `open_sides` lists
    (symbol, side) of every position that is not CLOSED, on every symbol; `sides` are the
    sides the signal's strategy may open (None: both); `open_risk` returns the USDT those
    positions would lose at their stops (asked only when `max_open_risk_percent` is set)."""
    if sides is not None and signal.side not in sides:
        traded = " and ".join(sorted(side.value.lower() for side in sides))
        return Refusal("SIDE_NOT_TRADED", f"{signal.strategy} trades {signal.symbol} {traded} only (sides in settings.toml)")
    if len(open_sides) >= settings.max_positions:
        return Refusal("MAX_POSITIONS", f"{len(open_sides)} positions open, max_positions is {settings.max_positions}")
    if (signal.symbol, signal.side) in open_sides:
        return Refusal("POSITION_OPEN", f"a {signal.side.value} position on {signal.symbol} is already open")
    opposite = Side.SHORT if signal.side is Side.LONG else Side.LONG
    if not hedge_mode and (signal.symbol, opposite) in open_sides:
        return Refusal("OPPOSITE_POSITION_OPEN", f"a {opposite.value} position on {signal.symbol} is open and the account is in one-way mode")
    per_symbol = settings.max_positions_per_symbol
    if per_symbol is not None:
        on_symbol = sum(1 for symbol, _ in open_sides if symbol == signal.symbol)
        if on_symbol >= per_symbol:
            return Refusal("MAX_POSITIONS_PER_SYMBOL",
                           f"{on_symbol} positions open on {signal.symbol}, max_positions_per_symbol is {per_symbol}")

    long = signal.side is Side.LONG
    if signal.entry_type is EntryType.LIMIT:
        assert signal.limit_price is not None  # the strategy runner refuses a LIMIT without a price
        # a buy limit never pays more than asked, a sell limit never takes less
        entry = rules.round_price_down(to_decimal(signal.limit_price)) if long else rules.round_price_up(to_decimal(signal.limit_price))
    else:
        entry = rules.round_price(to_decimal(signal.reference_price))
    # stops round away from the market: the loss can only grow by less than a tick
    stop = rules.round_price_down(to_decimal(signal.stop_price)) if long else rules.round_price_up(to_decimal(signal.stop_price))
    target = rules.round_price(to_decimal(signal.take_profit_price))
    if (stop >= entry) if long else (stop <= entry):
        where = "below" if long else "above"
        return Refusal("STOP_WRONG_SIDE", f"{signal.side.value} stop {stop} must be {where} the entry {entry}")
    if (target <= entry) if long else (target >= entry):
        where = "above" if long else "below"
        return Refusal("TARGET_WRONG_SIDE", f"{signal.side.value} take-profit {target} must be {where} the entry {entry}")

    wallet_balance, available_balance = balances()
    if settings.fixed_loss_usdt is not None:
        risk_amount = settings.fixed_loss_usdt
    else:
        assert settings.loss_per_trade_percent is not None  # exactly one of the two is set (runtime/settings.py)
        risk_amount = wallet_balance * settings.loss_per_trade_percent / 100
    quantity = rules.floor_quantity(risk_amount / abs(entry - stop))
    cap = rules.market_max_qty if signal.entry_type is EntryType.MARKET else rules.max_qty
    quantity = min(quantity, rules.floor_quantity(cap))
    if quantity < rules.min_qty:
        return Refusal("QTY_BELOW_MIN", f"quantity {quantity} for a {risk_amount:.2f} USDT risk is below the minimum {rules.min_qty}")
    notional = quantity * entry
    if notional < rules.min_notional:
        return Refusal("NOTIONAL_BELOW_MIN", f"notional {notional:.2f} USDT is below the minimum {rules.min_notional}")
    margin = notional / settings.leverage
    if margin > available_balance:
        return Refusal("MARGIN_EXCEEDS_BALANCE", f"margin {margin:.2f} USDT (notional {notional:.2f} at {settings.leverage}x) exceeds the available {available_balance:.2f}")
    loss = quantity * abs(entry - stop)
    most = settings.max_open_risk_percent
    if most is not None and open_risk is not None:
        already = open_risk()
        if (already + loss) * 100 > most * wallet_balance:
            return Refusal("MAX_OPEN_RISK", f"{already:.2f} USDT at risk at the open positions' stops plus {loss:.2f} for this "
                           f"one is above max_open_risk_percent {most} % of the {wallet_balance:.2f} wallet")
    return SizedEntry(quantity, entry, stop, target, loss)


def open_risk(position: Position) -> Decimal:
    """USDT `position` loses if its stop fills now, fees left out, never below 0 (a stop moved past
    the entry locks in a gain): what it holds at its average entry, plus what its open entry
    order may still add at the entry order's price (its planned price for a MARKET entry)."""
    entry = position.orders.get(OrderRole.ENTRY)
    pending, price = Decimal(0), None
    if entry is not None and entry.is_open:
        price = entry.request.price if entry.request.price is not None else position.planned_entry
        pending = position.requested_quantity - position.filled_entry_quantity
    return loss_at_stop(position.side is Side.LONG, position.stop_price, position.open_quantity, position.entry_price,
                        pending, price)


def loss_at_stop(long: bool, stop: Decimal, held: Decimal, entry_price: Decimal | None, pending: Decimal,
                 pending_price: Decimal | None) -> Decimal:
    """The rule of `open_risk` on plain figures (the dashboard applies it to journal rows): USDT lost
    at `stop` by `held` (base asset) bought or sold at `entry_price`, plus `pending` still to fill at
    `pending_price` (None: unknown, not counted); never below 0."""
    loss = Decimal(0)
    if held > 0 and entry_price is not None:
        loss += held * (entry_price - stop if long else stop - entry_price)
    if pending_price is not None and pending > 0:
        loss += pending * (pending_price - stop if long else stop - pending_price)
    return max(loss, Decimal(0))
