"""How the journal stores values: times as UTC ISO-8601 text, Decimals as plain decimal text.

The journal keeps its own tiny Decimal formatter (`stored`) because the layers forbid it
to import the trading core's (`trade.symbol_rules.wire`, the one the rest of the bot uses);
both render the same text: plain digits, no exponent, no trailing zeros.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)  # a replay asks for the same candle time many times
def iso_time(epoch_ms: int) -> str:
    """Epoch milliseconds as UTC ISO-8601 text, e.g. 2025-05-04T15:33:00.000Z."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def epoch_ms(iso: str) -> int:
    """The inverse of `iso_time`."""
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000 + 0.5)


def stored(value: Any) -> Any:
    """A value as a column holds it: a Decimal as plain text without trailing zeros, an Enum
    member as its value; str, int and None as they are."""
    if value is None or type(value) in (str, int):
        return value
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):
        return value.value  # an Enum member
    return value


def decimal_or_none(text: str | None) -> Decimal | None:
    """A nullable decimal column: None for NULL or empty text (as the recovery always read it)."""
    return Decimal(text) if text else None


def epoch_or_none(iso: str | None) -> int | None:
    return epoch_ms(iso) if iso else None
