"""The exchange errors the trader understands. Each docstring says what the trader does.

Exchanges (Binance, simulated) translate their own failures into these at their edge,
keeping the exchange's code and message; nothing above `trade/` sees a raw HTTP error.
"""
from __future__ import annotations


class ExchangeError(Exception):
    """Base class. `code` is the exchange's error code when it gave one (e.g. -2019)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OrderRejected(ExchangeError):
    """The exchange refused the order for good (filters, margin, would trigger at once).

    The trader marks the order REJECTED, logs one clear line and handles the position
    (an entry refused → the position closes; a stop refused → close at market). No retry.
    """


class OutcomeUnknown(ExchangeError):
    """The request may or may not have reached the matching engine (timeout, 503, -1007).

    The trader queries the order by its client id before anything else, and any resend
    reuses the same client id so the exchange itself refuses a duplicate.
    """


class RateLimited(ExchangeError):
    """HTTP 429/418: stop sending until `retry_after` seconds have passed, log loudly."""

    def __init__(self, message: str, retry_after: float, code: int | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class ExchangeUnavailable(ExchangeError):
    """A read failed for a passing reason (network, 5xx). Reads retry with backoff."""


class ExchangeFatal(ExchangeError):
    """Keys refused, IP not allowed, symbol not tradable: the bot cannot go on; it stops
    with one line naming the fix."""
