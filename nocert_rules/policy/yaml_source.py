"""Safe YAML loading that remembers where every value came from.

Ruleset errors must name ``file:line``. PyYAML's safe composer gives each node a start
mark; we build the plain data and, beside it, a map from field path to line number.
Tags outside the safe set (``!!python/...``) are refused, never constructed.
Duplicate mapping keys are refused too (PyYAML would silently keep the last one).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from nocert_rules.errors import RulesetError

Path_ = tuple[str | int, ...]


class LocatedYaml:
    """Data loaded from one YAML file plus the line of each field path (1-based)."""

    def __init__(self, file: str, data: Any, lines: dict[Path_, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        key = tuple(path)
        while True:
            if key in self.lines:
                return self.lines[key]
            if not key:
                return None
            key = key[:-1]

    def error(self, path: Sequence[str | int], problem: str) -> RulesetError:
        return RulesetError(self.file, self.line_of(path), format_path(path) or None, problem)


def format_path(path: Sequence[str | int]) -> str:
    """``("rows", 12, "issuer")`` -> ``rows[12].issuer``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_located_yaml(path: Path, display_name: str | None = None) -> LocatedYaml:
    """Load ``path`` safely; every problem becomes a RulesetError with file and line."""
    name = display_name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RulesetError(name, None, None, "file not found / 文件不存在") from exc
    except UnicodeDecodeError as exc:
        raise RulesetError(name, None, None, f"not UTF-8 text: {exc}") from exc
    return load_located_text(text, name)


def load_located_text(text: str, name: str) -> LocatedYaml:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RulesetError(name, line, None, f"bad YAML: {exc.problem or exc}") from exc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, a position
        line = text.count("\n", 0, exc.position) + 1
        raise RulesetError(
            name, line, None, f"bad YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"
        ) from exc
    except yaml.YAMLError as exc:
        raise RulesetError(name, None, None, f"bad YAML: {exc}") from exc
    if node is None:
        return LocatedYaml(name, None, {(): 1})
    lines: dict[Path_, int] = {}
    constructor = yaml.SafeLoader("")  # used only for its scalar resolution/constructors
    data = _build(node, (), lines, constructor, name)
    return LocatedYaml(name, data, lines)


_MAX_NODES = 1_000_000
"""More nodes than any ruleset needs: stops alias bombs ("billion laughs") from expanding."""


def _build(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    constructor: yaml.SafeLoader,
    name: str,
    active: frozenset[int] = frozenset(),
) -> Any:
    if id(node) in active:
        raise RulesetError(name, node.start_mark.line + 1, format_path(path) or None, "a YAML alias refers to itself / 别名循环引用")
    if len(lines) > _MAX_NODES:
        raise RulesetError(name, node.start_mark.line + 1, format_path(path) or None, "too many values (alias expansion?) / 内容过多")
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise _bad_tag(node, name, path)
        out: dict[str, Any] = {}
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = str(_scalar(key_node, constructor, name, path))
            if key in out:
                raise RulesetError(
                    name, key_node.start_mark.line + 1, format_path((*path, key)), "duplicate key"
                )
            out[key] = _build(value_node, (*path, key), lines, constructor, name, active | {id(node)})
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise _bad_tag(node, name, path)
        inner = active | {id(node)}
        return [_build(item, (*path, i), lines, constructor, name, inner) for i, item in enumerate(node.value)]
    return _scalar(node, constructor, name, path)


_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


def _scalar(node: yaml.Node, constructor: yaml.SafeLoader, name: str, path: Path_ = ()) -> Any:
    if not isinstance(node, yaml.ScalarNode) or node.tag not in _SAFE_SCALAR_TAGS:
        raise _bad_tag(node, name, path)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise RulesetError(name, node.start_mark.line + 1, format_path(path) or None, str(exc)) from exc
    except (ValueError, OverflowError) as exc:  # e.g. a timestamp 2021-02-30
        raise RulesetError(
            name, node.start_mark.line + 1, format_path(path) or None, f"bad value {node.value!r}: {exc}"
        ) from exc


def _bad_tag(node: yaml.Node, name: str, path: Path_) -> RulesetError:
    return RulesetError(
        name,
        node.start_mark.line + 1,
        format_path(path) or None,
        f"tag {node.tag!r} is not allowed (only plain YAML data) / 不允许的 YAML 标签",
    )


def validate_located(model: type[BaseModel], doc: LocatedYaml) -> Any:
    """Validate a located YAML document against ``model``; the first problem becomes a RulesetError."""
    try:
        return model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = tuple(first["loc"])
        # A model-level validator reports at the object; pydantic adds no field.
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            msg = "field required / 缺少必填字段"
        elif first["type"] == "extra_forbidden":
            msg = "unknown key / 未知字段"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise doc.error(loc, msg + more) from None
