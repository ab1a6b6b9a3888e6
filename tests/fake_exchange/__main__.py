"""Run the fake exchange by hand or for the benchmark.

    python -m tests.fake_exchange --candles data/BTCUSDT-perp-1m-2022-05-06.csv \\
        --history 100 --every 1.0

loads the first `--history` bars as klines history, prints the REST and WS URLs and
the (public, Binance-documented) API key pair, then pushes one further bar every
`--every` seconds (0: serve the history only) until the file ends or Ctrl-C.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .candles import read_candle_file
from .fake import FakeBinance


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_exchange", description=__doc__.split("\n\n")[0])
    parser.add_argument("--candles", required=True, help="candle file (6-column CSV or Binance's 12 columns)")
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--interval", default="1m")
    parser.add_argument("--history", type=int, default=100, help="bars loaded before serving (default 100)")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between pushed bars; 0 = no replay")
    parser.add_argument("--rest-port", type=int, default=0, help="REST port (default: any free port)")
    parser.add_argument("--ws-port", type=int, default=0, help="WebSocket port (default: any free port)")
    args = parser.parse_args(argv)

    bars = read_candle_file(args.candles, args.interval)
    if not bars:
        parser.error(f"--candles {args.candles} has no candle rows")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeBinance(rest_port=args.rest_port, ws_port=args.ws_port) as fx:
        fx.load_candles(bars[:args.history], args.symbol, args.interval)
        stream = f"{args.symbol.lower()}@kline_{args.interval}"
        print(f"REST   {fx.rest_url}   (python-binance: client.FUTURES_URL = '{fx.rest_url}/fapi')")
        print(f"WS     {fx.ws_url}/market/ws/{stream}")
        print(f"       {fx.ws_url}/private/ws?listenKey=<key>&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE/ALGO_UPDATE")
        print(f"key    {fx.api_key}\nsecret {fx.api_secret}   (Binance's documented example pair)")
        sys.stdout.flush()
        for bar in bars[args.history:] if args.every > 0 else []:
            if stop.wait(args.every):
                break
            fx.push_kline(bar, args.symbol, args.interval)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
