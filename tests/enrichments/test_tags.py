"""Hashtags and mentions of a known corpus, æøå-safe, per platform convention."""

from __future__ import annotations

from observatory_pipelines.enrichments.catalog import TAGS
from observatory_pipelines.enrichments.service import enrich

from .conftest import insert_record

BLUESKY_TEXT = "Støt @anna.bsky.social i #GrønOmstilling"


def _span(text: str, part: str) -> dict:
    start = len(text[: text.index(part)].encode())
    return {"byteStart": start, "byteEnd": start + len(part.encode())}


BLUESKY_FACETS = [
    {
        "index": _span(BLUESKY_TEXT, "@anna.bsky.social"),
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:anna"}],
    },
    {
        "index": _span(BLUESKY_TEXT, "#GrønOmstilling"),
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "GrønOmstilling"}],
    },
]


def test_a_known_corpus_gives_exactly_the_known_tags(conn, database_url):
    insert_record(
        conn, 1, platform_id="x", platform="x_twitter",
        text_content="#Grønland og #grønland igen, #2026 er ingen tag, #ÆØÅ_ok. Skriv til "
        "a@b.dk eller @Mette.F. og @user@mastodon.social! https://x.dk/side#anker",
    )  # fmt: skip
    insert_record(conn, 2, platform_id="b", platform="bluesky", text_content=BLUESKY_TEXT,
                  raw_metadata={"facets": BLUESKY_FACETS})  # fmt: skip
    insert_record(conn, 3, platform_id="bt", platform="bluesky",
                  text_content="Uden facetter: @ole.bsky.social #Klima")  # fmt: skip
    insert_record(conn, 4, platform_id="r", platform="reddit", title="Spørgsmål til r/Denmark",
                  text_content="u/Hans_J sagde til @k, se også /r/dkpol")  # fmt: skip
    insert_record(conn, 5, platform_id="n", platform="rss", text_content=None)

    result = enrich(database_url, TAGS)

    assert result["rows_written"] == {"enrichment_tags": 5}
    rows = conn.execute(
        "SELECT r.platform_id, t.hashtags, t.mentions, t.mention_ids, t.subreddit_refs "
        "FROM enrichment_tags t JOIN content_records r "
        "ON r.id = t.record_id AND r.published_at = t.published_at ORDER BY r.platform_id"
    ).fetchall()
    assert rows == [
        ("b", ["grønomstilling"], ["anna.bsky.social"], ["did:plc:anna"], []),
        ("bt", ["klima"], ["ole.bsky.social"], [], []),
        ("n", [], [], [], []),
        ("r", [], ["hans_j", "k"], [], ["denmark", "dkpol"]),
        ("x", ["grønland", "æøå_ok"], ["mette.f", "user@mastodon.social"], [], []),
    ]
    # the GIN index answers "posts tagged X" with the casefolded form
    tagged = conn.execute(
        "SELECT count(*) FROM enrichment_tags WHERE hashtags @> ARRAY['grønland']"
    ).fetchone()
    assert tagged == (1,)
