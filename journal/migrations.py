"""Upgrades of older journal files to the current schema, one step per version.

`schema.sql` always describes the newest schema and creates a fresh journal at
`SCHEMA_VERSION`. A journal written by an older bot is brought up to date here, step by
step, inside one transaction, so a live journal keeps every row it already has. A step
only adds (tables, columns, indexes, views); it never drops or rewrites what a person
may be auditing.

To change the schema: edit `schema.sql`, append the same change as a new step below,
and raise `SCHEMA_VERSION` in `journal/journal.py` to the new step's number.
"""
from __future__ import annotations

import sqlite3

# version reached -> SQL that brings a journal from the version before it
STEPS: dict[int, str] = {
    2: """
        ALTER TABLE signals ADD COLUMN basis TEXT;
        ALTER TABLE fills ADD COLUMN trade_id TEXT;
        CREATE UNIQUE INDEX IF NOT EXISTS fills_by_trade ON fills(client_order_id, trade_id);
        ALTER TABLE signals ADD COLUMN expiry_candles INTEGER;
""",
    3: """
        CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL,
            started_at TEXT NOT NULL, pid INTEGER NOT NULL, mode TEXT NOT NULL, symbol TEXT NOT NULL,
            interval_seconds INTEGER NOT NULL, last_candle_time TEXT, last_price TEXT, state TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS errors (id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL,
            message TEXT NOT NULL);
""",
    4: """
        CREATE TABLE IF NOT EXISTS market_marks (symbol TEXT NOT NULL, interval TEXT NOT NULL,
            candle_open_time TEXT NOT NULL, close TEXT NOT NULL, seen_at TEXT NOT NULL,
            PRIMARY KEY (symbol, interval));
""",
    5: """
        ALTER TABLE heartbeat ADD COLUMN balance TEXT;
        CREATE TABLE IF NOT EXISTS commands (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, kind TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '', value TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'pending',
            result TEXT, done_at TEXT);
        CREATE INDEX IF NOT EXISTS commands_pending ON commands(status) WHERE status = 'pending';
        CREATE INDEX IF NOT EXISTS signals_by_position ON signals(position_id) WHERE position_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS signals_by_strategy ON signals(strategy);
        CREATE INDEX IF NOT EXISTS signals_by_refusal ON signals(refusal, symbol) WHERE refusal IS NOT NULL;
        CREATE INDEX IF NOT EXISTS positions_by_close ON positions(closed_at);
        CREATE INDEX IF NOT EXISTS fills_by_time ON fills(at);
""",
}


def migrate(connection: sqlite3.Connection, found: int, target: int) -> None:
    """Apply every step after version `found` up to `target`, in one transaction."""
    connection.execute("BEGIN")
    try:
        for version in range(found + 1, target + 1):
            for statement in _statements(STEPS[version]):
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version={target}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _statements(script: str) -> list[str]:
    # executescript() would commit our transaction; run the statements one by one instead
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [statement.strip() for statement in code.split(";") if statement.strip()]
