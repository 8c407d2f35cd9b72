"""The streamed models (``returns: stream``) write each row as ``row_to_json(t)::text`` would,
byte for byte, also for awkward values: quotes, backslashes, control characters, æøå and emoji
in names and terms, NULL elements in term lists, NULL display names and actor ids (uuid)."""

from __future__ import annotations

from datetime import UTC, datetime

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.analysis.sql_models import load_models, run_models

AWKWARD_NAMES = ['Anne "Q" \\ Ærø', "tab\there\nline\x01", "emoji 🌍 ø", None]
AWKWARD_TERMS = [['kli"ma', None], ["\\skat", "grøn\tomstilling"], ["🌍"], [None, "x"]]


def _add_awkward_records(conn, corpus) -> None:
    for n, (name, terms) in enumerate(zip(AWKWARD_NAMES, AWKWARD_TERMS, strict=True)):
        published = datetime(2026, 3, 10, n, tzinfo=UTC)
        record = conn.execute(
            "INSERT INTO content_records (published_at, platform, arena, platform_id, "
            "content_type, text_content, author_display_name, pseudonymized_author_id, "
            "likes_count, collection_run_id, query_design_id, search_terms_matched, "
            "collection_tier) VALUES (%s, 'bluesky', 'social_media', %s, 'post', 't', %s, %s, "
            "%s, %s, %s, %s, 'free') RETURNING id",
            [published, f"awk{n}", name, f'p"{n}\\', n, corpus.run2, corpus.design, terms],
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO content_record_collections (query_design_id, content_record_id, "
            "published_at, first_collection_run_id, collection_run_ids, search_terms_matched) "
            "VALUES (%s, %s, %s, %s, ARRAY[CAST(%s AS uuid)], %s)",
            [corpus.design, record, published, corpus.run2, corpus.run2, terms],
        )
    conn.commit()


def test_streamed_lines_are_row_to_json_byte_for_byte(conn, corpus):
    _add_awkward_records(conn, corpus)
    models = load_models()
    streamed_models = [name for name, model in models.items() if model.returns == "stream"]
    params = check_scope(conn, AnalysisScope(corpus.design))
    compared: dict[str, int] = {}

    def publish(name: str, lines) -> None:
        received = b"".join(lines)  # the COPY ends here; the temp table is still there
        order = ", ".join(
            item.split()[0] + ' COLLATE "C"'
            if item.split()[0] in ("author_key", "platform", "term", "terms")
            else item
            for item in models[name].order_by
        )
        expected = conn.execute(
            f"SELECT row_to_json(t)::text FROM pg_temp.{name} AS t ORDER BY {order}"
        ).fetchall()
        assert expected, name
        assert received == b"\n,".join(row[0].encode() for row in expected) + b"\n"
        compared[name] = len(expected)

    run_models(conn, params, streamed_models, publish=publish)
    conn.commit()
    assert set(compared) == set(streamed_models)
    # The awkward authors and terms reached every streamed model.
    assert compared["actors_in_scope"] >= 8 and compared["actor_terms"] >= 10
