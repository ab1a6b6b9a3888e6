"""The Flask application: pages from `dashboard.pages.BLUEPRINTS`, the CSRF check on every
POST, strict cookies and security headers, and errors as one line (JSON under /api/).

Built by `create_app(config)`; `python -m dashboard` serves it with waitress (a synchronous
WSGI server that also runs on Windows). The session secret is made anew at each start, so a
restart of the dashboard signs everybody out; nothing secret is stored on disk by it.
"""
from __future__ import annotations

import logging
import secrets

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from dashboard import security
from dashboard.config import DashboardConfig
from dashboard.csrf import check_csrf, csrf_token

log = logging.getLogger(__name__)
CONFIG_KEY = "DASHBOARD"
# the pages use only their own files: no inline script, nothing from another site
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")


def create_app(config: DashboardConfig) -> Flask:
    """The dashboard for `config`; every page and API of `dashboard.pages.BLUEPRINTS`."""
    from dashboard.pages import BLUEPRINTS

    app = Flask(__name__)
    app.config.update(SECRET_KEY=secrets.token_bytes(32), SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="ict_dashboard",
                      MAX_CONTENT_LENGTH=64 * 1024, JSON_SORT_KEYS=False)
    app.config[CONFIG_KEY] = config
    security.install(app, config)   # the login gate runs first: no CSRF answer tells a stranger anything
    app.before_request(check_csrf)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _error)
    app.jinja_env.globals.update(csrf_token=csrf_token, symbols=list(config.settings.symbols),
                                 mode=config.settings.mode, password_set=bool(config.password_hash))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.add_url_rule("/favicon.ico", "favicon", lambda: ("", 204))   # browsers ask for one; none is shipped
    return app


def dashboard_config() -> DashboardConfig:
    """The running dashboard's config (inside a request)."""
    return current_app.config[CONFIG_KEY]


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _error(error: HTTPException):
    """One line for people: JSON `{"error": ...}` for the API, a short page otherwise."""
    message = error.description or error.name
    if error.code and error.code >= 500:
        log.error("%s %s failed: %s", request.method, request.path, message)
    if request.path.startswith("/api/") or request.method != "GET":
        return jsonify(error=message), error.code
    return render_template("error.html", code=error.code, message=message), error.code
