"""Shared fixtures: the bundled real candles, settings files, and journals."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ict.candle_file import load_candles
from journal.journal import Journal

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DAY_FILE = DATA / "BTCUSDT-perp-1m-2022-05-06.csv"
"""1,440 one-minute BTCUSDT perpetual candles of 2022-05-06, a volatile day (−4 %)."""
LONG_FILE = DATA / "BTCUSDT-perp-1m-2025-05-04.csv"
"""73,139 one-minute BTCUSDT perpetual candles, 2025-05-04 to 2025-06-24, no gaps."""


@pytest.fixture(scope="session")
def day_candles():
    return load_candles(DAY_FILE)


@pytest.fixture
def memory_journal():
    journal = Journal.open(":memory:", "replay", durable=False)
    yield journal
    journal.close()


@pytest.fixture
def journal_path(tmp_path):
    return tmp_path / "journal.db"


@pytest.fixture
def write_settings(tmp_path):
    """Write a copy of the shipped settings.toml with `changes` applied, into tmp_path.

    `changes` maps "table.key" to the TOML text of the new value, or None to delete the
    line; the replay file is pointed at the bundled day so the copy works anywhere."""

    def write(changes: dict[str, str | None] | None = None, extra: str = "") -> Path:
        text = (ROOT / "settings.toml").read_text(encoding="utf-8")
        changes = dict(changes or {})
        changes.setdefault("replay.file", f'"{DAY_FILE.as_posix()}"')
        for dotted, value in changes.items():
            table, key = dotted.rsplit(".", 1)
            text = _set(text, table, key, value)
        path = tmp_path / "settings.toml"
        path.write_text(text + extra, encoding="utf-8")
        return path

    return write


def _set(text: str, table: str, key: str, value: str | None) -> str:
    lines = text.splitlines()
    current = None
    for index, line in enumerate(lines):
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            if current == table:  # key not present in its table: add it at the end
                break
            current = header.group(1)
            continue
        if current == table and re.match(rf"\s*#?\s*{re.escape(key)}\s*=", line):
            if value is None:
                del lines[index]
            else:
                lines[index] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    if value is None:
        raise KeyError(f"{table}.{key} not in settings.toml")
    insert_at = next(i for i, line in enumerate(lines) if re.match(rf"\s*\[{re.escape(table)}\]", line)) + 1
    lines.insert(insert_at, f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def clean_registry():
    """Strategies registered during a test (user strategy files) are forgotten after it."""
    from ict.strategies import base
    saved = dict(base._REGISTRY)
    yield
    base._REGISTRY.clear()
    base._REGISTRY.update(saved)
