"""The demo's feed replay: serves recorded feeds like a feed server, and starts/stops cleanly."""

from __future__ import annotations

import http.client
import socket
from datetime import date

import httpx
import pytest

from observatory_pipelines.demo import replay
from observatory_pipelines.demo.corpus import Corpus, CorpusConfig
from observatory_pipelines.demo.files import write_feeds


@pytest.fixture()
def feeds(tmp_path):
    write_feeds(Corpus(CorpusConfig(end=date(2026, 3, 31), days=20)), tmp_path / "feeds")
    return tmp_path / "feeds"


def test_serves_feeds_with_validators_and_refuses_other_paths(feeds):
    server = replay.ReplayServer(feeds).start()
    try:
        url = replay.feed_url(server.base_url, "arktisk_nyt")
        first = httpx.get(url)
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("application/rss+xml")
        assert first.content == (feeds / "arktisk_nyt.xml").read_bytes()
        again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")
        (feeds.parent / "secret.xml").write_text("<rss/>")  # beside the folder, not in it
        for path in ("/feeds/../secret.xml", "/feeds/missing.xml", "/arktisk_nyt.xml"):
            # http.client sends the path as written (httpx would remove the dot segments)
            connection = http.client.HTTPConnection(server.host, server.port)
            connection.request("GET", path)
            assert connection.getresponse().status == 404, path
            connection.close()
        assert server.requests[:2] == ["/feeds/arktisk_nyt.xml"] * 2
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_start_reuses_a_running_replay_and_stop_ends_it(tmp_path, monkeypatch, feeds):
    monkeypatch.setenv("DEMO_DIR", str(tmp_path))  # feeds are in tmp_path/feeds
    monkeypatch.setenv("DEMO_REPLAY_PORT", str(_free_port()))
    url = replay.start()
    try:
        pid = int((tmp_path / "replay.pid").read_text())
        assert httpx.get(f"{url}/feeds/nordposten_politik.xml").status_code == 200
        assert replay.start() == url  # already answering: reused, not a second process
        assert int((tmp_path / "replay.pid").read_text()) == pid
    finally:
        assert replay.stop() is True
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")
    assert not (tmp_path / "replay.pid").exists()
    assert replay.stop() is False
