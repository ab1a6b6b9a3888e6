"""Live modes (paper, testnet, demo, mainnet): wire the exchange, the streams and the threads.

    start-up    keys → journal → exchange (clock, position mode, balance; per symbol rules,
                margin, leverage, fees) → recovery of unfinished positions on every symbol →
                warm-up candles per strategy
    running     market stream thread (one combined connection: every symbol and interval) →
                data queue → strategy thread → trader queue → trader thread
                user-data stream thread → trader queue
    stopping    Ctrl+C / SIGTERM: streams closed, queues drained, journal closed; exit 0

Paper mode trades the simulated exchange on Binance's live public candles: no keys. Its
simulated account is rebuilt from the journal at each start (trade/simulated/paper_book.py).
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ict.intervals import INTERVAL_MS, finest_intervals, utc_text
from ict.models import Candle
from ict.strategies.runner import warmup_candles_needed
from journal.journal import Journal
from journal.lock import JournalLock
from trade import crash_points
from trade.binance.events import AccountUpdate, UserEventTranslator
from trade.binance.exchange import BinanceExchange
from trade.binance.rest import HOSTS, BinanceRest
from trade.errors import ExchangeError, ExchangeFatal
from trade.binance.market_stream import MarketStream
from trade.binance.stream_socket import SocketThread
from trade.models import OrderUpdate
from trade.recovery import recover
from runtime.replay import build_paper_exchange
from trade.simulated.paper_book import PaperExchange
from runtime.secrets import RedactSecrets, require_keys
from runtime.settings import Settings, SettingsError, StrategySettings
from trade.snapshot import TraderSnapshot
from trade.symbol_rules import to_decimal
from runtime.threaded_runner import Lane, PositionsChanged, ThreadedRunner
from runtime import systemd_notify
from runtime.commands import CommandDesk
from runtime.heartbeat import ErrorCollector, HeartbeatWriter
from runtime.pulse import Pulse
from runtime.notify import ErrorAlerts, TradeNotices, build_notifier, messages
from runtime.notify.daily import DailySummary
from trade.trader import Trader
from trade.binance.user_stream import ListenKeyGone, UserStream

log = logging.getLogger(__name__)
STATUS_SECONDS = 60
RECONCILE_EVERY_MS = 5 * 60_000
EXIT_BAD_INPUT, EXIT_FAILED = 2, 1
MAX_WARMUP_CANDLES = 60_000   # 40 REST pages of 1500 klines (weight 10 each: 400 of the 2400 a minute allows)


def wall_ms() -> int:
    return int(time.time() * 1000)


def run_live(settings: Settings, stop: threading.Event, redact: RedactSecrets | None = None) -> int:
    """Trade until `stop` is set; return the process exit code. The journal's lock is held throughout, so
    a second bot (or a replay) on the same journal stops at once with one line (journal/lock.py)."""
    with JournalLock(settings.resolve(settings.bot.journal)):
        return _run_live(settings, stop, redact)


def _run_live(settings: Settings, stop: threading.Event, redact: RedactSecrets | None) -> int:
    mode, symbols = settings.mode, settings.symbols
    rest_base = settings.exchange.rest_url or HOSTS[mode][0]
    ws_base = settings.exchange.ws_url or HOSTS[mode][1]
    if mode == "mainnet":
        if not settings.bot.confirm_mainnet:
            raise SettingsError('mode = "mainnet" trades real money; set [bot] confirm_mainnet = true in settings.toml to allow orders')
        log.warning("MAINNET: this bot trades real money on %s", ", ".join(symbols))
    log.info("mode %s: REST %s, streams %s, strategies: %s", mode, rest_base, ws_base,
             "; ".join(block.label for block in settings.strategies))
    market_rest = BinanceRest(rest_base, recv_window_ms=settings.exchange.recv_window_ms)
    market_data = BinanceExchange(market_rest)  # public calls from the stream threads, on their own connection
    notifier = build_notifier(settings, redact)   # a missing Telegram token is one line and exit 2, before any work
    # the journal takes this mode only once the start has succeeded (in _trade)
    journal = Journal.open(settings.resolve(settings.bot.journal), mode, durable=True, fsync=settings.bot.journal_fsync,
                           claim=False)
    journal.after_commit = crash_points.commit_hook()
    errors = ErrorCollector(wall_ms)   # ERROR lines, for the journal's `errors` table (`python bot.py status`)
    if redact is not None:
        errors.addFilter(redact)
    logging.getLogger().addHandler(errors)
    heartbeat = HeartbeatWriter(journal, mode, symbols, settings.bot.heartbeat_seconds, wall_ms(), errors)
    systemd_notify.notify(status=f"starting {mode} {', '.join(symbols)}: exchange, recovery, warm-up")
    notifier.start()
    alerts = ErrorAlerts(notifier)   # ERROR lines to the phone: the first at once, repeats counted
    if redact is not None:
        alerts.addFilter(redact)
    logging.getLogger().addHandler(alerts)
    try:
        exchange: PaperExchange | BinanceExchange
        if mode == "paper":
            exchange = build_paper_exchange(settings)
            exchange.watch_rules(symbols, market_data.load_rules, time.time)  # the real symbol rules, simulated fills
            exchange.restore(journal, settings.replay.starting_balance_usdt)
            private = None
        else:
            keys = require_keys(mode, settings.path.parent)
            if redact is not None:
                redact.add(keys.key)
                redact.add(keys.secret)
            log.info("API keys from %s", keys.source)
            exchange = private = BinanceExchange(BinanceRest(rest_base, keys.key, keys.secret, settings.exchange.recv_window_ms))
            exchange.prepare(symbols, settings.risk.leverage, settings.risk.margin_type)
        slots = tuple(block.slot() for block in settings.strategies)
        trader = Trader(exchange, journal, settings.risk, wall_ms, limit_entry_timeout_ms=slots[0].limit_entry_timeout_ms,
                        reconcile_every_ms=None if private is None else RECONCILE_EVERY_MS, interval_ms=settings.interval_ms,
                        listener=TradeNotices(notifier), slots=slots)
        heartbeat.state_of = lambda: "paused" if trader.paused else "running"
        heartbeat.balance_of = lambda: _balance(exchange)
        recover(trader, journal, symbols)   # paper: against the simulated account rebuilt from the journal
        return _trade(settings, stop, trader, exchange, market_data, private, ws_base, journal, redact,
                      Monitoring(heartbeat, notifier, alerts))
    except ExchangeFatal as problem:
        log.error("cannot go on: %s", problem.message)
        return EXIT_BAD_INPUT
    except ExchangeError as problem:  # unreachable or failing exchange at start: worth a restart later
        log.error("cannot start: the exchange did not answer properly (%s)", problem.message)
        return EXIT_FAILED
    finally:
        logging.getLogger().removeHandler(errors)
        logging.getLogger().removeHandler(alerts)
        journal.close()
        notifier.stop()   # delivers what it can within its bound (the stop message included)


@dataclass(frozen=True)
class Monitoring:
    """What tells the outside world how the bot is doing: the journal heartbeat and phone messages."""

    heartbeat: HeartbeatWriter
    notifier: Any
    alerts: ErrorAlerts


def _lanes(settings: Settings, trader: Trader, market_data: BinanceExchange,
           heartbeat: HeartbeatWriter) -> tuple[list[Lane], dict[tuple[str, str], list[Candle]]]:
    """Each strategy's `Lane`, warmed up with its history (engines and sessions learn it, a signal
    from the past is not traded); and the warm-up candles per (symbol, interval). Strategies on one
    (symbol, interval) share one fetch, so all of them end at the candle the stream goes on from."""
    wanted = settings.exchange.warmup_candles
    built = []
    counts: dict[tuple[str, str], int] = {}
    for block in settings.strategies:
        slot = block.slot()
        runner = settings.build_runner(lambda slot=slot: trader.snapshot.for_strategy(slot.name, slot), block)
        count = _warmup_count(block, runner.strategy, wanted)
        counts[(block.symbol, block.interval)] = max(counts.get((block.symbol, block.interval), 0), count)
        built.append((block, slot, runner, count))
    warmups = {feed: _closed_candles(market_data, *feed, count) for feed, count in counts.items() if count}
    lanes: list[Lane] = []
    for block, slot, runner, count in built:
        history = warmups.get((block.symbol, block.interval), [])[-count:] if count else []
        runner.warm_up(history)
        log.info("warm-up: %d closed %s %s candles fed to %s", len(history), block.symbol, block.interval, block.strategy_name)
        lanes.append(Lane(slot, runner, block.interval))
    for (symbol, interval), warmup in warmups.items():   # the trader thread starts later: the heartbeat is ours
        if warmup:
            heartbeat.note_candle(symbol, interval, warmup[-1].open_time, to_decimal(warmup[-1].close))
    return lanes, {feed: candles for feed, candles in warmups.items() if candles}


def _trade(settings, stop, trader, exchange, market_data, private, ws_base, journal, redact, monitoring: Monitoring) -> int:
    heartbeat, notifier = monitoring.heartbeat, monitoring.notifier
    symbols = settings.symbols
    lanes, warmups = _lanes(settings, trader, market_data, heartbeat)
    if journal.mode != settings.mode:
        if journal.mode is not None:
            log.info("journal %s held no positions of %s mode: it now belongs to %s mode", journal.path, journal.mode, settings.mode)
        journal.claim_mode(settings.mode)
    feeds = list(dict.fromkeys((lane.slot.symbol, lane.interval) for lane in lanes))
    fill_feeds = finest_intervals(feeds)   # symbol -> the interval its prices and simulated fills follow
    on_candle = None
    if isinstance(exchange, PaperExchange):
        exchange.connect(trader.on_order_update)  # runs on the trader thread, inside on_candle
        for symbol, interval in fill_feeds.items():   # the trader thread starts below: this is still the only one
            if symbol in exchange.resumed_from:
                missed = _missed_candles(market_data, symbol, interval, exchange.resumed_from[symbol],
                                         warmups.get((symbol, interval), []))
                exchange.play_missed(missed, symbol)
        on_candle = exchange.on_candle
    market: MarketStream | None = None
    silence_seconds = settings.exchange.stream_silence_seconds
    daily = None
    if settings.notify.telegram:
        daily = DailySummary(journal, notifier, settings.notify.daily_summary_utc, wall_ms(), lambda: _balance(exchange))
    stopped_by: list[str] = []   # why a command stopped the bot, for its last heartbeat

    def stop_from_command(why: str) -> None:
        log.warning("stop requested %s: finishing the current step", why)
        stopped_by.append(why)
        stop.set()

    commands = CommandDesk(journal, trader, settings.path, stop_from_command)
    pulse = Pulse(heartbeat, lambda: market is not None and time.monotonic() - market.last_data_at < silence_seconds,
                  systemd_notify.watchdog_interval_seconds(), wall_ms, daily=daily, commands=commands)
    filled_until = {symbol: warmups[(symbol, interval)][-1].open_time + INTERVAL_MS[interval]
                    for symbol, interval in fill_feeds.items() if (symbol, interval) in warmups}
    runner = ThreadedRunner(lanes, trader, on_candle=on_candle, pulse=pulse, filled_until=filled_until)
    market = MarketStream(ws_base, feeds, on_candle=lambda symbol, interval, candle: runner.put_candle(candle, symbol, interval),
                          fetch_closed_klines=lambda symbol, interval, start: market_data.closed_klines(
                              symbol, interval, INTERVAL_MS[interval], start_ms=start),
                          last_open_times={feed: candles[-1].open_time for feed, candles in warmups.items()},
                          silence_seconds=silence_seconds)
    threads: list[SocketThread] = [market]
    if private is not None:
        prefix = journal.id_prefix + "-"
        user = UserStream(ws_base, listen_key=ListenKeyApi(private, redact),
                          translator=UserEventTranslator(is_ours=lambda client_id: client_id.startswith(prefix)),
                          on_event=lambda item: _route_user_event(item, runner, private),
                          on_resync=lambda: runner.request_reconcile("user-data stream reconnected"))
        threads.append(user)
    # what start-up built lives until the end: keep it out of the garbage collector's sweeps,
    # whose pauses would otherwise land on the signal path now and then
    gc.collect()
    gc.freeze()
    runner.start()
    for thread in threads:
        thread.start()
    traded = ", ".join(symbols)
    log.info("trading %s: Ctrl+C to stop", traded)
    first = settings.strategy
    described = first.strategy_name if len(settings.strategies) == 1 else f"{len(settings.strategies)} strategies"
    intervals = ", ".join(dict.fromkeys(block.interval for block in settings.strategies))
    notifier.send(messages.started(settings.mode, traded, intervals, described, len(trader.snapshot.positions)))
    last_status, ready = 0.0, False
    while not stop.is_set() and runner.failure is None:
        stop.wait(0.5)
        monitoring.alerts.tick()
        if not ready and all(thread.connected.is_set() for thread in threads):
            # recovery protected every position before the threads started; now the streams are up too
            ready = True
            systemd_notify.notify(ready=True, status=f"trading {settings.mode} {traded}")
        if time.monotonic() - last_status >= STATUS_SECONDS:
            last_status = time.monotonic()
            _status(trader, exchange, market, feeds)
    log.warning("stopping: closing streams, finishing queued work")
    systemd_notify.notify(stopping=True, status="stopping: closing streams, finishing queued work")
    for thread in threads:
        thread.stop()
    runner.stop()
    if runner.trader_finished():   # the trader thread no longer writes the journal: the last beat is ours to write
        heartbeat.stopped(wall_ms(), "after a failure" if runner.failure is not None
                          else f"cleanly, {stopped_by[0]}" if stopped_by else "cleanly")
    held = trader.snapshot.positions
    unprotected = 0 if isinstance(exchange, PaperExchange) else sum(1 for p in held if p.open_quantity > 0 and not p.has_live_stop)
    notifier.send(messages.stopped(settings.mode, traded, len(held), unprotected,
                                   repr(runner.failure) if runner.failure is not None else None))
    if runner.failure is not None:
        log.critical("stopped after a failure: %r", runner.failure)
        return EXIT_FAILED
    if isinstance(exchange, PaperExchange):
        log.info("stopped cleanly; %d simulated position(s) are kept in the journal with their simulated stop and target, "
                 "and resume at the next paper start with the candles missed meanwhile", len(trader.snapshot.positions))
    else:
        _say_what_stays(trader.snapshot)
    return 0


def _say_what_stays(snapshot: TraderSnapshot) -> None:
    """The last words in a live mode: what each position not CLOSED leaves on the exchange."""
    guarded = 0
    for item in snapshot.positions:
        view = item.view
        if item.open_quantity > 0 and item.has_live_stop:
            guarded += 1
        elif item.open_quantity > 0:
            log.error("%s position %d %s %s is held WITHOUT a stop-loss on the exchange: start the bot again (it places "
                      "one, or closes the position) or protect it on Binance", item.symbol, view.id, view.side.value,
                      item.open_quantity)
        elif view.state == "CLOSING":
            log.warning("%s position %d is flat but not finished (an order of ours may be left): the next start finishes it",
                        item.symbol, view.id)
        else:
            log.info("%s position %d holds nothing yet: its entry order may rest on the exchange", item.symbol, view.id)
    log.info("stopped cleanly; %d position(s) stay open with their stop-loss on the exchange", guarded)


def _missed_candles(market_data: BinanceExchange, symbol: str, interval: str, since_ms: int,
                    warmup: list[Candle]) -> list[Candle]:
    """Closed `symbol` `interval` candles after the one that opened at `since_ms`, up to the last
    warm-up candle (the market stream continues from there, so none is played twice)."""
    interval_ms = INTERVAL_MS[interval]
    candles = market_data.closed_klines(symbol, interval, interval_ms, start_ms=since_ms + interval_ms)
    last = warmup[-1].open_time if warmup else None
    return [c for c in candles if last is None or c.open_time <= last]


def _warmup_count(block: StrategySettings, strategy, wanted: int) -> int:
    """Base candles `block`'s strategy needs at start: `wanted` for the largest timeframe's engine,
    that many × its length in base candles (300 × 60 one-minute candles for a strategy reading
    "1h"), at most `MAX_WARMUP_CANDLES`."""
    needed = warmup_candles_needed(strategy, block.interval, wanted)
    if needed > MAX_WARMUP_CANDLES:
        log.warning("warm-up: %d %s %s candles wanted for the largest timeframe; loading the last %d (its engine starts "
                    "with fewer candles)", needed, block.symbol, block.interval, MAX_WARMUP_CANDLES)
        return MAX_WARMUP_CANDLES
    return needed


def _closed_candles(market_data, symbol: str, interval: str, count: int) -> list:
    """The last `count` closed candles of `symbol` at `interval`, over REST in pages of 1500."""
    interval_ms = INTERVAL_MS[interval]
    if count == 0:
        return []
    if count <= 1500:
        return market_data.closed_klines(symbol, interval, interval_ms, limit=count)
    start = (wall_ms() // interval_ms - count) * interval_ms
    return market_data.closed_klines(symbol, interval, interval_ms, start_ms=start)[-count:]


def _route_user_event(item, runner: ThreadedRunner, exchange: BinanceExchange) -> None:
    if isinstance(item, OrderUpdate):
        runner.put_order_update(item)
    elif isinstance(item, AccountUpdate):
        exchange.forget_balances()
        for change in positions_changed(item):
            runner.put_positions_changed(change)


def positions_changed(update: AccountUpdate) -> list[PositionsChanged]:
    """The position legs an ACCOUNT_UPDATE moved, per symbol, as sizes per side (LONG/SHORT, ≥ 0).
    In one-way mode the one signed leg (BOTH) says both sides: the other one is 0."""
    changes: dict[str, dict] = {}
    for leg in update.positions:
        amounts = changes.setdefault(leg.symbol, {})
        if leg.position_side != "BOTH":
            amounts[leg.position_side] = abs(leg.amount)
        else:
            amounts.update(LONG=max(leg.amount, Decimal(0)), SHORT=max(-leg.amount, Decimal(0)))
    return [PositionsChanged(symbol, amounts) for symbol, amounts in changes.items()]


def _balance(exchange) -> Decimal | None:
    try:
        return exchange.wallet_balance()
    except ExchangeError:
        return None


def _status(trader: Trader, exchange, market, feeds: list[tuple[str, str]]) -> None:
    """The minute's status line: balance, positions, and per symbol its candles and the age of the last one."""
    balance = _balance(exchange)
    if balance is None:
        balance = Decimal("NaN")
    # the main thread reads the trader's published snapshot, never its live dictionaries
    positions = ", ".join(f"#{p.view.id} {p.symbol} {p.view.side.value} {p.open_quantity} {p.view.state}"
                          for p in trader.snapshot.positions) or "none"
    now = wall_ms()
    streams = []
    for symbol, interval in feeds:
        last = market.last_open_time(symbol, interval) if market is not None else None
        age = "none yet" if last is None else f"last {utc_text(last)}, closed {max(0, now - last - INTERVAL_MS[interval]) // 1000} s ago"
        delivered = market.delivered_of(symbol, interval) if market is not None else 0
        streams.append(f"{symbol} {interval} {delivered} candles ({age})")
    log.info("status: balance %s USDT, positions: %s; %s; stream reconnects %d", balance, positions, "; ".join(streams),
             getattr(market, "reconnects", 0))
    systemd_notify.notify(status=f"balance {balance} USDT, positions: {positions}")


class ListenKeyApi:
    """The listenKey calls the user-data stream needs, on the trading connection."""

    def __init__(self, exchange: BinanceExchange, redact: RedactSecrets | None) -> None:
        self.exchange = exchange
        self.redact = redact

    def new(self) -> str:
        key = self.exchange.new_listen_key()
        if self.redact is not None:
            self.redact.add(key)
        return key

    def keepalive(self, key: str) -> None:
        try:
            self.exchange.keepalive_listen_key(key)
        except ExchangeError as problem:
            if problem.code == -1125:
                raise ListenKeyGone(problem.message) from None
            raise
