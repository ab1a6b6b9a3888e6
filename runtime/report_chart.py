"""The report's picture: price with every trade and the zones behind it, equity, and drawdown.

The price panel never draws candle by candle: `downsample` folds the candles into at most
`MAX_BUCKETS` buckets (lowest low, highest high, last close each), drawn as a close line in a
high-low band, so a year of 5m candles (105,000) reads like a week. Trades are drawn on top
at their real times and prices: entry (triangle up for LONG, down for SHORT), exit (dot),
planned stop and target (short lines over the trade's life), all green for a win and red for
a loss. The zones a trade was built from (`signals.basis`, e.g. `fvg:812`) are boxes from the
candle the zone formed on to the entry; they are found by running the ICT engine over the
same candles, which gives the same ids the strategy saw. A ref with an interval prefix
(`1h:fvg:12`) belongs to a higher-timeframe engine and is not drawn (counted in the title).
matplotlib is imported here only, with the Agg backend.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from ict.engine import Engine
from ict.events import BULLISH, FVG, ORDER_BLOCK, Event
from ict.models import Candle
from runtime.metrics import ClosedTrade

MAX_BUCKETS = 1500          # price/equity points drawn at most: about one per pixel column at 20 in × 100 dpi
WIN, LOSS = "#2e7d32", "#c62828"
_DETAIL_LIMIT = 300         # above this many trades, smaller marks and no stop/target lines
_ZONE_COLOURS = {FVG: ("#43a047", "#e53935"), ORDER_BLOCK: ("#1e88e5", "#fb8c00")}


def downsample(candles: Sequence[Candle], max_buckets: int = MAX_BUCKETS) -> list[tuple[int, float, float, float]]:
    """Fold `candles` into at most `max_buckets` consecutive buckets of equal candle count.

    Returns (open time of the bucket's first candle in epoch ms, lowest low, highest high,
    last close) per bucket, in time order; [] for no candles. Raises ValueError when
    `max_buckets` < 1."""
    if max_buckets < 1:
        raise ValueError("max_buckets must be at least 1")
    size = -(-len(candles) // max_buckets)  # ceiling: never more than max_buckets buckets
    out = []
    for start in range(0, len(candles), size or 1):
        chunk = candles[start:start + size]
        out.append((chunk[0].open_time, min(c.low for c in chunk), max(c.high for c in chunk), chunk[-1].close))
    return out


def bucket_series(values: Sequence[float], max_buckets: int, pick) -> list[float]:
    """`values` folded like `downsample` folds candles, each bucket reduced by `pick` (max, min, ...)."""
    size = -(-len(values) // max_buckets) or 1
    return [pick(values[i:i + size]) for i in range(0, len(values), size)]


def find_zones(trades: Sequence[ClosedTrade], candles: Sequence[Candle], ict_settings) -> tuple[dict[int, Event], int]:
    """The engine events the trades' basis names on the base timeframe, by id, and the number of
    higher-timeframe refs skipped. Runs `Engine(ict_settings)` over `candles` once."""
    wanted: set[int] = set()
    skipped = 0
    for trade in trades:
        for ref in trade.basis:
            parts = ref.split(":")
            if len(parts) == 2 and parts[1].isdigit():
                wanted.add(int(parts[1]))
            else:
                skipped += 1
    found: dict[int, Event] = {}
    if wanted:
        engine = Engine(ict_settings)
        for candle in candles:
            for report in engine.update(candle):
                if isinstance(report, Event) and report.id in wanted:
                    found[report.id] = report
    return found, skipped


def _date(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def draw_report(out: str, candles: Sequence[Candle], trades: Sequence[ClosedTrade], equity: Sequence[float],
                drawdown_percent: Sequence[float] | None, zones: dict[int, Event], title: str,
                equity_times: Sequence[int] | None = None, equity_label: str = "equity (USDT)") -> None:
    """Write the PNG to `out`, three panels on one time axis: price, equity, drawdown. `equity` and `drawdown_percent`
    hold one value per candle (USDT, % below the running peak), or one per time of `equity_times`
    (epoch ms; a replay of several symbols steps at every symbol's close). Without
    `drawdown_percent` the picture has two panels, the second labelled `equity_label` (a symbol's
    own net PnL, say). Raises ValueError for no candles."""
    if not candles:
        raise ValueError("no candles to draw")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 2 if drawdown_percent is None else 3
    fig, axes = plt.subplots(rows, 1, figsize=(20, 10 if rows == 2 else 12), dpi=100, sharex=True,
                             gridspec_kw={"height_ratios": [5, 2, 1.3][:rows]})
    price, eq = axes[0], axes[1]
    buckets = downsample(candles)
    times = [_date(b[0]) for b in buckets]
    eq_times = times
    if equity_times is not None:   # the equity steps at its own times: each bucket's first, folded as bucket_series folds
        eq_times = [_date(ms) for ms in equity_times[::-(-len(equity_times) // MAX_BUCKETS) or 1]]
    price.fill_between(times, [b[1] for b in buckets], [b[2] for b in buckets], color="#90a4ae", alpha=0.35,
                       linewidth=0, label="high-low range")
    price.plot(times, [b[3] for b in buckets], color="#37474f", linewidth=0.7, label="close")
    _draw_zones(price, trades, zones)
    _draw_trades(price, trades)
    price.set_title(title, fontsize=11)
    price.set_ylabel("price (USDT)")
    _legend(price)
    eq.plot(eq_times, bucket_series(equity, MAX_BUCKETS, min), color="#1565c0", linewidth=0.9)
    eq.set_ylabel(equity_label)
    if drawdown_percent is not None:
        axes[2].fill_between(eq_times, [-v for v in bucket_series(drawdown_percent, MAX_BUCKETS, max)], 0, color=LOSS,
                             alpha=0.5, linewidth=0)
        axes[2].set_ylabel("drawdown (%)")
    axes[-1].set_xlabel("time (UTC)")
    for ax in axes:
        ax.grid(alpha=0.25)
        ax.margins(x=0.005)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _draw_trades(ax, trades: Sequence[ClosedTrade]) -> None:
    """One artist per kind of mark (fast for thousands of trades); marks shrink when trades are many,
    and planned stop/target lines are left out above `_DETAIL_LIMIT` trades, where they would be specks."""
    from matplotlib.collections import LineCollection
    from matplotlib.dates import date2num

    dense = len(trades) > _DETAIL_LIMIT
    size, edge = (12, 0.0) if dense else (40, 0.4)
    for won, colour in ((True, WIN), (False, LOSS)):
        group = [t for t in trades if t.won == won]
        if not group:
            continue
        start = [date2num(_date(t.opened_at)) for t in group]
        end = [date2num(_date(t.closed_at)) for t in group]
        entry = [float(t.entry_price) for t in group]
        exit_ = [float(t.exit_price if t.exit_price is not None else t.entry_price) for t in group]
        ax.add_collection(LineCollection([((a, p), (b, q)) for a, b, p, q in zip(start, end, entry, exit_)],
                                         colors=colour, linewidths=1.0 if not dense else 0.6, alpha=0.8))
        for side, marker in (("LONG", "^"), ("SHORT", "v")):
            picked = [i for i, t in enumerate(group) if t.side == side]
            ax.scatter([start[i] for i in picked], [entry[i] for i in picked], marker=marker, s=size, c=colour,
                       edgecolors="black", linewidths=edge, zorder=3)
        ax.scatter(end, exit_, marker="o", s=size / 2.5, c=colour, zorder=3)
        if not dense:
            for price, line_colour in ((lambda t: t.planned_stop, LOSS), (lambda t: t.planned_target, WIN)):
                levels = [(float(price(t)), a, b) for t, a, b in zip(group, start, end) if price(t) is not None]
                if levels:
                    ax.hlines([v[0] for v in levels], [v[1] for v in levels], [v[2] for v in levels],
                              colors=line_colour, linestyles=":", linewidth=0.9)


def _draw_zones(ax, trades: Sequence[ClosedTrade], zones: dict[int, Event]) -> None:
    from matplotlib.dates import date2num
    from matplotlib.patches import Rectangle

    for trade in trades:
        for ref in trade.basis:
            parts = ref.split(":")
            zone = zones.get(int(parts[1])) if len(parts) == 2 and parts[1].isdigit() else None
            if zone is None:
                continue
            bull, bear = _ZONE_COLOURS.get(zone.kind, ("#7e57c2", "#7e57c2"))
            colour = bull if zone.direction == BULLISH else bear
            x0, x1 = date2num(_date(zone.formed_at)), date2num(_date(trade.opened_at))
            height = max(zone.top - zone.bottom, 1e-9)  # a level (pool, break) is a thin box
            ax.add_patch(Rectangle((x0, zone.bottom), max(x1 - x0, 1e-4), height, facecolor=colour, alpha=0.25,
                                   edgecolor=colour, linewidth=0.8))


def _legend(ax) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    def box(colour: str, label: str) -> Rectangle:
        return Rectangle((0, 0), 1, 1, facecolor=colour, alpha=0.4, label=label)

    handles = [Line2D([], [], color="#37474f", label="close (downsampled), band: high-low"),
               Line2D([], [], color=WIN, marker="^", label="winning trade: entry ▲ LONG / ▼ SHORT, exit ●"),
               Line2D([], [], color=LOSS, marker="v", label="losing trade"),
               Line2D([], [], color=LOSS, linestyle=":", label="planned stop"),
               Line2D([], [], color=WIN, linestyle=":", label="planned target"),
               box(_ZONE_COLOURS[FVG][0], "FVG behind a trade (green bullish, red bearish)"),
               box(_ZONE_COLOURS[ORDER_BLOCK][0], "order block (blue bullish, orange bearish)"),
               box("#7e57c2", "other zone/level")]
    ax.legend(handles=handles, loc="upper left", fontsize=8, ncol=4, framealpha=0.85)
