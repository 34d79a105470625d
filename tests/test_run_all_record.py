"""``run_all.py --record FILE``: a document's figures are one run's output, written by the run."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import run_all  # noqa: E402


def _transcript(*sections: tuple[str, str]) -> run_all.Transcript:
    t = run_all.Transcript()
    for title, text in sections:
        t.start(title)
        t.add(text)
    return t


def test_each_section_is_a_verbatim_text_block() -> None:
    md = _transcript(("machine", "\nCPU x\n"), ("decide()", "median 1.0 µs\n"), ("empty", "")).markdown("cmd --big")
    assert md.startswith("Recorded by `cmd --big`")
    assert "### machine\n\n```text\nCPU x\n```" in md
    assert "### decide()\n\n```text\nmedian 1.0 µs\n```" in md
    assert "### empty" not in md  # a step that printed nothing is left out


def test_output_holding_a_fence_gets_a_longer_fence() -> None:
    md = _transcript(("s", "a ``` b")).markdown("c")
    assert "````text\na ``` b\n````" in md


def test_record_replaces_only_the_block_between_the_markers(tmp_path: Path) -> None:
    doc = tmp_path / "B.md"
    doc.write_text(f"# Title\nprose\n{run_all.BEGIN}\nold figures\n{run_all.END}\nafter\n", encoding="utf-8")
    run_all.record_into(doc, "new figures\n")
    assert doc.read_text(encoding="utf-8") == f"# Title\nprose\n{run_all.BEGIN}\nnew figures\n{run_all.END}\nafter\n"
    assert not (tmp_path / "B.md.tmp").exists()


def test_record_appends_the_block_to_a_file_without_markers(tmp_path: Path) -> None:
    doc = tmp_path / "B.md"
    doc.write_text("# Title\n", encoding="utf-8")
    run_all.record_into(doc, "figures")
    assert doc.read_text(encoding="utf-8") == f"# Title\n\n{run_all.BEGIN}\nfigures\n{run_all.END}\n"
    fresh = tmp_path / "new.md"
    run_all.record_into(fresh, "figures")
    assert fresh.read_text(encoding="utf-8") == f"{run_all.BEGIN}\nfigures\n{run_all.END}\n"


def test_the_tee_keeps_what_is_printed_by_section(capsys) -> None:  # type: ignore[no-untyped-def]
    run_all.TRANSCRIPT = run_all.Transcript()
    try:
        tee = run_all._Tee(sys.stdout)
        old, sys.stdout = sys.stdout, tee  # type: ignore[assignment]
        try:
            run_all.section("one")
            print("figure 1")
        finally:
            sys.stdout = old
        assert run_all.TRANSCRIPT.sections[-1][0] == "one"
        assert "figure 1" in "".join(run_all.TRANSCRIPT.sections[-1][1])
        assert "figure 1" in capsys.readouterr().out
    finally:
        run_all.TRANSCRIPT = None


def test_a_recorded_run_writes_every_step_into_the_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole ``--record`` wiring: every step's output lands in its section of the file (the
    child benchmarks replaced by stand-ins; ``bench_decide`` runs for real at tiny sizes)."""
    import importlib.util

    if importlib.util.find_spec("durable") is None:  # bench_decide's durable backend (not on 3.13)
        import pytest

        pytest.skip("durable_rules is not installed here")
    called: list[str] = []

    def child(script: str, *args: str) -> tuple[int, str]:
        called.append(script)
        return 0, f"stand-in output of {script} {' '.join(args)}".rstrip()

    monkeypatch.setattr(run_all, "child", child)
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# Benchmarks\nprose kept\n{run_all.BEGIN}\nold\n{run_all.END}\nend kept\n", encoding="utf-8")
    assert run_all.main(["--n", "60", "--cases", "30", "--with-issue21", "--record", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\nprose kept\n") and text.endswith(f"{run_all.END}\nend kept\n")
    assert "\nold\n" not in text
    assert "Recorded by `python benchmarks/run_all.py --n 60 --cases 30 --with-issue21 --record" in text
    for script in called:  # each child's output, in the file
        assert f"stand-in output of {script}" in text
    assert {"bench_calendar.py", "bench_load.py", "compare_release.py", "issue21.py"} <= set(called)
    assert "stand-in output of issue21.py --quick" in text  # tiny --n: issue 21 at its quick sizes
    assert "### machine" in text and "### decide() vs its floor and alternatives, generated workload" in text
    assert "### summary: ratios" in text
    import sys

    assert not isinstance(sys.stdout, run_all._Tee)
