"""Trading: signals to orders. Risk sizing, the position state machine, the exchanges
(Binance and simulated) and the runners that pump candles, signals and order events."""
