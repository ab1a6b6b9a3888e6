"""The REST side: an HTTP/1.1 keep-alive server that authenticates, meters and routes.

Each request is recorded (`RecordedRequest`, with its arrival time from
`time.perf_counter_ns()`), charged its weight against the current minute
(`X-MBX-USED-WEIGHT-1M` on every reply, HTTP 429 / -1003 past the limit), checked
for its security type (USER_STREAM: a known `X-MBX-APIKEY`; SIGNED: that plus
`timestamp`/`recvWindow` and the HMAC signature) and handed to its route. Injected
faults (rate limiting, a failing order endpoint) are applied here.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from .errors import MESSAGES, UNKNOWN_STATUS_MSG, ApiError, error, too_many_requests, unknown_route
from .signing import RawRequest, verify_signed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """One endpoint: its handler, security type (NONE, USER_STREAM, SIGNED) and IP weight."""

    handler: Callable[[Any, "Context"], Any]
    security: str = "NONE"
    weight: int | Callable[[dict[str, str]], int] = 1


@dataclass(frozen=True)
class Context:
    """What a route handler sees: decoded params, the raw request and the caller's key."""

    method: str
    path: str
    params: dict[str, str]
    raw: RawRequest
    api_key: str | None


@dataclass
class RecordedRequest:
    """One request as the fake saw it. `params` excludes `signature`; headers exclude the API key."""

    method: str
    path: str
    params: dict[str, str]
    query: str
    body: str
    headers: dict[str, str]
    arrival_ns: int
    status: int = 0
    error_code: int | None = None


@dataclass
class Faults:
    """Pending injected faults, consumed by the requests they hit."""

    rate_limited: int = 0
    retry_after: int = 0
    order_failures: list[dict] = field(default_factory=list)
    algo_rejects: list[int] = field(default_factory=list)
    order_rejects: list[int] = field(default_factory=list)
    failures: dict[tuple[str, str], list[dict]] = field(default_factory=dict)   # (method, path) -> faults, any route


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler, app: "RestServer") -> None:
        self.app = app
        self.open_sockets: set[socket.socket] = set()
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)


class RestServer:
    """Binance's /fapi REST surface on 127.0.0.1 for the routes given."""

    def __init__(self, app: Any, routes: dict[tuple[str, str], Route], keys: dict[str, str],
                 clock: Callable[[], int], weight_limit: int = 2400, check_recv_window: bool = True) -> None:
        self.app = app
        self.routes = routes
        self.keys = keys
        self.clock = clock
        self.weight_limit = weight_limit
        self.check_recv_window = check_recv_window
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._weight_minute, self._weight_used = -1, 0
        self._orders_10s: list[int] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._httpd = _Server((host, port), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-binance-rest", daemon=True)
        self._thread.start()
        return self._httpd.server_address[1]

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        for sock in list(self._httpd.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        self._thread.join(10)
        self._httpd = None

    def charge(self, weight: int) -> int:
        """Add `weight` to this minute's total and return the total (X-MBX-USED-WEIGHT-1M)."""
        with self.lock:
            minute = self.clock() // 60_000
            if minute != self._weight_minute:
                self._weight_minute, self._weight_used = minute, 0
            self._weight_used += weight
            return self._weight_used

    def count_order(self) -> tuple[int, int]:
        with self.lock:
            now = self.clock()
            self._orders_10s = [t for t in self._orders_10s if t > now - 10_000] + [now]
            return len(self._orders_10s), len(self._orders_10s)

    def handle(self, method: str, target: str, body: str, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """Process one request; returns (HTTP status, JSON body or None to hang up, extra headers)."""
        url = urlsplit(target)
        raw = RawRequest(url.query, body)
        params = {k: v for k, v in raw.params().items() if k != "signature"}
        api_key = headers.get("x-mbx-apikey")
        record = RecordedRequest(method, url.path, params, url.query, body,
                                 {k: v for k, v in headers.items() if k != "x-mbx-apikey"}, time.perf_counter_ns())
        with self.lock:
            self.requests.append(record)
        route = self.routes.get((method, url.path))
        weight = 0 if route is None else (route.weight(params) if callable(route.weight) else route.weight)
        extra = {"X-MBX-USED-WEIGHT-1M": str(self.charge(weight))}
        status, payload = self._dispatch(route, Context(method, url.path, params, raw, api_key), extra, weight)
        record.status = status
        if isinstance(payload, dict) and isinstance(payload.get("code"), int) and payload["code"] < 0:
            record.error_code = payload["code"]
        return status, payload, extra

    def _dispatch(self, route: Route | None, ctx: Context, extra: dict[str, str], weight: int) -> tuple[int, Any]:
        try:
            with self.lock:
                if self.faults.rate_limited > 0:
                    self.faults.rate_limited -= 1
                    extra["Retry-After"] = str(self.faults.retry_after)
                    raise too_many_requests(self.weight_limit)
                if self._weight_used > self.weight_limit:
                    extra["Retry-After"] = str(60 - (self.clock() // 1000) % 60)
                    raise too_many_requests(self.weight_limit)
            if route is None:
                raise unknown_route(ctx.method, ctx.path)
            self._authenticate(route, ctx)
            with self.lock:
                queued = self.faults.failures.get((ctx.method, ctx.path))
                fault = queued.pop(0) if queued else None
            if fault is not None:
                return self._fail(route, ctx, fault)
            if (ctx.method, ctx.path) in (("POST", "/fapi/v1/order"), ("POST", "/fapi/v1/algoOrder")):
                count, _ = self.count_order()
                extra["X-MBX-ORDER-COUNT-10S"] = extra["X-MBX-ORDER-COUNT-1M"] = str(count)
                return self._place_with_faults(route, ctx)
            return 200, route.handler(self.app, ctx)
        except ApiError as exc:
            return exc.status, exc.body()

    def _authenticate(self, route: Route, ctx: Context) -> None:
        if route.security == "NONE":
            return
        if not ctx.api_key:
            raise error(-2014, status=401)
        if ctx.api_key not in self.keys:
            raise error(-2015, status=401)
        if route.security == "SIGNED":
            verify_signed(ctx.raw, self.keys[ctx.api_key], self.clock(), self.check_recv_window)

    def _place_with_faults(self, route: Route, ctx: Context) -> tuple[int, Any]:
        fault = None
        with self.lock:
            if ctx.path == "/fapi/v1/algoOrder" and self.faults.algo_rejects:
                code = self.faults.algo_rejects.pop(0)
                raise error(code) if code in MESSAGES else ApiError(code, "Injected rejection.")
            if ctx.path == "/fapi/v1/order" and self.faults.order_rejects:
                code = self.faults.order_rejects.pop(0)
                raise error(code) if code in MESSAGES else ApiError(code, "Injected rejection.")
            if ctx.path == "/fapi/v1/order" and self.faults.order_failures:
                fault = self.faults.order_failures.pop(0)
        if fault is None:
            return 200, route.handler(self.app, ctx)
        return self._fail(route, ctx, fault)

    def _fail(self, route: Route, ctx: Context, fault: dict) -> tuple[int, Any]:
        """Answer with an injected failure; with `after_accept` the request is carried out first."""
        if fault["after_accept"]:
            try:
                route.handler(self.app, ctx)
            except ApiError:
                pass
        if fault["delay_s"]:
            self.stopping.wait(fault["delay_s"])
        if fault["disconnect"]:
            return 0, None
        return fault["status"], fault["body"] or {"code": -1000, "msg": UNKNOWN_STATUS_MSG}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes; with Nagle on, the client's delayed ACK adds ~40 ms per call
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, extra = self.server.app.handle(self.command, self.path, body, headers)
        if payload is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        log.debug("fake binance rest: " + format, *args)
