"""A fake Binance USDⓈ-M futures exchange for end-to-end tests and the latency bench.

It speaks Binance's real wire format (REST under /fapi with HMAC signing, routed
/market and /private WebSocket streams, the 2026 algo-order API) on 127.0.0.1, so the
real python-binance `Client` and websocket-client can be pointed at it:

    with FakeBinance() as fx:
        fx.load_candles("data/BTCUSDT-perp-1m-2022-05-06.csv")
        client = Client(fx.api_key, fx.api_secret, ping=False)
        client.FUTURES_URL = fx.rest_url + "/fapi"
        ws = websocket.create_connection(fx.ws_url + "/market/ws/btcusdt@kline_1m")
        client.futures_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.010")
        fx.push_candle(open_time, "36500", "36550", "36400", "36420", "12.3")
        fx.position().amount, fx.realized_pnl(), fx.requests[-1].params

See `fake.py` for the whole driver API (prices, inspection, fault injection).
"""
from .candles import Kline, make_kline
from .errors import ApiError
from .fake import DEFAULT_API_KEY, DEFAULT_API_SECRET, FakeBinance, ReplayClock
from .symbols import SymbolRules

__all__ = ["ApiError", "DEFAULT_API_KEY", "DEFAULT_API_SECRET", "FakeBinance", "Kline", "ReplayClock",
           "SymbolRules", "make_kline"]
