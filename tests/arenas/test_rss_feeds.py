from __future__ import annotations

from datetime import UTC, datetime

from observatory_pipelines.arenas.base import ActorRef, CollectionRequest, SearchTerm
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.arenas.rss_feeds import select_feeds
from tests.arenas.conftest import Reply, file_reply

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)


def _request(feeds, terms=("grønland",), **kw) -> CollectionRequest:
    return CollectionRequest(
        **WINDOW,
        terms=[SearchTerm(t) for t in terms],
        options={"default_feeds": False, "feeds": feeds},
        **kw,
    )


def _collect(request, state=None):
    collector = build_collector("rss_feeds", rate_limit_state=state)
    return collector, list(collector.collect(request))


def test_default_catalog_covers_the_danish_outlets_and_custom_feeds_are_added():
    feeds = select_feeds(CollectionRequest(**WINDOW, options={"feeds": ["http://x/feed"]}))
    for prefix in ("dr_", "tv2_", "bt_", "politiken_", "berlingske_", "ekstrabladet_"):
        assert any(k.startswith(prefix) for k in feeds), prefix
    assert {"information_all", "jp_seneste", "borsen_all", "altinget_all"} <= set(feeds)
    assert feeds["custom_1"] == "http://x/feed"
    only_dr = select_feeds(CollectionRequest(**WINDOW, options={"outlets": ["dr"]}))
    assert only_dr and all(k.startswith("dr_") for k in only_dr)


def test_rss_normalizes_filters_and_repairs_bad_items(replay):
    replay.add("/dr/indland", file_reply("rss_dr_indland.xml"))
    _, pages = _collect(_request([f"{replay.url}/dr/indland"]))
    assert len(pages) == 1
    page = pages[0]
    by_id = {r.platform_id: r for r in page.records}
    # the klima item does not mention the term; the February item is outside the window
    assert "urn:dr:drupal:article:d4e5f6" not in by_id
    assert "urn:dr:drupal:article:old001" not in by_id
    first = by_id["urn:dr:drupal:article:a1b2c3"]
    assert first.platform == "rss_feeds" and first.arena == "news_media"
    assert first.content_type == "article" and first.language == "da"
    assert first.text_content == "Statsministeren præsenterer i dag en ny plan for Grønland."
    assert first.published_at == datetime(2026, 11, 17, 7, 15, tzinfo=UTC)
    assert first.published_at.tzinfo is not None
    assert first.hash_source == first.title == "Regeringen vil styrke Grønlandspolitikken"
    assert first.media_urls == ["https://asset.dr.dk/images/groenland.jpg"]
    assert first.raw_metadata["feed_key"] == "custom_1"
    assert first.raw_metadata["tags"] == ["Politik", "Grønland"]
    assert first.author_display_name == "Mette Jensen"
    # absurd dates become "no date" with a note, and still pass the window
    for absurd in ("urn:dr:drupal:article:epoch1", "urn:dr:drupal:article:future1"):
        assert by_id[absurd].published_at is None
        assert "published_at_invalid" in by_id[absurd].raw_metadata
    # an item without guid gets its link as id; one without both gets an id hashed from
    # the feed, title, date and text (issue 13.5: such entries were rejected)
    link_id = "https://www.dr.dk/nyheder/indland/uden-guid-groenland"
    assert by_id[link_id].url == link_id
    [derived] = [r for r in page.records if r.title == "Grønland uden link og guid"]
    assert derived.platform_id.startswith("entry:") and derived.url is None
    assert derived.raw_metadata["platform_id_source"] == "entry_hash"
    assert page.rejected == 0
    assert len(page.records) == 5


def test_atom_feed_with_only_updated_dates_and_term_groups(replay):
    replay.add("/altinget/klima", file_reply("rss_atom_updated.xml"))
    terms = [SearchTerm("grønlands", group=1), SearchTerm("naalakkersuisut", group=1)]
    request = CollectionRequest(
        **WINDOW,
        terms=terms,
        options={"default_feeds": False, "feeds": [f"{replay.url}/altinget/klima"]},
    )
    _, pages = _collect(request)
    [record] = pages[0].records
    assert record.published_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert record.text_content == "Analyse af Naalakkersuisut s udspil."
    assert record.author_display_name == "Altinget redaktion"


def test_broken_feeds_are_skipped_and_reported_not_fatal(replay):
    replay.add("/good", file_reply("rss_dr_indland.xml"))
    replay.add("/garbage", file_reply("rss_garbage.xml"))
    replay.add("/htmlerror", file_reply("rss_html_error.xml", content_type="text/html"))
    replay.add("/down", Reply(500, b"oops"))
    replay.add("/gone", Reply(404, b"not here"))
    feeds = {
        "garbage": f"{replay.url}/garbage",
        "htmlerror": f"{replay.url}/htmlerror",
        "down": f"{replay.url}/down",
        "gone": f"{replay.url}/gone",
        "good": f"{replay.url}/good",
    }
    _, pages = _collect(_request(feeds))
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 4
    assert any(e.startswith("feed down:") and "HTTP 500" in e for e in errors)
    assert any(e.startswith("feed gone:") and "HTTP 404" in e for e in errors)
    assert any(e.startswith("feed garbage:") and "unparseable" in e for e in errors)
    assert sum(len(p.records) for p in pages) == 5
    # persistent 500 was retried (1 + ARENA_HTTP_MAX_RETRIES attempts), then given up
    assert len(replay.requests("/down")) == 4


def test_latin1_feed_declared_utf8_keeps_danish_letters(replay):
    replay.add("/eb", file_reply("rss_latin1_declared_utf8.xml"))
    _, pages = _collect(_request([f"{replay.url}/eb"], terms=("færøerne",)))
    [record] = pages[0].records
    assert record.title == "Grønland og Færøerne i ny aftale"
    assert "økonomien" in record.text_content


def test_etag_cache_sends_conditional_request_and_304_yields_nothing(replay):
    replay.add(
        "/feed",
        file_reply(
            "rss_dr_indland.xml", ETag='"v1"', **{"Last-Modified": "Wed, 18 Nov 2026 12:00:00 GMT"}
        ),
        Reply(304, b""),
    )
    request = _request([f"{replay.url}/feed"])
    _, first = _collect(request)
    assert len(first[0].records) == 5
    validators = first[0].validators  # what collection keeps per feed URL across runs
    assert validators[f"{replay.url}/feed"]["etag"] == '"v1"'
    again = build_collector("rss_feeds")
    again.http_cache = validators  # collection loads them from the http_cache table
    second = list(again.collect(request))
    assert [len(p.records) for p in second] == [0]
    assert [p.not_modified for p in second] == [1]
    sent = replay.requests("/feed")[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Wed, 18 Nov 2026 12:00:00 GMT"


def test_actor_mode_takes_whole_feed_unfiltered_and_cap_applies(replay):
    replay.add("/feed", file_reply("rss_dr_indland.xml"))
    request = CollectionRequest(
        **WINDOW,
        actors=[ActorRef(platform_user_id=None, platform_username="custom_1")],
        options={"default_feeds": False, "feeds": [f"{replay.url}/feed"]},
    )
    _, pages = _collect(request)
    assert len(pages[0].records) == 6  # klima item included, February item still out of window
    request.max_records = 2
    _, capped = _collect(request)
    assert sum(len(p.records) for p in capped) == 2
