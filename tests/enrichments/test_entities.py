"""Named entities of a known corpus: actor gazetteer, capitalised spans, roles."""

from __future__ import annotations

import uuid

from observatory_pipelines.enrichments.catalog import ENTITIES
from observatory_pipelines.enrichments.service import check_coverage, enrich

from .conftest import insert_record

ARTICLE = (
    "Statsminister Mette Frederiksen sagde i går, at regeringen vil lytte til kritikken. "
    "Ifølge Klimarådet er planen for svag og kommer år for sent. Også Ursula von der Leyen "
    "har udtalt sig, og i "
    "Bruxelles venter man på Frederiksens svar."
)


def _actors(conn):
    mette, council = uuid.uuid4(), uuid.uuid4()
    conn.execute(
        "INSERT INTO actors (id, canonical_name, actor_type) VALUES (%s, 'Mette Frederiksen', "
        "'person'), (%s, 'Klimarådet', 'organisation')",
        [mette, council],
    )
    conn.execute("INSERT INTO actor_aliases (actor_id, alias) VALUES (%s, 'Frederiksen')", [mette])
    return mette, council


def _entities(conn):
    return conn.execute(
        "SELECT r.platform_id, e.ordinal, e.name, e.entity_type, e.actor_id, e.start_offset, "
        "e.end_offset, e.role, e.confidence, e.method FROM enrichment_entities e "
        "JOIN content_records r ON r.id = e.record_id AND r.published_at = e.published_at "
        "ORDER BY r.platform_id, e.ordinal"
    ).fetchall()


def test_a_known_corpus_gives_exactly_the_known_entities(conn, database_url):
    mette, council = _actors(conn)
    insert_record(conn, 1, platform_id="article", platform="rss_feeds", text_content=ARTICLE)
    # short: the gazetteer applies (the alias, in the genitive), capitalised spans do not
    insert_record(conn, 2, platform_id="post", text_content="Enig med Frederiksens linje, Lars")
    insert_record(conn, 3, platform_id="empty", text_content=None)

    result = enrich(database_url, ENTITIES)

    assert result["rows_written"] == {"enrichment_entities": 6, "enrichment_entity_records": 3}
    start = ARTICLE.index
    assert _entities(conn) == [
        ("article", 1, "Mette Frederiksen", "PERSON", mette, 14, 31, "speaker", 1.0, "gazetteer"),
        ("article", 2, "Klimarådet", "ORGANISATION", council, start("Klimarådet"),
         start("Klimarådet") + 10, "quoted_source", 1.0, "gazetteer"),
        ("article", 3, "Ursula von der Leyen", "UNKNOWN", None, start("Ursula"),
         start("Ursula") + 20, "mentioned", 0.5, "capitalised"),
        ("article", 4, "Bruxelles", "UNKNOWN", None, start("Bruxelles"), start("Bruxelles") + 9,
         "mentioned", 0.5, "capitalised"),
        # the same actor again keeps the role of its first occurrence
        ("article", 5, "Mette Frederiksen", "PERSON", mette, start("Frederiksens"),
         start("Frederiksens") + 12, "speaker", 1.0, "gazetteer"),
        ("post", 1, "Mette Frederiksen", "PERSON", mette, 9, 21, "mentioned", 1.0, "gazetteer"),
    ]  # fmt: skip
    assert check_coverage(database_url, ENTITIES)["missing"] == 0


def test_editing_the_actors_recomputes_every_record(conn, database_url):
    mette, _ = _actors(conn)
    insert_record(conn, 1, platform_id="post", text_content="Løkke og Frederiksen er enige")
    first = enrich(database_url, ENTITIES)
    assert first["rows_written"]["enrichment_entities"] == 1
    assert enrich(database_url, ENTITIES)["records_enriched_now"] == 0

    conn.execute(
        "INSERT INTO actors (id, canonical_name, actor_type) VALUES (%s, 'Lars Løkke Rasmussen', "
        "'person')",
        [lokke := uuid.uuid4()],
    )
    conn.execute("INSERT INTO actor_aliases (actor_id, alias) VALUES (%s, 'Løkke')", [lokke])
    assert check_coverage(database_url, ENTITIES)["missing"] == 1  # the version moved

    again = enrich(database_url, ENTITIES)

    assert again["recomputed_all"] and again["records_enriched_now"] == 1
    assert [row[2] for row in _entities(conn)] == ["Lars Løkke Rasmussen", "Mette Frederiksen"]
