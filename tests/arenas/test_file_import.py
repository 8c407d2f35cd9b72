from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import ArenaError, CollectionRequest
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.arenas.text import MAX_TEXT_CHARS, sha256_hex
from tests.arenas.conftest import RESPONSES

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)


@pytest.fixture(autouse=True)
def _import_root(tmp_path, monkeypatch):
    """The operator's import folder is the test's tmp dir: every path below lives there."""
    monkeypatch.setenv("FILE_IMPORT_DIR", str(tmp_path))


def _collect(**options):
    collector = build_collector("file_import")
    return list(collector.collect(CollectionRequest(**WINDOW, options=options)))


def _records(pages):
    return [r for p in pages for r in p.records]


def test_csv_rows_are_repaired_or_rejected_and_counted(tmp_path):
    shutil.copy(RESPONSES / "import_posts.csv", tmp_path / "posts.csv")
    pages = _collect(path=str(tmp_path))
    records = {r.url: r for r in _records(pages)}
    # The row without platform is rejected; the row with text but neither id nor url is kept:
    # its id is derived at ingest from the content (docs/collection.md).
    assert sum(p.rejected for p in pages) == 1
    assert len(records) == 6
    assert records[None].platform_id is None
    assert records[None].text_content == "Hverken id eller url"
    dr = records["https://www.facebook.com/dr.dk/posts/1001"]
    assert dr.platform == "facebook" and dr.arena == "import"
    assert dr.platform_id == sha256_hex("https://www.facebook.com/dr.dk/posts/1001")
    # a file does not say its text is HTML: stored as written (issue 13.6)
    assert dr.text_content == "<p>Grønland &amp; <b>Danmark</b></p>"
    assert dr.title == "DR på Facebook"
    assert dr.published_at == datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    assert (dr.author_display_name, dr.author_platform_id, dr.likes_count) == (
        "DR Nyheder",
        "fb-dr",
        120,
    )
    assert dr.raw_metadata["row"]["author_id"] == "fb-dr"
    assert records["https://www.facebook.com/tv2/posts/2002"].text_content == "Tekst med NUL byte"
    epoch = records["https://www.facebook.com/bt/posts/3003"]
    assert epoch.published_at is None and epoch.raw_metadata["published_at_invalid"]
    multiline = records["https://www.facebook.com/eb/posts/5005"]
    assert multiline.text_content == "Flere linjer\nmed æøå"  # line breaks kept as written
    latin = records["https://www.facebook.com/pol/posts/6006"]
    assert latin.text_content == "Københavns kommune siger nej"


def test_generic_ndjson_aliases_fingerprint_and_bad_lines():
    with (RESPONSES / "import_generic.ndjson").open("rb") as handle:
        pages = _collect(files=[("export.ndjson", handle)])
    records = {r.platform_id: r for r in _records(pages)}
    assert sum(p.rejected for p in pages) == 2  # the cut-off line and the JSON array
    assert set(records) == {"77001", "77002", "7311111111111111111"}
    tg = records["77001"]
    assert tg.platform == "telegram" and tg.text_content == "Grønland i Telegram-kanal"
    assert tg.published_at == datetime(2026, 11, 18, 10, 30, tzinfo=UTC) and tg.likes_count == 15
    assert records["77002"].language == "da"
    tiktok = records["7311111111111111111"]
    assert tiktok.platform == "tiktok" and tiktok.author_display_name == "dansk_tiktoker"
    assert (tiktok.likes_count, tiktok.shares_count, tiktok.views_count) == (1500, 12, 30000)


def test_zeeschuimer_envelope_kept_ads_skipped_and_undated_flagged():
    with (RESPONSES / "zeeschuimer_export.ndjson").open("rb") as handle:
        pages = _collect(files=[("zeeschuimer.ndjson", handle)])
    records = {r.platform_id: r for r in _records(pages)}
    assert set(records) == {"7322222222222222222", "7333333333333333333", "3311111111111111111"}
    tiktok = records["7322222222222222222"]
    assert tiktok.platform == "tiktok" and tiktok.arena == "social_media"
    assert tiktok.url == "https://www.tiktok.com/@dansk_tiktoker/video/7322222222222222222"
    assert tiktok.raw_metadata["zeeschuimer"]["timestamp_collected"] == 1795000000001
    assert "data" not in tiktok.raw_metadata["zeeschuimer"]
    assert tiktok.language == "da" and tiktok.comments_count == 77
    assert records["7333333333333333333"].published_at is None
    insta = records["3311111111111111111"]
    assert insta.platform == "instagram" and insta.text_content == "Instagram-opslag om Grønland"
    assert (insta.author_platform_id, insta.author_display_name) == ("4400", "groenlandsk")


def test_ten_megabyte_fields_are_truncated_and_long_urls_dropped():
    huge = "grønland " * (10 * 1024 * 1024 // 10)
    long_url = "https://example.dk/" + "a" * 3000
    body = (
        "platform,url,text,title,author_display_name\n"
        f'forum,https://example.dk/1,"{huge}",{"T" * 5000},{"N" * 900}\n'
        f"forum,{long_url},kort,,\n"
    ).encode()
    pages = _collect(files=[("big.csv", io.BytesIO(body))])
    first, second = _records(pages)
    assert len(first.text_content) == MAX_TEXT_CHARS
    assert first.raw_metadata["text_truncated_from"] > 10_000_000 // 2
    assert len(first.title) == 2000 and len(first.author_display_name) == 500
    assert second.url is None and second.platform_id == sha256_hex(long_url)
    assert "url_dropped" in second.raw_metadata


def test_batches_paginate_and_missing_path_fails_the_task(tmp_path):
    lines = "\n".join(f'{{"platform": "forum", "id": "{i}", "text": "x"}}' for i in range(25))
    (tmp_path / "many.jsonl").write_text(lines)
    pages = _collect(path=str(tmp_path / "many.jsonl"), batch_size=10)
    assert [len(p.records) for p in pages] == [10, 10, 5]
    with pytest.raises(ArenaError, match="cannot open"):
        _collect(path=str(tmp_path / "absent.csv"))
