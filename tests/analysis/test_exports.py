"""Exports land in the object store in formats researchers' tools open."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from observatory_pipelines.analysis.exports import COLUMNS, ExportError, export_content, export_sql
from observatory_pipelines.analysis.scope import AnalysisScope, check_scope

LABELS = [label for _, label in COLUMNS]


@pytest.fixture()
def store(object_store_resource):
    return object_store_resource.outputs()


def _export(conn, design, fmt, store, **kwargs):
    key = f"exports/u/test.{fmt}"
    result = export_content(conn, AnalysisScope(design), fmt, store, key, **kwargs)
    return result, store.get_bytes(key)


def test_csv_has_bom_crlf_danish_letters_and_joined_lists(conn, corpus, store):
    result, data = _export(conn, corpus.design, "csv", store)
    assert result.rows == 9 and result.size == len(data)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 10  # header + 9 records; the embedded newlines stay LF
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == LABELS
    assert len(rows) == 10
    first = dict(zip(LABELS, rows[1], strict=True))
    assert first["Query design"] == "Klima og energi"
    assert first["Text"] == 'Post 1: grøn omstilling, "æøå" og komma, ny linje\nslut'
    assert first["Title"] == "Titel 1 – Ærø"
    assert first["Search terms matched"] == "klima | energi"
    assert first["Published at (UTC)"] == "2026-02-03 10:00:00"
    assert (first["Likes"], first["Shares"], first["Comments"], first["Views"]) == (
        "10",
        "2",
        "1",
        "",
    )
    assert [dict(zip(LABELS, r, strict=True))["Author"] for r in rows[1:]][-3:] == [
        "Jens Ærø",
        "",
        "Jens Ærø",
    ]


def test_csv_backslashes_survive(conn, corpus, store):
    conn.execute(
        "UPDATE content_records SET text_content = %s WHERE platform_id = 'p2'",
        ["C:\\temp\\new \\\\ tab\there\r\nend\\"],
    )
    conn.commit()
    _, data = _export(conn, corpus.design, "csv", store)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[2][LABELS.index("Text")] == "C:\\temp\\new \\\\ tab\there\r\nend\\"


def test_ndjson_one_object_per_line(conn, corpus, store):
    result, data = _export(conn, corpus.design, "ndjson", store)
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 10 and result.rows == 9
    objects = [json.loads(line) for line in lines[:-1]]
    assert list(objects[0]) == [name for name, _ in COLUMNS]
    assert objects[0]["text_content"].endswith("ny linje\nslut")
    assert objects[0]["search_terms_matched"] == ["klima", "energi"]
    assert objects[0]["published_at"] == "2026-02-03T10:00:00+00:00"
    assert objects[0]["views"] is None and objects[0]["likes"] == 10


# Awkward values. Backslashes, COPY's NULL marker as text, quotes in term lists, NaN ...
_ESCAPES = {
    "p1": ("text_content", "C:\\temp\\new \\\\ tab\there\r\nend\\ \\N"),
    "p2": ("title", "\\N"),
    "p4": ("search_terms_matched", ['a"b', "c\\d", "æ/ø"]),
    "p5": ("search_terms_matched", []),
    "p6": ("search_terms_matched", [""]),
    "p7": ("search_terms_matched", None),
    "p8": ("engagement_score", float("nan")),
    "p9": ("engagement_score", float("-inf")),
}
# ... control characters (\x01 and \x02 are the export's CSV quote and delimiter: JSON must
# hold them escaped, or COPY would quote the line), NULL list elements ...
_CONTROL = {
    "p1": ("text_content", 'vt\x0b, ctl\x01, slash-v \\v, \\N, "q" / ø'),
    "p4": ("search_terms_matched", ['a"b', "c\\d", None, "x\x01y"]),
    "p5": ("search_terms_matched", []),
    "p6": ("search_terms_matched", [""]),
    "p7": ("title", "tab\there \x02"),
}


# ... and a text over 1 MB, emoji, formula-looking text, both 2026 DST edges
# (Europe/Copenhagen; exported in UTC), huge and infinite numbers.
_LARGE_AND_EDGES = {
    "p1": ("text_content", '=HYPERLINK("x")\n' + '🌍 æøå, "citat" \\ \x01\n' * 60_000),
    "p2": ("published_at", "2026-03-29 00:59:59.999999+00"),  # CET -> CEST at 01:00 UTC
    "p4": ("published_at", "2026-10-25 01:00:00+00"),  # CEST -> CET
    "p5": ("views_count", 2**62),
    "p6": ("engagement_score", float("inf")),
    "p7": ("title", "+45 12 34 56 78"),
}


@pytest.mark.parametrize(
    "awkward", [_ESCAPES, _CONTROL, _LARGE_AND_EDGES], ids=["escapes", "control", "large"]
)
def test_ndjson_matches_row_to_json_on_awkward_values(conn, corpus, store, awkward):
    # Postgres writes the lines through COPY's CSV format; row_to_json of the export rows,
    # read as a query result, is the oracle: COPY must pass it through byte for byte.
    for platform_id, (column, value) in awkward.items():
        if column == "search_terms_matched":  # the terms the design matched: on its link
            conn.execute(
                "UPDATE content_record_collections AS l SET search_terms_matched = %s "
                "FROM content_records AS c WHERE c.id = l.content_record_id "
                "AND c.platform_id = %s",
                [value, platform_id],
            )
            continue
        conn.execute(
            f"UPDATE content_records SET {column} = %s WHERE platform_id = %s",
            [value, platform_id],
        )
    conn.execute(
        "UPDATE content_records SET engagement_score = 1e-7, "
        "published_at = published_at + interval '0.25 second' WHERE platform_id = 'p3'"
    )
    conn.execute(  # the link names the record by (id, published_at)
        "UPDATE content_record_collections AS l SET published_at = c.published_at "
        "FROM content_records AS c WHERE c.id = l.content_record_id"
    )
    conn.commit()
    _, data = _export(conn, corpus.design, "ndjson", store)
    params = check_scope(conn, AnalysisScope(corpus.design))
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        expected = [
            row[0] + "\n"
            for row in conn.execute(
                "SELECT CAST(row_to_json(r) AS text) FROM (" + export_sql("export_rows") + ") r",
                params,
            )
        ]
    assert data.decode("utf-8") == "".join(expected)
    objects = [json.loads(line) for line in data.split(b"\n")[:-1]]  # LF only ends a line
    assert len(objects) == 9
    by_platform_id = {"p" + o["content_hash"][-1]: o for o in objects}
    assert by_platform_id["p3"]["published_at"].endswith(":00.25+00:00")
    assert by_platform_id["p3"]["engagement_score"] == 1e-7
    json_names = {"views_count": "views"}
    for platform_id, (column, value) in awkward.items():
        got = by_platform_id[platform_id][json_names.get(column, column)]
        if column == "published_at":
            assert datetime.fromisoformat(got) == datetime.fromisoformat(value)
        elif isinstance(value, float):  # JSON has no NaN/Infinity: row_to_json quotes them
            assert got == {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
        else:
            assert got == value, column


def test_parquet_is_typed(conn, corpus, store):
    result, data = _export(conn, corpus.design, "parquet", store)
    table = pq.read_table(io.BytesIO(data))
    assert result.rows == table.num_rows == 9
    schema = table.schema
    for name in ("views", "likes", "shares", "comments"):
        assert schema.field(name).type == pa.int64()
    assert schema.field("engagement_score").type == pa.float64()
    assert schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("search_terms_matched").type == pa.list_(pa.string())
    rows = table.to_pylist()
    assert rows[0]["published_at"] == datetime(2026, 2, 3, 10, tzinfo=UTC)
    assert rows[0]["search_terms_matched"] == ["klima", "energi"]
    assert rows[0]["text_content"].endswith("ny linje\nslut")
    assert rows[0]["views"] is None and rows[0]["likes"] == 10
    assert rows[0]["engagement_score"] == 0.5
    assert rows[2]["title"] == '=HYPERLINK("x")'


def test_xlsx_readable_bold_frozen_header_and_split(conn, corpus, store):
    result, data = _export(conn, corpus.design, "xlsx", store)
    assert result.rows == 9 and result.sheets == 1
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Content"]
    assert [c.value for c in sheet[1]] == LABELS
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.max_row == 10
    published = sheet.cell(row=2, column=LABELS.index("Published at (UTC)") + 1).value
    assert published == datetime(2026, 2, 3, 10)  # without time zone, UTC
    assert sheet.cell(row=2, column=LABELS.index("Title") + 1).value == "Titel 1 – Ærø"
    # a formula-looking title is text, never a formula
    assert sheet.cell(row=4, column=LABELS.index("Title") + 1).value == '=HYPERLINK("x")'
    assert sheet.cell(row=4, column=LABELS.index("Title") + 1).data_type == "s"

    result, data = _export(conn, corpus.design, "xlsx", store, max_rows_per_sheet=4)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Content", "Content_2", "Content_3"] and result.sheets == 3
    assert [book[n].max_row for n in book.sheetnames] == [5, 5, 2]
    assert [c.value for c in book["Content_3"][1]] == LABELS
    text_col = LABELS.index("Text") + 1
    assert book["Content_3"].cell(row=2, column=text_col).value.startswith("Post 9:")


def test_empty_design_gives_valid_empty_files(conn, corpus, store):
    _, data = _export(conn, corpus.empty_design, "csv", store)
    assert data == b"\xef\xbb\xbf" + ",".join(f'"{x}"' for x in LABELS).encode() + b"\r\n"
    _, data = _export(conn, corpus.empty_design, "ndjson", store)
    assert data == b""
    _, data = _export(conn, corpus.empty_design, "parquet", store)
    table = pq.read_table(io.BytesIO(data))
    assert table.num_rows == 0 and table.schema.field("published_at").type.tz == "UTC"
    _, data = _export(conn, corpus.empty_design, "xlsx", store)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Content"]
    assert sheet.max_row == 1 and [c.value for c in sheet[1]] == LABELS


def test_filtered_export(conn, corpus, store):
    scope = AnalysisScope(corpus.design, platforms=["reddit", "rss_feeds"], date_to="2026-03-05")
    result = export_content(conn, scope, "ndjson", store, "exports/u/f.ndjson")
    objects = [json.loads(x) for x in store.get_bytes("exports/u/f.ndjson").splitlines()]
    assert result.rows == 4
    assert [o["platform"] for o in objects] == ["reddit", "reddit", "reddit", "rss_feeds"]


def test_unknown_format_rejected(conn, corpus, store):
    with pytest.raises(ExportError, match="format must be one of csv, xlsx, ndjson, parquet"):
        export_content(conn, AnalysisScope(corpus.design), "xls'; --", store, "exports/u/x")


def test_export_to_s3(conn, corpus, s3_object_store_resource):
    store = s3_object_store_resource.outputs()
    result, data = _export(conn, corpus.design, "parquet", store)
    assert pq.read_table(io.BytesIO(data)).num_rows == 9 == result.rows
    assert store.stat("exports/u/test.parquet").size == len(data)


def test_ndjson_and_parquet_records_larger_than_a_read_block(conn, corpus, store):
    from observatory_pipelines.analysis.arrow_csv import BLOCK_BYTES

    # ~1.5 MB: larger than a COPY chunk, inside one read block; ~4.5 MB: larger than a
    # block, parsed on its own; the records around them are parsed in groups of chunks.
    big = 'æøå "citat" \\ ' * 90_000
    larger = '🌍 ny\nlinje, "x" ' * 250_000
    assert len(big.encode()) < BLOCK_BYTES < len(larger.encode())
    for platform_id, text in (("p2", big), ("p5", larger)):
        conn.execute(
            "UPDATE content_records SET text_content = %s WHERE platform_id = %s",
            [text, platform_id],
        )
    conn.commit()
    params = check_scope(conn, AnalysisScope(corpus.design))
    texts = [
        row[0]
        for row in conn.execute(
            "SELECT r.text_content FROM (" + export_sql("export_rows") + ") AS r", params
        )
    ]
    conn.rollback()
    assert big in texts and larger in texts
    result, data = _export(conn, corpus.design, "ndjson", store)
    objects = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert result.rows == len(objects) == 9
    assert [o["text_content"] for o in objects] == texts
    result, data = _export(conn, corpus.design, "parquet", store)
    assert pq.read_table(io.BytesIO(data)).column("text_content").to_pylist() == texts


class _FailingStore:
    """Takes the first chunk of an upload, then fails like a lost connection would."""

    def put(self, key, chunks, **kwargs):
        next(iter(chunks))
        raise ConnectionError("upload failed")


@pytest.mark.parametrize("fmt", ["ndjson", "parquet", "csv"])
def test_failed_upload_leaves_the_connection_usable(conn, corpus, store, fmt):
    big = "x" * 3_000_000  # several COPY chunks, so the stream is cut off mid-way
    conn.execute("UPDATE content_records SET text_content = %s WHERE platform_id = 'p2'", [big])
    conn.commit()
    with pytest.raises(ConnectionError, match="upload failed"):
        export_content(conn, AnalysisScope(corpus.design), fmt, _FailingStore(), "exports/u/x")
    result, _ = _export(conn, corpus.design, fmt, store)
    assert result.rows == 9


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet", "xlsx"])
def test_long_exports_report_progress_in_the_log(conn, corpus, store, fmt, monkeypatch, capfd):
    from observatory_pipelines.analysis import exports

    monkeypatch.setattr(exports, "PROGRESS_ROWS", 1)  # every counted row is progress here
    result, _ = _export(conn, corpus.design, fmt, store)
    events = [json.loads(line) for line in capfd.readouterr().err.splitlines() if '"event"' in line]
    progress = [e["rows"] for e in events if e["event"] == "export_progress"]
    assert progress and progress == sorted(progress) and progress[-1] == result.rows


DANGEROUS = {
    "p1": '=HYPERLINK("https://evil.example","klik")',
    "p2": "+45 12 34 56 78",
    "p4": "-1+1",
    "p5": "@SUM(A1:A2)",
    "p6": "\tindrykket",
    "p7": "\r\nlinje",
}


def test_csv_neutralises_formulas_in_text_cells_and_keeps_numbers(conn, corpus, store):
    """OWASP: a text cell starting with = + - @ TAB CR gets a leading single quote."""
    for platform_id, value in DANGEROUS.items():
        conn.execute(
            "UPDATE content_records SET text_content = %s WHERE platform_id = %s",
            [value, platform_id],
        )
    conn.execute("UPDATE content_records SET likes_count = -5 WHERE platform_id = 'p1'")
    conn.commit()
    _, data = _export(conn, corpus.design, "csv", store)
    for value in DANGEROUS.values():
        assert ("\"'" + value.replace('"', '""') + '"').encode() in data
        assert ('"' + value.replace('"', '""') + '"').encode() not in data
    # The title column of p3 is a formula too; numbers stay bare numbers.
    assert b'"\'=HYPERLINK(""x"")"' in data
    assert b",-5," in data and b'"\'-5"' not in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    texts = {r[LABELS.index("Text")] for r in rows[1:]}
    assert "'@SUM(A1:A2)" in texts and "'\tindrykket" in texts
    # The raw form stays in NDJSON and Parquet.
    _, data = _export(conn, corpus.design, "ndjson", store)
    raw = {json.loads(line)["text_content"] for line in data.splitlines()}
    assert set(DANGEROUS.values()) <= raw
    _, data = _export(conn, corpus.design, "parquet", store)
    assert set(DANGEROUS.values()) <= set(
        pq.read_table(io.BytesIO(data))["text_content"].to_pylist()
    )


def test_xlsx_marks_and_counts_texts_over_the_cell_limit(conn, corpus, store, capfd):
    """Excel holds 32,767 characters (UTF-16 units) per cell: longer texts are cut visibly."""
    from observatory_pipelines.analysis.exports import TRUNCATED_MARK, XLSX_CELL_LIMIT

    long_text = "grøn " * 10_000  # 50,000 characters
    emoji = "🌍" * 20_000  # 20,000 characters, 40,000 UTF-16 units
    exact = "x" * XLSX_CELL_LIMIT  # fits exactly: kept whole
    for platform_id, value in (("p1", long_text), ("p2", emoji), ("p4", exact)):
        conn.execute(
            "UPDATE content_records SET text_content = %s WHERE platform_id = %s",
            [value, platform_id],
        )
    conn.commit()
    result, data = _export(conn, corpus.design, "xlsx", store)
    assert result.truncated_cells == 2
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Content"]
    column = LABELS.index("Text") + 1
    cells = {sheet.cell(row=r, column=column).value for r in range(2, sheet.max_row + 1)}
    cut = next(c for c in cells if c.startswith("grøn "))
    assert cut.endswith(TRUNCATED_MARK) and len(cut) == XLSX_CELL_LIMIT
    assert cut == long_text[: XLSX_CELL_LIMIT - len(TRUNCATED_MARK)] + TRUNCATED_MARK
    cut_emoji = next(c for c in cells if c.startswith("🌍"))
    assert cut_emoji.endswith(TRUNCATED_MARK)
    assert len(cut_emoji.encode("utf-16-le")) // 2 <= XLSX_CELL_LIMIT
    assert exact in cells
    events = [json.loads(line) for line in capfd.readouterr().err.splitlines() if '"event"' in line]
    (warned,) = [e for e in events if e["event"] == "xlsx_cells_truncated"]
    assert warned["cells"] == 2 and warned["limit"] == XLSX_CELL_LIMIT


# The CSV oracle: Postgres prints every non-text value (and joins the term lists); quoting,
# the formula rule, BOM and CRLF are applied here, one value at a time.
_CSV_ORACLE_SQL = """
SELECT r.query_design, r.platform, r.arena, r.content_type, r.title, r.text_content, r.url,
       r.author_display_name, r.pseudonymized_author_id,
       CAST(r.published_at AT TIME ZONE 'UTC' AS text), CAST(r.views AS text),
       CAST(r.likes AS text), CAST(r.shares AS text), CAST(r.comments AS text),
       CAST(r.engagement_score AS text), r.language, r.collection_tier,
       array_to_string(r.search_terms_matched, ' | '), r.content_hash
FROM ({rows}) AS r
"""
_CSV_BARE = {"published_at", "views", "likes", "shares", "comments", "engagement_score"}


def _csv_oracle(conn, design) -> bytes:
    params = check_scope(conn, AnalysisScope(design))
    with conn.transaction():
        conn.execute("SET LOCAL TIME ZONE 'UTC'")
        rows = conn.execute(_CSV_ORACLE_SQL.format(rows=export_sql("export_rows")), params)
        lines = [",".join(f'"{label}"' for label in LABELS)]
        for row in rows:
            fields = []
            for (name, _), value in zip(COLUMNS, row, strict=True):
                if value is None:
                    fields.append("")
                elif name in _CSV_BARE:
                    fields.append(value)
                else:
                    text = (
                        "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value
                    )
                    fields.append('"' + text.replace('"', '""') + '"')
            lines.append(",".join(fields))
    return b"\xef\xbb\xbf" + "".join(line + "\r\n" for line in lines).encode()


def test_csv_bytes_match_the_oracle_on_awkward_values(conn, corpus, store):
    awkward = {
        "p1": ("text_content", 'C:\\temp\\new \\\\ tab\there\r\nend\\ \\N "q" \x0b\x01 ø 🌍'),
        "p2": ("text_content", "=1+1\n" + 'lang tekst æøå \\ "x"\r\n' * 80_000),  # > 1 MB
        "p4": ("title", "\\N"),
        "p5": ("title", "-5"),
        "p6": ("author_display_name", "\rCR først"),
        "p7": ("url", ""),
        "p8": ("engagement_score", float("nan")),
        "p9": ("engagement_score", 1e-7),
    }
    for platform_id, (column, value) in awkward.items():
        conn.execute(
            f"UPDATE content_records SET {column} = %s WHERE platform_id = %s",
            [value, platform_id],
        )
    conn.execute(
        "UPDATE content_records SET published_at = published_at + interval '0.25 second', "
        "title = NULL, content_hash = NULL WHERE platform_id = 'p3'"
    )
    conn.execute(
        "UPDATE content_record_collections AS l SET published_at = c.published_at, "
        "search_terms_matched = ARRAY['a\"b', NULL, '=c', 'æ|ø'] "
        "FROM content_records AS c WHERE c.id = l.content_record_id AND c.platform_id = 'p3'"
    )
    conn.commit()
    result, data = _export(conn, corpus.design, "csv", store)
    assert result.rows == 9
    assert data == _csv_oracle(conn, corpus.design)


def test_parquet_values_equal_the_database_rows_on_awkward_values(conn, corpus, store):
    """Every value of every record read back with pyarrow equals what psycopg reads from the
    export rows: NULLs, a > 4 MB text, æøå, emoji, formula-looking text, quotes and
    newlines, timestamps at both 2026 DST edges (Europe/Copenhagen; stored and written UTC),
    term lists with an empty string, a NULL element, none, and NULL."""
    awkward_records = {
        "p1": {
            "text_content": 'Ærø 🌍 "citat"\r\nny linje\\N \\ tab\t \x01 slut',
            "published_at": "2026-03-29 00:59:59.999999+00",  # CET -> CEST at 01:00 UTC
        },
        "p2": {"text_content": '=HYPERLINK("x")\n' + '🌍 æøå, "q"\n' * 400_000},  # > 4 MB
        "p4": {"title": None, "author_display_name": None, "engagement_score": None},
        "p5": {"published_at": "2026-10-25 01:00:00+00", "title": "+45 12 34"},  # CEST -> CET
        "p6": {"url": "", "engagement_score": float("nan"), "views_count": 2**62},
    }
    awkward_terms = {"p1": ["", "æ|ø"], "p4": ["a", None], "p5": [], "p6": None}
    for platform_id, values in awkward_records.items():
        assignments = ", ".join(f"{column} = %s" for column in values)
        conn.execute(
            f"UPDATE content_records SET {assignments} WHERE platform_id = %s",
            [*values.values(), platform_id],
        )
    conn.execute(  # the link names the record by (id, published_at)
        "UPDATE content_record_collections AS l SET published_at = c.published_at "
        "FROM content_records AS c WHERE c.id = l.content_record_id"
    )
    for platform_id, terms in awkward_terms.items():
        conn.execute(
            "UPDATE content_record_collections AS l SET search_terms_matched = %s "
            "FROM content_records AS c WHERE c.id = l.content_record_id AND c.platform_id = %s",
            [terms, platform_id],
        )
    conn.commit()
    params = check_scope(conn, AnalysisScope(corpus.design))
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM (" + export_sql("export_rows") + ") AS r", params)
        names = [column.name for column in cur.description]
        expected = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    conn.rollback()
    result, data = _export(conn, corpus.design, "parquet", store)
    exported = pq.read_table(io.BytesIO(data)).to_pylist()
    assert result.rows == len(exported) == len(expected) == 9
    for got, want in zip(exported, expected, strict=True):
        assert list(got) == names
        for name in names:
            if isinstance(want[name], float) and want[name] != want[name]:  # NaN
                assert got[name] != got[name], name
            else:
                assert got[name] == want[name], (name, got[name], want[name])
    seen = {
        ("<NULL>",) if r["search_terms_matched"] is None else tuple(r["search_terms_matched"])
        for r in exported
    }
    assert {("", "æ|ø"), ("a", None), (), ("<NULL>",)} <= seen
    times = {r["published_at"] for r in exported}
    assert datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC) in times
    assert datetime(2026, 10, 25, 1, tzinfo=UTC) in times
