from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ruleset_factory import write_ruleset  # noqa: E402

from nocert_rules import Engine, Ruleset, load_ruleset  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASE_GENERATOR = ROOT / "examples" / "generate_cases.py"


def case_generator() -> ModuleType:
    """``examples/generate_cases.py`` (a script) loaded as a module."""
    spec = importlib.util.spec_from_file_location("generate_cases", CASE_GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
ZIBO = ROOT / "rulesets" / "zibo"

# Fake ID numbers used across the tests; none may ever appear in clear in an output.
PERSON_ID = "370399199001011234"
ORG_ID = "91370300MA3C1234XY"
# A real resident ID number by GB 11643-1999 (valid check digit, date and province): refused in
# codes and host references. PERSON_ID above has a wrong check digit: masked, not refused.
VALID_PERSON_ID = "370399199001011231"


@pytest.fixture(scope="session")
def zibo() -> Ruleset:
    return load_ruleset(ZIBO)


@pytest.fixture(scope="session")
def zibo_engine(zibo: Ruleset) -> Engine:
    return Engine(zibo)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    return load_ruleset(write_ruleset(tmp_path_factory.mktemp("tiny")))


@pytest.fixture(scope="session")
def tiny_engine(tiny: Ruleset) -> Engine:
    return Engine(tiny)
