"""URLs of a known corpus: clean form, page key, host, registered domain, outlet, flags."""

from __future__ import annotations

from observatory_pipelines.enrichments.catalog import URLS
from observatory_pipelines.enrichments.links import text_urls
from observatory_pipelines.enrichments.service import check_coverage, enrich

from .conftest import insert_record

BLUESKY_FACETS = [
    {
        "index": {"byteStart": 0, "byteEnd": 10},
        "features": [
            {
                "$type": "app.bsky.richtext.facet#link",
                "uri": "https://www.berlingske.dk/a/1?fbclid=x",
            }
        ],
    }
]
BLUESKY_EMBED = {
    "$type": "app.bsky.embed.external#view",
    "external": {"uri": "https://nyheder.tv2.dk/samfund/2026-03-10-klima"},
}


def _links(conn):
    return conn.execute(
        "SELECT r.platform_id, u.ordinal, u.url_type, u.url_clean, u.url_key, u.host, "
        "u.registered_domain, u.outlet, u.is_shortener, u.domain_only "
        "FROM enrichment_urls u JOIN content_records r "
        "ON r.id = u.record_id AND r.published_at = u.published_at "
        "ORDER BY r.platform_id, u.ordinal"
    ).fetchall()


def test_text_urls_stop_at_delimiters_and_strip_trailing_punctuation():
    text = (
        "Læs www.dr.dk/nyheder/a. Og (https://da.wikipedia.org/wiki/Grønland_(ø)) samt "
        '"https://politiken.dk/x?p=1", https://bt.dk/y; e-mail a@www.nope.dk'
    )
    assert text_urls(text) == [
        "https://www.dr.dk/nyheder/a",
        "https://da.wikipedia.org/wiki/Grønland_(ø)",
        "https://politiken.dk/x?p=1",
        "https://bt.dk/y",
    ]


def test_a_known_corpus_gives_exactly_the_known_links(conn, database_url):
    insert_record(
        conn,
        1,
        platform_id="a",
        platform="bluesky",
        url="https://bsky.app/profile/x.bsky.social/post/1",
        text_content="Se https://www.dr.dk/nyheder/klima?utm_source=bsky&utm_medium=x og "
        "http://dr.dk/nyheder/klima igen, og forsiden https://www.dr.dk/",
        raw_metadata={"facets": BLUESKY_FACETS, "embed": BLUESKY_EMBED},
    )
    insert_record(
        conn,
        2,
        platform_id="b",
        platform="reddit",
        arena="social",
        url="https://www.reddit.com/r/Denmark/comments/abc/",
        title="Kort link bit.ly?",
        text_content="https://bit.ly/3AbC og m.ekstrabladet.dk? nej: https://m.ekstrabladet.dk/nyheder/1",
    )
    insert_record(conn, 3, platform_id="c", platform="youtube", content_type="comment",
                  url="https://www.youtube.com/watch?v=abc", text_content="ingen links")  # fmt: skip
    insert_record(conn, 4, platform_id="d", platform="rss", text_content=None, url=None)

    result = enrich(database_url, URLS)

    assert result["records_enriched_now"] == 4
    assert result["rows_written"] == {"enrichment_urls": 8, "enrichment_url_records": 4}
    assert _links(conn) == [
        ("a", 1, "self_reference", "https://bsky.app/profile/x.bsky.social/post/1",
         "bsky.app/profile/x.bsky.social/post/1", "bsky.app", "bsky.app", None, False, False),
        ("a", 2, "structured", "https://www.berlingske.dk/a/1", "berlingske.dk/a/1",
         "www.berlingske.dk", "berlingske.dk", "Berlingske", False, False),
        ("a", 3, "structured", "https://nyheder.tv2.dk/samfund/2026-03-10-klima",
         "nyheder.tv2.dk/samfund/2026-03-10-klima", "nyheder.tv2.dk", "tv2.dk", "TV 2",
         False, False),
        # the tracked https://www. and the plain http:// spelling are one page (one key)
        ("a", 4, "text_extracted", "https://www.dr.dk/nyheder/klima", "dr.dk/nyheder/klima",
         "www.dr.dk", "dr.dk", "DR", False, False),
        ("a", 5, "text_extracted", "https://www.dr.dk", "dr.dk", "www.dr.dk", "dr.dk", "DR",
         False, True),
        ("b", 1, "self_reference", "https://www.reddit.com/r/Denmark/comments/abc",
         "reddit.com/r/Denmark/comments/abc", "www.reddit.com", "reddit.com", None, False,
         False),
        ("b", 2, "text_extracted", "https://bit.ly/3AbC", "bit.ly/3AbC", "bit.ly", "bit.ly",
         None, True, False),
        ("b", 3, "text_extracted", "https://m.ekstrabladet.dk/nyheder/1",
         "ekstrabladet.dk/nyheder/1", "m.ekstrabladet.dk", "ekstrabladet.dk", "Ekstra Bladet",
         False, False),
    ]  # fmt: skip
    counts = dict(
        conn.execute(
            "SELECT r.platform_id, u.url_count FROM enrichment_url_records u "
            "JOIN content_records r ON r.id = u.record_id AND r.published_at = u.published_at"
        ).fetchall()
    )
    assert counts == {"a": 5, "b": 3, "c": 0, "d": 0}
    assert check_coverage(database_url, URLS)["missing"] == 0
