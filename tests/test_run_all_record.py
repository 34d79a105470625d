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
