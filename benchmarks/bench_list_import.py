"""Benchmark: ``export-list`` and ``import-list`` of a 10,000-row list, each against the bare library.

Run: ``python benchmarks/bench_list_import.py [--rows 10000] [--tiny] [--repeat 3]`` (not a test;
prints a table). ``--tiny``: 200 rows, one repeat (a check that it runs). ``benchmarks/run_all.py``
runs it as a child process. Needs the ``excel`` extra (openpyxl, python-calamine).

The list is the Zibo list, its rows repeated with new certificate ids up to ``--rows``. In one
run, alternating, best of ``--repeat``:

- export: ``export_list`` to .xlsx against a bare openpyxl write-only dump of the same cells
  (``row_cells``) into one sheet (target: within 2x);
- import: ``import_list`` of that .xlsx (size checks, read, convert, validate: every row given
  back is checked) against python-calamine's bare read of the same file (every sheet's values)
  (target: within 2x);
- the same for CSV, against ``csv.reader`` of the file.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nocert_rules import load_ruleset  # noqa: E402
from nocert_rules.tools.list_export import export_list, headers, row_cells  # noqa: E402
from nocert_rules.tools.list_import import import_list  # noqa: E402


class _Big:
    """The Zibo ruleset with its rows repeated (unique ids) to ``n`` rows, for export_list."""

    def __init__(self, rs: Any, n: int) -> None:
        self._rs = rs
        base = rs.rows
        self.rows = [base[i % len(base)].model_copy(update={
            "certificate_id": f"{base[i % len(base)].certificate_id}-{i:05d}",
            "certificate_name": f"{base[i % len(base)].certificate_name}{i:05d}"}) for i in range(n)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rs, name)


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def bare_openpyxl(table: list[list[Any]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("清单")
    for values in table:
        ws.append(values)
    book.save(path)


def bare_calamine(path: Path) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)


def bare_csv(path: Path) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="200 rows, one repeat: a check that it runs")
    args = parser.parse_args(argv)
    rows, repeat = (200, 1) if args.tiny else (args.rows, args.repeat)
    rs = load_ruleset(ROOT / "rulesets" / "zibo")
    big = _Big(rs, rows)
    table = [headers(), *(row_cells(big, i, row) for i, row in enumerate(big.rows, start=1))]  # type: ignore[arg-type]
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        xlsx, bare, csv_path = Path(tmp) / "list.xlsx", Path(tmp) / "bare.xlsx", Path(tmp) / "list.csv"
        t_bare, _ = best(repeat, lambda: bare_openpyxl(table, bare))
        t_export, _ = best(repeat, lambda: export_list(big, xlsx))  # type: ignore[arg-type]
        t_read, n = best(repeat, lambda: bare_calamine(xlsx))
        t_import, result = best(repeat, lambda: import_list(xlsx))
        assert result.ok and result.rows == big.rows, result.problems[:3]
        t_csv_export, _ = best(repeat, lambda: export_list(big, csv_path))  # type: ignore[arg-type]
        t_csv_read, _ = best(repeat, lambda: bare_csv(csv_path))
        t_csv_import, csv_result = best(repeat, lambda: import_list(csv_path))
        assert csv_result.ok and csv_result.rows == big.rows, csv_result.problems[:3]
        ratios = {"export .xlsx / bare openpyxl write-only": t_export / t_bare,
                  "import .xlsx / bare python-calamine read": t_import / t_read}
        size = xlsx.stat().st_size / 1e6
        print(f"{rows:,} rows, .xlsx {size:.1f} MB ({n:,} rows read by calamine), best of {repeat}:")
        print(f"  export-list .xlsx {t_export:7.3f} s   bare openpyxl write-only dump {t_bare:7.3f} s   "
              f"ratio {ratios['export .xlsx / bare openpyxl write-only']:.2f}x (target <= 2x)")
        print(f"  import-list .xlsx {t_import:7.3f} s   bare python-calamine read     {t_read:7.3f} s   "
              f"ratio {ratios['import .xlsx / bare python-calamine read']:.2f}x (target <= 2x)")
        print(f"  export-list .csv  {t_csv_export:7.3f} s;  import-list .csv {t_csv_import:7.3f} s   "
              f"bare csv.reader {t_csv_read:7.3f} s   ratio {t_csv_import / t_csv_read:.1f}x (no target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
