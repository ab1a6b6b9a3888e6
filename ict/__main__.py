"""Command line: `python -m ict scan FILE ...` and `python -m ict plot FILE ...`.

Thin wrappers: each command parses its options and calls `ict.scan.scan_command` or
`ict.plot.draw_chart`. Expected failures (a bad file, time or setting) print one line
to stderr and exit with status 2; a traceback means a bug.
"""
from __future__ import annotations

import argparse
import sys

from ict.scan import CliError, load_file, load_settings, parse_time, run_engine, scan_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ict", description="Run the ICT engine over a candle file.")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser(
        "scan", help="print events and life-cycle records in time order",
        description="Print events and life-cycle records in time order. "
                    "Example: python -m ict scan data/BTCUSDT-perp-5m-2023-01-01.csv --from 2023-03-10 --to 2023-03-11")
    scan.add_argument("file", help="candle file (project CSV or Binance's 12-column klines)")
    scan.add_argument("--settings", metavar="PATH", help="TOML file whose [ict] table to use (default: built-in defaults)")
    scan.add_argument("--jsonl", action="store_true", help="one JSON object per line instead of text")
    scan.add_argument("--from", dest="start", metavar="TIME", help="first time to print (UTC date, date-time or epoch ms)")
    scan.add_argument("--to", dest="end", metavar="TIME", help="last time to print, inclusive")
    plot = commands.add_parser(
        "plot", help="draw candles with the engine's zones to a PNG",
        description="Draw candles with FVG, order-block and breaker boxes, pool lines, BOS/CHoCH and sweeps. "
                    "Example: python -m ict plot data/BTCUSDT-perp-5m-2023-01-01.csv --from 2023-03-10 "
                    "--to 2023-03-11 --out chart.png")
    plot.add_argument("file", help="candle file")
    plot.add_argument("--settings", metavar="PATH", help="TOML file whose [ict] table to use")
    plot.add_argument("--from", dest="start", metavar="TIME", required=True, help="first candle to draw")
    plot.add_argument("--to", dest="end", metavar="TIME", required=True, help="last candle to draw, inclusive")
    plot.add_argument("--out", metavar="PNG", required=True, help="where to write the chart")
    return parser


def _plot(args: argparse.Namespace) -> int:
    from ict.plot import draw_chart

    start, end = parse_time(args.start, "--from"), parse_time(args.end, "--to")
    if end < start:
        raise CliError(f"--to {args.end} is before --from {args.start}; swap them")
    settings = load_settings(args.settings)
    candles = load_file(args.file)
    reports = run_engine(candles, settings, end)
    try:
        drawn = draw_chart(candles, reports, start, end, args.out, title=f"{args.file}  {args.start} to {args.end}")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc}") from None
    print(f"wrote {args.out} ({drawn} candles)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "scan":
            return scan_command(args.file, args.settings, args.jsonl, args.start, args.end, sys.stdout)
        return _plot(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head` closed the pipe: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
