"""Loading a user's strategy file (`[strategy] strategy_file`): a plain Python module whose
`@register("Name_v1")` classes become available as `strategy_name`, without editing the package.

Any problem is one line naming the file (and the line, when Python knows it), raised as
`StrategyFileError`; settings loading turns it into the usual exit 2.
"""
from __future__ import annotations

import importlib.util
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType


class StrategyFileError(ValueError):
    """The strategy file cannot be used; the message is one line naming the file and the fix."""


def load_strategy_file(path: Path, shown: str) -> ModuleType:
    """Import the module at `path` (`shown` is how the user wrote it, for messages)."""
    if not path.is_file():
        raise StrategyFileError(f'[strategy] strategy_file = "{shown}" does not exist ({path}); '
                                "name a Python file, relative to the settings file")
    name = "user_strategy_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyFileError(f'[strategy] strategy_file = "{shown}" is not a Python file; name a .py file')
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look their module up here
    try:
        spec.loader.exec_module(module)
    except SyntaxError as problem:
        del sys.modules[name]
        raise StrategyFileError(f"{shown}:{problem.lineno}: syntax error: {problem.msg}; fix the strategy file") from None
    except Exception as problem:  # an import error or a bug at import time: say where, in one line
        del sys.modules[name]
        line = _line_in(path, problem)
        where = f"{shown}:{line}" if line else shown
        raise StrategyFileError(f"{where}: {type(problem).__name__}: {problem}; fix the strategy file") from None
    return module


def _line_in(path: Path, problem: BaseException) -> int | None:
    """The last line of `path` in the traceback of `problem`, if any."""
    line = None
    for frame in traceback.extract_tb(problem.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return line
