"""A journal of a year of trading for the dashboard benchmark: `build(path, signals, trades)`.

Written through the journal's own named writes (`Journal.record_*`, `write_heartbeat`) in one
replay-style batch, so the rows are the ones the trader writes: each trade has its accepted
signal, entry, stop and target orders, fills, transitions and totals; one trade in ten had its
stop moved (a second stop order); one more accepted signal in twenty had its entry expire unfilled; the other signals
were refused with the risk codes the bot uses. Two symbols, three strategies, times spread
evenly over the 365 days before `now_ms`; a live heartbeat, market marks and a few errors
close it, with two OPEN positions and a resting LIMIT entry.
"""
from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from journal.health import Heartbeat, LoggedError, MarketMark, write_heartbeat
from journal.journal import Journal
from journal.records import (CloseRecord, FillRecord, OrderRecord, OrderUpdateRecord, PositionRecord, PositionTotals,
                             SignalRecord, TransitionRecord)

YEAR_MS = 365 * 86_400_000
SYMBOLS = {"BTCUSDT": (Decimal("30000"), Decimal("0.001")), "ETHUSDT": (Decimal("2000"), Decimal("0.01"))}
STRATEGIES = ("FVG_Market_Entry_v1", "OB_Limit_Entry_v1", "Silver_Bullet_v1")
REFUSALS = ("MAX_POSITIONS: 1 positions open, max_positions 1", "MARGIN_EXCEEDS_BALANCE: margin 1200.00 above the "
            "available 800.00", "MAX_OPEN_RISK: 300.00 USDT at risk plus 100.00 above 3 % of the 10000.00 wallet",
            "POSITION_OPEN: a LONG position of this strategy is open on BTCUSDT", "PAUSED: entries paused from the dashboard")
FEE = Decimal("0.0005")


def build(path: str | Path, signals: int = 100_000, trades: int = 5_000, now_ms: int = 1_764_460_800_000,
          seed: int = 7) -> None:
    """Write a fresh journal at `path` (replaced) of `signals` signals and `trades` closed trades
    (plus one accepted signal in twenty more, whose LIMIT entry expired), in demo mode."""
    randomness = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    journal = Journal.open(path, "demo", durable=False)
    step = YEAR_MS // signals
    chosen = randomness.sample(range(signals - 10), trades + trades // 20)
    accepted, expired = set(chosen), set(chosen[trades:])   # an expired entry is a position, not a trade
    prices = {symbol: start for symbol, (start, _) in SYMBOLS.items()}
    with journal.deferred_commits(2000):
        for number in range(signals):
            at = now_ms - YEAR_MS + number * step
            symbol = "BTCUSDT" if number % 3 else "ETHUSDT"
            prices[symbol] = (prices[symbol] * Decimal(1 + randomness.gauss(0, 0.002))).quantize(Decimal("0.1"))
            side = "LONG" if randomness.random() < 0.5 else "SHORT"
            record = _signal(at, symbol, side, STRATEGIES[number // 3 % 3], prices[symbol], number)
            if number in accepted:
                _trade(journal, record, randomness, step, expire=number in expired, move=number % 10 == 1)
            else:
                journal.record_refused_signal(record, REFUSALS[number % len(REFUSALS)])
            journal.candle_done()
    _live_tail(journal, now_ms, prices, randomness)
    journal.close()


def _signal(at: int, symbol: str, side: str, strategy: str, price: Decimal, number: int) -> SignalRecord:
    risk = price * Decimal("0.004")
    sign = 1 if side == "LONG" else -1
    entry_type = "LIMIT" if strategy.startswith("OB") else "MARKET"
    return SignalRecord(at, at - 60_000, symbol, side, entry_type, str(price), str(price - sign * risk),
                        str(price + 2 * sign * risk), strategy, f"{strategy} {side.lower()} at {price}",
                        (f"fvg:{number}", f"choch:{number - 13}"), 12 if entry_type == "LIMIT" else None)


def _open(journal: Journal, signal: SignalRecord, state: str = "IDLE") -> tuple[int, Decimal, Decimal, str]:
    price, stop = Decimal(signal.entry_price), Decimal(signal.stop_price)
    quantity = (Decimal(100) / abs(price - stop)).quantize(SYMBOLS[signal.symbol][1])
    position_id = journal.record_position(PositionRecord(signal.symbol, signal.side, signal.strategy, state, quantity,
                                                         stop, Decimal(signal.take_profit_price), signal.at))
    journal.record_signal(signal, position_id)
    entry_id = f"bench-{position_id}-en1"
    journal.record_order(OrderRecord(entry_id, position_id, "entry", signal.entry_type, "BUY" if signal.side == "LONG"
                                     else "SELL", quantity, price if signal.entry_type == "LIMIT" else None, None,
                                     "INTENT", signal.at))
    journal.record_transition(TransitionRecord(position_id, "IDLE", "ENTERING", "submit_entry", signal.at, entry_id,
                                               signal.reason))
    return position_id, price, quantity, entry_id


def _trade(journal: Journal, signal: SignalRecord, randomness: random.Random, step: int, expire: bool,
           move: bool) -> None:
    with journal.transaction():
        position_id, price, quantity, entry_id = _open(journal, signal)
        at, exit_side = signal.at, "SELL" if signal.side == "LONG" else "BUY"
        if expire:   # a LIMIT entry that rested and expired: a position, but never a trade
            journal.record_order_update(OrderUpdateRecord(entry_id, "EXPIRED", Decimal(0), None, "1", None, at + step))
            journal.record_transition(TransitionRecord(position_id, "ENTERING", "CLOSED", "entry_expired", at + step))
            journal.record_state(position_id, "CLOSED", "entry_expired")
            journal.record_close(CloseRecord(position_id, at + step, None, Decimal(0), Decimal(0), "entry_expired"))
            return
        entry_fee = (price * quantity * FEE).quantize(Decimal("0.00000001"))
        journal.record_order_update(OrderUpdateRecord(entry_id, "FILLED", quantity, price, "1", None, at))
        journal.record_fill(FillRecord(entry_id, position_id, at, quantity, price, entry_fee, Decimal(0), None))
        journal.record_totals(PositionTotals(position_id, quantity, price, at, Decimal(0), entry_fee))
        stop, target = Decimal(signal.stop_price), Decimal(signal.take_profit_price)
        for role, kind, trigger in (("stop", "STOP_MARKET", stop), ("take_profit", "TAKE_PROFIT_MARKET", target)):
            journal.record_order(OrderRecord(f"bench-{position_id}-{role}1", position_id, role, kind, exit_side, None,
                                             None, trigger, "NEW", at))
        journal.record_transition(TransitionRecord(position_id, "ENTERING", "OPEN", "protected", at))
        journal.record_state(position_id, "OPEN", None)
        if move:   # the strategy moved the stop to break-even: the trade's R still counts from the first stop
            journal.record_stop_price(position_id, price)
            journal.record_order(OrderRecord(f"bench-{position_id}-stop2", position_id, "stop", "STOP_MARKET", exit_side,
                                             None, None, price, "NEW", at + step))
            stop = price
        won = randomness.random() < 0.4
        role, exit_price = ("take_profit", target) if won else ("stop", stop)
        closed = at + step * randomness.randint(1, 40)
        sign = 1 if signal.side == "LONG" else -1
        realized = (exit_price - price) * quantity * sign
        exit_fee = (exit_price * quantity * FEE).quantize(Decimal("0.00000001"))
        exit_id = f"bench-{position_id}-{role}{2 if move and role == 'stop' else 1}"
        journal.record_order_update(OrderUpdateRecord(exit_id, "FILLED", quantity, exit_price, "2", None, closed))
        journal.record_fill(FillRecord(exit_id, position_id, closed, quantity, exit_price, exit_fee, realized, None))
        journal.record_transition(TransitionRecord(position_id, "OPEN", "CLOSED", f"{role}_filled", closed))
        journal.record_state(position_id, "CLOSED", "take_profit" if won else "stop_loss")
        journal.record_close(CloseRecord(position_id, closed, exit_price, realized, entry_fee + exit_fee,
                                         "take_profit" if won else "stop_loss"))


def _live_tail(journal: Journal, now_ms: int, prices: dict[str, Decimal], randomness: random.Random) -> None:
    """Two OPEN positions, a resting LIMIT entry, the heartbeat, marks and errors of a running bot."""
    with journal.transaction():
        for number, (symbol, strategy) in enumerate((("BTCUSDT", STRATEGIES[0]), ("ETHUSDT", STRATEGIES[0]),
                                                     ("BTCUSDT", STRATEGIES[1]))):
            signal = _signal(now_ms - 600_000 * (3 - number), symbol, "LONG", strategy, prices[symbol], 900_000 + number)
            position_id, price, quantity, entry_id = _open(journal, signal, "ENTERING")
            if signal.entry_type == "LIMIT":
                journal.record_order_update(OrderUpdateRecord(entry_id, "NEW", Decimal(0), None, "9", None, signal.at))
                continue
            journal.record_order_update(OrderUpdateRecord(entry_id, "FILLED", quantity, price, "9", None, signal.at))
            journal.record_fill(FillRecord(entry_id, position_id, signal.at, quantity, price, Decimal("1.5"), Decimal(0), None))
            journal.record_totals(PositionTotals(position_id, quantity, price, signal.at, Decimal(0), Decimal("1.5")))
            journal.record_state(position_id, "OPEN", None)
    journal.flush()
    marks = [MarketMark(symbol, "1m", now_ms - 60_000, price, now_ms) for symbol, price in prices.items()]
    errors = [LoggedError(now_ms - number * 3_600_000, "trade.order_desk", f"order refused on BTCUSDT: error {number}")
              for number in range(5, 0, -1)]
    write_heartbeat(journal, Heartbeat(now_ms, now_ms - 86_400_000, 4242, "demo", "BTCUSDT,ETHUSDT", 10, now_ms - 60_000,
                                       prices["BTCUSDT"], "running"), errors, marks)
    if "balance" in {row["name"] for row in journal.rows("PRAGMA table_info(heartbeat)")}:   # schema 5
        journal.update("heartbeat", "id", 1, balance=Decimal("10000") + Decimal(randomness.randint(-500, 2500)))
