"""ICT engine: candles in, market structures and trade signals out.

Pure computation: nothing here sends an order, opens a socket or reads the clock.
The one exception is `ict.candle_file`, which parses a candle file for replay and
for `python -m ict scan`.
"""
