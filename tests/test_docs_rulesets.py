"""The docs' ruleset files load; `nocert-rules init` writes them; README excerpts match Zibo's files.

Blocks are marked in the Markdown: ``<!-- ruleset-file: SET/NAME -->`` before a fenced block is
file NAME of a ruleset SET (written out and loaded); ``<!-- ruleset-excerpt: PATH -->`` is an
excerpt of the file PATH of the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from conftest import PERSON_ID, ROOT

from nocert_rules import Engine, Method, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.tools.init import SKELETON_FILES, init_ruleset, skeleton_text
from nocert_rules.tools.lint import lint_ruleset

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKED = re.compile(r"<!-- ruleset-(file|excerpt): (\S+) -->\n```[a-z]*\n(.*?)```", re.S)
UNMARKED_RULESET = re.compile(r"```yaml\n(name: |rows:\n|rules:\n|clauses:\n)")


def marked_blocks() -> list[tuple[str, str, str, str]]:
    """(doc, kind, target, text) of every marked block."""
    return [(doc.name, m.group(1), m.group(2), m.group(3)) for doc in DOCS for m in MARKED.finditer(doc.read_text("utf-8"))]


def test_every_ruleset_looking_block_is_marked() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in UNMARKED_RULESET.finditer(text):
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            assert before.startswith("<!-- ruleset-"), f"{doc.name}: unmarked ruleset block at {m.group(1)!r}"


def test_docs_ruleset_sets_load_lint_clean_and_decide(tmp_path: Path) -> None:
    sets: dict[str, dict[str, str]] = {}
    for _doc, kind, target, text in marked_blocks():
        if kind == "file":
            set_name, name = target.split("/", 1)
            sets.setdefault(set_name, {})[name] = text
    assert "complete" in sets and "manifest.yaml" in sets["complete"]
    for set_name, files in sets.items():
        folder = tmp_path / set_name
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        rs = load_ruleset(folder)
        result = lint_ruleset(folder)
        assert result.errors == [] and result.warnings == [] and result.case_mismatches == [], set_name
        with Engine(rs) as engine:
            d = engine.decide({"service_item": rs.rows[0].service_item_code, "certificate": rs.rows[0].certificate_id,
                               "requested_at": "2025-03-03T10:00", "applicant": {"kind": "person", "id_number": PERSON_ID}})
            assert d.listed and d.trace


def test_the_complete_docs_ruleset_is_what_init_writes() -> None:
    complete = {target.split("/", 1)[1]: text for _d, kind, target, text in marked_blocks()
                if kind == "file" and target.startswith("complete/")}
    assert complete == {name: skeleton_text(name) for name in SKELETON_FILES}


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _paths(v, (*prefix, k))] or [prefix]
    return [prefix]


def _has(data: Any, path: tuple[Any, ...]) -> bool:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and any(isinstance(x, dict) and key in x for x in data):
            data = next(x[key] for x in data if isinstance(x, dict) and key in x)
        else:
            return False
    return True


def test_readme_excerpts_match_the_files_they_quote() -> None:
    excerpts = [(t, text) for _d, kind, t, text in marked_blocks() if kind == "excerpt"]
    assert len(excerpts) >= 4
    for target, text in excerpts:
        excerpt = yaml.safe_load(text)
        real = yaml.safe_load((ROOT / target).read_text(encoding="utf-8"))
        for path in _paths(excerpt):
            assert _has(real, path), (target, path)
        if isinstance(excerpt, dict) and "fallback" in excerpt:  # block style: a comma would not cut it
            assert isinstance(excerpt["fallback"], dict) and "reason" in excerpt["fallback"]


def test_init_then_load_lint_clean_test_and_decide(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "district"
    result = runner.invoke(main, ["init", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["files"]) == sorted(SKELETON_FILES)
    manifest = (target / "manifest.yaml").read_text(encoding="utf-8")
    assert re.search(r"#.*[\u4e00-\u9fff].* / [A-Za-z]", manifest)  # comments in Chinese and English
    rs = load_ruleset(target)
    lint = runner.invoke(main, ["lint", str(target), "--strict"])
    assert lint.exit_code == 0, lint.output
    assert runner.invoke(main, ["test", str(target)]).exit_code == 0
    with Engine(rs) as engine:
        methods = {engine.decide({"service_item": r.service_item_code, "certificate": r.certificate_id,
                                  "requested_at": "2025-03-03T10:00",
                                  "applicant": {"kind": "person", "id_number": PERSON_ID}}).method for r in rs.rows}
    assert Method.ABOLISH in methods and Method.PLEDGE in methods
    again = runner.invoke(main, ["init", str(target)])
    assert again.exit_code == 2 and "not empty" in again.stderr


def test_the_skeleton_words_its_decisions_itself_as_the_library_would(tmp_path: Path) -> None:
    """The skeleton writes a whole ``wording`` section for a city to edit: the bundled default's
    entries (so a new ruleset reads as one without ``wording``), the methods citing its 第二条;
    what the city writes there is what its trace shows."""
    init_ruleset(tmp_path / "district")
    manifest = tmp_path / "district" / "manifest.yaml"
    written = yaml.safe_load(manifest.read_text(encoding="utf-8"))["wording"]
    assert written["methods"].pop("clause") == "第二条"
    assert written == yaml.safe_load(
        (ROOT / "nocert_rules" / "policy" / "default_ruleset_wording.yaml").read_text(encoding="utf-8"))
    rs = load_ruleset(tmp_path / "district")
    assert rs.manifest.wording.methods.clause == "第二条"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        '      zh: "采用{method}"', '      zh: "本区采用{method}"', 1), encoding="utf-8")
    row = rs.rows[0]
    request = {"service_item": row.service_item_code, "certificate": row.certificate_id,
               "requested_at": "2025-03-03T10:00", "applicant": {"kind": "person", "id_number": PERSON_ID}}
    with Engine(load_ruleset(tmp_path / "district")) as engine:
        assert any(step.conclusion.startswith("本区采用") for step in engine.decide(request).trace)


def test_the_skeleton_takes_a_city_s_real_codes(tmp_path: Path) -> None:
    """A city replaces the example codes with its own: the skeleton sets no code pattern that
    refuses them (it shows one, commented out)."""
    target = tmp_path / "city"
    assert CliRunner().invoke(main, ["init", str(target)]).exit_code == 0
    for name in ("certificates.yaml", "tests/example.yaml"):
        path = target / name
        if path.exists():
            path.write_text(path.read_text(encoding="utf-8").replace("EX-0001", "370300-XK-0001")
                            .replace("EX-0002", "370300-QR-0002"), encoding="utf-8")
    rs = load_ruleset(target)
    assert {"370300-XK-0001", "370300-QR-0002"} <= {r.service_item_code for r in rs.rows}
    assert CliRunner().invoke(main, ["lint", str(target), "--strict"]).exit_code == 0


def test_init_from_another_ruleset_copies_what_it_loads(tmp_path: Path) -> None:
    target = tmp_path / "copy"
    result = CliRunner().invoke(main, ["init", str(target), "--from", str(ROOT / "rulesets" / "zibo")])
    assert result.exit_code == 0, result.output
    original = load_ruleset(ROOT / "rulesets" / "zibo")
    copy = load_ruleset(target)
    assert copy.sha256 == original.sha256 and (target / "tests").is_dir()
    bad = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--from", str(tmp_path / "nothing")])
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()


def test_init_from_a_district_copies_only_its_own_files(tmp_path: Path) -> None:
    district = ROOT / "rulesets" / "zibo-zhangdian"
    if not district.is_dir():
        return
    target = tmp_path / "rulesets" / "copy"
    result = CliRunner().invoke(main, ["init", str(target), "--from", str(district), "--json"])
    assert result.exit_code == 0, result.output
    assert all(".." not in name for name in json.loads(result.stdout)["files"])
    assert not (tmp_path / "zibo").exists() and not (tmp_path / "rulesets" / "zibo").exists()
