"""Behaviour check for refactors: the replay of every bundled file yields the same rows.

    python bench/same_rows.py                 # compare with bench/same_rows.json, exit 1 on a difference
    python bench/same_rows.py --save          # record the current behaviour as the reference
    python bench/same_rows.py --dump DIR      # also write each run's rows as text, to diff two versions
    python bench/same_rows.py --quick         # only the small files (what tests/test_same_rows.py runs)

For every CSV under data/: the candles as loaded (a digest of every open time, price and
volume), then one replay per registered strategy on its defaults with `[strategy] interval`
set to the file's, on `settings.toml` as shipped. Each replay's journal (every row of
every table, in id order, with the journal's random id prefix replaced by `P`) and its
summary are reduced to a SHA-256 digest plus row counts. The reference file is committed;
a refactor that changes one fill, one refusal text or one transition changes a digest.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REFERENCE = ROOT / "bench" / "same_rows.json"
QUICK_LIMIT_BYTES = 400_000
TABLES = ("meta", "signals", "positions", "orders", "fills", "transitions")

from bench.strategies import interval_of  # noqa: E402
from ict.candle_file import load_candles  # noqa: E402
from ict.strategies import strategy_names  # noqa: E402
from journal.journal import Journal  # noqa: E402
from runtime.replay import run_replay  # noqa: E402
from runtime.settings import load_settings  # noqa: E402


def candle_digest(candles) -> str:
    text = "\n".join(f"{c.open_time},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r}" for c in candles)
    return hashlib.sha256(text.encode()).hexdigest()


def journal_text(journal: Journal) -> tuple[str, dict[str, int]]:
    """Every row of every table as one text (prefix masked), and the row count per table."""
    prefix = journal.id_prefix
    lines, counts = [], {}
    for table in TABLES:
        rows = journal.rows(f"SELECT * FROM {table} ORDER BY rowid")
        counts[table] = len(rows)
        for row in rows:
            lines.append(table + " " + json.dumps(row, sort_keys=True).replace(prefix, "P"))
    return "\n".join(lines), counts


def replay_one(settings_path: Path, name: str, candles) -> tuple[str, dict]:
    settings = load_settings(settings_path)
    settings = settings.with_strategy(strategy_name=name, params={}, interval=interval_of(candles))
    journal = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(settings, candles, journal)
    text, counts = journal_text(journal)
    journal.close()
    text += "\nsummary " + json.dumps(summary.as_json(), sort_keys=True)
    return text, {"digest": hashlib.sha256(text.encode()).hexdigest(), "rows": counts,
                  "net_pnl": summary.as_json()["net_pnl"]}


def measure(data: Path, settings: Path, quick: bool, dump: Path | None) -> dict:
    results: dict[str, dict] = {}
    for file in sorted(data.glob("*.csv")):
        if quick and file.stat().st_size > QUICK_LIMIT_BYTES:
            continue
        candles = load_candles(file)
        results[file.name] = {"candles": len(candles), "digest": candle_digest(candles)}
        for name in strategy_names():
            text, figures = replay_one(settings, name, candles)
            results[f"{file.name} {name}"] = figures
            print(f"{file.name} {name}: {figures['rows']}", file=sys.stderr)
            if dump is not None:
                dump.mkdir(parents=True, exist_ok=True)
                (dump / f"{file.stem}.{name}.txt").write_text(text, encoding="utf-8")
    return results


def differences(expected: dict, measured: dict) -> list[str]:
    return [f"{key}: expected {expected.get(key)}, measured {measured.get(key)}"
            for key in sorted(set(measured)) if expected.get(key) != measured.get(key)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help="write the reference instead of comparing with it")
    parser.add_argument("--quick", action="store_true", help=f"only files under {QUICK_LIMIT_BYTES:,} bytes")
    parser.add_argument("--dump", type=Path, help="write every run's rows as text into this folder")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--settings", type=Path, default=ROOT / "settings.toml")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the digests are the output
    measured = measure(args.data, args.settings, args.quick, args.dump)
    if args.save:
        REFERENCE.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {REFERENCE} ({len(measured)} entries)")
        return 0
    found = differences(json.loads(REFERENCE.read_text(encoding="utf-8")), measured)
    for line in found:
        print(line)
    print(f"{len(measured)} entries compared, {len(found)} differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
