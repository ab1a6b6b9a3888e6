"""Price movement: walking a candle's path and firing what the price crosses.

`walk` moves the last price (and the mark price, which follows it) along a bar's path
— open, then low and high in the order a bar of that colour most likely took
(bullish o→l→h→c, bearish o→h→l→c), then close — and fires, in the order the path
reaches them, resting LIMIT orders (maker fill at their limit price) and algo orders
(trigger rules of binance.md §4.2, on MARK_PRICE or CONTRACT_PRICE). The jump from
the previous price to the open is a gap: stops crossed there fill at the open.

A triggered algo order goes NEW → TRIGGERING, creates a regular order (its id goes
into ALGO_UPDATE `ai` as a string), → TRIGGERED, fills, → FINISHED.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Union

from .orders import AlgoOrder, Order

if TYPE_CHECKING:
    from .engine import Engine

Candidate = Union[Order, AlgoOrder]


def would_trigger(order_type: str, side: str, trigger: Decimal, price: Decimal) -> bool:
    """Binance's trigger table: STOP* BUY ≥, SELL ≤; TAKE_PROFIT* BUY ≤, SELL ≥."""
    if order_type.startswith("STOP"):
        return price >= trigger if side == "BUY" else price <= trigger
    return price <= trigger if side == "BUY" else price >= trigger


def _level(c: Candidate) -> tuple[Decimal, bool]:
    """(price level, fires when the price rises to it) for a resting order or algo order."""
    if isinstance(c, Order):
        return c.price, c.side == "SELL"
    rises = (c.side == "BUY") == c.type.startswith("STOP")
    return c.trigger_price, rises


def _candidates(engine: "Engine", symbol: str, refs: set[str]) -> list[Candidate]:
    found: list[Candidate] = []
    if "last" in refs:
        found += [o for o in engine.open_orders(symbol) if o.type == "LIMIT"]
    for algo in engine.open_algos(symbol):
        ref = "mark" if algo.working_type == "MARK_PRICE" else "last"
        if ref in refs:
            found.append(algo)
    return found


def _next_fire(engine: "Engine", symbol: str, current: Decimal, target: Decimal,
               refs: set[str]) -> tuple[Candidate, Decimal] | None:
    """The first candidate the move current→target reaches, and the price where it fires."""
    best: tuple[Candidate, Decimal] | None = None
    for c in _candidates(engine, symbol, refs):
        level, rises = _level(c)
        if rises and current >= level or not rises and current <= level:
            at = current
        elif rises and target >= level or not rises and target <= level:
            at = level
        else:
            continue
        if best is None or abs(at - current) < abs(best[1] - current):
            best = (c, at)
    return best


def move(engine: "Engine", symbol: str, target: Decimal, gap: bool, refs: set[str]) -> None:
    """Move the prices named in `refs` ("last", "mark") to `target`, firing in path order."""
    with engine.lock:
        current = engine.last.get(symbol) if "last" in refs else engine.mark.get(symbol)
        if current is None:
            current = target
        while True:
            hit = _next_fire(engine, symbol, current, target, refs)
            if hit is None:
                break
            candidate, at = hit
            current = target if gap else at
            _set(engine, symbol, current, refs)
            if isinstance(candidate, Order):
                engine.execute(candidate, candidate.qty - candidate.executed_qty, candidate.price, maker=True)
            else:
                trigger(engine, candidate, engine.last[symbol])
        _set(engine, symbol, target, refs)


def _set(engine: "Engine", symbol: str, price: Decimal, refs: set[str]) -> None:
    if "last" in refs:
        engine.last[symbol] = price
    if "mark" in refs:
        engine.mark[symbol] = price


def walk(engine: "Engine", symbol: str, o: Decimal, h: Decimal, l: Decimal, c: Decimal) -> None:
    """Move through one bar: gap to the open, then the extremes in likely order, then the close."""
    both = {"last", "mark"}
    move(engine, symbol, o, gap=True, refs=both)
    for point in ((l, h) if c >= o else (h, l)) + (c,):
        move(engine, symbol, point, gap=False, refs=both)


def trigger(engine: "Engine", algo: AlgoOrder, price: Decimal) -> None:
    """Fire one algo order at `price`: TRIGGERING, new order, TRIGGERED, fill, FINISHED."""
    rules = engine.rules[algo.symbol]
    now = engine.clock()
    algo.status, algo.trigger_time, algo.update_time = "TRIGGERING", now, now
    engine.emit("ALGO_UPDATE", algo.algo_update(rules, now))
    if engine.trigger_rejects:
        engine.end_algo(algo, "REJECTED", engine.trigger_rejects.pop(0))
        return
    reducible = engine.reducible(algo.symbol, algo.side, algo.position_side)
    if (algo.reduce_only or algo.close_position) and reducible == 0:
        engine.end_algo(algo, "REJECTED", "Reduce Only reject")
        return
    qty = reducible if algo.close_position else algo.qty
    order_type = "MARKET" if algo.type.endswith("_MARKET") else "LIMIT"
    client_id = algo.client_algo_id if engine.triggered_client_id == "clientAlgoId" else engine.new_client_id()
    order = Order(next(engine._order_ids), client_id, algo.symbol, algo.side, order_type, qty, algo.price,
                  "GTC", algo.position_side, algo.reduce_only, now, orig_type=algo.type,
                  stop_price=algo.trigger_price, close_position=algo.close_position,
                  working_type=algo.working_type, price_protect=algo.price_protect)
    engine.orders[order.order_id] = order
    engine.algo_of_order[order.order_id] = algo.algo_id
    engine.emit("ORDER_TRADE_UPDATE", order.trade_update(rules, now, "NEW"))
    algo.status, algo.actual_order_id, algo.actual_type = "TRIGGERED", str(order.order_id), order_type
    engine.emit("ALGO_UPDATE", algo.algo_update(rules, now))
    last = engine.last[algo.symbol]
    if order_type == "MARKET" and engine.partial_triggers:  # fills in part, then the rest expires
        engine.execute(order, min(qty, engine.partial_triggers.pop(0)), price, maker=False)
    elif order_type == "MARKET":
        engine.execute(order, qty, price, maker=False)
    elif (order.side == "BUY" and order.price >= last) or (order.side == "SELL" and order.price <= last):
        engine.execute(order, qty, last, maker=False)
