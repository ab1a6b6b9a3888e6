"""The SQLite journal: the bot's write-ahead record of signals, positions, orders,
fills and state transitions. Knows SQL, not Binance."""
from journal.journal import Journal, JournalError

__all__ = ["Journal", "JournalError"]
