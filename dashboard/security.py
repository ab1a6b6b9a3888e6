"""Who may use the dashboard: the password, the login gate in front of every page and API,
and the session cookie's `Secure` flag.

- No password set (allowed on loopback only, see `check_binding`): no login; the CSRF token
  (dashboard/csrf.py) still guards every POST.
- A password set (secrets.toml `[dashboard] password_hash`, any address): every request but
  the login page and the static files needs a session marked logged in by `/login`
  (dashboard/pages/login.py); a page redirects there, an API answers 401 with one line.
- The session cookie is HttpOnly and SameSite=Strict always, and `Secure` when the request came
  over https (a TLS reverse proxy on this machine, trusted for X-Forwarded-Proto by
  `python -m dashboard`). Waitress itself speaks plain http: over an SSH tunnel the cookie must
  not be `Secure`, or the browser would never send it back.

The hash is werkzeug's (scrypt, or pbkdf2 where this Python's hashlib lacks scrypt); the
password itself is never stored, logged or shown, and neither is the hash.
"""
from __future__ import annotations

import hashlib
import ipaddress

from flask import Flask, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.config import DashboardConfig
from runtime.settings import SettingsError

LOGGED_IN = "logged_in"          # the session key `/login` sets
OPEN_ENDPOINTS = ("static", "favicon", "login.page", "login.submit")   # reachable before logging in
MIN_PASSWORD_LENGTH = 10


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(config: DashboardConfig) -> None:
    """Refuse (SettingsError, one line) to listen on an address other machines reach without a password."""
    if not is_loopback(config.host) and not config.password_hash:
        raise SettingsError(f"[dashboard] host = {config.host!r} is reachable from other machines and no dashboard "
                            "password is set; use 127.0.0.1 and an SSH tunnel, or set a password with python -m "
                            "dashboard --hash-password (README \"Web dashboard\")")


def hash_password(password: str) -> str:
    """The hash to store in secrets.toml for `password`. Raises ValueError (one line) for a
    password shorter than MIN_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password is {len(password)} characters long; use at least {MIN_PASSWORD_LENGTH}")
    return generate_password_hash(password, method="scrypt" if hasattr(hashlib, "scrypt") else "pbkdf2")


def password_matches(password_hash: str, password: str) -> bool:
    """True when `password` is the one `password_hash` was made from (constant-time compare)."""
    try:
        return check_password_hash(password_hash, password)
    except ValueError:   # a hash of a method this Python lacks: no password can match it
        return False


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, `Secure` exactly when the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def install(app: Flask, config: DashboardConfig) -> None:
    """Put the login gate and the session cookie rules on `app` (called by create_app)."""
    app.session_interface = SessionInterface()
    app.before_request(lambda: require_local_host(config))
    app.before_request(lambda: require_login(config))


def logged_in(config: DashboardConfig) -> bool:
    """True when this request may see the dashboard: no password is set, or its session logged in."""
    return not config.password_hash or session.get(LOGGED_IN) is True


def require_local_host(config: DashboardConfig):
    """Without a password, answer only requests addressed to this machine by name (a before_request hook).

    A web page the user has open elsewhere can make its own host name point at 127.0.0.1 (DNS
    rebinding); the browser then calls the dashboard the same site as that page and lets it read
    the CSRF token. Such a request still names the other site in its Host header, so it is
    refused here. Behind a password this is moot: that page never holds a logged-in cookie."""
    if config.password_hash:
        return None
    name = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if is_loopback(name.strip("[]")):
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin and origin not in ("null",) and _origin_host(origin) != request.host:
            return jsonify(error="this request came from another site's page; use the dashboard's own page"), 403
        return None
    return jsonify(error=f"this dashboard answers only to 127.0.0.1 or localhost, not {request.host!r}; open "
                         f"http://127.0.0.1:{config.port}/ (or your SSH tunnel's local port)"), 400


def _origin_host(origin: str) -> str:
    return origin.split("://", 1)[-1].rstrip("/")


def require_login(config: DashboardConfig):
    """The gate (a before_request hook): None lets the request through, else the answer."""
    if not config.password_hash:
        if request.is_secure:   # an https proxy made it reachable from afar, with nobody to keep out
            return jsonify(error="this dashboard has no password and was reached through an https proxy; set one with "
                                 "python -m dashboard --hash-password and restart it"), 403
        return None
    if request.endpoint in OPEN_ENDPOINTS or session.get(LOGGED_IN) is True:
        return None
    if request.path.startswith("/api/") or request.method != "GET":
        return jsonify(error="log in first: open /login"), 401
    return redirect(url_for("login.page", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another site's address)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
