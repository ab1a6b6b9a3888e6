"""A fake Binance USDⓈ-M futures exchange for end-to-end tests and the latency bench.

It speaks Binance's real wire format (REST under /fapi with HMAC signing, routed
/market and /private WebSocket streams, the 2026 algo-order API) on 127.0.0.1, so the
real python-binance `Client` and websocket-client can be pointed at it. Start it with
`FakeBinance().start()` or as a context manager; see `fake.py` for the driver API.
"""
from .candles import Kline, make_kline
from .errors import ApiError
from .fake import DEFAULT_API_KEY, DEFAULT_API_SECRET, FakeBinance, ReplayClock
from .symbols import SymbolRules

__all__ = ["ApiError", "DEFAULT_API_KEY", "DEFAULT_API_SECRET", "FakeBinance", "Kline", "ReplayClock",
           "SymbolRules", "make_kline"]
