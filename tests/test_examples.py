"""The README's tutorial strategy (examples/fvg_retrace.py) replays, and its journal says why it traded."""
from __future__ import annotations

import re

import pytest

from ict.engine import Engine
from ict.events import Event
from journal.journal import Journal
from tests.conftest import ROOT
from runtime.replay import run_replay
from runtime.settings import load_settings

EXAMPLE = ROOT / "examples" / "fvg_retrace.py"


pytestmark = pytest.mark.usefixtures("clean_registry")   # strategies a test registers do not leak


def test_example_strategy_replays_and_its_basis_names_the_events_it_used(write_settings, day_candles):
    settings = load_settings(write_settings({"strategy.strategy_file": f'"{EXAMPLE.as_posix()}"',
                                             "strategy.strategy_name": '"FVG_Retrace_Example_v1"',
                                             "strategy.params.reward_risk": None}))
    journal = Journal.open(":memory:", "replay", durable=False)
    summary = run_replay(settings, day_candles, journal)
    assert summary.signals > 10 and summary.trades > 3
    events = {r.id: r for r in Engine(settings.ict).scan(day_candles) if isinstance(r, Event)}
    for row in journal.rows("SELECT side, candle_time, entry_price, stop_price, take_profit_price, basis FROM signals"):
        assert re.fullmatch(r"fvg:\d+,(bos|choch):\d+(,liquidity_pool:\d+)?", row["basis"])
        refs = [ref.split(":") for ref in row["basis"].split(",")]
        used = [events[int(number)] for _, number in refs]
        assert [str(event.kind) for event in used] == [kind for kind, _ in refs]
        gap, brk = used[:2]
        direction = "bullish" if row["side"] == "LONG" else "bearish"
        assert gap.direction == brk.direction == direction
        long = row["side"] == "LONG"
        entry, stop, target = (float(row[k]) for k in ("entry_price", "stop_price", "take_profit_price"))
        assert (stop < gap.bottom and target > entry) if long else (stop > gap.top and target < entry)
    journal.close()


def test_readme_shows_the_example_strategy_exactly():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = EXAMPLE.read_text(encoding="utf-8")
    body = code[code.index("from ict.events"):]
    assert body in readme, "README's Strategies section must show examples/fvg_retrace.py as it is"
