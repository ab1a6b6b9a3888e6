"""What a strategy sees at each closed base candle: `Context` (the base `Chart` plus higher
timeframes, sessions and its own positions), and the read-only views inside it.

The runner (`ict.strategies.runner.StrategyRunner`) owns the engines and updates these
objects; a strategy only reads them. One `Context` object serves every call and is
brought up to date before each one, so keep events or zones, never the context itself.
Everything costly (active zone lists, positions) is computed on first access at a close.

The engines themselves are fed on first access too: a chart keeps the candles it was
given and feeds them to its engine, in order, when a strategy first reads something the
engine computes (events, changes, zones, swings, trend, ATR), and the session clock likewise
(killzones, day and week open). Both are causal, so they end in the same state, with the same
ids, as when fed candle by candle, and `events` and `changes` are still exactly the current
close's; a strategy that reads only `candle` (like `Mock_ThreeCandles_v1`) never pays for them.
At most `MAX_PENDING` candles wait: then they catch up anyway, so a live bot's memory stays bounded.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ict.engine import Engine
from ict.events import (BREAKER, FINAL_STATES, FVG, LIQUIDITY_POOL, ORDER_BLOCK, SWING, SWING_HIGH, SWING_LOW, ActiveZone,
                        Event, Kind, LifecycleRecord, Level, Report)
from ict.killzones import Killzone, SessionClock
from ict.models import Candle, EntryType, Side

# kinds that can get life-cycle records later: their events are remembered until a final state
_TRACKED = frozenset((SWING_HIGH, SWING_LOW, FVG, ORDER_BLOCK, BREAKER, LIQUIDITY_POOL))
_NO_FEEDBACK: tuple = ((), ())


@dataclass(frozen=True, slots=True)
class Change:
    """A life-cycle record with the event it is about: `change.event` reached `change.state`
    at the close of candle `change.record.at`."""

    record: LifecycleRecord
    event: Event

    @property
    def state(self) -> str:
        """The `ict.events.State` reached, e.g. `State.INVALIDATED`."""
        return self.record.state


@dataclass(frozen=True, slots=True)
class PositionView:
    """One of this strategy's positions not CLOSED, as the trader last published it.

    - `state`: "ENTERING" (entry resting or filling), "OPEN" (protected) or "CLOSING".
    - `entry_price`: the average fill, else the LIMIT price (None: MARKET not yet filled).
    - prices in quote currency; `quantity` is the size asked for, `filled_quantity` what
      the entry filled so far (base asset).
    - `age_candles`: base candles closed since the signal's candle; `candle_time`: that
      candle's open time (epoch ms).
    - `basis`: the signal's event refs.
    """

    id: int
    side: Side
    state: str
    entry_type: EntryType
    entry_price: float | None
    stop_price: float
    take_profit_price: float
    quantity: float
    filled_quantity: float
    age_candles: int
    basis: tuple[str, ...]
    candle_time: int = 0


@dataclass(frozen=True, slots=True)
class RefusalView:
    """A signal or intent of this strategy that the trader refused: `code` (e.g. "MAX_POSITIONS",
    "STOP_NOT_TOWARD_PROFIT") and `message` in words. `candle_time` is the signal's candle open
    time, or for an intent the trader's time when it refused it (epoch ms); `side` is None for
    an intent naming a position the trader does not know."""

    candle_time: int
    side: Side | None
    code: str
    message: str


ID_BLOCK = 1_000_000_000   # event ids per engine: the base engine's run from 1, the n-th higher timeframe's from n × ID_BLOCK + 1
MAX_PENDING = 200_000      # candles a chart keeps unfed at most (about 50 MB; 139 days of 1m candles)


class Chart:
    """One timeframe's engine, read-only, as of the last closed base candle.

    - `interval`: "5m", "1h", ...; `candle`: the last closed candle of this timeframe
      (None before the first); `closed`: True when that candle closed at this base close.
    - `events` / `changes`: what the engine reported at this close (empty when not closed).
    - `atr`: Wilder's ATR in price units. Zone lists are the engine's active zones,
      oldest first, as `ict.events.ActiveZone` (event plus last state).
    """

    __slots__ = ("interval", "candle", "closed", "_engine", "_prefixes", "_known", "_last_swing", "_cache", "_reports",
                 "_pairs", "_backlog", "_current_from", "_behind", "_last_time")

    def __init__(self, interval: str, engine: Engine, prefixes: tuple[str, ...] = ("",)) -> None:
        self.interval = interval
        self.candle: Candle | None = None
        self.closed = False
        self._engine = engine
        self._prefixes = prefixes   # by id block: "" for the base chart, "1h:" for the first higher timeframe...
        self._known: dict[int, Event] = {}          # events that may still get a life-cycle record
        self._last_swing: dict[tuple[Kind, Level | None], int] = {}   # latest swing id by (kind, level)
        self._cache: dict = {}
        self._reports: list[Report] = []            # this close's reports (once the engine caught up)
        self._pairs: list | None = None             # (record, event) of this close's records
        self._backlog: list[Candle] = []            # candles the engine has not taken yet, in order
        self._current_from: int | None = None       # where this close's candles start in the backlog (None: idle)
        self._behind = False                        # the backlog is not empty
        self._last_time: int | None = None

    # ----- updated by the runner ----------------------------------------------------------------
    def _close(self, candle: Candle, *later: Candle) -> None:
        """Take closed candle(s) of this timeframe for the engine (two when a gap in the base
        candles hid the end of the previous period); the engine gets them when first read."""
        last = self._last_time
        if later or (last is not None and candle.open_time <= last):
            self._check_order(candle, *later)
        backlog = self._backlog
        self._current_from = len(backlog)
        backlog.append(candle)
        if later:
            backlog.extend(later)
            candle = later[-1]
        self._last_time = candle.open_time
        self.candle = candle
        self.closed = True
        self._behind = True
        if self._cache:
            self._cache = {}
        if self._reports:
            self._reports = []
        self._pairs = None
        if len(backlog) >= MAX_PENDING:
            self._catch_up()

    def _idle(self) -> None:
        """A base close that did not close this timeframe's candle."""
        self.closed = False
        self._current_from = None   # the last close's candles, if still waiting, are history now
        if self._reports:  # the engine did not move: its zone lists stay cached
            self._reports, self._pairs = [], None

    def _check_order(self, *candles: Candle) -> None:
        """Refuse at once, as the engine would when fed, a candle not later than the one before."""
        last = self._last_time
        for candle in candles:
            if last is not None and candle.open_time <= last:
                raise ValueError(f"candle at {candle.open_time} is not after the previous one at {last}; "
                                 "feed each closed candle once, in time order")
            last = candle.open_time

    def _catch_up(self) -> None:
        """Feed the engine the backlog, in order; keep the reports of this close's candles only."""
        backlog, update, take = self._backlog, self._engine.update, self._take
        current = len(backlog) if self._current_from is None else self._current_from
        for index in range(current):
            reports = update(backlog[index])
            if reports:
                take(reports)  # earlier closes: their records still pair with, and retire, known events
        if current < len(backlog):
            reports = []
            for index in range(current, len(backlog)):
                reports += update(backlog[index])
            self._reports = reports
            self._pairs = take(reports) if reports else None
        backlog.clear()
        self._current_from = None
        self._behind = False

    def _take(self, reports: list[Report]) -> list | None:
        """Remember events that may get records; pair this close's records with their events."""
        known = self._known
        pairs = None
        for report in reports:
            if type(report) is LifecycleRecord:
                event = known.get(report.ref)
                if event is not None:
                    if pairs is None:
                        pairs = []
                    pairs.append((report, event))
                    if report.state in FINAL_STATES:
                        del known[report.ref]
                continue
            kind = report.kind
            if kind in _TRACKED:
                known[report.id] = report
                if kind == SWING_HIGH or kind == SWING_LOW:
                    # only the latest swing of a kind and level can still be replaced
                    older = self._last_swing.get((kind, report.level))
                    if older is not None:
                        known.pop(older, None)
                    self._last_swing[(kind, report.level)] = report.id
        return pairs

    @property
    def events(self) -> tuple[Event, ...]:
        """Events the engine reported at this close, in its order (empty when not closed)."""
        if self._behind:
            self._catch_up()
        if not self._reports:
            return ()
        events = self._cache.get("events")
        if events is None:
            events = self._cache["events"] = tuple(r for r in self._reports if type(r) is not LifecycleRecord)
        return events

    @property
    def changes(self) -> tuple[Change, ...]:
        """Life-cycle changes at this close, each with the event it is about (empty when not closed)."""
        if self._behind:
            self._catch_up()
        if self._pairs is None:
            return ()
        changes = self._cache.get("changes")
        if changes is None:
            changes = self._cache["changes"] = tuple(Change(record, event) for record, event in self._pairs)
        return changes

    # ----- what a strategy reads ----------------------------------------------------------------
    @property
    def atr(self) -> float:
        """Wilder's ATR at this timeframe's last closed candle (0.0 before any)."""
        if self._behind:
            self._catch_up()
        return self._engine.atr

    def trend(self, level: str = Level.SWING) -> str | None:
        """"bullish", "bearish" or None (no break yet): direction of the last BOS/CHoCH at
        `level` (`Level.SWING` or `Level.INTERNAL`); ValueError for another level."""
        if self._behind:
            self._catch_up()
        return self._engine.trend(level)

    def fvgs(self, direction: str | None = None) -> list[ActiveZone]:
        """Fair value gaps still tracked (not inverted or expired), oldest first; only
        `direction` ("bullish"/"bearish") when given."""
        return self._zones("fvgs", direction)

    def order_blocks(self, direction: str | None = None) -> list[ActiveZone]:
        """Order blocks not invalidated or expired, oldest first (state "" or "mitigated")."""
        return self._zones("order_blocks", direction)

    def breakers(self, direction: str | None = None) -> list[ActiveZone]:
        """Breaker blocks not invalidated or expired, oldest first (state "" or "retested")."""
        return self._zones("breakers", direction)

    def pools(self, direction: str | None = None) -> list[ActiveZone]:
        """Liquidity pools not yet swept, run or expired, oldest first. "bullish" pools rest
        above the highs (buy-side), "bearish" below the lows (sell-side)."""
        return self._zones("liquidity", direction)

    def swing_high(self, level: str = Level.SWING) -> Event | None:
        """The most recent confirmed swing high at `level` (SWING or INTERNAL), or None."""
        return self._swings(level).last_high

    def swing_low(self, level: str = Level.SWING) -> Event | None:
        """The most recent confirmed swing low at `level` (SWING or INTERNAL), or None."""
        return self._swings(level).last_low

    def ref(self, event) -> str:
        """The journal's name of an event (or of the event of an ActiveZone or Change):
        "fvg:812" for a base-chart event, "1h:choch:12" for one of a higher timeframe, whichever
        chart is asked (each higher timeframe's engine numbers its events from its own block of
        `ID_BLOCK` ids; the number shown is the one `python -m ict scan` gives on that timeframe)."""
        event = getattr(event, "event", event)
        block, number = divmod(event.id, ID_BLOCK)
        return f"{self._prefixes[block]}{event.kind}:{number}"

    def _zones(self, detector: str, direction: str | None) -> list[ActiveZone]:
        if self._behind:
            self._catch_up()
        cache = self._cache
        zones = cache.get(detector)
        if zones is None:
            zones = cache[detector] = getattr(self._engine, detector).active
        if direction is None:
            return list(zones)
        return [zone for zone in zones if zone.event.direction == direction]

    def _swings(self, level: str):
        if self._behind:
            self._catch_up()
        if level == SWING:
            return self._engine.swings
        if level == Level.INTERNAL:
            return self._engine.internal_swings
        raise ValueError(f'swing level {level!r}; use Level.SWING or Level.INTERNAL')


class Context(Chart):
    """What a strategy sees at a closed base candle: the base chart plus the rest.

    - `symbol`; `tf("1h")`: a declared higher timeframe's `Chart`.
    - `killzones`: the `ict.killzones.Killzone`s this base candle opens in (New York time);
      `day_open` / `week_open`: see `ict.killzones.SessionClock` (None until seen).
    - `positions`: this strategy's positions not CLOSED (resting entries included);
      `entries`: those whose entry is a resting LIMIT with no fill yet; `refusals`: its
      recent refused signals, newest last (at most 20). All as the trader last published
      them: in replay, after the trader handled this candle.
    """

    __slots__ = ("symbol", "_charts", "_clock", "_clock_backlog", "_feedback", "_interval_ms")

    def __init__(self, symbol: str, interval: str, interval_ms: int, engine: Engine, charts: dict[str, Chart],
                 clock: SessionClock, feedback: Callable[[], tuple] | None = None,
                 prefixes: tuple[str, ...] = ("",)) -> None:
        super().__init__(interval, engine, prefixes)
        self.symbol = symbol
        self._charts = charts
        self._clock = clock
        self._clock_backlog: list[Candle] = []   # base candles the session clock has not taken yet
        self._feedback = feedback
        self._interval_ms = interval_ms

    def _close(self, candle: Candle, *later: Candle) -> None:
        """Take the closed base candle for the engine and the session clock (both fed when first read)."""
        Chart._close(self, candle, *later)
        self._clock_backlog.append(candle)
        if len(self._clock_backlog) >= MAX_PENDING:
            self._sessions()

    def _sessions(self) -> SessionClock:
        """The session clock, fed the candles it has not taken yet."""
        backlog = self._clock_backlog
        if backlog:
            update = self._clock.update
            for candle in backlog:
                update(candle)
            backlog.clear()
        return self._clock

    def tf(self, interval: str) -> Chart:
        """The chart of declared higher timeframe `interval`; KeyError naming the declared ones."""
        try:
            return self._charts[interval]
        except KeyError:
            declared = ", ".join(f'"{name}"' for name in self._charts) or "none"
            raise KeyError(f'timeframe "{interval}" is not declared in the strategy\'s `timeframes` '
                           f"(declared: {declared})") from None

    @property
    def killzones(self) -> frozenset[Killzone]:
        """The killzones this base candle opens in (New York time, daylight saving included)."""
        return self._sessions().killzones

    def in_killzone(self, *zones: Killzone) -> bool:
        """True when this candle is in any of `zones` (in any killzone when none is given)."""
        inside = self.killzones
        return bool(inside) if not zones else any(zone in inside for zone in zones)

    @property
    def day_open(self) -> float | None:
        """Opening price of the New York day (the first candle at or after 00:00 New York)."""
        return self._sessions().day_open

    @property
    def week_open(self) -> float | None:
        """Opening price of the week (see `ict.killzones.SessionClock.week_open`)."""
        return self._sessions().week_open

    @property
    def positions(self) -> tuple[PositionView, ...]:
        """This strategy's positions not CLOSED, oldest first (resting entries included)."""
        return self._published()[0]

    @property
    def entries(self) -> tuple[PositionView, ...]:
        """The positions whose entry is a resting LIMIT with no fill yet (what `CancelEntry` takes)."""
        return tuple(view for view in self.positions if view.entry_type is EntryType.LIMIT
                     and view.state == "ENTERING" and view.filled_quantity == 0)

    @property
    def refusals(self) -> tuple[RefusalView, ...]:
        """This strategy's recently refused signals and intents, newest last (at most 20)."""
        return self._published()[1]

    def _published(self) -> tuple:
        cached = self._cache.get("feedback")
        if cached is None:
            views, refusals = self._feedback() if self._feedback is not None else _NO_FEEDBACK
            candle = self.candle
            if candle is None:  # the runner closes a candle before it calls the strategy
                raise RuntimeError("Context.positions and .refusals are known only after the first closed candle")
            now, step = candle.open_time, self._interval_ms
            views = tuple(replace(view, age_candles=(now - view.candle_time) // step) for view in views)
            cached = self._cache["feedback"] = (views, tuple(refusals))
        return cached
