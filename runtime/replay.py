"""Replay: candle files through the same strategies and trader, with the simulated exchange.

One thread, deterministic. The candles of every strategy (one file per symbol) are merged
in time order and taken one close time at a time, so limits shared across symbols act as
they would live. At each close time:
1. the simulated exchange fills what each symbol's closed candle fills (entries at its
   open, stops and targets on its high and low; a symbol traded at two intervals fills on
   the finer one), and the trader books the events;
2. each strategy whose candle closed updates its ICT engines and is called with its
   context (positions and refusals as the trader published them after step 1); its
   intents go to the trader, who may send orders that the next candle fills;
3. housekeeping (limit-entry timeouts) and the drawdown (floats, exact where it matters: `Drawdown`).
At the end, open positions are closed at their symbol's last close so every trade is counted.
"""
from __future__ import annotations

import bisect
import heapq
import inspect
import itertools
import logging
import threading
import traceback
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from ict.intervals import finest_intervals, utc_text
from ict.models import Candle
from ict.strategies.runner import StrategyRunner
from journal.journal import Journal
from trade.models import ZERO
from runtime.settings import Settings, StrategySettings
from trade.simulated.exchange import SimulatedExchange
from trade.simulated.paper_book import PaperExchange
from trade.strategy_slot import StrategySlot
from trade.symbol_rules import SymbolRules, to_decimal
from trade.trader import Trader

log = logging.getLogger(__name__)
COMMIT_EVERY_CANDLES = 1000   # a replay journal's batch: one transaction per this many candles


class StrategyError(Exception):
    """The strategy raised, or returned something that is not a list of intents, during a
    replay; the message is one line naming the candle, the error and where it came from."""


@dataclass(frozen=True)
class Tally:
    """What a replay counts, over the account or one symbol: candles, signals (and how many were
    refused), trades (closed positions that had an entry fill; a win is one whose PnL net of fees is
    above 0), and their gross PnL, fees and net PnL in USDT as exact decimals."""

    candles: int
    signals: int
    rejected_signals: int
    trades: int
    wins: int
    losses: int
    gross_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal


@dataclass(frozen=True)
class SymbolResult(Tally):
    """One symbol's share of a replay of several."""

    symbol: str

    def as_json(self) -> dict:
        return _plain(asdict(self))


def _plain(values: dict) -> dict:
    """Counts as numbers, money as decimal strings (exact, to the cent and beyond)."""
    return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in values.items()}


@dataclass(frozen=True)
class ReplaySummary(Tally):
    """The result of a replay, over every symbol (`Tally`). `max_drawdown` is the largest fall of
    the account's equity (wallet plus open PnL at each close) from a previous peak, in USDT.
    `per_symbol`: each symbol's share, in a replay of several symbols (else empty)."""

    max_drawdown: Decimal
    starting_balance: Decimal
    final_balance: Decimal
    per_symbol: tuple[SymbolResult, ...] = field(default=())

    def as_json(self) -> dict:
        """Counts as numbers, money as decimal strings (exact, to the cent and beyond); with several
        symbols, `per_symbol` maps each symbol to its share."""
        totals = _plain({k: v for k, v in asdict(self).items() if k != "per_symbol"})
        if self.per_symbol:
            totals["per_symbol"] = {result.symbol: result.as_json() for result in self.per_symbol}
        return totals


class ReplayClock:
    """The replay's notion of now: the time of the candle being processed."""

    def __init__(self) -> None:
        self.now_ms = 0

    def __call__(self) -> int:
        return self.now_ms


def replay_rules(settings: Settings) -> list[SymbolRules]:
    """The rules of every traded symbol: its `[replay.SYMBOL]` table's, else `[replay]`'s."""
    return [SymbolRules(symbol, *settings.replay_rules_of(symbol)) for symbol in settings.symbols]


def build_simulated_exchange(settings: Settings) -> SimulatedExchange:
    replay = settings.replay
    return SimulatedExchange(replay_rules(settings), replay.starting_balance_usdt, settings.risk.leverage,
                             replay.taker_fee, replay.maker_fee, replay.slippage_ticks)


def build_paper_exchange(settings: Settings) -> PaperExchange:
    """A paper exchange with the `[replay]` balance, fees and slippage; `watch_rules`, then `restore`."""
    replay = settings.replay
    return PaperExchange(replay_rules(settings), replay.starting_balance_usdt, settings.risk.leverage,
                         replay.taker_fee, replay.maker_fee, replay.slippage_ticks)


Feeds = Mapping[tuple[str, str], Sequence[Candle]]
"""Closed candles per (symbol, interval), e.g. {("BTCUSDT", "1m"): [...], ("ETHUSDT", "5m"): [...]}."""


@dataclass(slots=True)
class _Stream:
    """One (symbol, interval)'s candles in a replay: whether the simulated exchange fills on them
    (the symbol's finest interval), and the strategies that read them."""

    symbol: str
    interval_ms: int
    candles: Sequence[Candle]
    fills: bool
    lanes: list[tuple[StrategySlot, StrategySettings, StrategyRunner]] = field(default_factory=list)   # (slot, block, runner)

    def close_time(self, candle: Candle) -> int:
        return candle.open_time + self.interval_ms


def _closes(index: int, stream: _Stream) -> Iterator[tuple[int, int, Candle]]:
    return ((candle.open_time + stream.interval_ms, index, candle) for candle in stream.candles)


def _time_steps(streams: list[_Stream]) -> Iterator[tuple[int, list[tuple[_Stream, Candle]]]]:
    """(close time, [(stream, candle) closing then]) in time order, streams in settings order within a step."""
    if len(streams) == 1:
        stream = streams[0]
        step = stream.interval_ms
        return ((candle.open_time + step, [(stream, candle)]) for candle in stream.candles)
    merged = heapq.merge(*[_closes(index, stream) for index, stream in enumerate(streams)], key=lambda item: (item[0], item[1]))
    return ((close, [(streams[index], candle) for _, index, candle in group])
            for close, group in itertools.groupby(merged, key=lambda item: item[0]))


def run_replay(settings: Settings, candles: Sequence[Candle] | Feeds, journal: Journal,
               stop: threading.Event | None = None) -> ReplaySummary:
    """Trade the candles through the configured strategies; return the summary.

    `candles`: a single strategy's closed candles at its interval, or `Feeds` holding each
    strategy's (symbol, interval). KeyError names a strategy's (symbol, interval) left out.
    The journal commits once per `COMMIT_EVERY_CANDLES` close times, at the end, on `stop` and
    on a StrategyError (`Journal.deferred_commits`); a step broken off rolls back to the last commit."""
    feeds = candles if isinstance(candles, Mapping) else {(settings.strategy.symbol, settings.strategy.interval): candles}
    with journal.deferred_commits(COMMIT_EVERY_CANDLES):
        return _run_replay(settings, feeds, journal, stop)


def _streams(settings: Settings, feeds: Feeds, trader: Trader) -> list[_Stream]:
    """A `_Stream` per (symbol, interval) some strategy reads, in settings order, each with its runners."""
    streams: dict[tuple[str, str], _Stream] = {}
    finest = finest_intervals((block.symbol, block.interval) for block in settings.strategies)
    for block in settings.strategies:
        key = (block.symbol, block.interval)
        if key not in streams:
            streams[key] = _Stream(block.symbol, block.interval_ms, feeds[key], block.interval == finest[block.symbol])
        slot = block.slot()
        # read after the trader handled the candle
        runner = settings.build_runner(lambda slot=slot: trader.published().for_strategy(slot.name, slot), block)
        streams[key].lanes.append((slot, block, runner))
    return list(streams.values())


def _run_replay(settings: Settings, feeds: Feeds, journal: Journal, stop: threading.Event | None) -> ReplaySummary:
    clock = ReplayClock()
    exchange = build_simulated_exchange(settings)
    slots = tuple(block.slot() for block in settings.strategies)
    trader = Trader(exchange, journal, settings.risk, clock, limit_entry_timeout_ms=slots[0].limit_entry_timeout_ms,
                    interval_ms=settings.interval_ms, publish_each_step=False, slots=slots)
    exchange.connect(trader.on_order_update)
    streams = _streams(settings, feeds, trader)
    starting = exchange.wallet_balance()
    drawdown = Drawdown(starting)
    flat_at = None   # the wallet balance last taken while flat
    seen = 0
    total = sum(len(stream.candles) for stream in streams)
    report_every = max(1, total // 10)
    next_report = report_every
    positions = trader.positions   # the trader's own dict, changed in place
    # the bound methods called once per candle, looked up once (a few per cent of a replay)
    fill, note_price, on_intent, tick = exchange.on_candle, trader.note_price, trader.on_intent, trader.on_tick
    estimate, exact_equity, candle_done = exchange.equity_estimate, exchange.equity, journal.candle_done
    for now, group in _time_steps(streams):
        if stop is not None and stop.is_set():
            log.warning("replay stopped after %d candles", seen)
            break
        for stream, candle in group:
            if stream.fills:
                clock.now_ms = candle.open_time
                fill(candle, stream.symbol)
        clock.now_ms = now
        for stream, candle in group:
            if stream.fills:
                note_price(stream.symbol, candle.close)
            for slot, block, runner in stream.lanes:
                try:
                    intents = runner.on_candle(candle)
                except Exception as problem:
                    raise _strategy_error(problem, runner, candle, settings, block) from problem
                for intent in intents:
                    on_intent(intent, slot)
        if positions:
            tick(now)
            drawdown.update(*estimate(), exact_equity)
            flat_at = None
        else:
            wallet = exchange.wallet_balance()
            if wallet is not flat_at:  # the same balance again moves neither the peak nor the largest fall
                drawdown.take(wallet)
                flat_at = wallet
        seen += len(group)
        candle_done()
        if seen >= next_report:
            next_report += report_every
            equity = exchange.equity() if trader.positions else exchange.wallet_balance()
            log.info("replay %d%%: %d candles, equity %.2f USDT, %d position(s) open", 100 * seen // total, seen,
                     equity, len(trader.positions))
    # how many of each stream's candles the replay went through: those closed by its last close time
    done = [bisect.bisect_right(stream.candles, clock.now_ms, key=stream.close_time) for stream in streams]
    if seen:
        trader.close_all("end_of_replay")
        for stream, count in zip(streams, done):
            if stream.fills and count:
                last = stream.candles[count - 1]   # at its own last close, not the account's
                exchange.fill_market_orders_at(to_decimal(last.close), stream.symbol, stream.close_time(last))
    counted: dict[str, int] = {}
    for stream, count in zip(streams, done):
        counted[stream.symbol] = counted.get(stream.symbol, 0) + count
    return summarize(journal, seen, starting, exchange.wallet_balance(), drawdown.largest,
                     counted if len(counted) > 1 else None)


class Drawdown:
    """The largest fall of equity from a previous peak (USDT), exact in Decimal at the cost of floats.

    `update` takes each candle's equity as a float estimate with a bound on its error, and
    the exact `Decimal` equity as a callable. It calls it only when the estimate could set a
    new peak or a new largest fall; otherwise the exact figures provably stay as they are (the
    equity lies strictly below the peak, and its fall from it strictly below the largest), so
    `largest` is the very Decimal that `max(largest, peak - equity)` over every candle gives.
    """

    _ROUNDING = 2.0 ** -50   # float(Decimal) is within half a unit in the last place; this is 8 of them

    def __init__(self, starting: Decimal) -> None:
        self.peak = starting
        self.largest = ZERO
        self._peak = float(starting)
        self._largest = 0.0

    def update(self, estimate: float, error: float, exact: Callable[[], Decimal]) -> None:
        """Take an equity known as `estimate` ± `error`, exactly `exact()`."""
        slack = error + self._ROUNDING * (abs(self._peak) + self._largest)
        if estimate + slack < self._peak and self._peak - estimate + slack < self._largest:
            return
        self.take(exact())

    def take(self, equity: Decimal) -> None:
        """Take an exact equity."""
        peak = max(self.peak, equity)
        largest = max(self.largest, peak - equity)
        if peak is not self.peak:
            self.peak, self._peak = peak, float(peak)
        if largest is not self.largest:
            self.largest, self._largest = largest, float(largest)


def _strategy_error(problem: Exception, runner, candle: Candle, settings: Settings, block: StrategySettings) -> StrategyError:
    """Any failure of the strategy as one `StrategyError` (the traceback goes to the log file),
    so a replay ends with one line and the journal so far."""
    log.error("strategy failure", exc_info=problem, extra={"console": False})  # bot.py prints the one line
    when = utc_text(candle.open_time)
    symbol = f" {block.symbol}" if len(settings.symbols) > 1 else ""
    return StrategyError(f"{settings.path.name} strategy {runner.strategy.name} failed at the{symbol} "
                         f"{block.interval} candle of {when}: {type(problem).__name__}: {problem}"
                         f"{_where(problem, runner.strategy, settings)}; fix the strategy")


def _where(problem: Exception, strategy, settings: Settings) -> str:
    """" (file line N)": the deepest frame in the strategy's own file, else nothing."""
    try:
        name = inspect.getsourcefile(type(strategy))
        if name is None:  # no source file found
            return ""
        source = Path(name).resolve()
    except (TypeError, OSError):
        return ""
    frames = [f for f in traceback.extract_tb(problem.__traceback__) if Path(f.filename).resolve() == source]
    if not frames:
        return ""
    try:
        shown = source.relative_to(settings.path.parent.resolve()).as_posix()
    except ValueError:
        shown = str(source)
    return f" ({shown} line {frames[-1].lineno})"


def summarize(journal: Journal, candles: int, starting: Decimal, final: Decimal, drawdown: Decimal,
              per_symbol_candles: Mapping[str, int] | None = None) -> ReplaySummary:
    """Count the run from the journal itself, so the summary and the journal cannot disagree.
    With `per_symbol_candles` (a replay of several symbols), each symbol's share is counted too."""
    signals, refused = journal.signal_counts()
    results = journal.position_results()
    trades, wins, losses, gross, fees, net = _results(results)
    shares: tuple[SymbolResult, ...] = ()
    if per_symbol_candles:
        counts = journal.signal_counts_by_symbol()
        shares = tuple(_share(symbol, seen, counts.get(symbol, (0, 0)), [r for r in results if r.symbol == symbol])
                       for symbol, seen in per_symbol_candles.items())
    return ReplaySummary(candles, signals, refused, trades, wins, losses, gross, fees, net, drawdown, starting, final, shares)


def _share(symbol: str, candles: int, signal_counts: tuple[int, int], results) -> SymbolResult:
    trades, wins, losses, gross, fees, net = _results(results)
    return SymbolResult(candles, signal_counts[0], signal_counts[1], trades, wins, losses, gross, fees, net, symbol=symbol)


def _results(results) -> tuple[int, int, int, Decimal, Decimal, Decimal]:
    """(trades, wins, losses, gross PnL, fees, net PnL) of these position results; a trade is a
    closed position that had an entry fill, a win one whose PnL net of fees is above 0."""
    gross = fees = ZERO
    wins = losses = trades = 0
    for result in results:
        pnl, fee = result.realized_pnl, result.fees
        gross += pnl
        fees += fee
        if result.closed and result.entered:
            trades += 1
            wins += pnl - fee > 0
            losses += pnl - fee <= 0
    return trades, wins, losses, gross, fees, gross - fees
