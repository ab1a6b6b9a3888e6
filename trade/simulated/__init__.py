"""The simulated exchange: fills closed candles against resting orders, never better than
the market offered (replay and backtest), and its paper-mode variant restored from the journal."""
