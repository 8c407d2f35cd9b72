"""NDJSON lines built by Arrow from a ``COPY ... (FORMAT text)`` stream.

Postgres's ``row_to_json`` escapes every text value character by character (~9 s of
server CPU per 1M records here, measured against the plain COPY). COPY's text format
already escapes most of what JSON needs in a text value (``\\\\ \\b \\f \\n \\r \\t``;
NULL as ``\\N``), so a record batch of the raw fields only needs ``"`` escaped and the JSON
punctuation added, with Arrow compute kernels over whole batches; the lines are the data
buffer of the joined column.

The output is byte-for-byte what ``row_to_json`` gave: keys in column order, no spaces,
UTF-8 unescaped. Columns that are not text come from Postgres already as JSON
(``json_columns``: numbers, and ``to_json`` of times, NaN-able floats and term lists, the
encoder row_to_json uses); COPY only doubled their backslashes, which are undone. Values
COPY leaves invalid in JSON (``\\v``, raw control characters) are rare and take a per-value
Python path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_UNESCAPE = {"\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


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


def _needs_python(column: pa.Array) -> bool:
    """Control characters JSON forbids raw, or COPY's ``\\v`` (not a JSON escape)."""
    data = _value_bytes(column)
    if (data < 32).any():
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


def _json_value(column: pa.Array) -> pa.Array:
    """A value Postgres printed as JSON, back from COPY's text escaping: only its
    backslashes were doubled (JSON has no raw control characters); NULL is null."""
    if (_value_bytes(column) == ord("\\")).any():
        column = pc.replace_substring(column, "\\\\", "\\")
    return pc.fill_null(column, "null") if column.null_count else column


def json_lines(
    batch: pa.RecordBatch,
    *,
    json_columns: Iterable[str],
) -> bytes:
    """One JSON object per row, each line ending in LF, keys = the batch's column names;
    ``json_columns`` hold JSON already, the others text."""
    json_columns = set(json_columns)
    pieces: list[pa.Array | str] = []
    literal = "{"
    for index, name in enumerate(batch.schema.names):
        column = batch.column(index)
        literal += ("," if index else "") + json.dumps(name, ensure_ascii=False) + ":"
        if name in json_columns:
            pieces += [literal, _json_value(column)]
            literal = ""
            continue
        column = _escaped(column)
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
