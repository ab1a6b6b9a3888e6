"""`python bot.py backup [PATH]`: the command line of journal/backup.py (a consistent copy of the
journal, also while the bot runs). One line on stderr and exit 2 for a problem.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from journal.backup import BackupError, backup_journal, backup_target
from runtime.settings import SettingsError, journal_of

EXIT_BAD_INPUT = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bot.py backup", description="Copy the journal consistently, even while "
                                     "the bot runs (SQLite online backup).")
    parser.add_argument("path", nargs="?", metavar="PATH", help="file to create, or a folder for "
                        "journal-YYYYmmdd-HHMMSS.db (default: backups/ beside the journal)")
    parser.add_argument("--settings", default="settings.toml", help="settings file naming the journal (default: settings.toml)")
    parser.add_argument("--journal", metavar="PATH", help="the journal to copy (default: [bot] journal)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """The `backup` command: print what was written and return 0, or one line on stderr and 2."""
    args = parse_args(argv)
    try:
        journal = journal_of(args.journal, args.settings)
        if args.path and args.path.endswith(("/", os.sep)) and not Path(args.path).is_dir():
            # "backups/" means a folder: never turn it into a file named "backups"
            raise BackupError(f"backup folder {args.path} does not exist; create it or give another PATH")
        target = backup_target(journal, args.path)
        size = backup_journal(journal, target)
    except (SettingsError, BackupError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"backup of {journal} written to {target} ({size:,} bytes, integrity ok)")
    return 0
