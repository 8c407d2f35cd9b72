"""NDJSON lines built by Arrow from a ``COPY ... (FORMAT text)`` stream.

Postgres's ``row_to_json`` escapes every text value character by character and was ~80 %
of the export's time. COPY's text format already escapes most of what JSON needs
(``\\\\ \\b \\f \\n \\r \\t``; NULL as ``\\N``), so a record batch of the raw fields only
needs ``"`` escaped, the JSON punctuation added and the timestamp reshaped, all with Arrow
compute kernels over whole batches; the lines are the data buffer of the joined column.

The output is byte-for-byte what ``row_to_json`` gave: keys in column order, no spaces,
UTF-8 unescaped, numbers as Postgres prints them (NaN/Infinity quoted), ISO timestamps with
``+00:00`` (the export session runs in UTC), term lists as arrays (NULL elements null).
Values COPY leaves invalid in JSON (``\\v``, raw control characters) are rare and take a
per-value Python path.

The SQL (``sql/export_ndjson.sql``) ships each term list as ``chr(31)`` + elements joined
by ``chr(31)``, NULL elements as ``chr(30)``: ``''`` is ``[]``, ``'\\x1f'`` is ``[""]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TERM_SEP = "\x1f"
NULL_ELEMENT = "\x1e"
_UNESCAPE = {"\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_NON_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity"]


def _value_bytes(column: pa.Array) -> np.ndarray:
    """The UTF-8 bytes of every value of a string array, back to back (no copy)."""
    offsets = np.frombuffer(
        column.buffers()[1], dtype=np.int32, count=len(column) + 1, offset=column.offset * 4
    )
    data = column.buffers()[2]
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


def _pg_unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), value)


def _json_inner(value: str) -> str:
    """A JSON string's content (no quotes) for a COPY-escaped value."""
    return json.dumps(_pg_unescape(value), ensure_ascii=False)[1:-1]


def _needs_python(column: pa.Array, allowed: Iterable[int] = ()) -> bool:
    """Control characters JSON forbids raw, or COPY's ``\\v`` (not a JSON escape)."""
    data = _value_bytes(column)
    control = data < 32
    for byte in allowed:
        control &= data != byte
    if control.any():
        return True
    # Backslashes are rare: search for the two-byte escape only when there is one.
    return bool((data == ord("\\")).any()) and data.tobytes().find(b"\\v") >= 0


def _escaped(column: pa.Array) -> pa.Array:
    """JSON string content (unquoted) for COPY-escaped text; nulls stay null."""
    if _needs_python(column):
        values = [None if v is None else _json_inner(v) for v in column.to_pylist()]
        return pa.array(values, type=pa.string())
    return _quotes_escaped(column)


def _quotes_escaped(column: pa.Array) -> pa.Array:
    if (_value_bytes(column) == ord('"')).any():
        column = pc.replace_substring(column, '"', '\\"')
    return column


def _terms(column: pa.Array) -> pa.Array:
    """JSON arrays from the chr(31)-prefixed, chr(31)-joined term lists."""
    if _needs_python(column, allowed=(ord(TERM_SEP),)):
        return pa.array([_terms_value(v) for v in column.to_pylist()], type=pa.string())
    inner = pc.replace_substring(
        _quotes_escaped(pc.utf8_slice_codeunits(column, 1)), TERM_SEP, '","'
    )
    arrays = pc.binary_join_element_wise('["', inner, '"]', "")
    return pc.fill_null(pc.if_else(pc.equal(column, ""), "[]", arrays), "null")


def _terms_value(value: str | None) -> str:
    if value is None:
        return "null"
    elements = value.split(TERM_SEP)[1:]
    return (
        "["
        + ",".join("null" if e == NULL_ELEMENT else f'"{_json_inner(e)}"' for e in elements)
        + "]"
    )


def _timestamps(column: pa.Array) -> pa.Array:
    """'2026-02-03 10:00:00.5+00' (ISO DateStyle, UTC) -> '2026-02-03T10:00:00.5+00:00'."""
    return pc.replace_substring_regex(column, r"^(\d{4,}-\d\d-\d\d) (.+)\+00$", r"\1T\2+00:00")


def _numbers(column: pa.Array) -> pa.Array:
    """Postgres number text is JSON, except NaN/Infinity, which row_to_json quotes."""
    odd = pc.is_in(column, pa.array(_NON_JSON_NUMBERS))
    if pc.any(odd).as_py():
        column = pc.if_else(odd, pc.binary_join_element_wise('"', column, '"', ""), column)
    return pc.fill_null(column, "null")


def json_lines(
    batch: pa.RecordBatch,
    *,
    numbers: Iterable[str],
    timestamps: Iterable[str],
    term_lists: Iterable[str],
) -> bytes:
    """One JSON object per row, each line ending in LF, keys = the batch's column names."""
    numbers, timestamps, term_lists = set(numbers), set(timestamps), set(term_lists)
    pieces: list[pa.Array | str] = []
    literal = "{"
    for index, name in enumerate(batch.schema.names):
        column = batch.column(index)
        literal += ("," if index else "") + json.dumps(name, ensure_ascii=False) + ":"
        if name in numbers:
            pieces += [literal, _numbers(column)]
            literal = ""
            continue
        if name in term_lists:
            pieces += [literal, _terms(column)]
            literal = ""
            continue
        column = _timestamps(column) if name in timestamps else _escaped(column)
        if column.null_count == 0:
            # The quotes join the neighbouring literals: one piece fewer to concatenate.
            pieces += [literal + '"', column]
            literal = '"'
        else:
            pieces += [
                literal,
                pc.fill_null(pc.binary_join_element_wise('"', column, '"', ""), "null"),
            ]
            literal = ""
    pieces.append(literal + "}\n")
    lines = pc.binary_join_element_wise(*pieces, "")
    if lines.null_count:  # every piece is filled: a null here would drop a record silently
        raise AssertionError("NDJSON line builder produced a null line")
    return _value_bytes(lines).tobytes()
