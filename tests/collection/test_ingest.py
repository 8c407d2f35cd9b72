"""Normalize → enrich → COPY/INSERT against the real partitioned table."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm
from observatory_pipelines.collection.enrich import Enricher, content_hash
from observatory_pipelines.collection.ingest import TEMP_BUFFERS, BulkIngester

from .conftest import PSEUDO_KEY

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def rec(n: int, **over) -> NormalizedRecord:
    fields = dict(
        platform="rss_feeds",
        arena="news_media",
        content_type="article",
        platform_id=f"guid-{n}",
        published_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=n),
        url=f"https://www.dr.dk/nyheder/{n}?utm_source=rss&fbclid=abc#top",
        title=f"Titel {n}",
        text_content=f"Brødtekst {n}",
        author_platform_id=f"author-{n}",
        author_display_name="Forfatter",
        raw_metadata={"feed_key": "dr_politik"},
        media_urls=[f"https://img.dr.dk/{n}.jpg"],
        hash_source=f"Titel {n}",
        likes_count=n,
    )
    fields.update(over)
    return NormalizedRecord(**fields)


def ingest(engine, records, terms=(), run_id=None, collected_at=NOW):
    enricher = Enricher(engine, list(terms))
    with BulkIngester(engine, run_id=run_id) as ingester:
        counts = ingester.write(enricher.rows(records, collected_at))
    return counts, enricher.stats


def rows(engine, where="true", **params):
    with engine.connect() as conn:
        return (
            conn.execute(
                text(f"SELECT * FROM content_records WHERE {where} ORDER BY platform_id"), params
            )
            .mappings()
            .all()
        )


def test_rows_land_normalized_and_enriched(db):
    with db.begin() as conn:
        actor = conn.execute(
            text("INSERT INTO actors (canonical_name) VALUES ('DR') RETURNING id")
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO actor_platform_presences (actor_id, platform, platform_user_id)"
                " VALUES (:a, 'rss_feeds', 'author-1')"
            ),
            {"a": actor},
        )
    counts, stats = ingest(db, [rec(1), rec(2, text_content="<p>Fed <b>tekst</b> &amp; mere</p>")])
    assert (counts.staged, counts.inserted, counts.skipped) == (2, 2, 0)
    first, second = rows(db)
    assert first["url"] == "https://www.dr.dk/nyheder/1"  # utm, fbclid and fragment gone
    assert first["published_at"] == datetime(2026, 3, 1, 1, tzinfo=UTC)
    assert first["content_hash"] == hashlib.sha256(b"titel 1").hexdigest()
    expected = hmac.new(PSEUDO_KEY.encode(), b"rss_feeds:author-1", hashlib.sha256).hexdigest()
    assert first["pseudonymized_author_id"] == expected
    assert first["author_id"] == actor and second["author_id"] is None
    assert first["media_urls"] == ["https://img.dr.dk/1.jpg"]
    assert first["raw_metadata"] == {"feed_key": "dr_politik"}
    assert first["collection_tier"] == "free" and first["likes_count"] == 1
    # Only a collector knows a field's content type: ingest stores text as it was given
    # (issue 13.6: plain text was stripped as if it were HTML).
    assert second["text_content"] == "<p>Fed <b>tekst</b> &amp; mere</p>"
    assert "repairs" not in second["raw_metadata"]
    assert stats.repaired == 0 and stats.rejected == 0


def test_content_hash_normalizes_text():
    assert content_hash("  Grønland\u0308  ER\n\tdejligt ") == content_hash(
        "grønland\u0308 er dejligt"
    )
    decomposed = "A\u030angstrøm"  # Å as A + combining ring: NFC makes it one letter
    assert content_hash(decomposed) == content_hash("Ångstrøm")


def test_terms_matched_danish_phrases_hashtags(db):
    terms = [
        SearchTerm("grønland"),
        SearchTerm("ø"),
        SearchTerm("Mette Frederiksen", term_type="phrase"),
        SearchTerm("klima", term_type="hashtag"),
        SearchTerm("æble"),
    ]
    records = [
        rec(1, title="Debat om GRØNLANDSPOLITIK", text_content="mette   frederiksen talte"),
        rec(2, title="Øen", text_content="en ø i havet #Klima"),
        rec(3, title="Klimaet", text_content="ingen hashtag her, fremmedord: søgrønland"),
    ]
    ingest(db, records, terms)
    matched = {r["platform_id"]: r["search_terms_matched"] for r in rows(db)}
    assert matched["guid-1"] == ["grønland", "Mette Frederiksen"]
    assert matched["guid-2"] == ["ø", "klima"]
    assert matched["guid-3"] is None  # "søgrønland" has no word boundary before grønland


def test_rerun_and_overlapping_windows_add_nothing(db):
    first, _ = ingest(db, [rec(n) for n in range(10)])
    assert first.inserted == 10
    again, _ = ingest(db, [rec(n) for n in range(5, 15)], collected_at=NOW + timedelta(days=1))
    assert (again.inserted, again.skipped) == (5, 5)
    assert len(rows(db)) == 15


def test_undated_records_are_not_duplicated_by_a_later_run(db):
    undated = [rec(1, published_at=None), rec(2, published_at=None)]
    assert ingest(db, undated)[0].inserted == 2
    later = [rec(1, published_at=None), rec(2, published_at=None)]
    assert ingest(db, later, collected_at=NOW + timedelta(days=3))[0].inserted == 0
    stored = rows(db)
    assert all(r["published_at"] == NOW for r in stored)
    assert all(r["raw_metadata"]["published_at_source"] == "collected_at" for r in stored)


def test_same_content_twice_in_a_run_is_kept_once(db, engine):
    from .conftest import make_user

    user = make_user(db)
    with db.begin() as conn:
        run = conn.execute(
            text("INSERT INTO collection_runs (initiated_by) VALUES (:u) RETURNING id"), {"u": user}
        ).scalar_one()
    # Ritzau: one story, two outlets, same title; and the repeat in a later batch of the run.
    enricher = Enricher(db, [])
    with BulkIngester(db, run_id=run) as ingester:
        a = ingester.write(enricher.rows([rec(1), rec(2, hash_source="Titel 1")], NOW))
        b = ingester.write(enricher.rows([rec(3, hash_source="titel   1")], NOW))
    assert (a.inserted, a.skipped, b.inserted, b.skipped) == (1, 1, 0, 1)


def test_the_same_content_on_another_platform_is_another_record(db):
    # The task's seen-content key covers the platform: a later batch with the title of an
    # earlier one, from another platform, is stored; from the same platform it is not.
    enricher = Enricher(db, [])
    with BulkIngester(db) as ingester:
        first = ingester.write(enricher.rows([rec(1)], NOW))
        other = ingester.write(
            enricher.rows([rec(2, platform="gdelt", hash_source="Titel 1")], NOW)
        )
        same = ingester.write(enricher.rows([rec(3, hash_source="Titel 1")], NOW))
    assert (first.inserted, other.inserted, same.inserted) == (1, 1, 0)
    assert sorted((r["platform"], r["platform_id"]) for r in rows(db)) == [
        ("gdelt", "guid-2"),
        ("rss_feeds", "guid-1"),
    ]


def test_bad_records_are_repaired_or_rejected_and_counted(db):
    huge = "x" * (10 * 1024 * 1024)
    records = [
        rec(1, published_at=datetime(1970, 1, 1, tzinfo=UTC)),
        rec(2, published_at=datetime(2100, 1, 1, tzinfo=UTC)),
        rec(3, text_content=huge, raw_metadata={"blob": huge, "nul": "a\x00b"}),
        rec(4, platform_id=None),  # derived from the URL
        rec(5, platform_id=None, url=None, title=None, text_content=None, hash_source=None),
        rec(6, content_type=None),
        rec(7, published_at=datetime(2026, 3, 3, 10), url="https://x.dk/" + "a" * 3000),
        rec(8, likes_count="many", views_count=-4, media_urls=["ok", 5, None]),
        rec(9, title="Nul\x00byte <script>alert(1)</script>titel"),
    ]
    counts, stats = ingest(db, records)
    assert stats.rejected == 2
    assert stats.reasons == {"missing platform_id, url and text": 1, "missing content_type": 1}
    assert counts.inserted == 7
    by_id = {r["platform_id"]: r for r in rows(db)}
    for old in ("guid-1", "guid-2"):
        assert by_id[old]["published_at"] == NOW
        assert by_id[old]["raw_metadata"]["published_at_source"] == "collected_at"
        assert "published_at_original" in by_id[old]["raw_metadata"]
    assert len(by_id["guid-3"]["text_content"]) == 100_000
    assert by_id["guid-3"]["raw_metadata"]["truncated"] is True
    derived = hashlib.sha256(b"dr.dk/nyheder/4").hexdigest()
    assert by_id[derived]["raw_metadata"]["platform_id_source"] == "url"
    assert by_id["guid-7"]["url"] is None
    assert by_id["guid-7"]["published_at"] == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert by_id["guid-8"]["likes_count"] is None and by_id["guid-8"]["views_count"] is None
    assert by_id["guid-8"]["media_urls"] is None  # "ok" is not an http(s) URL
    assert by_id["guid-9"]["title"] == "Nulbyte <script>alert(1)</script>titel"
    assert json.dumps(by_id["guid-3"]["raw_metadata"]).count("x") < 1000


def test_temp_buffers_are_raised_for_the_seen_set_where_the_session_allows_it(db):
    # One session throughout (StaticPool), as a pooled connection is reused by later tasks.
    engine = create_engine(db.url.render_as_string(hide_password=False), poolclass=StaticPool)
    try:
        with BulkIngester(engine) as first:
            assert first.write(Enricher(engine, []).rows([rec(1)], NOW)).inserted == 1
            assert first.conn.execute("SHOW temp_buffers").fetchone()[0] == TEMP_BUFFERS
        with BulkIngester(engine) as again:  # the same session: the same size is accepted
            assert again.write(Enricher(engine, []).rows([rec(2)], NOW)).inserted == 1
    finally:
        engine.dispose()

    engine = create_engine(db.url.render_as_string(hide_password=False), poolclass=StaticPool)
    try:
        with engine.connect() as conn:  # another user's temp table fixes the session's size
            default = conn.execute(text("SHOW temp_buffers")).scalar_one()
            conn.execute(text("CREATE TEMP TABLE other_work AS SELECT 1 AS x"))
            conn.commit()
        with BulkIngester(engine) as ingester:
            assert ingester.write(Enricher(engine, []).rows([rec(3)], NOW)).inserted == 1
            assert ingester.conn.execute("SHOW temp_buffers").fetchone()[0] == default
    finally:
        engine.dispose()
    assert default != TEMP_BUFFERS
    assert [r["platform_id"] for r in rows(db)] == ["guid-1", "guid-2", "guid-3"]
