"""The CSRF token: every state-changing request (a POST) carries the token bound to the
session cookie, also on loopback with no password set, so a page on another site that the
user has open cannot make the browser pause, close or stop the bot.

The token is made once per session (`secrets.token_urlsafe`), lives in Flask's signed
session cookie, reaches the page in `<meta name="csrf-token">`, and comes back in the
`X-CSRF-Token` header (fetch) or the `csrf_token` form field. The comparison is constant-time.
"""
from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

SESSION_KEY = "csrf_token"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def csrf_token() -> str:
    """This session's token, made on first use (templates call it as `csrf_token()`)."""
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (400) a state-changing request whose token is missing or is not this session's."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    if not expected or not hmac.compare_digest(str(expected).encode(), sent.encode()):   # bytes: any text compares
        abort(400, description="the form's security token is missing or out of date; reload the page and try again")
