"""Login attempts per client address: after `MAX_FAILURES` wrong passwords within
`WINDOW_SECONDS`, that address gets HTTP 429 until the oldest of them is a window old.

In memory (a dashboard restart forgets it, as it forgets every session), thread-safe
(waitress answers from several threads), and bounded: at most `MAX_CLIENTS` addresses are
remembered, the least recently failing one forgotten first. An IPv6 client counts by its /64
network, which one machine usually owns whole. A correct password clears its address's
failures; while an address is locked out even the correct password is refused, or the lock
would tell a guesser when it had guessed right.

Behind a reverse proxy every client has the proxy's address: the limit then holds for all of
them together, which is stricter, never looser.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 300
MAX_CLIENTS = 4096


class LoginLimiter:
    """Counts wrong passwords per client. `clock` returns seconds (time.monotonic by default;
    tests pass their own)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS,
                 max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str | None) -> int:
        """Whole seconds until `address` may try again; 0 when it may try now."""
        key, now = client_key(address), self.clock()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[0] + self.window_seconds - now + 0.999))

    def attempt(self, address: str | None) -> int:
        """Begin a login from `address`: 0 when it may try now, the try then counting as a wrong
        password until `succeeded` clears it; else whole seconds until it may try again. Check
        and count in one step, so parallel requests cannot slip past the limit together."""
        key, now = client_key(address), self.clock()
        with self._lock:
            times = self._recent(key, now)
            if len(times) >= self.max_failures:
                return max(1, int(times[0] + self.window_seconds - now + 0.999))
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            return 0

    def succeeded(self, address: str | None) -> None:
        """A correct password from `address`: forget its failures (the attempt's own included)."""
        with self._lock:
            self._failures.pop(client_key(address), None)

    def __len__(self) -> int:
        """How many addresses are remembered (bounded by `max_clients`)."""
        with self._lock:
            return len(self._failures)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque(maxlen=self.max_failures))
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times


def client_key(address: str | None) -> str:
    """The address a limit counts for: an IPv4 address as is, an IPv6 one as its /64 network."""
    text = address or "unknown"
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:   # an IPv4 client on a dual-stack socket
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
