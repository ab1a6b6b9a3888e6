"""Point `[bot] journal` and `[bot] log_file` of a freshly installed settings.toml at the state folder.

    python3 deploy/state_paths.py SETTINGS JOURNAL LOG_FILE

Used by deploy/install.sh on a first install only (never on the user's edited settings). Standard library only,
so the system python3 can run it before the virtual environment has any package. A careful line edit, not a TOML
round trip: only the value of each key's line inside the `[bot]` table changes; comments, order and every other
line stay byte for byte (a key missing from `[bot]` is added under the header). The values are plain relative or
absolute paths, written as TOML basic strings; a path with a quote, a backslash or a control character is refused.
"""
from __future__ import annotations

import re
import sys

TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")
VALUE = re.compile(r"""^(\s*{key}\s*=\s*)("[^"\\]*"|'[^']*')(\s*)(#.*)?$""")


def set_bot_paths(text: str, values: dict[str, str]) -> str:
    """`text` with each `[bot]` key in `values` set to its path. Raises ValueError for an unsafe path, a key whose
    value is not a simple string, or a text without a `[bot]` table."""
    for path in values.values():
        if any(char in path for char in '"\\') or any(ord(char) < 32 for char in path):
            raise ValueError(f"path {path!r} has a quote, backslash or control character; choose a plain path")
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if _table(line) == "bot"), None)
    if header is None:
        raise ValueError("the settings have no [bot] table")
    end = next((i for i in range(header + 1, len(lines)) if _table(lines[i]) is not None), len(lines))
    for key, path in values.items():
        pattern = re.compile(VALUE.pattern.format(key=re.escape(key)))
        found = [i for i in range(header + 1, end) if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i])]
        if not found:
            lines.insert(header + 1, f'{key} = "{path}"\n')
            end += 1
            continue
        line = lines[found[0]]
        body, newline = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        match = pattern.match(body)
        if match is None:
            raise ValueError(f"[bot] {key} is not a simple string; set it to \"{path}\" by hand")
        lead, old, space, comment = match.group(1), match.group(2), match.group(3), match.group(4)
        new = f'"{path}"'
        if comment:  # keep the comment's column when the spaces before it allow
            space = " " * max(1, len(space) - max(0, len(new) - len(old)))
        lines[found[0]] = lead + new + (space + comment if comment else space) + newline
    return "".join(lines)


def _table(line: str) -> str | None:
    match = TABLE.match(line)
    return match.group(1) if match else None


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: state_paths.py SETTINGS JOURNAL LOG_FILE", file=sys.stderr)
        return 2
    settings, journal, log_file = argv
    with open(settings, encoding="utf-8") as file:
        text = file.read()
    try:
        changed = set_bot_paths(text, {"journal": journal, "log_file": log_file})
    except ValueError as problem:
        print(f"error: {settings}: {problem}", file=sys.stderr)
        return 2
    with open(settings, "w", encoding="utf-8", newline="") as file:
        file.write(changed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
