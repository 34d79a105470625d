"""Safe YAML loading that remembers where every value came from, fast enough for 100,000 rows.

Ruleset errors must name ``file:line``. The file is parsed by libyaml (``yaml.CSafeLoader``)
into a stream of *events*, and one iterative pass over the events builds the plain data and,
beside each container, a compact array of its children's lines; no node tree and no
per-value path map is ever built, so a list of 100,000 rows loads in a few seconds and a few
hundred MB (``benchmarks/bench_load.py``). :meth:`LocatedYaml.line_of` walks the data along a
field path to find the line when an error needs it.

Tags outside the safe set (``!!python/...``) are refused, never constructed. Duplicate mapping
keys are refused (PyYAML would silently keep the last one); keys merged with ``<<`` may be
overridden, as YAML says. Aliases share the anchored value; the alias guard counts the values
that aliases expand to (``MAX_ALIAS_EXPANSION``), so an alias bomb ("billion laughs") is refused
while a long list of plain values is not. An alias inside its own anchor is refused.

Without libyaml (``yaml.__with_libyaml__`` false) the same pass runs on PyYAML's pure-Python
parser, several times slower; a ``RuntimeWarning`` says so once.
"""

from __future__ import annotations

import warnings
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from nocert_rules.errors import RulesetError
from nocert_rules.policy.files import RulesetFolder, read_file

Path_ = tuple[str | int, ...]

LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))
"""True when PyYAML was built with libyaml (the fast C parser)."""

_Loader: Any = yaml.CSafeLoader if LIBYAML else yaml.SafeLoader
_warned = False

MAX_ALIAS_EXPANSION = 1_000_000
"""Values that aliases may expand to in one file: stops alias bombs ("billion laughs")."""

MAX_NESTING = 100
"""Levels of mappings and lists in one file (a ruleset needs about 10; every later step that
walks the data, validation included, stays far from Python's recursion limit)."""


class LocatedYaml:
    """Data loaded from one YAML file, with the line (1-based) of every value.

    ``raw`` holds the exact bytes that were parsed (what the ruleset hash covers)."""

    def __init__(
        self,
        file: str,
        data: Any,
        lines: dict[Path_, int] | None = None,
        *,
        root_line: int = 1,
        child_lines: dict[int, array[int]] | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.file = file
        self.data = data
        self.raw = raw
        self._root_line = root_line
        self._child_lines = child_lines or {}
        self._explicit = lines
        self._positions: dict[int, dict[Any, int]] = {}

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        if self._explicit is not None:
            key = tuple(path)
            while True:
                if key in self._explicit:
                    return self._explicit[key]
                if not key:
                    return None
                key = key[:-1]
        node, line = self.data, self._root_line
        for part in path:
            lines = self._child_lines.get(id(node))
            if isinstance(node, dict):
                if part not in node:
                    return line
                index = self._key_position(node, part) if lines is not None else 0
            elif isinstance(node, list):
                if not isinstance(part, int) or not 0 <= part < len(node):
                    return line
                index = part
            else:
                return line
            if lines is not None:
                line = lines[index]
            node = node[part]
        return line

    def _key_position(self, node: dict[Any, Any], key: Any) -> int:
        """The position of ``key`` among ``node``'s keys, from an index built once per mapping
        (the first error in a mapping pays one pass over its keys, each later one a lookup)."""
        positions = self._positions.get(id(node))
        if positions is None:
            positions = self._positions[id(node)] = {k: i for i, k in enumerate(node)}
        return positions[key]

    @property
    def lines(self) -> dict[Path_, int]:
        """Every field path -> its line (built on demand; large for a large file)."""
        if self._explicit is not None:
            return self._explicit
        out: dict[Path_, int] = {(): self._root_line}
        stack: list[tuple[Any, Path_, int]] = [(self.data, (), self._root_line)]
        while stack:
            node, path, line = stack.pop()
            if isinstance(node, dict | list):
                lines = self._child_lines.get(id(node))
                keys = list(node) if isinstance(node, dict) else range(len(node))
                for i, key in enumerate(keys):
                    child_line = lines[i] if lines is not None else line
                    out[(*path, key)] = child_line
                    stack.append((node[key], (*path, key), child_line))
        return out

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
    """Load ``path`` safely; every problem becomes a RulesetError with file and line.

    The file is read by ``policy.files.read_file``: a regular file of at most ``MAX_FILE_BYTES``
    (a FIFO or device is refused, not opened)."""
    name = display_name or path.name
    return load_located_bytes(read_file(path, name), name)


def load_ruleset_file(files: Mapping[str, bytes], directory: Path, name: str) -> LocatedYaml:
    """A conventional ruleset file (officers, complaint rules, ...): the bytes the ruleset hashed
    (``files``) when it has them, else ``directory / name``; problems as :func:`load_located_yaml`."""
    raw = files.get(name)
    if raw is None:
        raw = RulesetFolder(directory).read(name)  # inside the folder, as at load
    return load_located_bytes(raw, name)


def load_located_bytes(raw: bytes, name: str) -> LocatedYaml:
    """Parse UTF-8 ``raw`` (the bytes are kept in ``doc.raw``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesetError(name, None, None, f"not UTF-8 text: {exc}") from exc
    doc = load_located_text(text, name, _raw=raw)
    return doc


def load_located_text(text: str, name: str, *, _raw: bytes | None = None) -> LocatedYaml:
    """Parse YAML ``text`` (see the module doc); a RulesetError names ``name`` and the line."""
    global _warned
    if not LIBYAML and not _warned:
        _warned = True
        warnings.warn(
            "PyYAML has no libyaml (yaml.__with_libyaml__ is False): rulesets load with the "
            "pure-Python parser, several times slower; install PyYAML with libyaml for large lists",
            RuntimeWarning,
            stacklevel=2,
        )
    raw = _raw if _raw is not None else text.encode("utf-8")
    source: bytes | str = raw if LIBYAML else text
    try:
        return _Builder(name).run(_Loader(source), raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RulesetError(name, line, None, f"bad YAML: {exc.problem or exc}") from exc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, a position
        if LIBYAML:  # libyaml reports a byte offset
            line = raw.count(b"\n", 0, exc.position) + 1
        else:
            line = text.count("\n", 0, exc.position) + 1
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise RulesetError(
            name, line, None, f"bad YAML: unacceptable character #x{character:04x}: {exc.reason}"
        ) from exc
    except yaml.YAMLError as exc:
        raise RulesetError(name, None, None, f"bad YAML: {exc}") from exc


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_SAFE_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_RESOLVER_FIRST = frozenset(k for k in yaml.SafeLoader.yaml_implicit_resolvers if k)
"""First characters for which a plain scalar may be something other than a string."""


class _Frame:
    """A mapping or sequence being built."""

    __slots__ = ("container", "lines", "own_line", "start_line", "anchor", "count_at_start",
                 "key", "key_line", "merges", "is_map")

    def __init__(self, container: Any, own_line: int, start_line: int, anchor: str | None,
                 count: int, is_map: bool) -> None:
        self.container = container
        self.lines: array[int] = array("I")
        self.own_line = own_line
        self.start_line = start_line
        self.anchor = anchor
        self.count_at_start = count
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merges: list[tuple[Any, int]] | None = None
        self.is_map = is_map


_NO_KEY = object()
_MERGE_KEY = object()


class _Builder:
    """One pass over the parser's events: data, children's lines, alias accounting."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.constructor = yaml.SafeLoader("")  # for its scalar constructors only
        self.child_lines: dict[int, array[int]] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded size)
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.scalar_cache: dict[str, Any] = {}
        self.keys: dict[str, str] = {}
        self.strings: dict[str, str] = {}
        self.count = 0  # values so far, aliases expanded
        self.expanded = 0  # values that aliases expanded to
        self.root: Any = None
        self.root_line = 1

    # -------------------------------------------------------------- errors

    def path(self) -> Path_:
        out: list[str | int] = []
        for frame in self.stack:
            if frame.is_map:
                if frame.key is not _NO_KEY and frame.key is not _MERGE_KEY:
                    out.append(frame.key)
            else:
                out.append(len(frame.container))
        return tuple(out)

    def fail(self, line: int, problem: str, path: Path_ | None = None) -> RulesetError:
        shown = format_path(self.path() if path is None else path) or None
        return RulesetError(self.name, line, shown, problem)

    def bad_tag(self, tag: str, line: int) -> RulesetError:
        return self.fail(line, f"tag {tag!r} is not allowed (only plain YAML data) / 不允许的 YAML 标签")

    # -------------------------------------------------------------- scalars

    def scalar(self, event: Any, line: int) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0] or (value and value[0] not in _RESOLVER_FIRST):
                # a string: quoted, a block scalar, or plain and not a number, date, bool, null.
                # Equal short strings are shared (a long list repeats its issuers, methods...)
                return self.strings.setdefault(value, value) if len(value) <= 200 else value
            cached = self.scalar_cache.get(value, _NO_KEY)
            if cached is not _NO_KEY:
                return cached
            tag = self.constructor.resolve(yaml.ScalarNode, value, (True, False))
            if tag == _MERGE:
                raise self.bad_tag(tag, line)
            result = self.construct(tag, value, event, line)
            if len(value) <= 40 and len(self.scalar_cache) < 100_000:
                self.scalar_cache[value] = result
            return result
        if tag == _STR:
            return self.strings.setdefault(value, value) if len(value) <= 200 else value
        return self.construct(tag, value, event, line)

    def construct(self, tag: str, value: str, event: Any, line: int) -> Any:
        if tag == _STR:
            return value
        if tag not in _SAFE_SCALAR_TAGS:
            raise self.bad_tag(tag, line)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except yaml.YAMLError as exc:
            raise self.fail(line, str(exc)) from exc
        except (ValueError, OverflowError) as exc:  # e.g. a timestamp 2021-02-30
            raise self.fail(line, f"bad value {value!r}: {exc}") from exc

    # -------------------------------------------------------------- the pass

    def run(self, loader: Any, raw: bytes) -> LocatedYaml:
        try:
            return self._run(loader, raw)
        finally:
            loader.dispose()

    def _run(self, loader: Any, raw: bytes) -> LocatedYaml:
        """The event loop: a scalar into its container inline (the common case), the rest by kind."""
        get = loader.get_event
        get()  # StreamStartEvent
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            return LocatedYaml(self.name, None, root_line=1, raw=raw)
        # DocumentStartEvent
        stack = self.stack
        scalar = self.scalar
        ScalarEvent = yaml.ScalarEvent
        done = False
        while not done:
            event = get()
            kind = type(event)
            line = event.start_mark.line + 1
            frame = stack[-1] if stack else None
            if frame is not None and frame.is_map and frame.key is _NO_KEY:
                done = self.key_event(event, kind, line, frame)
                continue
            if kind is ScalarEvent and frame is not None:  # a value into its container, inline
                self.count += 1
                value = scalar(event, line)
                if event.anchor is not None:
                    self.define(event.anchor, line)
                    self.anchors[event.anchor] = (value, 1)
                if frame.is_map:
                    if frame.key is _MERGE_KEY:
                        raise self.fail(line, "<< must merge a mapping or a list of mappings / 合并键须为映射")
                    frame.container[frame.key] = value
                    frame.lines.append(frame.key_line)
                    frame.key = _NO_KEY
                else:
                    frame.container.append(value)
                    frame.lines.append(line)
                continue
            done = self.value_event(event, kind, line, frame)
        get()  # DocumentEndEvent
        event = get()
        if not isinstance(event, yaml.StreamEndEvent):
            raise RulesetError(
                self.name, event.start_mark.line + 1, None,
                "bad YAML: expected a single document in the stream / 文件只能有一个 YAML 文档",
            )
        return LocatedYaml(self.name, self.root, root_line=self.root_line, child_lines=self.child_lines, raw=raw)

    def key_event(self, event: Any, kind: type, line: int, frame: _Frame) -> bool:
        """An event where a mapping expects a key: a key, or the mapping's end. True: the document is done."""
        if kind is yaml.ScalarEvent:
            if event.tag is None and event.implicit[0] and event.value == "<<":
                frame.key, frame.key_line = _MERGE_KEY, line
                return False
            key = str(self.scalar(event, line))
            key = self.keys.setdefault(key, key)
            if key in frame.container:
                raise self.fail(line, "duplicate key", (*self.path(), key))
            frame.key, frame.key_line = key, line
            self.count += 1
            return False
        if kind is yaml.MappingEndEvent:
            return self.end_event(frame)
        if kind is yaml.AliasEvent:
            raise self.fail(line, "an alias as a mapping key is not allowed / 不允许以别名作键")
        raise self.fail(line, "a mapping key must be a plain value / 映射的键必须是普通值")

    def value_event(self, event: Any, kind: type, line: int, frame: _Frame | None) -> bool:
        """A value other than a scalar in a container, or a sequence's end. True: the document is done."""
        own_line = frame.key_line if frame is not None and frame.is_map else line
        if kind is yaml.ScalarEvent:  # the document is a single scalar
            self.count += 1
            value = self.scalar(event, line)
            if event.anchor is not None:
                self.define(event.anchor, line)
                self.anchors[event.anchor] = (value, 1)
        elif kind is yaml.AliasEvent:
            value = self.alias(event, line)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self.start(event, kind is yaml.MappingStartEvent, line, own_line)
            return False
        elif kind is yaml.SequenceEndEvent:
            assert frame is not None
            return self.end_event(frame)
        else:  # pragma: no cover - the parser guarantees the grammar
            raise self.fail(line, f"unexpected YAML event {kind.__name__}")
        return self.attach_root(value, own_line)

    def alias(self, event: Any, line: int) -> Any:
        """The anchored value an alias names; the expansion counts against ``MAX_ALIAS_EXPANSION``."""
        anchor = event.anchor
        if anchor in self.open_anchors:
            raise self.fail(line, "a YAML alias refers to itself / 别名循环引用")
        if anchor not in self.anchors:
            raise self.fail(line, f"unknown alias *{anchor} / 未定义的别名")
        value, size = self.anchors[anchor]
        self.count += size
        self.expanded += size
        if self.expanded > MAX_ALIAS_EXPANSION:
            raise self.fail(line, "aliases expand to too many values (alias bomb?) / 别名展开内容过多")
        return value

    def start(self, event: Any, is_map: bool, line: int, own_line: int) -> None:
        """A mapping or sequence opens: its tag, the nesting limit, its anchor."""
        tag = event.tag
        if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
            raise self.bad_tag(tag, line)
        if len(self.stack) >= MAX_NESTING:
            raise self.fail(line, f"nests more than {MAX_NESTING} levels deep / 嵌套层级过深")
        self.count += 1
        anchor = event.anchor
        if anchor is not None:
            self.define(anchor, line)
            self.open_anchors.add(anchor)
        self.stack.append(_Frame({} if is_map else [], own_line, line, anchor, self.count, is_map))

    def end_event(self, frame: _Frame) -> bool:
        """A mapping or sequence closes: merged, anchored, put into its parent. True: the document is done."""
        self.stack.pop()
        value, own_line = self.close(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (value, self.count - frame.count_at_start + 1)
            self.open_anchors.discard(frame.anchor)
        return self.attach_root(value, own_line, frame)

    def attach_root(self, value: Any, own_line: int, closed: _Frame | None = None) -> bool:
        done, self.root, self.root_line = self.attach(value, own_line, closed, self.root, self.root_line)
        return done

    def define(self, anchor: str, line: int) -> None:
        if anchor in self.anchors or anchor in self.open_anchors:
            raise self.fail(line, f"duplicate anchor &{anchor} / 锚点重复")

    def close(self, frame: _Frame) -> tuple[Any, int]:
        """A finished container: merge ``<<`` keys; store its children's lines if they differ."""
        container = frame.container
        lines = frame.lines
        if frame.merges:
            container, lines = self.merge(frame)
        own = frame.own_line
        if lines and (lines.count(own) != len(lines)):
            self.child_lines[id(container)] = lines
        return container, own

    def merge(self, frame: _Frame) -> tuple[dict[str, Any], array[int]]:
        merged: dict[str, Any] = {}
        merged_lines: dict[str, int] = {}
        assert frame.merges is not None
        for value, line in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in reversed(sources):
                if not isinstance(source, dict):
                    raise self.fail(line, "<< must merge a mapping or a list of mappings / 合并键须为映射")
                for key, item in source.items():
                    merged[key] = item
                    merged_lines[key] = line
        explicit = frame.container
        for i, (key, item) in enumerate(explicit.items()):
            merged[key] = item
            merged_lines[key] = frame.lines[i]
        return merged, array("I", (merged_lines[k] for k in merged))

    def attach(self, value: Any, own_line: int, closed: _Frame | None, root: Any,
               root_line: int) -> tuple[bool, Any, int]:
        """Put a finished value into its parent; (document done, root, root line)."""
        stack = self.stack
        if not stack:
            return True, value, own_line
        parent = stack[-1]
        if parent.is_map:
            key = parent.key
            if key is _MERGE_KEY:
                if parent.merges is None:
                    parent.merges = []
                parent.merges.append((value, parent.key_line))
            else:
                parent.container[key] = value
                parent.lines.append(parent.key_line)
            parent.key = _NO_KEY
        else:
            parent.container.append(value)
            parent.lines.append(own_line)
        return False, root, root_line


def validate_located(model: type[BaseModel], doc: LocatedYaml) -> Any:
    """Validate a located YAML document against ``model``; every problem goes into one RulesetError."""
    try:
        return model.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            # A model-level validator reports at the object; pydantic adds no field.
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "field required / 缺少必填字段"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key / 未知字段"
            problems.append(doc.error(loc, msg).problems[0])
        raise RulesetError.of(problems) from None
