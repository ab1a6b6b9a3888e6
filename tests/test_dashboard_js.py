"""The dashboard's shared JavaScript where its arithmetic matters: money shown to the cent as the
journal's audit queries and `python bot.py status` round it (half away from zero, on the digits)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "js" / "money_cases.js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed: the money rounding is not run")
def test_dashboard_money_rounds_decimal_text_to_the_cent_like_the_audit_queries():
    result = subprocess.run(["node", str(CASES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 12 and all(line.startswith("ok ") for line in lines), result.stdout
