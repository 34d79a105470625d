"""Benchmark: ``import-list`` of a 10,000-row list (.xlsx and CSV), and where the time goes.

Run: ``python benchmarks/bench_list_import.py [--rows 10000]`` (not a test; prints a table).
``benchmarks/run_all.py`` runs it as a child process. Needs the ``excel`` extra (openpyxl).

The sheet is ``export-list`` of the Zibo list, its rows repeated with new certificate ids up to
``--rows``; the import is checked to give back every row. Times: the whole import (cells ->
validated rows, with the reader ``import-list`` uses), and reading the workbook's cells (merged
ranges filled) with openpyxl and with python-calamine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nocert_rules import load_ruleset  # noqa: E402
from nocert_rules.tools.list_export import export_list  # noqa: E402
from nocert_rules.tools.list_import import import_list, read_sheets  # noqa: E402


class _Big:
    """The Zibo ruleset with its rows repeated (unique ids) to ``n`` rows, for export_list."""

    def __init__(self, rs: object, n: int) -> None:
        self._rs = rs
        rows = []
        base = rs.rows  # type: ignore[attr-defined]
        for i in range(n):
            row = base[i % len(base)]
            rows.append(row.model_copy(update={"certificate_id": f"{row.certificate_id}-{i:05d}",
                                               "certificate_name": f"{row.certificate_name}{i:05d}"}))
        self.rows = rows

    def __getattr__(self, name: str) -> object:
        return getattr(self._rs, name)


def timed(fn: object, *args: object) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)  # type: ignore[operator]
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    big = _Big(load_ruleset(ROOT / "rulesets" / "zibo"), args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".xlsx", ".csv"):
            path = Path(tmp) / f"list{suffix}"
            t_export, _ = timed(export_list, big, path)
            t_import, result = timed(import_list, path)
            assert result.ok and result.rows == big.rows, result.problems[:3]  # type: ignore[attr-defined]
            size = path.stat().st_size / 1e6
            print(f"{suffix:<5} {args.rows:,} rows ({size:.1f} MB): export {t_export:6.2f} s; import-list "
                  f"(read + convert + validate) {t_import:6.2f} s = {args.rows / t_import:,.0f} rows/s")
            if suffix != ".xlsx":
                continue
            t_openpyxl, _ = timed(read_sheets, path, "openpyxl")
            try:
                t_calamine, _ = timed(read_sheets, path, "calamine")
            except Exception:  # noqa: BLE001 - not installed
                print(f"      reading cells: openpyxl {t_openpyxl:6.2f} s; python-calamine not installed")
            else:
                print(f"      reading cells: openpyxl {t_openpyxl:6.2f} s, python-calamine {t_calamine:6.2f} s "
                      f"(calamine {t_openpyxl / t_calamine:.1f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
