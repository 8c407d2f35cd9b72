"""Wikipedia against recorded MediaWiki Action API and Wikimedia REST answers on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import ArenaError, ArenaOptionError, CollectionRequest
from observatory_pipelines.arenas.base import SearchTerm as Term
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import Reply, file_reply, json_reply

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
API = "/da/w/api.php"
VIEWS = "/metrics/pageviews/per-article/da.wikipedia/all-access/user/{}/daily/20261101/20261125"
CONTACT = "observatory-ops@example.org"


def wiki(name: str, status: int = 200, **headers: str) -> Reply:
    return file_reply(f"wikipedia/{name}", status, **headers)


@pytest.fixture
def wikimedia(replay, monkeypatch):
    """The replay server as every edition's Action API and as the REST API."""
    monkeypatch.setenv("WIKIPEDIA_API_URL", f"{replay.url}/{{lang}}/w/api.php")
    monkeypatch.setenv("WIKIPEDIA_PAGEVIEWS_URL", replay.url)
    monkeypatch.setenv("OPERATOR_CONTACT", CONTACT)
    return replay


def serve_groenland(replay) -> None:
    replay.add(API, wiki("search_groenland.json"), list="search", srsearch="grønland")
    replay.add(API, wiki("bots_da.json"), list="allusers")
    replay.add(
        API,
        wiki("revisions_groenland_2.json"),
        titles="Grønland",
        rvcontinue="20261112080000|1200002",
    )
    replay.add(API, wiki("revisions_groenland_1.json"), titles="Grønland")
    replay.add(API, wiki("revisions_groenland_talk.json"), titles="Talk:Grønland")
    replay.add(API, wiki("revisions_selvstyre.json"), titles="Grønlands selvstyre")
    replay.add(API, wiki("revisions_talk_missing.json"), titles="Talk:Grønlands selvstyre")
    replay.add(API, wiki("revisions_missing.json"), titles="Findes ikke (artikel)")
    replay.add(VIEWS.format("Grønland"), wiki("pageviews_groenland.json"))
    replay.add(
        VIEWS.format("Grønlands_selvstyre"),
        wiki("pageviews_not_found.json", 404),
    )


def _collect(options=None, terms=("grønland",)):
    collector = build_collector("wikipedia", options=options or {})
    request = CollectionRequest(**WINDOW, terms=[Term(t) for t in terms], options=options or {})
    return collector, list(collector.collect(request))


def test_revisions_talk_pages_and_pageviews_of_found_and_seeded_articles(wikimedia):
    serve_groenland(wikimedia)
    collector, pages = _collect({"seed_articles": ["Findes ikke (artikel)"]})
    records = [r for p in pages for r in p.records]
    by_id = {r.platform_id: r for r in records}
    assert sorted(by_id) == sorted(
        [
            "da.wikipedia:rev:1200009",
            "da.wikipedia:rev:1200005",
            "da.wikipedia:rev:1200003",  # its parent's size came on the second page
            "da.wikipedia:rev:1199000",  # the talk page
            "da.wikipedia:pv:Grønland:2026-11-01",
            "da.wikipedia:pv:Grønland:2026-11-02",
        ]
    )
    edit = by_id["da.wikipedia:rev:1200009"]
    assert edit.content_type == "wiki_revision" and edit.arena == "reference"
    assert edit.url == "https://da.wikipedia.org/w/index.php?oldid=1200009"
    assert edit.title == "Grønland" and edit.language == "da"
    assert edit.text_content == "Opdateret afsnit om selvstyre og Ærø 🇩🇰"
    assert edit.published_at == datetime(2026, 11, 20, 21, 4, 11, tzinfo=UTC)
    assert edit.author_platform_id == edit.author_display_name == "Eksempelbruger"
    assert edit.raw_metadata["delta"] == 48213 - 48100
    assert edit.raw_metadata["found_by"] == "search:grønland"
    assert edit.hash_source == edit.platform_id
    ip_edit = by_id["da.wikipedia:rev:1200005"]
    # an IP address is personal data: pseudonymized, never stored as id or name
    assert ip_edit.author_platform_id is None and ip_edit.author_display_name is None
    assert ip_edit.author_identity == "2001:db8::1f"
    assert ip_edit.raw_metadata["anonymous"] is True and ip_edit.raw_metadata["minor"] is True
    assert ip_edit.text_content == "æøå – rettede stavefejl 🎉"
    assert ip_edit.raw_metadata["delta"] == 48100 - 48050
    oldest = by_id["da.wikipedia:rev:1200003"]
    assert oldest.text_content is None and oldest.raw_metadata["delta"] == 48050 - 47950
    talk = by_id["da.wikipedia:rev:1199000"]
    assert talk.title == "Diskussion:Grønland"
    assert talk.raw_metadata["is_talk_page"] is True and talk.raw_metadata["delta"] == 1200
    views = by_id["da.wikipedia:pv:Grønland:2026-11-02"]
    assert views.content_type == "wiki_pageview" and views.views_count == 905
    assert views.published_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert views.url == "https://da.wikipedia.org/wiki/Gr%C3%B8nland"
    # the bot's edit is left out; the revision without a timestamp and the pageview
    # without a day are rejected, each counted
    assert "da.wikipedia:rev:1200010" not in by_id
    reasons = [r for p in pages for r in p.rejection_reasons]
    assert sum(p.rejected for p in pages) == 2
    assert any("revision 1200004 without a usable timestamp" in r for r in reasons)
    assert any("without a usable day" in r for r in reasons)
    # the unknown seed is skipped by name; the rest went on
    errors = [e for p in pages for e in p.errors]
    assert errors == ["wikipedia da:Findes ikke (artikel): no such article on da.wikipedia"]
    [skipped] = [s for p in pages for s in p.skipped]
    assert skipped.source == "wikipedia da:Findes ikke (artikel)"

    sent = wikimedia.requests(API)
    revision_calls = [s for s in sent if s.query.get("prop") == "revisions"]
    # one title per request, each with maxlag and the JSON v2 format
    assert all("|" not in s.query["titles"] for s in revision_calls)
    assert [s.query["titles"] for s in revision_calls] == [
        "Findes ikke (artikel)",
        "Grønland",
        "Grønland",
        "Talk:Grønland",
        "Grønlands selvstyre",
        "Talk:Grønlands selvstyre",
    ]
    first = revision_calls[1].query
    assert first["rvlimit"] == "500" and first["rvdir"] == "older"
    assert first["rvstart"] == "2026-11-26T00:00:00Z" and "rvend" not in first
    assert first["rvprop"] == "ids|timestamp|user|userid|comment|size|tags|flags"
    assert revision_calls[2].query["rvcontinue"] == "20261112080000|1200002"
    assert all(s.query["maxlag"] == "5" and s.query["formatversion"] == "2" for s in sent)
    assert len([s for s in sent if s.query.get("list") == "allusers"]) == 1  # once per edition
    search = next(s for s in sent if s.query.get("list") == "search").query
    assert (search["srnamespace"], search["srlimit"]) == ("0", "10")
    agent = sent[0].headers["User-Agent"]
    assert agent.startswith("ObservatoryPipelines/") and CONTACT in agent
    assert len(wikimedia.requests(VIEWS.format("Grønland"))) == 1
    assert collector.units_spent == len(wikimedia.seen) == 10


def test_maxlag_429_and_5xx_are_waited_out(wikimedia):
    wikimedia.add(API, wiki("bots_da.json"), list="allusers")
    wikimedia.add(
        API,
        wiki("maxlag.json", **{"Retry-After": "0", "X-Database-Lag": "7"}),
        Reply(429, b"Too many requests", {"Retry-After": "0"}),
        Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"}),
        wiki("revisions_groenland_talk.json"),
        titles="Talk:Grønland",
    )
    options = {"seed_articles": ["Talk:Grønland"], "talk_pages": False, "pageviews": False}
    collector, pages = _collect(options, terms=())
    assert [r.platform_id for p in pages for r in p.records] == ["da.wikipedia:rev:1199000"]
    assert collector.rate_limit_state["maxlag_waits"] == 1
    assert collector.rate_limit_state["last_lag_s"] == 7
    assert collector.rate_limit_state["retries"] == 2  # the 429 and the 503
    assert len(wikimedia.requests(API)) == 1 + 4


def test_persistent_rate_limit_stops_with_what_it_has_and_says_so(wikimedia):
    wikimedia.add(API, wiki("bots_da.json"), list="allusers")
    wikimedia.add(API, wiki("revisions_groenland_talk.json"), titles="Talk:Grønland")
    wikimedia.add(API, Reply(429, b"slow down", {"Retry-After": "0"}), titles="Grønland")
    options = {
        "seed_articles": ["Talk:Grønland", "Grønland", "Danmark"],
        "talk_pages": False,
        "pageviews": False,
    }
    collector, pages = _collect(options, terms=())
    assert [r.platform_id for p in pages for r in p.records] == ["da.wikipedia:rev:1199000"]
    stopped = collector.rate_limit_state["stopped"]
    assert "wikipedia da:Grønland revisions" in stopped and "HTTP 429" in stopped
    skipped = [(s.source, s.reason) for s in pages[-1].skipped]
    assert skipped == [
        ("wikipedia da:Grønland revisions", "rate_limited"),
        ("wikipedia da:Danmark", "stopped"),
    ]
    assert not [s for s in wikimedia.requests(API) if s.query.get("titles") == "Danmark"]


def test_html_error_page_names_url_and_status_and_oversize_is_refused(wikimedia, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    wikimedia.add(API, wiki("bots_da.json"), list="allusers")
    wikimedia.add(API, wiki("error_page.html", 404, content_type="text/html"), titles="Fejlside")
    big = json.dumps({"query": {"pages": [{"title": "Stor", "x": "æ" * 700_000}]}}).encode()
    wikimedia.add(API, Reply(200, big, {"Content-Type": "application/json"}), titles="Stor")
    wikimedia.add(API, wiki("revisions_groenland_talk.json"), titles="Talk:Grønland")
    options = {
        "seed_articles": ["Fejlside", "Stor", "Talk:Grønland"],
        "talk_pages": False,
        "pageviews": False,
    }
    _, pages = _collect(options, terms=())
    errors = [e for p in pages for e in p.errors]
    host = wikimedia.url.removeprefix("http://")
    assert errors[0] == (
        f"wikipedia da:Fejlside revisions: HTTP 404 from {host}{API} is not JSON (text/html)"
    )
    assert "response larger than 1 MB refused" in errors[1]
    reasons = [s.reason for p in pages for s in p.skipped]
    assert reasons == ["unparseable", "too_large"]
    assert [r.platform_id for p in pages for r in p.records] == ["da.wikipedia:rev:1199000"]


def test_every_source_failing_fails_the_task(wikimedia):
    wikimedia.add(API, Reply(200, b'{"query": {"search": [', {"Content-Type": "application/json"}))
    with pytest.raises(ArenaError, match="every source failed"):
        _collect({"revisions": False})


def test_editions_come_from_the_fixed_list_and_hosts_never_from_a_design(wikimedia):
    with pytest.raises(ArenaOptionError, match="'evil.example.com' is not one"):
        build_collector("wikipedia", options={"languages": ["da", "evil.example.com"]})
    with pytest.raises(ArenaOptionError, match="WIKIPEDIA_API_URL"):
        build_collector("wikipedia", options={"api_url": "http://127.0.0.2/w/api.php"})
    with pytest.raises(ArenaOptionError, match="between 1 and 50"):
        build_collector("wikipedia", options={"articles_per_term": 500})
    build_collector("wikipedia", options={"languages": ["da", "en", "kl"]})
    assert wikimedia.seen == []


def test_other_editions_are_asked_only_when_chosen(wikimedia):
    wikimedia.add("/en/w/api.php", json_reply({"query": {"search": []}}), list="search")
    wikimedia.add(API, json_reply({"query": {"search": []}}), list="search")
    _collect({"revisions": False, "pageviews": False})
    assert {s.path for s in wikimedia.seen} == {API}
    wikimedia.seen.clear()
    _collect({"languages": ["en"], "revisions": False, "pageviews": False})
    assert {s.path for s in wikimedia.seen} == {"/en/w/api.php"}


def test_without_an_operator_contact_nothing_is_sent(wikimedia, monkeypatch):
    monkeypatch.delenv("OPERATOR_CONTACT")
    with pytest.raises(ArenaError, match="OPERATOR_CONTACT is not set"):
        _collect()
    assert not build_collector("wikipedia").health_check().ok
    assert wikimedia.seen == []


def test_health_check_reads_siteinfo(wikimedia):
    wikimedia.add(API, wiki("siteinfo.json"), meta="siteinfo")
    status = build_collector("wikipedia").health_check()
    assert status.ok and "Wikipedia" in status.detail


def test_collection_run_stores_records_and_a_rerun_inserts_nothing(db, wikimedia, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "k" * 32)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    serve_groenland(wikimedia)
    config = {"arenas": {"wikipedia": {"seed_articles": ["Findes ikke (artikel)"]}}}
    with db.begin() as conn:
        user = conn.execute(
            text("INSERT INTO users (email, is_active) VALUES ('w@example.org', true) RETURNING id")
        ).scalar_one()
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config)"
                " VALUES (:o, 'wiki', CAST(:c AS jsonb)) RETURNING id"
            ),
            {"o": user, "c": json.dumps(config)},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO search_terms (query_design_id, term) VALUES (:d, 'grønland')"),
            {"d": design},
        )

    report = start_run(db, design, WINDOW["date_from"], WINDOW["date_to"])
    (arena,) = report.arenas
    assert arena.status == "completed" and arena.records_collected == 6
    assert arena.credits_spent == 0
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT platform_id, content_type, author_platform_id, pseudonymized_author_id,"
                " views_count, language, raw_metadata FROM content_records ORDER BY platform_id"
            )
        ).all()
        task = conn.execute(
            text("SELECT skipped_sources, rate_limit_state FROM collection_tasks")
        ).one()
    assert [r.platform_id for r in rows][:2] == [
        "da.wikipedia:pv:Grønland:2026-11-01",
        "da.wikipedia:pv:Grønland:2026-11-02",
    ]
    by_id = {r.platform_id: r for r in rows}
    ip_edit = by_id["da.wikipedia:rev:1200005"]
    assert ip_edit.author_platform_id is None and ip_edit.pseudonymized_author_id
    assert "2001:db8" not in json.dumps(ip_edit.raw_metadata)
    assert by_id["da.wikipedia:pv:Grønland:2026-11-02"].views_count == 905
    assert {r.language for r in rows} == {"da"}
    assert [s["source"] for s in task.skipped_sources] == ["wikipedia da:Findes ikke (artikel)"]
    assert task.rate_limit_state["requests"] == 10
    first_requests = len(wikimedia.seen)

    again = start_run(db, design, WINDOW["date_from"], WINDOW["date_to"])
    (arena,) = again.arenas
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 6)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_records")).scalar_one() == 6
    assert len(wikimedia.seen) == 2 * first_requests


def test_a_design_file_naming_a_host_as_edition_is_refused_at_its_line(tmp_path):
    from observatory_pipelines.designs.files import DesignFileInvalid, read_file
    from observatory_pipelines.designs.schema import validate

    path = tmp_path / "wiki.yaml"
    path.write_text(
        "name: Wiki\nowner: researcher@example.dk\nmode: batch\n"
        "window:\n  from: 2026-03-01\n  to: 2026-03-07\nterms:\n  - grønland\n"
        "arenas:\n  wikipedia:\n    languages: [da, attacker.example]\n",
        encoding="utf-8",
    )
    with pytest.raises(DesignFileInvalid) as refused:
        validate(read_file(path))
    [error] = [str(e) for e in refused.value.errors]
    assert "arenas.wikipedia.languages" in error and "'attacker.example' is not one" in error


def test_a_403_blocked_agent_stops_the_arena(wikimedia):
    wikimedia.add(API, wiki("bots_da.json"), list="allusers")
    wikimedia.add(API, json_reply({"error": "blocked"}, 403), titles="Grønland")
    options = {"seed_articles": ["Grønland", "Danmark"], "pageviews": False}
    with pytest.raises(ArenaError, match="every source failed"):
        _collect(options, terms=())
    assert [s.query.get("titles") for s in wikimedia.requests(API)] == [None, "Grønland"]
