"""Request parameters and HMAC-SHA256 signatures, checked the way Binance checks them.

Binance signs `totalParams`: the raw query string concatenated with the raw request
body, exactly the bytes sent, minus the trailing `signature=` parameter. A parameter
sent in both the query string and the body takes the query-string value. The
`timestamp` must satisfy `timestamp < serverTime + 1000` and
`serverTime - timestamp <= recvWindow` (recvWindow defaults to 5000).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .errors import ApiError, error, mandatory

DEFAULT_RECV_WINDOW = 5000


def hmac_sha256_hex(secret: str, payload: str) -> str:
    """The hex HMAC-SHA256 of `payload` under `secret` (Binance's HMAC signature)."""
    return hmac.new(secret.encode("utf-8"), payload.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class RawRequest:
    """What arrived: the raw query string and the raw form body, both undecoded."""

    query: str
    body: str

    def params(self) -> dict[str, str]:
        """Decoded parameters, body first and then the query string, so the query wins."""
        merged: dict[str, str] = {}
        for raw in (self.body, self.query):
            for key, value in parse_qsl(raw, keep_blank_values=True):
                merged[key] = value
        return merged

    def total_params_and_signature(self) -> tuple[str, str | None]:
        """`totalParams` without the signature, and the signature sent (or None)."""
        query, sig_q = _strip_signature(self.query)
        body, sig_b = _strip_signature(self.body)
        return query + body, sig_q if sig_q is not None else sig_b


def _strip_signature(raw: str) -> tuple[str, str | None]:
    parts = raw.split("&") if raw else []
    kept, signature = [], None
    for part in parts:
        if part.startswith("signature="):
            signature = part[len("signature="):]
        else:
            kept.append(part)
    return "&".join(kept), signature


def verify_signed(raw: RawRequest, secret: str, server_ms: int, check_time: bool = True) -> None:
    """Raise `ApiError` unless `raw` is a valid signed request for `secret` at `server_ms`."""
    params = raw.params()
    if "timestamp" not in params or not params["timestamp"].lstrip("-").isdigit():
        raise mandatory("timestamp")
    if check_time:
        check_timestamp(int(params["timestamp"]), _recv_window(params), server_ms)
    payload, signature = raw.total_params_and_signature()
    if not signature:
        raise mandatory("signature")
    expected = hmac_sha256_hex(secret, payload)
    if not hmac.compare_digest(expected, signature.lower()):
        raise error(-1022)


def _recv_window(params: dict[str, str]) -> int:
    raw = params.get("recvWindow")
    if raw is None:
        return DEFAULT_RECV_WINDOW
    if not raw.isdigit():
        raise ApiError(-1130, "Data sent for parameter 'recvWindow' is not valid.")
    return int(raw)


def check_timestamp(timestamp: int, recv_window: int, server_ms: int) -> None:
    """Binance's timing rule; -1021 with the wording for "ahead" or "outside"."""
    if timestamp >= server_ms + 1000:
        raise ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp > recv_window:
        raise error(-1021)
