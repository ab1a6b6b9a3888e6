"""Candles: the store behind `GET /fapi/v1/klines` and the `<symbol>@kline_<i>` payload.

A `Kline` is one bar with Binance's twelve fields. `CandleStore` keeps bars per
(symbol, interval) in open-time order and answers REST queries with Binance's
startTime / endTime / limit rules (default 500, max 1500, ascending; only endTime
means "the `limit` bars ending there"; neither means "the most recent"). Bars that
open after the server clock are not visible yet. A bar pushed with `closed=False` is
the still-forming bar: it is returned last and its closeTime is ≥ server time.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from .errors import ApiError, error, invalid_param
from .symbols import SymbolRules

_MINUTE = 60_000
INTERVAL_MS: dict[str, int] = {
    "1m": _MINUTE, "3m": 3 * _MINUTE, "5m": 5 * _MINUTE, "15m": 15 * _MINUTE, "30m": 30 * _MINUTE,
    "1h": 60 * _MINUTE, "2h": 120 * _MINUTE, "4h": 240 * _MINUTE, "6h": 360 * _MINUTE,
    "8h": 480 * _MINUTE, "12h": 720 * _MINUTE, "1d": 1440 * _MINUTE, "3d": 3 * 1440 * _MINUTE,
    "1w": 7 * 1440 * _MINUTE, "1M": 30 * 1440 * _MINUTE,
}
MAX_LIMIT = 1500


@dataclass(frozen=True)
class Kline:
    """One bar. Times in epoch ms (close_time = next open − 1); prices in the quote asset."""

    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_base: Decimal
    taker_quote: Decimal
    closed: bool = True
    first_trade_id: int = 0
    last_trade_id: int = 0


def make_kline(open_time: int, interval: str, o, h, l, c, v, closed: bool = True) -> Kline:
    """A bar from OHLCV; the volume-derived fields are filled deterministically."""
    o, h, l, c, v = (Decimal(str(x)) for x in (o, h, l, c, v))
    quote = (v * (o + h + l + c) / 4).quantize(Decimal("0.00001"))
    trades = max(1, int(v * 10))
    return Kline(open_time, open_time + interval_ms(interval) - 1, o, h, l, c, v, quote, trades,
                 (v / 2).quantize(Decimal("0.001")), (quote / 2).quantize(Decimal("0.00001")), closed)


def interval_ms(interval: str) -> int:
    if interval not in INTERVAL_MS:
        raise error(-1120)
    return INTERVAL_MS[interval]


def rest_row(k: Kline, rules: SymbolRules) -> list:
    """A `GET /fapi/v1/klines` row: 12 fields, prices and volumes as strings."""
    return [k.open_time, rules.fmt_price(k.open), rules.fmt_price(k.high), rules.fmt_price(k.low),
            rules.fmt_price(k.close), rules.fmt_qty(k.volume), k.close_time, _q(k.quote_volume), k.trades,
            rules.fmt_qty(k.taker_base), _q(k.taker_quote), "0"]


def ws_payload(k: Kline, rules: SymbolRules, interval: str, event_ms: int) -> dict:
    """The `<symbol>@kline_<interval>` event as Binance pushes it on /market."""
    return {"e": "kline", "E": event_ms, "s": rules.symbol, "k": {
        "t": k.open_time, "T": k.close_time, "s": rules.symbol, "i": interval,
        "f": k.first_trade_id, "L": k.last_trade_id, "o": rules.fmt_price(k.open), "c": rules.fmt_price(k.close),
        "h": rules.fmt_price(k.high), "l": rules.fmt_price(k.low), "v": rules.fmt_qty(k.volume),
        "n": k.trades, "x": k.closed, "q": _q(k.quote_volume), "V": rules.fmt_qty(k.taker_base),
        "Q": _q(k.taker_quote), "B": "0"}}


def _q(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.00001")), "f")


class CandleStore:
    """Bars per (symbol, interval), thread-safe; trade ids run on across bars."""

    def __init__(self) -> None:
        self._bars: dict[tuple[str, str], list[Kline]] = {}
        self._next_trade_id = 1_000_000_000
        self._lock = threading.Lock()

    def add(self, symbol: str, interval: str, kline: Kline) -> Kline:
        """Append a bar, or replace the forming bar with the same open time; returns it with trade ids."""
        with self._lock:
            bars = self._bars.setdefault((symbol, interval), [])
            if bars and bars[-1].open_time == kline.open_time:
                first = bars.pop().first_trade_id
            elif bars and kline.open_time < bars[-1].open_time:
                raise ValueError(f"{symbol} {interval} bar {kline.open_time} is older than the last bar "
                                 f"{bars[-1].open_time}; push bars in time order")
            else:
                first = self._next_trade_id
            kline = replace(kline, first_trade_id=first, last_trade_id=first + kline.trades - 1)
            self._next_trade_id = max(self._next_trade_id, kline.last_trade_id + 1)
            bars.append(kline)
            return kline

    def bars(self, symbol: str, interval: str) -> list[Kline]:
        with self._lock:
            return list(self._bars.get((symbol, interval), []))

    def query(self, symbol: str, interval: str, params: dict[str, str], now_ms: int) -> list[Kline]:
        """Binance's klines selection for raw REST params (already known-valid symbol)."""
        interval_ms(interval)
        limit = _int_param(params, "limit", 500)
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid_param("limit")
        start = _int_param(params, "startTime", None)
        end = _int_param(params, "endTime", None)
        if start is not None and end is not None and start > end:
            raise error(-1023)
        visible = [b for b in self.bars(symbol, interval) if b.open_time <= now_ms]
        if start is not None:
            rows = [b for b in visible if b.open_time >= start and (end is None or b.open_time <= end)]
            return rows[:limit]
        if end is not None:
            visible = [b for b in visible if b.open_time <= end]
        return visible[-limit:]


def _int_param(params: dict[str, str], name: str, default):
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.lstrip("-").isdigit():
        raise ApiError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^-?[0-9]{{1,20}}$'.")
    return int(raw)


def read_candle_file(path: str | Path, interval: str) -> list[Kline]:
    """Bars from the project's 6-column CSV (with header) or Binance's 12-column rows."""
    bars = []
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        fields = [f.strip() for f in line.split(",")]
        if not fields or not fields[0].lstrip("-").isdigit():
            continue
        open_time = int(fields[0])
        if open_time > 10**14:
            open_time //= 1000
        if len(fields) >= 12:
            o, h, l, c, v = (Decimal(x) for x in fields[1:6])
            bars.append(Kline(open_time, open_time + interval_ms(interval) - 1, o, h, l, c, v,
                              Decimal(fields[7]), int(fields[8]), Decimal(fields[9]), Decimal(fields[10])))
        else:
            bars.append(make_kline(open_time, interval, *fields[1:6]))
    return bars
