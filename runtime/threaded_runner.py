"""Live mode's threads: thin pumps that move items between queues and the stage objects.

    candle feed ──▶ data queue ──▶ strategy thread ──▶ trader queue ──▶ trader thread
    order events ─────────────────────────────────────▶ trader queue

The candle feed carries every symbol and interval the strategies read (one market stream);
the strategy thread hands each closed candle to the strategies of its (symbol, interval),
one after another, and tags their intents with the strategy's slot (`Lane`).

The trader queue carries intents, order events and closed candles in arrival order,
so the trader wakes on whichever comes first and handles them one at a time (it is
the only thread that touches positions, orders and the journal). Each closed candle
reaches the trader before the intents made from it, so a simulated exchange (paper
mode) fills on it first, exactly as in replay. The strategy reads the trader's positions
only through the snapshot the trader publishes (`Trader.snapshot`), never its dictionaries. Queues are unbounded: a slow consumer
is logged, nothing is ever dropped.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from ict.intervals import finest_intervals
from ict.models import CancelEntry, Candle, ClosePosition, MoveStop, Signal
from trade.errors import ExchangeUnavailable
from trade.models import OrderUpdate
from trade.strategy_slot import StrategySlot
from runtime.candle_order import FinestFirst

log = logging.getLogger(__name__)
INTENTS = (Signal, CancelEntry, ClosePosition, MoveStop)
_QUIET = object()        # no item came for a tick: housekeeping only
BACKLOG_WARNING = 100   # items waiting in a queue before a warning is logged


@dataclass(frozen=True, slots=True)
class Reconcile:
    """Ask the trader to check its open orders with the exchange (events may have been missed)."""

    reason: str


@dataclass(frozen=True, slots=True)
class PositionsChanged:
    """The account's position on `symbol` changed (ACCOUNT_UPDATE): `amounts` maps a side
    (LONG/SHORT) to its size now, in the base asset, ≥ 0."""

    symbol: str
    amounts: dict


@dataclass(frozen=True, slots=True)
class CandleClosed:
    """A closed candle of `symbol` at `interval` passed on to the trader (for simulated fills and
    housekeeping); `fills`: it is its symbol's finest interval, the one prices and fills follow."""

    candle: Candle
    symbol: str = ""
    interval: str = ""
    fills: bool = True


@dataclass(frozen=True, slots=True)
class Intent:
    """An intent of the strategy in `slot`, on its way to the trader."""

    intent: object
    slot: StrategySlot


@dataclass(frozen=True)
class Lane:
    """One strategy as the threads drive it: its slot, its `StrategyRunner` (anything with
    `on_candle(candle) -> intents`) and the interval of the candles it reads."""

    slot: StrategySlot
    runner: object
    interval: str


class ThreadedRunner:
    """Runs strategies and a trader behind two threads and two queues.

    - `strategies`: a list of `Lane`s, or one `StrategyRunner` alone (any symbol and side).
    - `on_candle(candle, symbol)`: the trader side's candle hook (e.g. a simulated exchange's
      fills), called for each symbol's finest interval; or None.
    - `trader`: has `on_intent`, `on_order_update`, `note_price` and `on_tick`.
    - `pulse`: live mode's heartbeat and watchdog (runtime/pulse.py): `note_candle(symbol,
      interval, candle)` and `tick()`, called on the trader thread after each candle and each
      housekeeping pass; or None.
    - `filled_until`: per symbol, the close time of its last finest-interval candle already had
      (warm-up): a symbol read at several intervals hands a coarser candle on only after the finest
      one closing with it (runtime/candle_order.py).
    Feed it with `put_candle` (closed candles only) and `put_order_update`.
    """

    def __init__(self, strategies, trader, on_candle: Callable[[Candle, str], None] | None = None,
                 tick_seconds: float = 1.0, pulse=None, filled_until: Mapping[str, int] | None = None) -> None:
        if not isinstance(strategies, (list, tuple)):
            owner = getattr(strategies, "strategy", strategies)   # the Strategy inside a StrategyRunner
            context = getattr(strategies, "context", None)
            strategies = [Lane(StrategySlot(getattr(owner, "name", ""), getattr(owner, "symbol", "")), strategies,
                               getattr(context, "interval", ""))]
        self.lanes: list[Lane] = list(strategies)
        self._by_feed: dict[tuple[str, str], list[Lane]] = {}
        for lane in self.lanes:
            self._by_feed.setdefault((lane.slot.symbol, lane.interval), []).append(lane)
        finest = finest_intervals(self._by_feed)
        self._fills = {(symbol, interval): interval == finest[symbol] for symbol, interval in self._by_feed}
        self._order = FinestFirst(finest, filled_until)
        self.trader = trader
        self.on_candle = on_candle
        self.tick_seconds = tick_seconds
        self.pulse = pulse
        self.data_queue: queue.Queue = queue.Queue()
        self.trader_queue: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.failure: BaseException | None = None
        self._threads = [threading.Thread(target=self._guard, args=(self._strategy_loop,), name="strategy", daemon=True),
                         threading.Thread(target=self._guard, args=(self._trader_loop,), name="trader", daemon=True)]

    # ----- inputs (any thread) ------------------------------------------------------------------
    def put_candle(self, candle: Candle, symbol: str | None = None, interval: str | None = None) -> None:
        """A closed candle of `symbol` at `interval` (both None: the first strategy's)."""
        if symbol is None or interval is None:
            symbol, interval = self.lanes[0].slot.symbol, self.lanes[0].interval
        _put(self.data_queue, (symbol, interval, candle), "data")

    def put_order_update(self, update: OrderUpdate) -> None:
        _put(self.trader_queue, update, "trader")

    def put_positions_changed(self, change: PositionsChanged) -> None:
        _put(self.trader_queue, change, "trader")

    def request_reconcile(self, reason: str) -> None:
        _put(self.trader_queue, Reconcile(reason), "trader")

    def feed(self, candles: Iterable[Candle]) -> None:
        for candle in candles:
            self.put_candle(candle)

    # ----- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop both threads."""
        self.data_queue.put(None)
        self._threads[0].join(timeout)
        self.trader_queue.put(None)
        self._threads[1].join(timeout)
        self.stopping.set()

    def trader_finished(self) -> bool:
        """True once the trader thread has ended (or never started)."""
        return not self._threads[1].is_alive()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until both queues are drained and handled (for tests and orderly stops)."""
        done = threading.Event()

        def waiter() -> None:
            self.data_queue.join()
            self.trader_queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    # ----- the pumps -----------------------------------------------------------------------------
    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as exc:  # a crash in a stage must stop the bot, loudly
            self.failure = self.failure or exc  # the first failure is the cause; keep it
            log.critical("%s thread crashed: %r", threading.current_thread().name, exc, exc_info=True)
            self.stopping.set()

    def _strategy_loop(self) -> None:
        while True:
            item = self.data_queue.get()
            try:
                if item is None:
                    return
                for symbol, interval, candle in self._order.take(*item):
                    self._hand_on(symbol, interval, candle)
            finally:
                self.data_queue.task_done()

    def _hand_on(self, symbol: str, interval: str, candle: Candle) -> None:
        """One closed candle to the trader (fills, prices) and then to the strategies reading it."""
        log.debug("%s %s candle %d closed: open %s high %s low %s close %s", symbol, interval, candle.open_time,
                  candle.open, candle.high, candle.low, candle.close)
        _put(self.trader_queue, CandleClosed(candle, symbol, interval, self._fills.get((symbol, interval), False)), "trader")
        for lane in self._by_feed.get((symbol, interval), ()):
            for intent in lane.runner.on_candle(candle):  # type: ignore[attr-defined]
                _put(self.trader_queue, Intent(intent, lane.slot), "trader")

    def _trader_loop(self) -> None:
        ticked = time.monotonic()
        while not self.stopping.is_set():
            try:
                item = self.trader_queue.get(timeout=self.tick_seconds)
            except queue.Empty:
                item = _QUIET
            try:
                if item is None:
                    return
                if item is not _QUIET:
                    self._handle_safely(item)
                # housekeeping (protection guard, account checks, timeouts) at least every tick, however busy
                if item is _QUIET or time.monotonic() - ticked >= self.tick_seconds:
                    ticked = time.monotonic()
                    self._handle_safely(None)
                    if self.pulse is not None:
                        self.pulse.tick()
            finally:
                if item is not _QUIET:
                    self.trader_queue.task_done()

    def _handle_safely(self, item) -> None:
        try:
            self._handle(item)
        except ExchangeUnavailable as problem:
            # the exchange did not answer: the trader's books stay as they were; the next
            # reconcile (periodic, or after a stream reconnect) picks up what was missed
            log.error("exchange unavailable while handling %s: %s", type(item).__name__, problem.message)

    def _handle(self, item) -> None:
        if item is None:
            self.trader.on_tick()
        elif isinstance(item, Intent):
            self.trader.on_intent(item.intent, item.slot)
        elif isinstance(item, INTENTS):   # put by a test or a tool: the first strategy's
            self.trader.on_intent(item, self.lanes[0].slot)
        elif isinstance(item, OrderUpdate):
            self.trader.on_order_update(item)
        elif isinstance(item, PositionsChanged):
            self.trader.on_account_update(item.symbol, item.amounts)
        elif isinstance(item, Reconcile):
            log.info("reconciling open orders with the exchange: %s", item.reason)
            self.trader.reconcile()
        elif isinstance(item, CandleClosed):
            if item.fills:
                if self.on_candle is not None:
                    self.on_candle(item.candle, item.symbol)
                self.trader.note_price(item.symbol, item.candle.close)
            self.trader.on_tick()
            if self.pulse is not None:
                self.pulse.note_candle(item.symbol, item.interval, item.candle)
        else:
            log.error("trader queue got an item it does not know: %r", item)


def _put(target: queue.Queue, item, name: str) -> None:
    target.put(item)
    backlog = target.qsize()
    if backlog and backlog % BACKLOG_WARNING == 0:
        log.warning("%s queue has %d items waiting: its consumer is slow", name, backlog)
