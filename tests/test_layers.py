"""Dependencies point one way: bot.py, dashboard → runtime → trade (core ← binance, simulated) → ict, journal.

Read from the source with `ast`, so an import inside a function counts as much as one at
the top. A new module in a package inherits its package's rule.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# package (most specific first) → top-level names or subpackages it must not import
SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX|VIEW))\b", re.S)
FORBIDDEN = {
    "ict": ("trade", "runtime", "journal", "bot", "dashboard"),
    "journal": ("trade", "runtime", "ict", "bot", "dashboard"),
    "trade.binance": ("runtime", "trade.simulated", "bot", "dashboard"),
    "trade.simulated": ("runtime", "trade.binance", "bot", "dashboard"),
    "trade": ("runtime", "trade.binance", "trade.simulated", "bot", "dashboard"),
    "runtime": ("bot", "dashboard"),
    "dashboard": ("bot",),   # the web process reads the journal and the settings; it never drives the bot's objects
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def rule_for(package: str) -> tuple[str, ...]:
    for name in sorted(FORBIDDEN, key=len, reverse=True):
        if package == name or package.startswith(name + "."):
            return FORBIDDEN[name]
    return ()


def violations() -> list[str]:
    found = []
    for top in ("ict", "journal", "trade", "runtime", "dashboard"):
        for path in sorted((ROOT / top).rglob("*.py")):
            package = package_of(path)
            for module in sorted(imported_modules(path)):
                for banned in rule_for(package):
                    if module == banned or module.startswith(banned + "."):
                        found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


def test_layers_import_only_downwards():
    assert violations() == []


def test_layers_rule_catches_an_upward_import(tmp_path):
    bad = tmp_path / "m.py"
    bad.write_text("from runtime.settings import Settings\nimport trade.binance.rest\n", encoding="utf-8")
    modules = imported_modules(bad)
    assert {"runtime.settings", "trade.binance.rest"} <= modules
    assert any(m.startswith("runtime") for m in modules if m.startswith(rule_for("trade")[0]))
    assert rule_for("trade.binance") == FORBIDDEN["trade.binance"] and rule_for("trade") == FORBIDDEN["trade"]


def test_only_the_journal_speaks_sql():
    """#9: the journal owns its schema; no other package opens SQLite or writes SQL text."""
    offenders = []
    for top in ("ict", "trade", "runtime", "dashboard"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "sqlite3" in imported_modules(path):
                offenders.append(f"{path.relative_to(ROOT)} imports sqlite3")
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if SQL.search(node.value):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} SQL text {node.value[:40]!r}")
    if "sqlite3" in imported_modules(ROOT / "bot.py"):
        offenders.append("bot.py imports sqlite3")
    assert offenders == []
