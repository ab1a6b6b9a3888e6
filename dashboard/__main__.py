"""`python -m dashboard --settings settings.toml`: serve the dashboard with waitress.

    python -m dashboard                         # [dashboard] host and port of settings.toml (127.0.0.1:8080)
    python -m dashboard --port 8081             # another port
    python -m dashboard --journal run.db        # another journal (a backtest's, say)

A bad setting or option is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from pathlib import Path

from dashboard.config import DashboardConfig
from runtime.settings import SettingsError, load_settings

log = logging.getLogger("dashboard")
EXIT_BAD_INPUT = 2
THREADS = 8   # waitress worker threads: pages poll every few seconds, a handful of browsers at most


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="The bot's web dashboard.")
    parser.add_argument("--settings", default="settings.toml", help="settings file (default: settings.toml)")
    parser.add_argument("--host", help="address to listen on (default: [dashboard] host)")
    parser.add_argument("--port", type=int, help="TCP port (default: [dashboard] port)")
    parser.add_argument("--journal", metavar="PATH", help="journal file (default: [bot] journal)")
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_config(args: argparse.Namespace) -> DashboardConfig:
    """The config of this start. Raises SettingsError (one line) on a bad setting or option."""
    settings = load_settings(args.settings)
    overrides: dict = {}
    if args.host is not None:
        if not args.host.strip():
            raise SettingsError("--host is empty; pass an address such as 127.0.0.1")
        overrides["host"] = args.host
    if args.port is not None:
        if not 1 <= args.port <= 65535:
            raise SettingsError(f"--port {args.port} is out of range; pass a port from 1 to 65535")
        overrides["port"] = args.port
    return DashboardConfig.from_settings(settings, Path(args.journal) if args.journal else None, **overrides)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    try:
        config = build_config(parse_args(argv))
        if not is_loopback(config.host) and not config.password_hash:
            raise SettingsError(f"[dashboard] host = {config.host!r} is reachable from other machines and no dashboard "
                                "password is set; use 127.0.0.1 and an SSH tunnel (README \"Web dashboard\")")
    except SettingsError as problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    from waitress import serve   # imported here: `--help` and bad settings stay fast

    from dashboard.app import create_app

    log.info("dashboard on http://%s:%d/ reading %s", config.host, config.port, config.journal_path)
    serve(create_app(config), host=config.host, port=config.port, threads=THREADS, ident="", _quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
