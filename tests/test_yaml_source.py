"""The event-driven YAML loader (policy/yaml_source.py): same data and lines as PyYAML, safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ZIBO

from nocert_rules import RulesetError
from nocert_rules.policy import yaml_source
from nocert_rules.policy.yaml_source import load_located_text, load_located_yaml

YAML_FILES = sorted(p for p in ZIBO.rglob("*.yaml"))


def reference_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Field path -> line as the former loader computed it (composed nodes, key lines)."""
    out: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        out.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(yaml.SafeLoader("").construct_object(key))))
                out[(*path, str(yaml.SafeLoader("").construct_object(key)))] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        walk(node, ())
    return out


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ZIBO)))
def test_same_data_and_lines_as_pyyaml(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    doc = load_located_yaml(path)
    assert doc.data == yaml.safe_load(text)
    expected = reference_lines(text)
    assert len(expected) >= 4
    for field_path, line in expected.items():
        assert doc.line_of(field_path) == line, field_path
    assert doc.lines == expected
    assert doc.raw == path.read_bytes()


def test_pure_python_parser_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ZIBO / "certificates.yaml").read_text(encoding="utf-8")
    fast = load_located_text(text, "certificates.yaml")
    monkeypatch.setattr(yaml_source, "LIBYAML", False)
    monkeypatch.setattr(yaml_source, "_Loader", yaml.SafeLoader)
    monkeypatch.setattr(yaml_source, "_warned", False)
    with pytest.warns(RuntimeWarning, match="libyaml"):
        slow = load_located_text(text, "certificates.yaml")
    assert slow.data == fast.data and slow.lines == fast.lines
    with pytest.raises(RulesetError) as info:
        load_located_text("a: 1\nb: !!python/name:os.system x\n", "x.yaml")
    assert info.value.line == 2 and "not allowed" in str(info.value)


def test_libyaml_is_used_here() -> None:
    """The suite runs with libyaml (PyYAML wheels ship it); without it loading is much slower."""
    assert yaml_source.LIBYAML and yaml_source._Loader is yaml.CSafeLoader


def error(text: str) -> RulesetError:
    with pytest.raises(RulesetError) as info:
        load_located_text(text, "f.yaml")
    return info.value


def test_alias_guard_counts_expansions_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_source, "MAX_ALIAS_EXPANSION", 100)
    plain = "rows:\n" + "".join(f"  - {{a: {i}, b: x{i}}}\n" for i in range(1000))
    assert len(load_located_text(plain, "f.yaml").data["rows"]) == 1000  # 3,000 values, no alias
    bomb = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a, *a]\nc: [*b, *b]\n"
    err = error(bomb)
    assert err.line == 3 and "alias" in str(err) and err.field == "c[0]"


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    err = error("\n".join(lines) + "\n")
    assert "alias" in str(err) and err.line is not None and err.line <= 10


def test_a_long_plain_list_loads() -> None:
    text = "values:\n" + "".join(f"  - v{i}\n" for i in range(1_100_000))
    assert len(load_located_text(text, "f.yaml").data["values"]) == 1_100_000  # over the old 1,000,000


def test_aliases_share_values_and_merge_keys_merge() -> None:
    text = ("base: &base {issuer: 局, records: paper}\n"
            "row:\n  <<: *base\n  records: electronic\n  name: x\n"
            "both: {<<: [*base, {extra: 1}], name: y}\n")
    doc = load_located_text(text, "f.yaml")
    assert doc.data == yaml.safe_load(text)
    assert doc.data["row"] == {"issuer": "局", "records": "electronic", "name": "x"}
    assert doc.line_of(("row", "records")) == 4 and doc.line_of(("row", "issuer")) == 3


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\na: 2\n", 2, "duplicate key"),
        ("x: &a [*a]\n", 1, "refers to itself"),
        ("x: &a {y: *a}\n", 1, "refers to itself"),
        ("x: *nowhere\n", 1, "unknown alias"),
        ("x: &a 1\ny: &a 2\n", 2, "duplicate anchor"),
        ("a: 1\n---\nb: 2\n", 2, "single document"),
        ("a: !!python/object:os.system {}\n", 1, "not allowed"),
        ("a:\n  - !!binary aGk=\n", 2, "not allowed"),
        ("? [1, 2]\n: x\n", 1, "plain value"),
        ("a: 2021-02-30\n", 1, "bad value"),
        ("a: <<\n", 1, "not allowed"),
        ("a: [1, 2\n", 2, "bad YAML"),
        ("a: \x07\n", 1, "unacceptable character"),
    ],
)
def test_errors_name_the_line(text: str, line: int, words: str) -> None:
    err = error(text)
    assert err.file == "f.yaml" and err.line == line and words in str(err)


def test_empty_and_scalar_documents() -> None:
    assert load_located_text("", "f.yaml").data is None
    assert load_located_text("# only a comment\n", "f.yaml").data is None
    doc = load_located_text("\n\nplain\n", "f.yaml")
    assert doc.data == "plain" and doc.line_of(()) == 3


def test_a_conventional_file_comes_from_the_hashed_bytes_first_then_the_folder(tmp_path: Path) -> None:
    """load_ruleset_file: the bytes the ruleset hashed win over the folder; every problem is a
    RulesetError naming the file (officers.yaml, complaint_rules.yaml use it)."""
    from nocert_rules.policy.yaml_source import load_ruleset_file

    (tmp_path / "extra.yaml").write_text("a: 1\n", encoding="utf-8")
    assert load_ruleset_file({"extra.yaml": b"a: 2\n"}, tmp_path, "extra.yaml").data == {"a": 2}
    doc = load_ruleset_file({}, tmp_path, "extra.yaml")
    assert doc.data == {"a": 1} and doc.raw == b"a: 1\n"
    (tmp_path / "bad.yaml").write_bytes(b"a: \xff\n")
    (tmp_path / "folder.yaml").mkdir()
    for name, says in (("missing.yaml", "file not found"), ("bad.yaml", "not UTF-8"),
                       ("folder.yaml", "is a directory")):
        with pytest.raises(RulesetError) as info:
            load_ruleset_file({}, tmp_path, name)
        assert info.value.problems[0].file == name and says in str(info.value), info.value
