"""Reading a design file: YAML text → nodes with positions → plain data, and errors that point
at a line and column.

Every problem with a file is a ``DesignError`` printed as ``file:line:column: field: message``
(lines and columns counted from 1, as editors do). The YAML is composed into nodes first
(``yaml.compose`` keeps each node's ``start_mark``), so an error found later — by the schema, by
an arena's option check, by a database lookup — is placed by walking its field path through the
nodes.

The loader is YAML's safe loader with two of YAML 1.1's implicit types switched off, because
both silently change what a researcher wrote: dates (``2026-02-30`` would raise in the loader
without a position; windows are validated as ISO strings instead) and the yes/no/on/off
booleans (the search term ``no`` or ``on`` must stay a string; only ``true``/``false`` are
booleans).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1_000_000  # a design is a page of text; anything larger is not one

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"


# libyaml's parser when PyYAML was built with it (a design is parsed every sensor tick).
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DesignLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader without implicit timestamps and with only true/false as booleans."""


_DesignLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_TIMESTAMP, _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_DesignLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class DesignError:
    """One problem with one design file, placed at a line and column (1-based)."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.field}: {self.message}"


class DesignFileInvalid(ValueError):
    """A design file that cannot be applied; ``errors`` holds every problem found."""

    def __init__(self, errors: Sequence[DesignError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class ParsedFile:
    """A design file read and composed: its bytes' hash, its node tree and its data."""

    path: str  # as shown in errors
    sha256: str
    root: yaml.Node | None
    data: Any
    # Where it came from, as query_designs.source_file holds it: an absolute path, or
    # ``store://<bucket>/<key>`` for an object under DESIGNS_PREFIX.
    source: str = ""

    def error(self, field_path: Sequence[Any], message: str) -> DesignError:
        """An error at the node ``field_path`` names (or its nearest existing ancestor)."""
        line, column, name = locate(self.root, field_path)
        return DesignError(self.path, line, column, name, message)


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def parse_text(path: str, raw: bytes, source: str | None = None) -> ParsedFile:
    """Compose and construct one document; raises DesignFileInvalid on unreadable YAML."""
    sha = content_hash(raw)
    if len(raw) > MAX_FILE_BYTES:
        raise DesignFileInvalid(
            [DesignError(path, 1, 1, "(file)", f"larger than {MAX_FILE_BYTES} bytes")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DesignFileInvalid([DesignError(path, line, 1, "(file)", "not UTF-8 text")]) from None
    loader = _DesignLoader(text)
    try:
        root = loader.get_single_node()
        duplicates = _duplicate_keys(path, root)
        if duplicates:
            raise DesignFileInvalid(duplicates)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        raise DesignFileInvalid(
            [DesignError(path, line, column, "(yaml)", problem or "not valid YAML")]
        ) from None
    except yaml.YAMLError as exc:  # unmarked: still this file's fault, placed at its start
        raise DesignFileInvalid([DesignError(path, 1, 1, "(yaml)", str(exc))]) from None
    finally:
        loader.dispose()
    return ParsedFile(
        path=path, sha256=sha, root=root, data=data, source=source or str(Path(path).resolve())
    )


def read_file(path: Path) -> ParsedFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DesignFileInvalid(
            [DesignError(str(path), 1, 1, "(file)", f"cannot read: {exc.strerror}")]
        ) from None
    return parse_text(str(path), raw)


def design_files(folder: Path) -> list[Path]:
    """The design files under ``folder`` (recursive, sorted; hidden files and folders skipped)."""
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.rglob("*")
        if p.suffix in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(found)


def _duplicate_keys(path: str, node: yaml.Node | None) -> list[DesignError]:
    """A key written twice in one mapping (YAML would keep the last one without a word)."""
    errors: list[DesignError] = []
    stack: list[tuple[yaml.Node | None, str]] = [(node, "")]
    while stack:
        current, prefix = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                name = str(key.value)
                field = f"{prefix}.{name}" if prefix else name
                if isinstance(key, yaml.ScalarNode) and name in seen:
                    mark = key.start_mark
                    errors.append(
                        DesignError(path, mark.line + 1, mark.column + 1, field, "written twice")
                    )
                seen.add(name)
                stack.append((value, field))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, f"{prefix}[{i}]") for i, item in enumerate(current.value))
    return sorted(errors, key=lambda e: (e.line, e.column))


def _child(node: yaml.Node | None, component: Any) -> yaml.Node | None:
    """The node under ``node`` for one path component: a mapping's key node, a list's item."""
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            if str(key.value) == str(component):
                return key
    if isinstance(node, yaml.SequenceNode) and isinstance(component, int):
        if 0 <= component < len(node.value):
            return node.value[component]
    return None


def _value_of(node: yaml.Node, parent: yaml.Node | None) -> yaml.Node:
    """A mapping key node's value node (a path continues from the value, not the key)."""
    if isinstance(parent, yaml.MappingNode):
        for key, value in parent.value:
            if key is node:
                return value
    return node


# Discriminator tags the schema puts into error locations; they name no YAML node.
SCHEMA_TAGS = frozenset(
    {"term-string", "term-mapping", "term-group", "presence-id", "presence-mapping"}
)


def locate(root: yaml.Node | None, field_path: Sequence[Any]) -> tuple[int, int, str]:
    """(line, column, field name) for a field path such as ``("terms", 2, "term")``.

    The position is that of the deepest node the path reaches: a mapping entry's key, a
    list's item. Path parts that name no node (a missing field, a schema tag) stay in the
    field name but do not move the position.
    """
    node, parent = root, None
    mark = root.start_mark if root is not None else None
    name = ""
    for component in field_path:
        child = _child(node, component)
        if child is None:
            if component in SCHEMA_TAGS:
                continue
            node = None  # the rest is named, not placed
            name = _join(name, component)
            continue
        name = _join(name, component)
        mark = child.start_mark
        parent = node
        node = _value_of(child, parent)
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return line, column, name or "(design)"


def _join(name: str, component: Any) -> str:
    if isinstance(component, int):
        return f"{name}[{component}]"
    return f"{name}.{component}" if name else str(component)
