"""The SQL model loader, and bad or hostile input rejected before any SQL runs."""

from __future__ import annotations

import json
import uuid

import pytest

from observatory_pipelines.analysis.descriptive import descriptive_report
from observatory_pipelines.analysis.scope import (
    AnalysisInputError,
    AnalysisScope,
    UnknownQueryDesign,
)
from observatory_pipelines.analysis.sql_models import (
    SqlModelError,
    load_models,
    parse_model,
    required_models,
    run_models,
)
from observatory_pipelines.analysis.sql_text import to_psycopg, used_params


def test_every_model_declares_its_params_and_dependencies():
    models = load_models()
    assert list(models)[0] == "stg_content"
    assert models["volume_over_time"].params == ("granularity",)
    assert models["volume_over_time"].depends_on == ("stg_content",)
    assert models["actor_pairs"].depends_on == ("actor_terms", "actor_nodes")
    assert "{{" not in models["stg_content"].body  # the scope filter was included
    assert ":query_design_id" in models["stg_content"].body
    assert required_models(["actor_pairs"], models) == [
        "stg_content",
        "actors_in_scope",
        "actor_nodes",
        "term_sets",
        "actor_terms",
        "actor_pairs",
    ]


def _write(folder, name, text):
    path = folder / f"{name}.sql"
    path.write_text(text, encoding="utf-8")
    return path


def test_loader_rejects_undeclared_and_unused_params(tmp_path):
    bad = _write(tmp_path, "m", "-- params: a\nSELECT :a, :b")
    with pytest.raises(SqlModelError, match=r"undeclared params \['b'\]"):
        parse_model(bad)
    unused = _write(tmp_path, "n", "-- params: a, c\nSELECT :a, 'x::text', now()::date")
    with pytest.raises(SqlModelError, match=r"unused params \['c'\]"):
        parse_model(unused)


def test_count_column_needs_returns_count_and_sums_the_column(conn, tmp_path):
    bad = _write(tmp_path, "m", "-- count_column: n\nSELECT 1 AS n")
    with pytest.raises(SqlModelError, match="count_column takes one column and needs returns"):
        parse_model(bad)
    _write(tmp_path, "m", "-- returns: count\n-- count_column: n\nSELECT 2 AS n UNION ALL SELECT 5")
    models = load_models.__wrapped__(tmp_path)
    assert run_models(conn, {}, ["m"], models) == {"m": [{"rows": 7}]}


def test_loader_rejects_unknown_dependencies_and_cycles(tmp_path):
    _write(tmp_path, "a", "-- depends_on: b\nSELECT 1")
    _write(tmp_path, "b", "-- depends_on: a\nSELECT 1")
    with pytest.raises(SqlModelError, match="cycle"):
        load_models.__wrapped__(tmp_path)
    _write(tmp_path, "b", "-- depends_on: nowhere\nSELECT 1")
    with pytest.raises(SqlModelError, match="unknown model 'nowhere'"):
        load_models.__wrapped__(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"granularity": "day'); DROP TABLE content_records; --"}, "granularity must be one of"),
        ({"granularity": "year"}, "granularity must be one of hour, day, week, month"),
        ({"sort": "post_count; DELETE FROM actors"}, "sort must be one of post_count, engagement"),
        ({"platforms": ["bluesky' OR '1'='1"]}, "platforms entries must match"),
        ({"arenas": ["news_media", "x); DROP TABLE users; --"]}, "arenas entries must match"),
        ({"languages": ["da' --"]}, "languages entries must match"),
        ({"collection_run_id": "1 OR 1=1"}, "collection_run_id must be a UUID"),
        ({"date_from": "2026-03-01'; --"}, "date_from must be an ISO date"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, "date_to must not be before"),
        ({"options": {"top_limit": 0}}, r"top_limit must be an integer in 1\.\.200"),
        ({"options": {"top_limit": "20; --"}}, "top_limit must be an integer"),
        ({"options": {"evil": 1}}, "unknown option"),
    ],
)
def test_hostile_or_bad_input_rejected_with_clear_error(conn, corpus, kwargs, message):
    with pytest.raises(AnalysisInputError, match=message):
        descriptive_report(conn, AnalysisScope(corpus.design, **kwargs))
    # nothing was harmed
    assert conn.execute("SELECT count(*) FROM content_records").fetchone()[0] == 11


def test_design_id_injection_is_not_a_uuid(conn, corpus):
    with pytest.raises(AnalysisInputError, match="query_design_id must be a UUID"):
        descriptive_report(conn, AnalysisScope(f"{corpus.design}' OR '1'='1"))


def test_terms_are_bound_so_quotes_are_just_text(conn, corpus):
    report = descriptive_report(conn, AnalysisScope(corpus.design, terms=["x' OR '1'='1"]))
    assert report["total_records"] == 0


def test_unknown_design_is_an_error_never_all_data(conn, corpus):
    with pytest.raises(UnknownQueryDesign, match="does not exist"):
        descriptive_report(conn, AnalysisScope(str(uuid.uuid4())))


def test_run_of_another_design_is_rejected(conn, corpus):
    with pytest.raises(AnalysisInputError, match="does not belong to query design"):
        descriptive_report(conn, AnalysisScope(corpus.design, collection_run_id=corpus.other_run))


def test_stg_content_returns_only_its_count(conn, corpus):
    params = AnalysisScope(corpus.design).params()
    assert run_models(conn, params, ["stg_content"]) == {"stg_content": [{"rows": 9}]}


def test_stream_models_send_their_rows_as_json_lines_not_python_rows(conn, tmp_path):
    """``returns: stream``: run_models returns only the count and hands ``publish`` the rows as
    JSON text, in order; quotes, backslashes, control characters, the CSV quote and delimiter
    characters of the COPY, non-ASCII text, NULLs and arrays pass unchanged."""
    _write(
        tmp_path,
        "m",
        "-- order_by: n DESC\n-- returns: stream\n"
        "SELECT * FROM (VALUES (1, E'a\"b\\\\c\\n\\t\\x01\\x02,;', ARRAY['x', NULL], NULL::uuid),"
        " (3, 'æøå 🙂', ARRAY[]::text[], '6f1ed002-ab5d-42de-9b9c-7f1e0d6e9d8a'::uuid),"
        " (2, '', NULL, NULL)) AS v(n, text, terms, id)",
    )
    models = load_models.__wrapped__(tmp_path)
    published: dict[str, bytes] = {}

    def publish(name, lines):
        published[name] = b"".join(lines)

    assert run_models(conn, {}, ["m"], models, publish=publish) == {"m": [{"rows": 3}]}
    assert json.loads(b"[" + published["m"] + b"]") == [
        {"n": 3, "text": "æøå 🙂", "terms": [], "id": "6f1ed002-ab5d-42de-9b9c-7f1e0d6e9d8a"},
        {"n": 2, "text": "", "terms": None, "id": None},
        {"n": 1, "text": 'a"b\\c\n\t\x01\x02,;', "terms": ["x", None], "id": None},
    ]
    assert published["m"].count(b"\n") == 3  # one row a line
    # Without a publisher nothing is streamed; the count is still there.
    assert run_models(conn, {}, ["m"], models) == {"m": [{"rows": 3}]}


def test_parameters_are_found_outside_comments_strings_and_quoted_names():
    # An apostrophe in a comment used to open a "string" that hid every parameter after it
    # (a research query then failed with "query parameter missing").
    body = (
        "-- the author's posts, at most :in_comment\n"
        "SELECT :a, 'it''s :in_string', E'x\\' :in_e_string', \"col :in_name\",\n"
        "       x::text /* :in_block's */, :b, '50%' -- :after\n"
        "FROM t WHERE n > :c"
    )
    assert used_params(body) == {"a", "b", "c"}
    assert to_psycopg(body) == (
        "-- the author's posts, at most :in_comment\n"
        "SELECT %(a)s, 'it''s :in_string', E'x\\' :in_e_string', \"col :in_name\",\n"
        "       x::text /* :in_block's */, %(b)s, '50%%' -- :after\n"
        "FROM t WHERE n > %(c)s"
    )
