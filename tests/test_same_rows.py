"""The replay of the small bundled files yields the rows recorded in bench/same_rows.json.

A refactor must not change behaviour: one fill, one refusal text or one transition more or
less changes a digest. `python bench/same_rows.py` checks every bundled file the same way;
`--save` records a deliberate change of behaviour (say why in the commit).
"""
from __future__ import annotations

import json
import logging

import pytest

from bench import same_rows

pytestmark = pytest.mark.filterwarnings("ignore")


def test_small_bundled_files_replay_to_the_recorded_rows():
    logging.disable(logging.CRITICAL)
    try:
        measured = same_rows.measure(same_rows.ROOT / "data", same_rows.ROOT / "settings.toml", quick=True, dump=None)
    finally:
        logging.disable(logging.NOTSET)
    expected = json.loads(same_rows.REFERENCE.read_text(encoding="utf-8"))
    assert len(measured) >= 10  # the two small 1m day files, each loaded and replayed per strategy
    assert same_rows.differences(expected, measured) == []
