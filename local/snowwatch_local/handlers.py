"""Load the real Lambda handlers from functions/<name>/ (each has its own handler.py)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"


@cache
def load(function: str, module: str = "handler") -> ModuleType:
    """functions/<function>/<module>.py as a module named '<function>_<module>'."""
    folder = FUNCTIONS / function
    if str(folder) not in sys.path and function == "api":
        sys.path.insert(0, str(folder))  # the API function imports its `routers` package
    name = f"snowwatch_fn_{function}_{module}"
    spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no handler at {folder / module}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
