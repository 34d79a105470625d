"""House rule: no clause id (附件N 第X条, 三(三)2) or Zibo office in Python outside docstrings."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

PATTERN = re.compile(r"附件[0-9] ?第[一二三四五六七八九十]+条|联席会议办公室|三\(")


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """Module, class and function docstrings, and attribute docstrings (a bare string statement)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    found.add(id(stmt.value))
    return found


def offending_strings(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    docs = _docstring_nodes(tree)
    return [
        (node.lineno, node.value[:80])
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
        and PATTERN.search(node.value)
    ]


def test_the_scan_finds_a_clause_in_code_but_not_in_a_docstring() -> None:
    code = 'def f():\n    """Cites 附件2 第七条."""\n    return "附件2 第七条" + f"{1}三(三)2"\n'
    assert [line for line, _ in offending_strings(code)] == [3, 3]


def test_no_clause_ids_or_offices_in_the_library() -> None:
    found = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / "nocert_rules").rglob("*.py"))
        if (hits := offending_strings(path.read_text(encoding="utf-8")))
    }
    assert found == {}
