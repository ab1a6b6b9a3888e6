"""The process wiring `bot.py` imports: settings and secrets, the replay runner, the live
runner with its threads and queues, and the backtest report."""
