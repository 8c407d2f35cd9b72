"""Records reach Postgres as the source published them (issue 13.2, 13.4-13.8).

Collectors run against the replay server (``tests/arenas``), their pages go through
``Enricher`` and ``BulkIngester`` into the real ``content_records``, and the tests read
the rows back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from observatory_pipelines.arenas.base import CollectionRequest, NormalizedRecord, SearchTerm
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.collection.enrich import Enricher
from observatory_pipelines.collection.ingest import BulkIngester
from observatory_pipelines.collection.language import detect
from tests.arenas.conftest import ReplayServer, file_reply

from .conftest import PSEUDO_KEY

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def replay(monkeypatch):
    server = ReplayServer()
    monkeypatch.setenv("BLUESKY_API_URL", server.url)
    monkeypatch.setenv("ARENA_RATE_LIMIT_SCALE", "0")
    yield server
    server.close()


def _store(engine, records, collected_at=NOW):
    enricher = Enricher(engine, [])
    with BulkIngester(engine, run_id=None) as ingester:
        return ingester.write(enricher.rows(records, collected_at))


def _rows(engine, platform):
    with engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT * FROM content_records WHERE platform = :p ORDER BY platform_id"),
                {"p": platform},
            )
            .mappings()
            .all()
        )


def _hmac(message: str) -> str:
    return hmac.new(PSEUDO_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def _rss(
    replay, *names, window=(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
):
    for name in names:
        replay.add(f"/{name}", file_reply(name))
    feeds = {name.split(".")[0]: f"{replay.url}/{name}" for name in names}
    request = CollectionRequest(
        date_from=window[0],
        date_to=window[1],
        terms=[SearchTerm("greenland"), SearchTerm("grønland"), SearchTerm("grönland")],
        options={"default_feeds": False, "feeds": feeds},
    )
    return [r for p in build_collector("rss_feeds").collect(request) for r in p.records]


def test_the_same_text_by_two_bluesky_authors_is_two_rows(db, replay):
    replay.add(
        "/xrpc/com.atproto.server.createSession", file_reply("bsky_session.json"), method="POST"
    )
    replay.add("/xrpc/app.bsky.feed.searchPosts", file_reply("bsky_same_text_two_authors.json"))
    collector = build_collector(
        "bluesky", credentials={"handle": "observatory.bsky.social", "app_password": "x"}
    )
    request = CollectionRequest(
        date_from=datetime(2026, 11, 1, tzinfo=UTC),
        date_to=datetime(2026, 11, 26, tzinfo=UTC),
        terms=[SearchTerm("grønland")],
    )
    records = [r for p in collector.collect(request) for r in p.records]
    counts = _store(db, records)
    assert counts.inserted == 3  # the slogan lost one of its two authors before
    rows = _rows(db, "bluesky")
    anne, bo = rows[0], rows[1]
    assert anne["pseudonymized_author_id"] != bo["pseudonymized_author_id"]
    assert anne["content_hash"] != bo["content_hash"]
    # the same author's post collected again (another query, a rerun) is still one row
    again = [r for p in collector.collect(request) for r in p.records]
    assert _store(db, again).inserted == 0
    # langs ["da-DK"] → "da"; no langs → the detector's answer
    assert bo["language"] == "da" and bo["raw_metadata"]["language_declared"] == "da-DK"
    assert rows[2]["language"] == "en"
    assert rows[2]["raw_metadata"]["language_source"] == "detected"


def _post(n: int, platform: str, arena: str, author: str | None, **over) -> NormalizedRecord:
    fields = dict(
        platform=platform,
        arena=arena,
        content_type="post",
        platform_id=f"{platform}-{n}",
        published_at=datetime(2026, 11, 18, 10, n, tzinfo=UTC),
        text_content="Grønland er ikke til salg!",
        author_platform_id=author,
        hash_source="Grønland er ikke til salg!",
    )
    fields.update(over)
    return NormalizedRecord(**fields)


@pytest.mark.parametrize(
    ("platform", "arena", "authors", "stored"),
    [
        ("reddit", "social_media", ("t2_anne", "t2_bo"), 2),  # two people: two posts
        ("reddit", "social_media", ("t2_anne", "t2_anne"), 1),  # one person twice: one
        ("youtube", "social_media", ("UCanne", "UCbo"), 2),
        ("instagram", "import", ("anne", "bo"), 2),
        ("rss_feeds", "news_media", (None, None), 1),  # Ritzau in two outlets: one article
        ("gdelt", "news_media", (None, None), 1),
    ],
)
def test_what_makes_content_the_same_per_arena(db, platform, arena, authors, stored):
    records = [_post(n, platform, arena, a) for n, a in enumerate(authors)]
    _store(db, records)
    assert len(_rows(db, platform)) == stored


def test_rss_authors_are_pseudonymized_by_name_and_no_email_is_stored(db, replay):
    _store(db, _rss(replay, "rss_fidelity_en.xml"))
    rows = {r["title"]: r for r in _rows(db, "rss_feeds")}
    jens = rows["Example of the <blink> tag in Greenland"]
    assert jens["author_display_name"] == "Jens Hansen"
    assert jens["pseudonymized_author_id"] == _hmac("rss_feeds:name:jens hansen")
    assert jens["author_platform_id"] is None
    only_address = rows["Greenland at summer time"]
    assert only_address["author_display_name"] is None
    assert only_address["pseudonymized_author_id"] == _hmac("rss_feeds:name:redaktion@example.dk")
    for row in rows.values():
        stored = json.dumps({k: v for k, v in row.items()}, default=str)
        assert "@" not in stored, row["title"]


def test_rss_rows_keep_text_urls_dates_and_languages_as_published(db, replay):
    records = _rss(
        replay, "rss_fidelity_en.xml", "rss_fidelity_atom.xml", "rss_fidelity_undeclared.xml"
    )
    _store(db, records)
    rows = {r["title"]: r for r in _rows(db, "rss_feeds")}
    jens = rows["Example of the <blink> tag in Greenland"]
    assert jens["text_content"] == "Code: if x<y and y>z then Greenland wins"
    assert jens["url"] == "https://news.example.co.uk/relative/acc-1"
    assert jens["published_at"] == datetime(2025, 6, 10, 7, 41, 1, tzinfo=UTC)
    assert jens["language"] == "en" and jens["raw_metadata"]["language_declared"] == "en-gb"
    assert jens["raw_metadata"]["language_source"] == "declared"
    assert rows["Greenland at summer time"]["published_at"] == datetime(
        2025, 6, 10, 7, 41, 1, tzinfo=UTC
    )
    assert rows["Grönland: 3 < 4 och &lt; är ingen tagg"]["language"] == "sv"
    script = rows["Greenland with a script link"]
    assert script["url"] is None and script["raw_metadata"]["url_invalid"] == "javascript:alert(1)"
    danish, english = rows["Grønland i dag"], rows["Greenland today"]
    assert danish["language"] == "da" and danish["raw_metadata"]["language_source"] == "detected"
    assert english["language"] == "en" and english["raw_metadata"]["language_source"] == "detected"
    too_short = rows["Grønland"]
    assert too_short["language"] is None and "language_source" not in too_short["raw_metadata"]


def test_entries_without_guid_or_link_are_stored_once_across_reruns(db, replay):
    first = _store(db, _rss(replay, "rss_fidelity_en.xml"))
    assert first.inserted == 4  # the entry without guid and link was rejected before
    rerun = _store(db, _rss(replay, "rss_fidelity_en.xml"), collected_at=NOW.replace(day=21))
    assert rerun.inserted == 0
    [derived] = [
        r for r in _rows(db, "rss_feeds") if r["title"] == "Greenland without guid or link"
    ]
    assert derived["raw_metadata"]["platform_id_source"] == "entry_hash"


def test_items_without_id_or_url_get_an_id_from_their_content_in_every_arena(db):
    """``map_page`` keeps an item that has text but no id (for every collector); ingest
    derives the id from the content hash, so a rerun adds nothing and another author's
    identical text is another row."""
    from observatory_pipelines.arenas.support import map_page

    def mapper(item):
        return _post(item["n"], "fake_social", "social_media", item["author"], platform_id=None)

    items = [{"n": 1, "author": "u1"}, {"n": 1, "author": "u2"}]
    page = map_page(items, mapper, seen=set())
    assert page.rejected == 0 and len(page.records) == 2
    assert _store(db, page.records).inserted == 2
    rerun = map_page(items, mapper, seen=set())
    assert _store(db, rerun.records, collected_at=NOW.replace(day=21)).inserted == 0
    rows = _rows(db, "fake_social")
    assert {r["raw_metadata"]["platform_id_source"] for r in rows} == {"content_hash"}
    nothing = map_page(
        [{}],
        lambda _item: _post(
            9,
            "fake_social",
            "social_media",
            None,
            platform_id=None,
            text_content=None,
            title=None,
            url=None,
        ),
    )
    assert nothing.rejected == 1 and nothing.rejection_reasons == [
        "item without an id, a URL or any text"
    ]


def test_ingest_is_the_last_gate_for_urls_emails_and_markup(db):
    record = _post(
        1,
        "fake_social",
        "social_media",
        "u1",
        text_content="if x<y and y>z: <b> is literal here &amp; stays",
        title="Example of the <blink> tag",
        url="/relative/acc-1",
        author_display_name="jens@example.dk (Jens Hansen)",
        raw_metadata={"contact": "write to jens@example.dk", "nested": [{"e": "a@b.dk"}]},
        media_urls=["https://img.example.dk/1.jpg", "/relative.jpg", "javascript:x"],
    )
    _store(db, [record])
    [row] = _rows(db, "fake_social")
    assert row["text_content"] == "if x<y and y>z: <b> is literal here &amp; stays"
    assert row["title"] == "Example of the <blink> tag"
    assert row["url"] is None and row["raw_metadata"]["url_invalid"] == "/relative/acc-1"
    assert row["author_display_name"] == "Jens Hansen"
    assert row["media_urls"] == ["https://img.example.dk/1.jpg"]
    assert "@" not in json.dumps(row["raw_metadata"])


@pytest.mark.parametrize(
    ("sample", "language", "ambiguous"),
    [
        ("Regeringen præsenterer i dag en ny plan for Grønland.", "da", False),
        ("The government presented a new plan for Greenland today.", "en", False),
        ("Regeringen presenterade i dag en ny plan för Grönland.", "sv", False),
        ("Die Regierung stellte heute einen neuen Plan für Grönland vor.", "de", False),
        ("Jeg tror ikke det går", "da", True),  # lingua says nb 0.44, da 0.40
        ("Grønland", None, False),  # under 20 characters
        ("@anne.bsky.social #dkpol https://example.dk/lang/sti/her 🎉", None, False),
    ],
)
def test_the_detector_judges_text_in_the_expected_languages(sample, language, ambiguous):
    found = detect(sample)
    if language is None:
        assert found is None
    else:
        assert found.language == language and found.ambiguous_scandinavian is ambiguous
