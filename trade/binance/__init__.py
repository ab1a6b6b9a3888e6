"""The Binance USDⓈ-M futures adapter: REST (python-binance), websocket streams
(websocket-client), the wire format of their events, and the account's start-up settings.
Implements `trade.exchange.Exchange`; nothing outside this package reads a Binance dict."""
