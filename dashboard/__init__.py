"""The web dashboard: a separate process (`python -m dashboard`) that reads the bot's journal
and log, and controls the bot only by appending rows to the journal's `commands` table.

Layout: `config.py` (what the process was started with), `app.py` (the Flask application and
its security headers), `csrf.py` (the token every POST carries), `pages/` (one blueprint per
page, each with its JSON under /api/), `templates/` and `static/` (plain HTML, CSS and
JavaScript; no build step, nothing fetched from the internet).
"""
