"""Every file the bot will write, checked before any work starts: one line, never a traceback
after a long replay.

The log file, the journal, `--summary-json` and `--report` each need a folder that exists
and takes a new file. The check tries it (a temporary file in the folder): `os.access`
answers wrongly on Windows, for root, and on read-only mounts such as systemd's
`ProtectSystem=strict`.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutputPathError(ValueError):
    """A file the bot must write cannot be; the message is one line naming it and the fix."""


def check_output_file(path: str | Path, what: str, fix: str) -> Path:
    """`path` as a Path when the bot can create or append to it, else OutputPathError:
    `{what} {path}: <the problem>; {fix}`. Creates nothing that stays."""
    file = Path(path)
    folder = file.parent
    if not folder.exists():
        raise OutputPathError(f"{what} {file}: the folder {folder} does not exist; create it, or {fix}")
    if not folder.is_dir():
        raise OutputPathError(f"{what} {file}: {folder} is a file, not a folder; {fix}")
    if file.is_dir():
        raise OutputPathError(f"{what} {file} is a folder, not a file; {fix}")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
        if file.exists():
            with open(file, "ab"):
                pass
    except OSError as exc:
        raise OutputPathError(f"{what} {file}: cannot write there ({exc.strerror or exc}); {fix}") from None
    if file.exists() and not os.access(file, os.W_OK):   # belt and braces where os.access is honest
        raise OutputPathError(f"{what} {file} is read-only; {fix}")
    return file


def check_distinct(outputs: list[tuple[str, Path, str]], inputs: dict[str, Path]) -> None:
    """OutputPathError when an output file is also an earlier output or an input of this run: `--summary-json`
    naming the journal would replace it with JSON after the replay, a log file naming the journal or the
    settings would append text to it. `outputs` holds (what, path, fix) as check_output_file takes them;
    `inputs` maps a name ("settings file") to its path. The message: `{what} {path} is also the {other}; {fix}`."""
    seen: dict[str, str] = {os.path.normcase(Path(p).resolve()): what for what, p in inputs.items()}
    for what, path, fix in outputs:
        key = os.path.normcase(Path(path).resolve())
        if key in seen:
            raise OutputPathError(f"{what} {path} is also the {seen[key]}; {fix}")
        seen[key] = what
