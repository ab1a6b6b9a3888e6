"""`python -m dashboard --settings settings.toml`: serve the dashboard with waitress.

    python -m dashboard                         # [dashboard] host and port of settings.toml (127.0.0.1:8080)
    python -m dashboard --port 8081             # another port
    python -m dashboard --journal run.db        # another journal (a backtest's, say)
    python -m dashboard --hash-password         # make the password hash for secrets.toml
    python -m dashboard --start-bot             # a Start button that runs bot.py with these settings

`--start-bot` is the foreground use case: a desktop user who runs only the dashboard starts and
stops the bot from the page. Under systemd the page shows the systemctl command instead.

A bad setting or option is one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import sys
from dataclasses import replace
from pathlib import Path

from dashboard.config import DashboardConfig
from dashboard.security import check_binding, hash_password, is_loopback  # noqa: F401 (is_loopback: tests import it here)
from runtime.secrets import load_dashboard_password_hash
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
    parser.add_argument("--hash-password", action="store_true",
                        help="ask for a dashboard password twice and print the lines to paste into secrets.toml")
    parser.add_argument("--start-bot", action="store_true",
                        help="show a Start button that runs bot.py with these settings when no bot runs (not under systemd)")
    return parser.parse_args(argv)


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
    overrides["password_hash"] = load_dashboard_password_hash(settings.path.parent)
    config = DashboardConfig.from_settings(settings, Path(args.journal) if args.journal else None, **overrides)
    if getattr(args, "start_bot", False) and not config.under_systemd:   # under systemd: the systemctl line instead
        bot = Path(__file__).resolve().parent.parent / "bot.py"   # run in the settings file's folder
        config = replace(config, start_command=(sys.executable, str(bot), "--settings", str(settings.path.resolve())))
    return config


def print_password_hash(stdin=None) -> int:
    """`--hash-password`: the password twice (from the terminal, hidden; or the first two lines
    of stdin when it is not a terminal, the second optional), then the two lines for
    secrets.toml on stdout. A short or mismatched password is one line and exit 2."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        password, again = getpass.getpass("Dashboard password: "), getpass.getpass("Once more: ")
    else:
        lines = stdin.read().splitlines()
        password = lines[0] if lines else ""
        again = lines[1] if len(lines) > 1 else password
    if password != again:
        print("the two passwords differ; run it again", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        line = f'password_hash = "{hash_password(password)}"'
    except ValueError as problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    print("[dashboard]")
    print(line)
    print("paste these two lines into secrets.toml (beside settings.toml), then restart the dashboard", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.hash_password:
        return print_password_hash()
    try:
        config = build_config(args)
        check_binding(config)
    except SettingsError as problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    from waitress import create_server   # imported here: `--help` and bad settings stay fast
    from waitress.task import ThreadedTaskDispatcher

    from dashboard.app import create_app

    workers = ThreadedTaskDispatcher()   # ours, so a failed bind does not leave its threads behind
    try:
        # a TLS reverse proxy on this machine says https in X-Forwarded-Proto (the session cookie is then
        # Secure) and the browser's address in X-Forwarded-For (the login limit counts per browser, not per proxy)
        server = create_server(create_app(config), host=config.host, port=config.port, threads=THREADS, ident="",
                               trusted_proxy="127.0.0.1", trusted_proxy_count=1,
                               trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"}, _dispatcher=workers)
    except (OSError, ValueError) as problem:   # port taken, an address this machine does not have, not an address
        workers.shutdown()
        print(f"the dashboard cannot listen on {config.host}:{config.port} ({getattr(problem, 'strerror', None) or problem}); "
              "pass another --port or --host, or change [dashboard] host and port in settings.toml", file=sys.stderr)
        return EXIT_BAD_INPUT
    workers.set_thread_count(THREADS)   # waitress starts a given dispatcher's threads only when told
    log.info("dashboard on http://%s:%d/ reading %s (%s)", config.host, config.port, config.journal_path,
             "password set" if config.password_hash else "no password: this machine only")
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
