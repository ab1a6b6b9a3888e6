"""`python -m ict plot`: draw candles with the engine's zones, so a user can check it by eye.

Fair value gaps, order blocks and breakers are boxes from the candle they sit on to the
candle that ends them (filled or inverted gap, invalidated block) or the chart's right
edge; liquidity pools are dashed lines until they are swept or run; BOS/CHoCH are lines
from the pivot to the breaking candle; sweeps and runs are marks on the taking candle;
swing-level pivots are small triangles. The engine runs from the start of the file, so
zones formed before the window are drawn as well. matplotlib is imported here only,
with the Agg backend, so `import ict` stays light.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Iterable, Literal, Sequence

from ict.events import (BOS, BREAKER, CHOCH, CONSUMED, EXPIRED, FILLED, FVG, INVALIDATED, INVERTED, LIQUIDITY_POOL,
                        ORDER_BLOCK, RUN, SWEEP, SWING, SWING_HIGH, SWING_LOW, BULLISH, Event, LifecycleRecord,
                        Report)
from ict.models import Candle

# the record that ends a zone on the chart, per kind
_ENDS = {FVG: (FILLED, INVERTED, EXPIRED), ORDER_BLOCK: (INVALIDATED, EXPIRED), BREAKER: (INVALIDATED, EXPIRED),
         LIQUIDITY_POOL: (CONSUMED, EXPIRED)}
_BOX_STYLE = {  # kind: (bullish colour, bearish colour, alpha)
    FVG: ("#2e7d32", "#c62828", 0.18),
    ORDER_BLOCK: ("#1565c0", "#ef6c00", 0.22),
    BREAKER: ("#6a1b9a", "#6a1b9a", 0.15),
}
_POOL_NAMES: dict[tuple[str | None, bool], str] = {  # (level, buy-side): label
    ("day", True): "PDH", ("day", False): "PDL", ("week", True): "PWH", ("week", False): "PWL"}


def draw_chart(candles: Sequence[Candle], reports: Sequence[Report], start: int, end: int, out: str,
               title: str = "") -> int:
    """Draw the candles with open time in [start, end] and `reports` onto a PNG at `out`.

    Returns the number of candles drawn; raises ValueError when there are none.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    window = [c for c in candles if start <= c.open_time <= end]
    if not window:
        raise ValueError("no candle lies between --from and --to; check the times against the file")
    times = [c.open_time for c in window]
    last_x = len(window) - 1

    def x_of(ms: int) -> float:
        return min(bisect_left(times, ms), last_x) if ms >= times[0] else -0.5

    ends = zone_ends(reports)
    fig, ax = plt.subplots(figsize=(20, 9), dpi=100)
    _draw_candles(ax, window)
    low = min(c.low for c in window)
    high = max(c.high for c in window)
    for report in reports:
        if not isinstance(report, Event) or report.confirmed_at > end:
            continue
        finish = ends.get(report.id, end + 1)
        if finish < times[0]:
            continue
        x0, x1 = x_of(report.formed_at), x_of(finish) if finish <= end else last_x + 0.5
        if report.kind in _BOX_STYLE and report.bottom <= high and report.top >= low:
            bull, bear, alpha = _BOX_STYLE[report.kind]
            colour = bull if report.direction == BULLISH else bear
            ax.add_patch(Rectangle((x0, report.bottom), max(x1 - x0, 0.6), report.top - report.bottom,
                                   facecolor=colour, alpha=alpha, edgecolor=colour, linewidth=0.6,
                                   hatch="//" if report.kind == BREAKER else None))
        elif report.kind == LIQUIDITY_POOL and low <= report.top <= high:
            name = _POOL_NAMES.get((report.level, report.direction == BULLISH), "EQH" if report.direction == BULLISH else "EQL")
            ax.hlines(report.top, x0, x1, colors="#455a64", linestyles="--", linewidth=1.0)
            ax.text(x1, report.top, f" {name}", fontsize=7, va="center", color="#455a64")
        elif report.kind in (BOS, CHOCH) and report.confirmed_at >= times[0]:
            colour = "#1b5e20" if report.direction == BULLISH else "#b71c1c"
            style: Literal["-", ":"] = "-" if report.level == SWING else ":"
            bx = x_of(report.confirmed_at)
            ax.hlines(report.top, x0, bx, colors=colour, linestyles=style, linewidth=1.0)
            ax.text((x0 + bx) / 2, report.top, report.kind.upper() + ("" if report.level == SWING else " i"),
                    fontsize=7, color=colour, ha="center", va="bottom" if report.direction == BULLISH else "top")
        elif report.kind in (SWEEP, RUN) and report.confirmed_at >= times[0]:
            # the zone runs from the pool to the candle's extreme beyond it; mark that extreme
            above = (report.kind == SWEEP) != (report.direction == BULLISH)
            y = report.top if above else report.bottom
            ax.plot([x_of(report.confirmed_at)], [y], marker="x" if report.kind == SWEEP else "*",
                    color="#000000", markersize=8)
        elif report.kind in (SWING_HIGH, SWING_LOW) and report.level == SWING and report.formed_at >= times[0]:
            marker = "v" if report.kind == SWING_HIGH else "^"
            offset = (high - low) * 0.01 * (1 if report.kind == SWING_HIGH else -1)
            ax.plot([x0], [report.top + offset], marker=marker, color="#37474f", markersize=6)
    _axes(ax, times, low, high, title)
    _legend(ax, Rectangle)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return len(window)


_ALL_ENDS = {state for states in _ENDS.values() for state in states}


def zone_ends(reports: Iterable[Report]) -> dict[int, int]:
    """Event id -> open time (epoch ms) of the candle where its zone stops being drawn: the first
    record that fills, inverts, invalidates, consumes or expires it (`_ENDS`). Zones still standing
    have no entry. The chart page (dashboard/chart_data.py) draws zones to the same ends."""
    ends: dict[int, int] = {}
    for report in reports:
        if isinstance(report, LifecycleRecord) and report.state in _ALL_ENDS and report.ref not in ends:
            ends[report.ref] = report.at
    return ends


def _draw_candles(ax, window: Sequence[Candle]) -> None:
    xs = range(len(window))
    up = ["#26a69a" if c.close >= c.open else "#ef5350" for c in window]
    ax.vlines(xs, [c.low for c in window], [c.high for c in window], colors=up, linewidth=0.7)
    bottoms = [min(c.open, c.close) for c in window]
    heights = [max(abs(c.close - c.open), 1e-9) for c in window]
    ax.bar(xs, heights, bottom=bottoms, width=0.7, color=up, edgecolor=up, linewidth=0.3)


def _axes(ax, times: list[int], low: float, high: float, title: str) -> None:
    from ict.intervals import format_time

    pad = (high - low) * 0.03 or 1.0
    ax.set_ylim(low - pad, high + pad)
    ax.set_xlim(-1, len(times) + 6)
    step = max(len(times) // 12, 1)
    ticks = list(range(0, len(times), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([format_time(times[i])[5:] for i in ticks], fontsize=8)
    ax.grid(alpha=0.2)
    ax.set_title(title or "ICT engine", fontsize=11)
    ax.set_ylabel("price")


def _legend(ax, Rectangle) -> None:
    from matplotlib.lines import Line2D

    handles = [Rectangle((0, 0), 1, 1, facecolor=_BOX_STYLE[FVG][0], alpha=0.4, label="FVG bullish"),
               Rectangle((0, 0), 1, 1, facecolor=_BOX_STYLE[FVG][1], alpha=0.4, label="FVG bearish"),
               Rectangle((0, 0), 1, 1, facecolor=_BOX_STYLE[ORDER_BLOCK][0], alpha=0.4, label="OB bullish"),
               Rectangle((0, 0), 1, 1, facecolor=_BOX_STYLE[ORDER_BLOCK][1], alpha=0.4, label="OB bearish"),
               Rectangle((0, 0), 1, 1, facecolor=_BOX_STYLE[BREAKER][0], alpha=0.3, hatch="//", label="breaker"),
               Line2D([], [], color="#455a64", linestyle="--", label="pool (EQH/EQL, PDH/PDL, PWH/PWL)"),
               Line2D([], [], color="#1b5e20", label="BOS/CHoCH swing (dotted, 'i': internal)"),
               Line2D([], [], color="black", marker="x", linestyle="", label="sweep"),
               Line2D([], [], color="black", marker="*", linestyle="", label="run"),
               Line2D([], [], color="#37474f", marker="v", linestyle="", label="swing-level pivot")]
    ax.legend(handles=handles, loc="upper left", fontsize=7, ncol=5, framealpha=0.85)
