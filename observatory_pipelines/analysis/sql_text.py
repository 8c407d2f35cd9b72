"""The text side of the dbt-like SQL files: where they live, their headers, ``{{ fragment }}``
includes and ``:name`` parameters (used by the models, the exports and the persisted facets)."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path


def _model_dir() -> Path:
    """At the project root beside migrations/, where analysts find and edit them (a checkout or
    an editable install); a wheel ships them as ``observatory_pipelines/dbt_like_sql/``. Found
    from this file, never from the working directory."""
    checkout = Path(__file__).resolve().parents[2] / "dbt_like_sql"
    if checkout.is_dir() and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    return Path(str(importlib.resources.files("observatory_pipelines") / "dbt_like_sql"))


MODEL_DIR = _model_dir()
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_INCLUDE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*(?:\(([^)]*)\))?\s*\}\}")
# The same rule SQLAlchemy uses: ':name' not preceded by ':' or a word char ('::casts' pass).
_PARAM = re.compile(r"(?<![:\w\\]):([a-z_][a-z0-9_]*)(?![:\w])")
# What a ':name' inside is not a parameter: comments, string constants (E'' ones with their
# backslash escapes) and quoted identifiers, scanned in one pass left to right, so an
# apostrophe in a comment does not open a string that hides the parameters after it.
_NOT_CODE = (
    r"--[^\n]*|/\*.*?\*/"
    r"|(?<!\w)[eE]'(?:[^'\\]|\\.|'')*'"
    r"|'(?:[^']|'')*'"
    r'|"(?:[^"]|"")*"'
)
_LEXEME = re.compile(rf"(?P<skip>{_NOT_CODE})|{_PARAM.pattern}", re.S)


class SqlModelError(ValueError):
    """A model file that cannot be used: names the file and the problem."""


def to_psycopg(body: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s``; every ``%`` doubled (psycopg reads
    the whole text, comments and strings included)."""

    def replace(match: re.Match[str]) -> str:
        if match.group("skip") is not None:
            return match.group(0)
        return f"%({match.group(2)})s"

    return _LEXEME.sub(replace, body.replace("%", "%%"))


def used_params(body: str) -> set[str]:
    """The ``:name`` parameters of ``body`` outside comments, strings and quoted names."""
    return {m.group(2) for m in _LEXEME.finditer(body) if m.group("skip") is None}


def split_header(text: str) -> tuple[list[str], str]:
    lines = text.splitlines()
    header: list[str] = []
    while lines and (lines[0].startswith("--") or not lines[0].strip()):
        line = lines.pop(0)
        if line.startswith("--"):
            header.append(line[2:].strip())
    return header, "\n".join(lines).strip()


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def expand_includes(
    body: str,
    folder: Path,
    origin: str,
    depth: int = 0,
    snippets: dict[str, str] | None = None,
) -> str:
    """Replace ``{{ name }}`` with ``snippets[name]`` or ``_name.sql`` (this folder, then MODEL_DIR)."""
    if depth > 5:
        raise SqlModelError(f"{origin}: includes nested too deeply")
    snippets = snippets or {}

    def replace(match: re.Match[str]) -> str:
        name, raw_args = match.group(1), match.group(2)
        if name in snippets:
            return snippets[name]
        path = next(
            (f / f"_{name}.sql" for f in (folder, MODEL_DIR) if (f / f"_{name}.sql").exists()),
            None,
        )
        if path is None:
            raise SqlModelError(f"{origin}: no fragment _{name}.sql for {match.group(0)}")
        _, fragment = split_header(path.read_text(encoding="utf-8"))
        args = [a.strip().strip("'\"") for a in raw_args.split(",")] if raw_args else []
        for index, arg in enumerate(args, start=1):
            if not _IDENT.match(arg):
                raise SqlModelError(f"{origin}: fragment argument {arg!r} is not an identifier")
            fragment = fragment.replace(f"${index}", arg)
        return expand_includes(fragment, folder, origin, depth + 1, snippets)

    return _INCLUDE.sub(replace, body)
