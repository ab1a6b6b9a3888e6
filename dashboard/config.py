"""What the dashboard process was started with: one frozen `DashboardConfig`, built by
`python -m dashboard` (dashboard/__main__.py) and read by every page through
`dashboard.app.dashboard_config()`."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from runtime.settings import Settings


@dataclass(frozen=True)
class DashboardConfig:
    """- `settings`: settings.toml as checked at the dashboard's start (`settings_path` is the file;
      a risk change the bot applies is written back there, see runtime/settings_writer.py);
    - `journal_path`: the bot's journal (read-only, but for the `commands` table);
    - `log_path`: the bot's log file (`[bot] log_file`), None to show no log;
    - `host`, `port`: where the dashboard listens;
    - `password_hash`: the dashboard password's hash from secrets.toml (None: no login; allowed on
      loopback only);
    - `under_systemd`: True when systemd runs the dashboard (the bot is then started with
      `systemctl`, not from the page);
    - `start_command`: the argv the Start button runs to start the bot, None for no button."""

    settings: Settings
    settings_path: Path
    journal_path: Path
    log_path: Path | None
    host: str = "127.0.0.1"
    port: int = 8080
    password_hash: str | None = None
    under_systemd: bool = False
    start_command: tuple[str, ...] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, journal: Path | None = None, **overrides) -> "DashboardConfig":
        """The config a dashboard started with `settings` uses: its journal and log file, host and
        port from `[dashboard]`; `overrides` replace any field (host, port, password_hash ...)."""
        config = cls(settings=settings, settings_path=settings.path,
                     journal_path=journal or settings.resolve(settings.bot.journal),
                     log_path=settings.resolve(settings.bot.log_file), host=settings.dashboard.host,
                     port=settings.dashboard.port, under_systemd=bool(os.environ.get("INVOCATION_ID")))
        return replace(config, **overrides)
