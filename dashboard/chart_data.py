"""What the chart page draws for one symbol and interval: candles, ICT zones and every trade.

- candles: `dashboard.chart_candles` (the replay's candle file, or the exchange's closed klines);
  for a replay journal the window ends at the last candle the journal mentions for the symbol,
  so an interrupted replay, or one whose last trade came early, still shows its trades;
- zones: the project's own `ict.engine.Engine` (settings `[ict]`) run over those closed candles:
  the fair value gaps, order blocks, breakers and liquidity pools it still tracks at the last
  candle (`Engine.active_*`), each ending where `python -m ict plot` ends it (`ict.plot.zone_ends`:
  a filled gap), and the sweeps and runs of pools within the window;
- trades: the symbol's positions in the journal held within those candles, open ones too
  (`journal.chart_reads`); a poll costs a few rows, however long the journal.

Display only: nothing here feeds a strategy. `ChartData.as_json` is the /api/chart answer:
prices and money as decimal strings, times as epoch ms (`*_ms`) for the chart library.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from dashboard.chart_candles import CandleSource
from ict.engine import Engine
from ict.events import RUN, SWEEP, Event
from ict.intervals import INTERVAL_MS
from ict.models import Candle
from ict.plot import zone_ends
from ict.settings import IctSettings
from journal.chart_reads import ChartPosition, read_chart_journal, read_chart_positions
from journal.journal import JournalError
from journal.values import stored
from runtime.settings import Settings

ZONE_KINDS = ("fvg", "order_block", "breaker", "liquidity_pool", "sweep", "run")


@dataclass(frozen=True)
class Zone:
    """One ICT zone as the chart draws it.

    - `kind`: fvg | order_block | breaker | liquidity_pool | sweep | run; `direction`: bullish | bearish
      (a buy-side pool, above the highs, is bullish; a sweep's is the move expected after it, a run's
      the move that broke through).
    - `level`: internal | swing for blocks, internal | day | week for pools and sweeps, None for gaps.
    - `top`, `bottom`: exchange prices, top >= bottom; a pool's level is both; a sweep or run: the
      part of its candle beyond the pool (the pool's level is its bottom above, its top below).
    - `start_ms`: open time of the candle the zone sits on (a sweep or run: the taking candle);
      `confirmed_ms`: the candle at whose close the engine knew it.
    - `end_ms`: the candle where it stopped counting for the chart (a filled gap), else None (up to now).
    - `state`: its last life-cycle state (touched, half_filled, filled, mitigated, retested) or "".
    """

    id: int
    kind: str
    direction: str
    level: str | None
    top: float
    bottom: float
    start_ms: int
    confirmed_ms: int
    end_ms: int | None
    state: str


@dataclass(frozen=True)
class ChartData:
    """The chart of `symbol` at `interval` ("1m", "1h"): `candles` oldest first, `zones`, `trades`
    (the symbol's positions held within the candles, and those waiting for their entry; oldest first),
    `trades_total` (the symbol's positions in the whole journal); `mode` of the settings; `source` the
    candle file or REST host; `problem` one line when candles or the journal could not be read, else None."""

    symbol: str
    interval: str
    mode: str
    source: str
    candles: tuple[Candle, ...]
    zones: tuple[Zone, ...]
    trades: tuple[ChartPosition, ...]
    trades_total: int = 0
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The /api/chart answer: prices and money as decimal strings, times as epoch ms (`interval_ms`:
        the candle length)."""
        return {"symbol": self.symbol, "interval": self.interval, "interval_ms": INTERVAL_MS[self.interval],
                "mode": self.mode, "source": self.source,
                "problem": self.problem,
                "candles": [{"time_ms": c.open_time, "open": price_text(c.open), "high": price_text(c.high),
                             "low": price_text(c.low), "close": price_text(c.close), "volume": price_text(c.volume)}
                            for c in self.candles],
                "zones": [_zone_json(zone) for zone in self.zones],
                "trades": [_trade_json(trade) for trade in self.trades], "trades_total": self.trades_total}


def build_chart(settings: Settings, journal_path: Path, source: CandleSource, symbol: str, interval: str,
                limit: int) -> ChartData:
    """The chart of `symbol` at `interval`, the last `limit` closed candles. Never raises for a
    missing or unreadable journal or candle source: `problem` says it in one line."""
    problems: list[str] = []
    journal = _journal_reading(problems, read_chart_journal, journal_path, symbol)
    end_ms = journal.last_ms if journal and settings.mode == "replay" and journal.mode == "replay" else None
    window = source.window(symbol, interval, limit, end_ms)
    if window.problem:
        problems.insert(0, window.problem)
    trades: list[ChartPosition] = []
    if journal and journal.positions and window.candles:
        first, last = window.candles[0].open_time, window.candles[-1].open_time + INTERVAL_MS[interval]
        trades = _journal_reading(problems, read_chart_positions, journal_path, symbol, first, last) or []
    return ChartData(symbol, interval, settings.mode, window.source, window.candles,
                     tuple(active_zones(window.candles, settings.ict)), tuple(trades),
                     journal.positions if journal else 0, "; ".join(problems) or None)


def _journal_reading(problems: list[str], read, *args):
    """`read(*args)`, or None with the journal's one line added to `problems`: the chart still draws
    the candles and zones of a journal it cannot read."""
    try:
        return read(*args)
    except JournalError as exc:
        problems.append(f"{exc}; trades not shown")
        return None


def active_zones(candles: Sequence[Candle], settings: IctSettings) -> list[Zone]:
    """The zones an `Engine(settings)` fed `candles` still tracks after the last one (gaps, order
    blocks, breakers, pools; oldest first per kind), then the sweeps and runs among its events."""
    engine = Engine(settings)
    reports = engine.scan(candles)
    ends = zone_ends(reports)
    zones = []
    for tracked in (engine.active_fvgs, engine.active_order_blocks, engine.active_breakers, engine.active_pools):
        zones += [_zone(active.event, ends.get(active.event.id), str(active.state)) for active in tracked]
    zones += [_zone(report, None, "") for report in reports if isinstance(report, Event) and report.kind in (SWEEP, RUN)]
    return zones


def _zone(event: Event, end_ms: int | None, state: str) -> Zone:
    return Zone(event.id, str(event.kind), str(event.direction), None if event.level is None else str(event.level),
                event.top, event.bottom, event.formed_at, event.confirmed_at, end_ms, state)


def price_text(value: float) -> str:
    """A float price as the decimal text it was parsed from: 36612.9 -> "36612.9", 36612.0 -> "36612",
    1e-05 -> "0.00001" (repr round-trips the file's or Binance's text; never an exponent)."""
    return stored(Decimal(repr(value)))


def money_text(value: Decimal | None) -> str | None:
    """A Decimal as the journal writes it (`journal.values.stored`: plain text without trailing
    zeros, "1.50" -> "1.5"), None as None."""
    return stored(value)


def _zone_json(zone: Zone) -> dict[str, Any]:
    return {"id": zone.id, "kind": zone.kind, "direction": zone.direction, "level": zone.level,
            "top": price_text(zone.top), "bottom": price_text(zone.bottom), "start_ms": zone.start_ms,
            "confirmed_ms": zone.confirmed_ms, "end_ms": zone.end_ms, "state": zone.state}


def _trade_json(trade: ChartPosition) -> dict[str, Any]:
    return {"id": trade.id, "side": trade.side, "strategy": trade.strategy, "state": trade.state,
            "quantity": money_text(trade.quantity), "entry_price": money_text(trade.entry_price),
            "stop_price": money_text(trade.stop_price), "take_profit_price": money_text(trade.take_profit_price),
            "exit_price": money_text(trade.exit_price), "entry_ms": trade.opened_at_ms, "exit_ms": trade.closed_at_ms,
            "close_reason": trade.close_reason, "realized_pnl": money_text(trade.realized_pnl),
            "fees": money_text(trade.fees)}
