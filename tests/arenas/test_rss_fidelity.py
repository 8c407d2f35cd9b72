"""RSS/Atom entries stored as the feed published them (issue 13.3-13.8), over the replay server.

Fixtures: ``rss_fidelity_en.xml`` (en-gb feed: colon offset, CEST, EDT, a plain title with
angle brackets, an HTML description with an encoded ``<``, a relative link and enclosure, an
e-mail author, an entry without guid and link, a ``javascript:`` link),
``rss_fidelity_atom.xml`` (xml:base, xml:lang per entry, text/html/xhtml types, fractional
seconds, a date without a time) and ``rss_fidelity_undeclared.xml`` (no language declared).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from observatory_pipelines.arenas.base import CollectionRequest, SearchTerm
from observatory_pipelines.arenas.registry import build_collector
from tests.arenas.conftest import file_reply

WINDOW = dict(date_from=datetime(2025, 6, 1, tzinfo=UTC), date_to=datetime(2025, 7, 1, tzinfo=UTC))
TERMS = [SearchTerm("greenland"), SearchTerm("grönland"), SearchTerm("grønland")]


def _records(replay, *names):
    for name in names:
        replay.add(f"/{name}", file_reply(name))
    feeds = {name.split(".")[0]: f"{replay.url}/{name}" for name in names}
    request = CollectionRequest(
        **WINDOW, terms=TERMS, options={"default_feeds": False, "feeds": feeds}
    )
    pages = list(build_collector("rss_feeds").collect(request))
    assert not [e for p in pages for e in p.errors]
    return pages, {r.title: r for p in pages for r in p.records}


def test_dates_in_named_zones_and_colon_offsets_land_at_the_right_instant(replay):
    _, by_title = _records(replay, "rss_fidelity_en.xml", "rss_fidelity_atom.xml")
    # "+02:00" and "CEST" were stored as 09:41 UTC
    assert by_title["Example of the <blink> tag in Greenland"].published_at == datetime(
        2025, 6, 10, 7, 41, 1, tzinfo=UTC
    )
    assert by_title["Greenland at summer time"].published_at == datetime(
        2025, 6, 10, 7, 41, 1, tzinfo=UTC
    )
    assert by_title["Greenland without guid or link"].published_at == datetime(
        2025, 6, 10, 14, 0, tzinfo=UTC
    )  # EDT = UTC-4
    atom = by_title["Grönland: 3 < 4 och &lt; är ingen tagg"]
    assert atom.published_at == datetime(2025, 6, 10, 7, 41, 1, 250000, tzinfo=UTC)
    assert by_title["Grønland på dansk"].published_at == datetime(2025, 6, 10, tzinfo=UTC)


def test_markup_is_stripped_only_where_the_type_says_html_and_decoded_once(replay):
    _, by_title = _records(replay, "rss_fidelity_en.xml", "rss_fidelity_atom.xml")
    plain = by_title["Example of the <blink> tag in Greenland"]  # was "Example of the tag …"
    assert plain.hash_source == plain.title
    assert plain.text_content == "Code: if x<y and y>z then Greenland wins"  # was "if x z …"
    atom = by_title["Grönland: 3 < 4 och &lt; är ingen tagg"]  # type="text": not decoded again
    assert atom.text_content == "Grönland och &lt;b&gt; i HTML"  # type="html": decoded once
    xhtml = by_title["Grønland på dansk"]  # type="xhtml" title: markup stripped
    assert xhtml.text_content == "Indhold med fed skrift"  # <content type="xhtml"> too


def test_relative_links_are_resolved_and_non_web_links_kept_aside(replay):
    _, by_title = _records(replay, "rss_fidelity_en.xml", "rss_fidelity_atom.xml")
    relative = by_title["Example of the <blink> tag in Greenland"]
    assert relative.url == "https://news.example.co.uk/relative/acc-1"  # the channel's link
    assert relative.media_urls == ["https://news.example.co.uk/img/acc-1.jpg"]
    assert by_title["Grönland: 3 < 4 och &lt; är ingen tagg"].url == (
        "https://nyheter.example.se/inrikes/artikel/1"  # xml:base
    )
    assert by_title["Grønland på dansk"].url == "https://nyheter.example.se/da/artikel/2"
    script = by_title["Greenland with a script link"]
    assert script.url is None and script.raw_metadata["url_invalid"] == "javascript:alert(1)"


def test_authors_are_shown_by_name_and_no_email_address_is_kept(replay):
    pages, by_title = _records(replay, "rss_fidelity_en.xml", "rss_fidelity_atom.xml")
    jens = by_title["Example of the <blink> tag in Greenland"]
    assert jens.author_display_name == "Jens Hansen" and jens.author_identity == "Jens Hansen"
    only_address = by_title["Greenland at summer time"]
    assert only_address.author_display_name is None
    assert only_address.author_identity == "redaktion@example.dk"  # pseudonymized, not stored
    atom = by_title["Grönland: 3 < 4 och &lt; är ingen tagg"]
    assert atom.author_display_name == "Anna Svensson"
    for record in (r for p in pages for r in p.records):
        stored = [record.author_display_name, record.title, json.dumps(record.raw_metadata)]
        assert not any("@" in (s or "") for s in stored)


def test_an_entry_without_guid_or_link_gets_the_same_derived_id_on_every_run(replay):
    _, first = _records(replay, "rss_fidelity_en.xml")
    _, second = _records(replay, "rss_fidelity_en.xml")
    derived = first["Greenland without guid or link"]
    assert derived.platform_id.startswith("entry:") and derived.url is None
    assert derived.raw_metadata["platform_id_source"] == "entry_hash"
    assert second["Greenland without guid or link"].platform_id == derived.platform_id


def test_the_declared_language_is_stored_and_none_means_none(replay):
    _, by_title = _records(
        replay, "rss_fidelity_en.xml", "rss_fidelity_atom.xml", "rss_fidelity_undeclared.xml"
    )
    english = by_title["Greenland at summer time"]
    assert english.language == "en"  # was "da"
    assert english.raw_metadata["language_declared"] == "en-gb"
    assert english.raw_metadata["language_source"] == "declared"
    assert by_title["Grönland: 3 < 4 och &lt; är ingen tagg"].language == "sv"  # feed xml:lang
    assert by_title["Grønland på dansk"].language == "da"  # the entry's own xml:lang
    # No declaration: the collector says nothing; collection asks the detector.
    undeclared = by_title["Greenland today"]
    assert undeclared.language is None and "language_source" not in undeclared.raw_metadata
