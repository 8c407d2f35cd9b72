"""Record exports (CSV, XLSX, NDJSON, Parquet) streamed from Postgres into the object store.

Nothing holds the export in memory: CSV, NDJSON and Parquet read a ``COPY ... TO STDOUT``
stream in ~1 MB pieces and hand ``ObjectStore.put`` an iterable of chunks (multipart);
XLSX reads a server-side cursor in batches into xlsxwriter's constant-memory mode, which
must finish a zip file on disk, so that one is uploaded from a temporary file.

- CSV: UTF-8 with BOM (Excel reads æøå), CRLF, RFC 4180 quoting, lists joined " | ". Postgres
  writes the CSV itself (COPY (FORMAT csv, FORCE_QUOTE text columns); the formula rule is in
  the SQL); numpy turns the row-ending LFs into CRLF, embedded newlines stay LF in quotes.
  A text cell starting with = + - @ TAB or CR gets a leading ' (never a live formula).
- XLSX: typed string cells; a text over Excel's 32,767-unit cell limit ends in
  TRUNCATED_MARK and is counted (``ExportResult.truncated_cells``, a log warning).
- NDJSON: Postgres writes each line, ``row_to_json`` of the export row, built by the parallel
  workers before their sort (sql/export_ndjson.sql), and COPY passes the JSON through
  unchanged; the chunks go to the upload as they come. Per 1M records this costs the server
  ~2.5 s of CPU more than the plain COPY and the client ~1 s less (it parses nothing), where
  building the lines from COPY's text fields in the client took ~9 s of client CPU.
- Parquet: COPY (FORMAT csv) parsed by Arrow's streaming CSV reader (``arrow_csv.py``; a
  record larger than a read block is parsed on its own) with explicit types:
  int64 counts, float64 engagement, timestamp[us, UTC], list<string> terms.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import sql

from observatory_pipelines.analysis.arrow_csv import read_ahead, read_batches
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import expand_includes, split_header, to_psycopg
from observatory_pipelines.logs import get_logger

SQL_DIR = Path(__file__).with_name("sql")
BOM = "\ufeff".encode()
XLSX_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows per sheet, one of them the header
XLSX_CELL_LIMIT = 32_767  # Excel's most characters (UTF-16 code units) in one cell
TRUNCATED_MARK = "…[truncated]"  # ends a cut cell, inside the limit
PROGRESS_ROWS = 100_000  # rows between export_progress events
CHUNK_BYTES = 1 << 20
UPLOAD_AHEAD = 8  # ~1 MB chunks made ahead of the upload (CSV, NDJSON)

# (column, readable label), in export order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("query_design", "Query design"),
    ("platform", "Platform"),
    ("arena", "Arena"),
    ("content_type", "Content type"),
    ("title", "Title"),
    ("text_content", "Text"),
    ("url", "URL"),
    ("author_display_name", "Author"),
    ("pseudonymized_author_id", "Author (pseudonymized id)"),
    ("published_at", "Published at (UTC)"),
    ("views", "Views"),
    ("likes", "Likes"),
    ("shares", "Shares"),
    ("comments", "Comments"),
    ("engagement_score", "Engagement score"),
    ("language", "Language"),
    ("collection_tier", "Collection tier"),
    ("search_terms_matched", "Search terms matched"),
    ("content_hash", "Content hash"),
)
_NAMES = tuple(name for name, _ in COLUMNS)
_INT_COLUMNS = ("views", "likes", "shares", "comments")

PARQUET_SCHEMA = pa.schema(
    [
        (name, pa.int64())
        if name in _INT_COLUMNS
        else (name, pa.float64())
        if name == "engagement_score"
        else (name, pa.timestamp("us", tz="UTC"))
        if name == "published_at"
        else (name, pa.list_(pa.string()))
        if name == "search_terms_matched"
        else (name, pa.string())
        for name, _ in COLUMNS
    ]
)

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
FORMATS = tuple(CONTENT_TYPES)

log = get_logger(__name__)


class ExportError(ValueError):
    pass


@dataclass
class ExportResult:
    key: str
    format: str
    rows: int
    size: int
    content_type: str
    sheets: int = 0
    truncated_cells: int = 0  # XLSX cells cut to Excel's limit (each ends in TRUNCATED_MARK)


@lru_cache(maxsize=8)
def export_sql(name: str) -> str:
    """``sql/<name>.sql`` with the scope filter and the export rows expanded (psycopg style)."""

    def load(file: str, snippets: dict[str, str]) -> str:
        _, body = split_header((SQL_DIR / f"{file}.sql").read_text(encoding="utf-8"))
        return expand_includes(body, SQL_DIR, f"{file}.sql", snippets=snippets)

    rows = load("export_rows", {})
    return to_psycopg(rows if name == "export_rows" else load(name, {"export_rows": rows}))


def _copy_chunks(
    conn, query: str, params: dict[str, Any], options: str
) -> Iterator[tuple[bytes, int]]:
    """``COPY (query) TO STDOUT options`` as (chunk of about CHUNK_BYTES, rows in it).

    Every chunk holds whole rows: Postgres sends one CopyData message per row ("messages
    sent from the backend will always correspond to single data rows", protocol docs,
    COPY operations), and a chunk is cut between messages."""
    statement = sql.SQL("COPY ({}) TO STDOUT {}").format(sql.SQL(query), sql.SQL(options))
    buffer = bytearray()
    rows = 0
    with conn.cursor() as cur, cur.copy(statement, params) as copy:
        for data in copy:
            buffer += data
            rows += 1
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer), rows
                buffer.clear()
                rows = 0
    if buffer:
        yield bytes(buffer), rows


def copy_stream(conn, query: str, params: dict[str, Any], options: str) -> Iterator[bytes]:
    """The chunks of ``_copy_chunks`` alone; closing this closes the COPY."""
    with closing(_copy_chunks(conn, query, params, options)) as chunks:
        for chunk, _ in chunks:
            yield chunk


class _Counter:
    """Rows written so far; long exports report progress in the run log as rows pass."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self._rows = 0

    @property
    def rows(self) -> int:
        return self._rows

    @rows.setter
    def rows(self, value: int) -> None:
        if value // PROGRESS_ROWS != self._rows // PROGRESS_ROWS:
            log.info("export_progress", format=self.fmt, rows=value)
        self._rows = value


def _csv_header() -> bytes:
    labels = ",".join('"' + label.replace('"', '""') + '"' for _, label in COLUMNS)
    return BOM + labels.encode() + b"\r\n"


_CSV_QUOTED = tuple(
    n for n in _NAMES if n not in (*_INT_COLUMNS, "engagement_score", "published_at")
)


def _crlf_rows(chunks: Iterator[tuple[bytes, int]], counter: _Counter) -> Iterator[bytes]:
    """COPY (FORMAT csv) ends each row with LF; RFC 4180 and Excel want CRLF, and an LF inside
    a quoted value must stay as it is. A chunk of whole rows with as many LFs as rows has
    none inside a value: one ``bytes.replace``. Otherwise (rare) an LF ends a row when an even
    number of quotes came before it in the chunk (quotes inside values come doubled), found
    with numpy: no Python runs per row either way (the numpy pass for every chunk was ~2.7 s
    per 1M records, the replace ~0.5 s)."""
    for chunk, rows in chunks:
        counter.rows += rows
        if chunk.count(b"\n") == rows:
            yield chunk.replace(b"\n", b"\r\n")
            continue
        data = np.frombuffer(chunk, dtype=np.uint8)
        quotes = np.flatnonzero(data == ord('"'))
        newlines = np.flatnonzero(data == ord("\n"))
        row_ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
        yield np.insert(data, row_ends, ord("\r")).tobytes()


def csv_chunks(conn, params: dict[str, Any], counter: _Counter) -> Iterator[bytes]:
    yield _csv_header()
    options = sql.SQL("(FORMAT csv, FORCE_QUOTE ({}))").format(
        sql.SQL(", ").join(map(sql.Identifier, _CSV_QUOTED))
    )
    stream = _copy_chunks(conn, export_sql("export_csv"), params, options.as_string(conn))
    with closing(stream):
        yield from _crlf_rows(stream, counter)


# Postgres writes the lines (sql/export_ndjson.sql): the CSV format with a quote and a
# delimiter no JSON text holds raw passes row_to_json's text through unchanged, each row
# ending in LF.
_NDJSON_COPY_OPTIONS = "(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"


def ndjson_chunks(conn, params: dict[str, Any], counter: _Counter) -> Iterator[bytes]:
    stream = _copy_chunks(conn, export_sql("export_ndjson"), params, _NDJSON_COPY_OPTIONS)
    with closing(stream):
        for chunk, rows in stream:
            counter.rows += rows
            yield chunk


class _Sink(io.RawIOBase):
    """A writable file that keeps what was written until ``drain()`` hands it on."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


TERM_SEP = 0x1F  # chr(31), before every term list element (sql/export_parquet.sql)
NULL_TERM = 0x1E  # chr(30), a NULL element


def _term_lists(column: pa.Array) -> pa.Array:
    """list<string> from the chr(31)-prefixed elements: '' is [], chr(31) is [""], a
    chr(30) element is null, NULL stays null.

    Built from the string array's buffers with numpy, not with pyarrow.compute: the first
    compute kernel a process calls loads Arrow's kernel registry, ~0.45 s and ~41 MB of RSS
    for good, and the Parquet path needs no other kernel."""
    if column.offset:  # batches of read_csv start at 0; a slice would shift the buffers
        raise ValueError("term lists: sliced string arrays are not supported")
    rows = len(column)
    validity, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=rows + 1)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.zeros(0, np.uint8)
    data = data[: offsets[-1]]
    separators = np.flatnonzero(data == TERM_SEP)  # one per element, where it starts
    row_of = np.searchsorted(offsets, separators, side="right") - 1
    next_start = np.append(separators[1:], len(data))
    element_ends = np.minimum(next_start, offsets[row_of + 1])
    lengths = element_ends - separators - 1
    value_offsets = np.zeros(len(separators) + 1, dtype=np.int32)
    np.cumsum(lengths, out=value_offsets[1:])
    keep = np.ones(len(data), dtype=bool)
    keep[separators] = False
    first_bytes = data[np.minimum(separators + 1, max(len(data) - 1, 0))]
    null_elements = (lengths == 1) & (first_bytes == NULL_TERM)
    value_validity = (
        pa.py_buffer(np.packbits(~null_elements, bitorder="little"))
        if null_elements.any()
        else None
    )
    values = pa.Array.from_buffers(
        pa.string(),
        len(separators),
        [value_validity, pa.py_buffer(value_offsets), pa.py_buffer(data[keep])],
    )
    list_offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(row_of, minlength=rows), out=list_offsets[1:])
    return pa.Array.from_buffers(
        PARQUET_SCHEMA.field("search_terms_matched").type,
        rows,
        [validity if column.null_count else None, pa.py_buffer(list_offsets)],
        children=[values],
    )


def _typed_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = []
    for field in PARQUET_SCHEMA:
        column = batch.column(field.name)
        if field.name == "search_terms_matched":
            column = _term_lists(column)
        columns.append(column.cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=PARQUET_SCHEMA)


_PARQUET_FREE_TEXT = ("title", "text_content", "url", "content_hash")
_PARQUET_CATEGORICAL = [n for n in _NAMES if n not in _PARQUET_FREE_TEXT]


def parquet_chunks(
    conn, params: dict[str, Any], counter: _Counter, batch_rows: int = 10_000
) -> Iterator[bytes]:
    # Row groups of batch_rows: the writer buffers a whole group (memory grows ~1.5 KB per
    # buffered row), so 10,000 rows keep the peak flat while groups stay a few MB.
    sink = _Sink()
    writer = pq.ParquetWriter(
        sink,
        PARQUET_SCHEMA,
        compression="snappy",
        # Free text is nearly unique per record: building a dictionary for it (abandoned at
        # its size limit) and min/max statistics of it cost ~40 % of the write time and
        # give nothing (the file came out 3 % smaller without them).
        use_dictionary=_PARQUET_CATEGORICAL,
        write_statistics=_PARQUET_CATEGORICAL,
    )
    stream = copy_stream(conn, export_sql("export_parquet"), params, "(FORMAT csv)")
    raw_types = {name: PARQUET_SCHEMA.field(name).type for name in _INT_COLUMNS}
    raw_types |= {
        "published_at": pa.int64(),
        "engagement_score": pa.float64(),
        "search_terms_matched": pa.string(),
    }
    # psycopg's per-row COPY loop runs in a read-ahead thread (a few 1 MB chunks ahead) while
    # this one parses and writes; Arrow parses one group of whole rows at a time,
    # single-threaded: its parallel read-ahead of several blocks was most of the peak memory.
    chunks = read_ahead(stream)
    reader = read_batches(
        chunks,
        _NAMES,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: raw_types.get(name, pa.string()) for name, _ in COLUMNS},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    with closing(chunks):  # stops the thread and the COPY when the upload gives up
        for batch in reader:
            pending.append(_typed_batch(batch))
            pending_rows += batch.num_rows
            if pending_rows >= batch_rows:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
                counter.rows += pending_rows
                pending, pending_rows = [], 0
                yield sink.drain()
    if pending:
        writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
        counter.rows += pending_rows
    writer.close()
    yield sink.drain()


# The first characters that make a spreadsheet read a text cell as a formula (OWASP CSV
# injection). The record exports apply the rule in SQL (sql/_csv_text.sql); this is the
# same rule for tables built in Python (research analyses).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a live formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def fit_cell(text: str) -> str | None:
    """``text`` cut to Excel's cell limit and ending in TRUNCATED_MARK; None when it fits.

    Excel counts UTF-16 code units (an emoji is two); without this xlsxwriter cuts the
    text at 32,767 code points with only a Python warning, and Excel may refuse the file.
    """
    if len(text) <= XLSX_CELL_LIMIT // 2:  # cannot exceed the limit even if all are pairs
        return None
    units = text.encode("utf-16-le")
    if len(units) // 2 <= XLSX_CELL_LIMIT:
        return None
    keep = units[: (XLSX_CELL_LIMIT - len(TRUNCATED_MARK)) * 2]
    return keep.decode("utf-16-le", errors="ignore") + TRUNCATED_MARK  # drops a split pair


def _xlsx_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "published_at":
        return value.astimezone(UTC).replace(tzinfo=None)
    if name == "search_terms_matched":
        return " | ".join(value)
    return value


@dataclass
class _XlsxWritten:
    sheets: int
    truncated_cells: int


def write_xlsx(
    conn,
    params: dict[str, Any],
    path: Path,
    counter: _Counter,
    *,
    max_rows_per_sheet: int = XLSX_MAX_DATA_ROWS,
    batch_rows: int = 10_000,
) -> _XlsxWritten:
    """Write the workbook to ``path``, counting rows; returns the number of sheets
    (Content, Content_2, ...) and of cells cut to Excel's limit."""
    import xlsxwriter

    if not 1 <= max_rows_per_sheet <= XLSX_MAX_DATA_ROWS:
        raise ExportError(f"max_rows_per_sheet must be in 1..{XLSX_MAX_DATA_ROWS}")
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "tmpdir": str(path.parent),
            # Cell text is data: never formulas (CSV/Excel injection), URLs or numbers.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    names = [name for name, _ in COLUMNS]
    time_col = names.index("published_at")

    def new_sheet(number: int):
        sheet = workbook.add_worksheet("Content" if number == 1 else f"Content_{number}")
        sheet.write_row(0, 0, [label for _, label in COLUMNS], bold)
        sheet.freeze_panes(1, 0)
        sheet.set_column(time_col, time_col, 20)
        return sheet

    sheets = 1
    sheet = new_sheet(sheets)
    row_in_sheet = 0
    truncated = 0
    with conn.cursor(name="analysis_xlsx_export") as cur:
        cur.itersize = batch_rows
        cur.execute(export_sql("export_rows"), params)
        while batch := cur.fetchmany(batch_rows):
            for record in batch:
                if row_in_sheet == max_rows_per_sheet:
                    sheets += 1
                    sheet = new_sheet(sheets)
                    row_in_sheet = 0
                row_in_sheet += 1
                values = [_xlsx_value(n, v) for n, v in zip(names, record, strict=True)]
                for index, value in enumerate(values):
                    if isinstance(value, str) and (cut := fit_cell(value)) is not None:
                        values[index] = cut
                        truncated += 1
                sheet.write_row(row_in_sheet, 0, values)
                if values[time_col] is not None:
                    sheet.write_datetime(row_in_sheet, time_col, values[time_col], when)
            counter.rows += len(batch)
    workbook.close()
    return _XlsxWritten(sheets, truncated)


def export_records(
    conn,
    params: dict[str, Any],
    fmt: str,
    store,
    key: str,
    *,
    metadata: dict[str, str] | None = None,
    max_rows_per_sheet: int = XLSX_MAX_DATA_ROWS,
) -> ExportResult:
    """Stream the scope's records as ``fmt`` into ``store`` under ``key``.

    ``params`` from ``check_scope``. Uses its own transaction on ``conn`` (a psycopg
    connection) with the session time zone set to UTC for the duration.
    """
    if fmt not in CONTENT_TYPES:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {str(fmt)[:40]!r}")
    content_type = CONTENT_TYPES[fmt]
    meta = {"format": fmt, **(metadata or {})}
    counter = _Counter(fmt)
    written = _XlsxWritten(0, 0)
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        # Timestamps as text (CSV, NDJSON) are parsed in the ISO style.
        conn.execute("SET LOCAL DateStyle TO 'ISO, YMD'")
        if fmt == "xlsx":
            with tempfile.TemporaryDirectory(prefix="xlsx-export-") as tmp:
                path = Path(tmp) / "export.xlsx"
                written = write_xlsx(
                    conn, params, path, counter, max_rows_per_sheet=max_rows_per_sheet
                )
                with path.open("rb") as handle:
                    info = store.put(key, handle, content_type=content_type, metadata=meta)
        else:
            producer = {"csv": csv_chunks, "ndjson": ndjson_chunks, "parquet": parquet_chunks}
            # CSV and NDJSON chunks are made in a thread while this one uploads them: the
            # upload's file writes, hashing and sockets release the GIL, so they overlap with
            # the COPY. Not Parquet: a second thread holding Arrow memory took its peak RSS
            # 249 -> 278 MB at 1 M records. Closed here, before the transaction ends, also
            # when the upload fails.
            chunks = producer[fmt](conn, params, counter)
            if fmt != "parquet":
                chunks = read_ahead(chunks, depth=UPLOAD_AHEAD)
            with closing(chunks):
                info = store.put(key, chunks, content_type=content_type, metadata=meta)
    if written.truncated_cells:
        log.warning(
            "xlsx_cells_truncated",
            key=key,
            cells=written.truncated_cells,
            limit=XLSX_CELL_LIMIT,
            marker=TRUNCATED_MARK,
        )
    log.info("export_written", key=key, format=fmt, rows=counter.rows, size=info.size)
    return ExportResult(
        key=key,
        format=fmt,
        rows=counter.rows,
        size=info.size,
        content_type=content_type,
        sheets=written.sheets,
        truncated_cells=written.truncated_cells,
    )


def export_content(conn, scope: AnalysisScope, fmt: str, store, key: str, **kwargs) -> ExportResult:
    """Validate ``scope`` (design must exist) and export its records."""
    return export_records(conn, check_scope(conn, scope), fmt, store, key, **kwargs)
