"""One blueprint per page (its HTML page and its JSON under /api/). A new page: a module
with `bp = Blueprint("<name>", __name__)`, its template extending base.html, and one
line in `BLUEPRINTS` below."""
from __future__ import annotations

from dashboard.pages import bot_state, chart, commands, login, settings
from dashboard.pages import logs, overview, positions, signals, trades

BLUEPRINTS = [bot_state.bp, chart.bp, login.bp, commands.bp, settings.bp]
BLUEPRINTS += [overview.bp, positions.bp, trades.bp, signals.bp, logs.bp]   # the read pages
