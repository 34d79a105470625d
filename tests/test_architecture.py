"""The package's layers (docs/ARCHITECTURE.md) hold: imports flow one way, checked by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_layers_are_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_flat_module_is_left_beside_the_subpackages() -> None:
    # Ground modules and models stay at the top; everything else lives in a layer's subpackage.
    flat = sorted(p.name for p in (ROOT / "nocert_rules").glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "enums.py", "errors.py", "fileio.py", "models.py", "privacy.py"]
