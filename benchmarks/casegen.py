"""The project's case generator (``examples/generate_cases.py``, a script) for the benchmarks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "generate_cases.py"


def load() -> ModuleType:
    """``examples/generate_cases.py`` loaded as a module."""
    spec = importlib.util.spec_from_file_location("generate_cases", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(n: int, path: Path, ruleset: Path, seed: int = 20210210) -> None:
    """``n`` generated cases on ``ruleset`` written to ``path`` as JSONL."""
    gen = load()
    with path.open("w", encoding="utf-8") as out:
        gen.write(out, gen.generate(ruleset, n, seed))
