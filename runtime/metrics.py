"""Backtest metrics: pure functions over journal rows and candles, for the report and the bench.

Definitions (every trade here is a closed position that was entered; money in USDT):
- net PnL of a trade: realized PnL minus all its fees (entry and exit);
- win: net PnL > 0, loss otherwise (a trade that only paid fees is a loss);
- win rate: wins / trades × 100; None without trades;
- profit factor: sum of winning net PnL / |sum of losing net PnL|; None without a losing trade
  (nothing to divide by), 0 when every trade lost;
- planned risk R of a trade: |planned entry − planned stop| × quantity, from its accepted signal
  (the entry is the limit price, or the price seen for a MARKET entry; the stop as first sent),
  i.e. the loss the sizing aimed at before fees and slippage;
- expectancy in R: the mean of net PnL / R over the trades (fees included, so a stop-out is a
  little worse than −1 R); None without trades;
- return %: net PnL / starting balance × 100;
- equity: the wallet (realized PnL minus fees so far) plus the open PnL at each candle close,
  exactly as the replay measures it; max drawdown is the largest fall of equity from a previous
  peak (the starting balance counts as one), in USDT and in % of that peak;
- duration: closed_at − opened_at (first entry fill to last exit fill), in minutes.

With several symbols the equity is the account's (`account_equity_curve`: every open position
marked at its own symbol's last close), and the trade metrics can be taken per symbol by
passing that symbol's trades (`ClosedTrade.symbol`).
"""
from __future__ import annotations

import heapq
import itertools
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Iterator, Mapping, Sequence

from ict.models import Candle
from journal.records import JournaledTrade, TimelineFill
from trade.symbol_rules import to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class ClosedTrade:
    """One closed position as the report sees it. Prices and money are Decimals (USDT);
    times are epoch ms UTC; `quantity` is in the base asset, positive; `side` LONG or SHORT.
    `planned_*` are None when the journal has no accepted signal for the position; `symbol` is ""
    when not given (built by hand)."""

    id: int
    side: str
    strategy: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    opened_at: int
    closed_at: int
    close_reason: str | None
    net_pnl: Decimal
    planned_entry: Decimal | None
    planned_stop: Decimal | None
    planned_target: Decimal | None
    basis: tuple[str, ...]
    symbol: str = ""

    @property
    def planned_risk(self) -> Decimal | None:
        """R: |planned entry − planned stop| × quantity, USDT; None when unknown or zero."""
        if self.planned_entry is None or self.planned_stop is None:
            return None
        risk = abs(self.planned_entry - self.planned_stop) * self.quantity
        return risk or None

    @property
    def r_multiple(self) -> float | None:
        """Net PnL in units of the planned risk; None when the risk is unknown."""
        risk = self.planned_risk
        return None if risk is None else float(self.net_pnl / risk)

    @property
    def won(self) -> bool:
        return self.net_pnl > 0


def trades_from_rows(rows: Iterable[JournaledTrade]) -> list[ClosedTrade]:
    """`Journal.closed_trades()` as `ClosedTrade`s, in the same order."""
    return [ClosedTrade(
        id=row.id, side=row.side, strategy=row.strategy, quantity=row.quantity, entry_price=row.entry_price,
        exit_price=row.exit_price, opened_at=row.opened_at, closed_at=row.closed_at, close_reason=row.close_reason,
        net_pnl=row.realized_pnl - row.fees, planned_entry=row.planned_entry, planned_stop=row.planned_stop,
        planned_target=row.planned_target, basis=row.basis, symbol=row.symbol) for row in rows]


def trade_metrics(trades: Sequence[ClosedTrade], starting_balance: Decimal) -> dict:
    """The per-trade metrics of the module docstring, JSON-ready: money as decimal strings,
    ratios and percents as floats rounded to 4 places (None where undefined)."""
    wins = [t.net_pnl for t in trades if t.won]
    losses = [t.net_pnl for t in trades if not t.won]
    net = sum((t.net_pnl for t in trades), ZERO)
    won, lost = sum(wins, ZERO), -sum(losses, ZERO)
    r_values = [r for r in (t.r_multiple for t in trades) if r is not None]
    minutes = [(t.closed_at - t.opened_at) / 60_000 for t in trades]
    return {
        "win_rate_percent": _round(100 * len(wins) / len(trades)) if trades else None,
        "return_percent": _round(float(net / starting_balance * 100)) if starting_balance else None,
        "profit_factor": _round(float(won / lost)) if lost else None,
        "expectancy_r": _round(sum(r_values) / len(r_values)) if r_values else None,
        "average_win": _money(won / len(wins)) if wins else None,
        "average_loss": _money(-lost / len(losses)) if losses else None,
        "average_trade_minutes": _round(sum(minutes) / len(minutes)) if minutes else None,
        "trades_by_strategy": dict(sorted(Counter(t.strategy for t in trades).items())),
        "trades_by_side": {side: sum(t.side == side for t in trades) for side in ("LONG", "SHORT")},
    }


def _round(value: float) -> float:
    return round(value, 4)


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.00000001")), "f")


def equity_curve(fills: Iterable[TimelineFill], candles: Sequence[Candle], starting_balance: Decimal) -> list[Decimal]:
    """Equity at the close of each candle, rebuilt from `Journal.fill_timeline()` rows of one symbol.

    A fill stamped at or before a candle's open time is booked by that candle's close (the
    replay stamps fills with the open time of the candle that fills them). Open PnL uses each
    position's average entry fill and the candle's close. Fills after the last candle (the
    end-of-replay close) are not in the curve, as in the replay's own drawdown."""
    return _curve(((("", candle),) for candle in candles), {"": list(fills)}, starting_balance)


def account_equity_curve(fills: Iterable[TimelineFill], candles: Mapping[str, tuple[int, Sequence[Candle]]],
                         starting_balance: Decimal) -> tuple[list[int], list[Decimal]]:
    """The account's equity over several symbols: (close times in epoch ms, equity in USDT), one
    point per close time of any symbol's candles, in time order, as the replay steps.

    `candles` maps each symbol to (its candles' interval in ms, its candles); a candle closes at
    open time + interval. Each symbol's fills are booked by its own candles as in `equity_curve`,
    and every open position is valued at the last close of its own symbol, so for one symbol the
    equity equals `equity_curve`'s. Raises ValueError for a fill of a symbol not in `candles`."""
    by_symbol: dict[str, list[TimelineFill]] = {symbol: [] for symbol in candles}
    for fill in fills:
        if fill.symbol not in by_symbol:
            raise ValueError(f"a fill of {fill.symbol or 'no symbol'} and no candles for it")
        by_symbol[fill.symbol].append(fill)
    times: list[int] = []
    streams = [_closes(symbol, interval, series) for symbol, (interval, series) in candles.items()]

    def steps() -> Iterator[list[tuple[str, Candle]]]:
        for close, group in itertools.groupby(heapq.merge(*streams, key=lambda item: item[0]), key=lambda item: item[0]):
            times.append(close)
            yield [(symbol, candle) for _, symbol, candle in group]

    return times, _curve(steps(), by_symbol, starting_balance)


def _closes(symbol: str, interval: int, candles: Sequence[Candle]) -> Iterator[tuple[int, str, Candle]]:
    # a function, not a generator expression inline: one inside a comprehension would see the last symbol only
    return ((candle.open_time + interval, symbol, candle) for candle in candles)


def _curve(steps: Iterable[Sequence[tuple[str, Candle]]], fills: Mapping[str, Sequence[TimelineFill]],
           starting_balance: Decimal) -> list[Decimal]:
    """The equity after each step of (symbol, candle)s closing together; `fills` per symbol, in booking order."""
    held: dict[str, dict[int, tuple[Decimal, Decimal, int]]] = {symbol: {} for symbol in fills}   # see _hold
    next_fill = dict.fromkeys(fills, 0)
    last_close: dict[str, float] = {}
    wallet, curve, holding = starting_balance, [], False
    for group in steps:
        for symbol, candle in group:
            pending, index = fills[symbol], next_fill[symbol]
            while index < len(pending) and pending[index].at <= candle.open_time:
                fill = pending[index]
                wallet += fill.realized_pnl - fill.fee
                _hold(held[symbol], fill)
                index += 1
            if index != next_fill[symbol]:   # something was booked: look again whether anything is held
                next_fill[symbol] = index
                holding = any(held.values())
            last_close[symbol] = candle.close
        if holding:
            marks = [(to_decimal(last_close[symbol]), open_) for symbol, open_ in held.items() if open_]
            curve.append(wallet + sum(((close - price) * qty * sign for close, open_ in marks
                                       for qty, price, sign in open_.values()), ZERO))
        else:
            curve.append(wallet)
    return curve


def _hold(held: dict, fill: TimelineFill) -> None:
    """Apply one fill to the open holdings: position id -> (quantity, average entry, sign)."""
    position, quantity, price = fill.position_id, fill.quantity, fill.price
    have, average, sign = held.get(position, (ZERO, ZERO, 1 if fill.side == "LONG" else -1))
    if fill.role == "entry":
        held[position] = (have + quantity, (have * average + quantity * price) / (have + quantity), sign)
    elif have - quantity > 0:
        held[position] = (have - quantity, average, sign)
    else:
        held.pop(position, None)


def drawdowns(curve: Sequence[Decimal], starting_balance: Decimal) -> list[float]:
    """Drawdown at each point of `curve`, in % of the running peak (0 at a new high, ≥ 0)."""
    peak, out = starting_balance, []
    for equity in curve:
        peak = max(peak, equity)
        out.append(float((peak - equity) / peak * 100) if peak > 0 else 0.0)
    return out


def max_drawdown(curve: Sequence[Decimal], starting_balance: Decimal) -> tuple[Decimal, float]:
    """(largest fall from a previous peak in USDT, largest fall in % of its peak); (0, 0.0) when flat."""
    peak, worst, worst_percent = starting_balance, ZERO, 0.0
    for equity in curve:
        peak = max(peak, equity)
        worst = max(worst, peak - equity)
        if peak > 0:
            worst_percent = max(worst_percent, float((peak - equity) / peak * 100))
    return worst, _round(worst_percent)
