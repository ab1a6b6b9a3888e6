"""GET /login (the form), POST /login (check the password), POST /logout. Only used when a
dashboard password is set (dashboard/security.py); both POSTs carry the CSRF token like every
other. Wrong passwords are counted per client address (dashboard/login_limit.py)."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from dashboard.app import dashboard_config
from dashboard.csrf import csrf_token
from dashboard.login_limit import LoginLimiter
from dashboard.security import LOGGED_IN, password_matches, safe_next

bp = Blueprint("login", __name__)
log = logging.getLogger(__name__)
LIMITER_KEY = "login_limiter"   # app.extensions: one LoginLimiter per app, like the sessions it guards


@bp.get("/login")
def page():
    if not dashboard_config().password_hash or session.get(LOGGED_IN) is True:
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", next=safe_next(request.args.get("next")), message="")


@bp.post("/login")
def submit():
    config, address = dashboard_config(), request.remote_addr
    target = safe_next(request.form.get("next"))
    if not config.password_hash:
        return redirect(target)
    limiter = current_app.extensions.setdefault(LIMITER_KEY, LoginLimiter())
    wait = limiter.attempt(address)
    if wait:
        log.warning("dashboard login refused for %s: too many wrong passwords", address)
        message = f"too many wrong passwords from your address; try again in {wait} s"
        return render_template("login.html", next=target, message=message), 429, {"Retry-After": str(wait)}
    if not password_matches(config.password_hash, request.form.get("password", "")):
        log.warning("dashboard login: wrong password from %s", address)
        return render_template("login.html", next=target, message="wrong password"), 401
    limiter.succeeded(address)
    session.clear()          # nothing from before the login survives it, the CSRF token included
    session[LOGGED_IN] = True
    csrf_token()
    log.info("dashboard login from %s", address)
    return redirect(target)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("login.page"))
