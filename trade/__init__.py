"""The trading core: signals to orders, whatever the exchange.

Risk sizing, the position state machine, the trader and its order desk, recovery after a
restart, and the exchange interface (`trade.exchange.Exchange`). The adapters implementing
it live in `trade.binance` (the real REST and websocket API) and `trade.simulated` (replay
and paper); neither is imported by the core. The process wiring is in `runtime/`."""
