"""Feeds through whole collection runs: conditional requests across runs and every skipped
feed named with its reason on the task, in the asset metadata and once in the log (issue
13.9, 13.10). Real Postgres, a local replay server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from observatory_pipelines.collection.assets import _metadata
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import ReplayServer, Reply, Seen
from tests.arenas.timed_replay import FEED_TIMEOUT_SECONDS, SLOW_FEED_SECONDS, TimedReplayServer
from tests.collection.conftest import rows

from .conftest import make_design, make_user

FROM = datetime(2026, 3, 1, tzinfo=UTC)
TO = datetime(2026, 3, 8, tzinfo=UTC)


def rss(n: int) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lokal {n}</title>
<item><guid>feed{n}-1</guid><title>Grønland i Folketinget {n}</title>
<link>https://www.example.dk/{n}/a</link><description>Debat om Grønland</description>
<pubDate>Tue, 03 Mar 2026 10:00:00 +0000</pubDate></item>
</channel></rss>""".encode()


class ConditionalServer(ReplayServer):
    """Feeds that send validators and answer 304 when a request presents them."""

    def __init__(self, validators: dict[str, dict[str, str]]):
        self.validators = validators  # path -> response headers (ETag / Last-Modified)
        super().__init__()

    def _reply(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
        offered = self.validators[seen.path]
        etag, since = seen.headers.get("If-None-Match"), seen.headers.get("If-Modified-Since")
        if (etag and etag == offered.get("ETag")) or (
            since and since == offered.get("Last-Modified")
        ):
            return Reply(304, b"", dict(offered))
        n = seen.path.removeprefix("/feed")
        return Reply(200, rss(int(n)), {"Content-Type": "application/rss+xml", **offered})


@pytest.fixture(autouse=True)
def _quick_feeds(monkeypatch):
    monkeypatch.setenv("ARENA_RATE_LIMIT_SCALE", "0")
    monkeypatch.setenv("ARENA_HTTP_MAX_RETRIES", "0")
    monkeypatch.setenv("RSS_FEED_TIMEOUT_SECONDS", str(FEED_TIMEOUT_SECONDS))


def test_a_rerun_asks_every_feed_changed_since_and_counts_the_304s(db):
    server = ConditionalServer(
        {
            "/feed1": {"ETag": '"a1"'},
            "/feed2": {"Last-Modified": "Tue, 03 Mar 2026 12:00:00 GMT"},
            "/feed3": {"ETag": 'W/"c3"', "Last-Modified": "Tue, 03 Mar 2026 13:00:00 GMT"},
        }
    )
    try:
        feeds = [f"{server.url}/feed{n}" for n in (1, 2, 3)]
        user = make_user(db)
        config = {"arenas": {"rss_feeds": {"feeds": feeds, "default_feeds": False}}}
        design = make_design(db, user, config, terms=[("grønland", "keyword")])

        first = start_run(db, design, FROM, TO)
        assert first.records_collected == 3
        second = start_run(db, design, FROM, TO)
    finally:
        server.close()

    rerun = server.seen[3:]
    assert len(rerun) == 3
    sent = {s.path: s.headers for s in rerun}
    assert sent["/feed1"]["If-None-Match"] == '"a1"'
    assert sent["/feed2"]["If-Modified-Since"] == "Tue, 03 Mar 2026 12:00:00 GMT"
    assert sent["/feed3"]["If-None-Match"] == 'W/"c3"'
    assert sent["/feed3"]["If-Modified-Since"] == "Tue, 03 Mar 2026 13:00:00 GMT"
    assert second.records_collected == 0
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 3
    [arena] = second.arenas
    assert arena.status == "completed" and arena.sources.not_modified == 3
    task = rows(
        db,
        "SELECT sources_not_modified, skipped_sources FROM collection_tasks"
        " WHERE collection_run_id = :r",
        r=second.run_id,
    )[0]
    assert (task["sources_not_modified"], task["skipped_sources"]) == (3, [])
    assert _metadata(second)["sources_not_modified"].value == 3
    cached = rows(db, "SELECT url, etag, last_modified FROM http_cache ORDER BY url")
    assert [(r["etag"], r["last_modified"]) for r in cached] == [
        ('"a1"', None),
        (None, "Tue, 03 Mar 2026 12:00:00 GMT"),
        ('W/"c3"', "Tue, 03 Mar 2026 13:00:00 GMT"),
    ]


def test_every_skipped_feed_is_on_the_task_in_the_metadata_and_logged_once(db, log_lines):
    replay = TimedReplayServer()
    try:
        replay.add("/good", Reply(200, rss(1), {"Content-Type": "application/rss+xml"}))
        replay.add("/down", Reply(500, b"oops"))
        replay.add("/loop", Reply(302, b"", {"Location": "/loop"}))
        replay.add("/html", Reply(200, b"<!DOCTYPE html><html><body>Forside</body></html>",
                                  {"Content-Type": "text/html"}))  # fmt: skip
        replay.add("/garbage", Reply(200, b"\x00\x01{not a feed", {"Content-Type": "text/xml"}))
        replay.add_slow(
            "/slow", SLOW_FEED_SECONDS, Reply(200, rss(2), {"Content-Type": "application/rss+xml"})
        )
        names = ("good", "down", "loop", "html", "garbage", "slow")
        feeds = {name: f"{replay.url}/{name}" for name in names}
        user = make_user(db)
        config = {"arenas": {"rss_feeds": {"feeds": feeds, "default_feeds": False}}}
        design = make_design(db, user, config, terms=[("grønland", "keyword")])
        report = start_run(db, design, FROM, TO)
    finally:
        replay.close()

    expected = {
        "down": "http_error",
        "loop": "redirect_loop",
        "html": "not_a_feed",
        "garbage": "unparseable",
        "slow": "timeout",
    }
    [arena] = report.arenas
    assert arena.status == "completed" and report.records_collected == 1
    [task] = rows(db, "SELECT skipped_sources FROM collection_tasks")
    stored = {s["source"]: s for s in task["skipped_sources"]}
    assert {k: s["reason"] for k, s in stored.items()} == expected
    assert stored["down"]["url"] == f"{replay.host}/down"
    assert "HTTP 500" in stored["down"]["detail"]

    meta = _metadata(report)
    assert meta["skipped_sources"].value == 5
    assert meta["skipped_by_reason"].value == {r: 1 for r in sorted(expected.values())}
    shown = {s["source"]: s["reason"] for s in meta["first_skipped_sources"].value}
    assert shown == expected
    assert meta["arenas"].value["rss_feeds"]["sources"]["skipped"] == 5

    events = [json.loads(line) for line in log_lines if "collection.source_skipped" in line]
    assert sorted(e["source"] for e in events) == sorted(expected)
    assert {e["source"]: e["reason"] for e in events} == expected
