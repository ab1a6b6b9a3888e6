"""Replay: a candle file through the same strategy and trader, with the simulated exchange.

One thread, candle by candle, deterministic. For each closed candle:
1. the simulated exchange fills what the candle fills (entries at its open, stops and
   targets on its high and low), and the trader books the events;
2. the strategy runner updates the ICT engines and calls the strategy with its context
   (positions and refusals as the trader published them after step 1); its intents go
   to the trader, who may send orders that the next candle fills;
3. housekeeping (limit-entry timeouts) and the drawdown (floats, exact where it matters: `Drawdown`).
At the end, open positions are closed at the last close so every trade is counted.
"""
from __future__ import annotations

import inspect
import logging
import threading
import traceback
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable

from ict.intervals import utc_text
from ict.models import Candle
from journal.journal import Journal
from trade.models import ZERO
from runtime.settings import Settings
from trade.simulated.exchange import SimulatedExchange
from trade.simulated.paper_book import PaperExchange
from trade.symbol_rules import SymbolRules, to_decimal
from trade.trader import Trader

log = logging.getLogger(__name__)
COMMIT_EVERY_CANDLES = 1000   # a replay journal's batch: one transaction per this many candles


class StrategyError(Exception):
    """The strategy raised, or returned something that is not a list of intents, during a
    replay; the message is one line naming the candle, the error and where it came from."""


@dataclass(frozen=True)
class ReplaySummary:
    """The result of a replay. Money in USDT as exact decimals; `max_drawdown` is the
    largest fall of equity (wallet plus open PnL at each close) from a previous peak."""

    candles: int
    signals: int
    rejected_signals: int
    trades: int
    wins: int
    losses: int
    gross_pnl: Decimal
    fees: Decimal
    net_pnl: Decimal
    max_drawdown: Decimal
    starting_balance: Decimal
    final_balance: Decimal

    def as_json(self) -> dict:
        """Counts as numbers, money as decimal strings (exact, to the cent and beyond)."""
        return {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


class ReplayClock:
    """The replay's notion of now: the time of the candle being processed."""

    def __init__(self) -> None:
        self.now_ms = 0

    def __call__(self) -> int:
        return self.now_ms


def replay_rules(settings: Settings) -> SymbolRules:
    replay = settings.replay
    return SymbolRules(settings.strategy.symbol, replay.tick_size, replay.step_size, replay.min_qty, replay.min_notional)


def build_simulated_exchange(settings: Settings) -> SimulatedExchange:
    replay = settings.replay
    return SimulatedExchange(replay_rules(settings), replay.starting_balance_usdt, settings.risk.leverage,
                             replay.taker_fee, replay.maker_fee, replay.slippage_ticks)


def build_paper_exchange(settings: Settings) -> PaperExchange:
    """A paper exchange with the `[replay]` balance, fees and slippage; `watch_rules`, then `restore`."""
    replay = settings.replay
    return PaperExchange(replay_rules(settings), replay.starting_balance_usdt, settings.risk.leverage,
                         replay.taker_fee, replay.maker_fee, replay.slippage_ticks)


def run_replay(settings: Settings, candles: list[Candle], journal: Journal, stop: threading.Event | None = None) -> ReplaySummary:
    """Trade `candles` through the configured strategy; return the summary.

    The journal commits once per `COMMIT_EVERY_CANDLES` candles, at the end, on `stop` and on a
    StrategyError (`Journal.deferred_commits`); a step broken off rolls back to the last commit."""
    with journal.deferred_commits(COMMIT_EVERY_CANDLES):
        return _run_replay(settings, candles, journal, stop)


def _run_replay(settings: Settings, candles: list[Candle], journal: Journal, stop: threading.Event | None) -> ReplaySummary:
    clock = ReplayClock()
    exchange = build_simulated_exchange(settings)
    trader = Trader(exchange, journal, settings.risk, clock,
                    limit_entry_timeout_ms=settings.strategy.limit_entry_timeout_candles * settings.interval_ms,
                    interval_ms=settings.interval_ms, publish_each_step=False)
    exchange.connect(trader.on_order_update)
    name = settings.strategy.strategy_name
    runner = settings.build_runner(lambda: trader.published().for_strategy(name))  # read after the trader handled the candle
    interval = settings.interval_ms
    symbol = settings.strategy.symbol
    starting = exchange.wallet_balance()
    drawdown = Drawdown(starting)
    flat_at = None   # the wallet balance last taken while flat
    seen = 0
    report_every = max(1, len(candles) // 10)
    positions = trader.positions   # the trader's own dict, changed in place
    # the bound methods called once per candle, looked up once (a few per cent of a replay)
    fill, note_price, strategy_step, tick = exchange.on_candle, trader.note_price, runner.on_candle, trader.on_tick
    estimate, exact_equity, candle_done = exchange.equity_estimate, exchange.equity, journal.candle_done
    for candle in candles:
        if stop is not None and stop.is_set():
            log.warning("replay stopped after %d candles", seen)
            break
        clock.now_ms = candle.open_time
        fill(candle, symbol)
        clock.now_ms = now = candle.open_time + interval
        note_price(symbol, candle.close)
        try:
            intents = strategy_step(candle)
        except Exception as problem:
            raise _strategy_error(problem, runner, candle, settings) from problem
        for intent in intents:
            trader.on_intent(intent, name)
        if positions:
            tick(now)
            drawdown.update(*estimate(), exact_equity)
            flat_at = None
        else:
            wallet = exchange.wallet_balance()
            if wallet is not flat_at:  # the same balance again moves neither the peak nor the largest fall
                drawdown.take(wallet)
                flat_at = wallet
        seen += 1
        candle_done()
        if seen % report_every == 0:
            equity = exchange.equity() if trader.positions else exchange.wallet_balance()
            log.info("replay %d%%: %d candles, equity %.2f USDT, %d position(s) open", 100 * seen // len(candles), seen,
                     equity, len(trader.positions))
    if seen:
        last = candles[seen - 1]
        trader.close_all("end_of_replay")
        exchange.fill_market_orders_at(to_decimal(last.close), symbol, clock.now_ms)
    return summarize(journal, seen, starting, exchange.wallet_balance(), drawdown.largest)


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


def _strategy_error(problem: Exception, runner, candle: Candle, settings: Settings) -> StrategyError:
    """Any failure of the strategy as one `StrategyError` (the traceback goes to the log file),
    so a replay ends with one line and the journal so far."""
    log.error("strategy failure", exc_info=problem, extra={"console": False})  # bot.py prints the one line
    when = utc_text(candle.open_time)
    return StrategyError(f"{settings.path.name} strategy {runner.strategy.name} failed at the "
                         f"{settings.strategy.interval} candle of {when}: {type(problem).__name__}: {problem}"
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


def summarize(journal: Journal, candles: int, starting: Decimal, final: Decimal, drawdown: Decimal) -> ReplaySummary:
    """Count the run from the journal itself, so the summary and the journal cannot disagree."""
    signals, refused = journal.signal_counts()
    gross = fees = ZERO
    wins = losses = trades = 0
    for result in journal.position_results():
        pnl, fee = result.realized_pnl, result.fees
        gross += pnl
        fees += fee
        if result.closed and result.entered:
            trades += 1
            wins += pnl - fee > 0
            losses += pnl - fee <= 0
    return ReplaySummary(candles, signals, refused, trades, wins, losses, gross, fees, gross - fees,
                         drawdown, starting, final)
