"""listenKeys of the user data stream: create, keep alive, close, expire.

Binance semantics (binance.md §3.1): POST returns the account's active key if there
is one (and extends it 60 min), else a new one; PUT extends a valid key or fails with
-1125; DELETE invalidates it. A key is valid for 60 minutes after creation or its
last keepalive, measured on the server clock.
"""
from __future__ import annotations

import random
import string
import threading
from typing import Callable

from .errors import error

VALIDITY_MS = 60 * 60 * 1000


class ListenKeys:
    """The single account's listenKeys and their expiry times (server-clock ms)."""

    def __init__(self, clock: Callable[[], int], seed: int = 11) -> None:
        self._clock = clock
        self._expiry: dict[str, int] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def is_valid(self, key: str) -> bool:
        with self._lock:
            return self._expiry.get(key, 0) > self._clock()

    def active(self) -> str | None:
        with self._lock:
            now = self._clock()
            return next((k for k, t in self._expiry.items() if t > now), None)

    def create(self) -> str:
        key = self.active()
        with self._lock:
            if key is None:
                key = "".join(self._random.choice(string.ascii_letters + string.digits) for _ in range(64))
            self._expiry[key] = self._clock() + VALIDITY_MS
            return key

    def keepalive(self, key: str | None) -> str:
        """Extend `key` (or the active key when none is named); -1125 if it is not valid."""
        key = key or self.active()
        if key is None or not self.is_valid(key):
            raise error(-1125)
        with self._lock:
            self._expiry[key] = self._clock() + VALIDITY_MS
        return key

    def close(self, key: str | None) -> None:
        key = key or self.active()
        with self._lock:
            self._expiry.pop(key or "", None)

    def expire(self, key: str) -> None:
        """Invalidate `key` now (what 60 minutes without keepalive would do)."""
        with self._lock:
            self._expiry[key] = 0
