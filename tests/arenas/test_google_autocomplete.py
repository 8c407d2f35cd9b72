"""Google Autocomplete against recorded suggest answers on 127.0.0.1 (both JSON array forms)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.arenas.base import ArenaError, ArenaOptionError, CollectionRequest
from observatory_pipelines.arenas.base import SearchTerm as Term
from observatory_pipelines.arenas.google_autocomplete import decode_body
from observatory_pipelines.arenas.registry import build_collector
from observatory_pipelines.collection.runs import start_run
from tests.arenas.conftest import Reply, file_reply

WINDOW = dict(
    date_from=datetime(2026, 11, 1, tzinfo=UTC), date_to=datetime(2026, 11, 26, tzinfo=UTC)
)
SUGGEST = "/complete/search"
JS_LATIN1 = "text/javascript; charset=ISO-8859-1"
JSON_UTF8 = "application/json; charset=UTF-8"


def suggest(name: str, content_type: str = JSON_UTF8, status: int = 200, **headers) -> Reply:
    return file_reply(f"google_autocomplete/{name}", status, content_type=content_type, **headers)


@pytest.fixture
def google(replay, monkeypatch):
    monkeypatch.setenv("GOOGLE_AUTOCOMPLETE_API_URL", replay.url)
    return replay


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _collect(terms, options=None, language="da"):
    collector = build_collector("google_autocomplete", options=options or {})
    request = CollectionRequest(
        **WINDOW, terms=[Term(t, group=g) for t, g in terms], options=options or {}
    )
    request.language = language
    return collector, list(collector.collect(request))


def serve(replay) -> None:
    replay.add(SUGGEST, suggest("firefox_groenland_latin1.json", JS_LATIN1), q="grønland")
    replay.add(SUGGEST, suggest("chrome_klima_utf8.json"), q="klima")
    replay.add(SUGGEST, suggest("chrome_aeroe_latin1_labelled_utf8.json"), q="ærø")
    replay.add(SUGGEST, suggest("chrome_empty.json"), q="qwxzv æøå")


def test_one_snapshot_per_term_with_danish_letters_in_either_charset(google):
    serve(google)
    # an AND group is still asked term by term: suggestions complete one typed query
    terms = [("grønland", 1), ("klima", 1), ("ærø", None), ("qwxzv  æøå", None)]
    collector, pages = _collect(terms)
    assert [len(p.records) for p in pages] == [1, 1, 1, 1]
    groenland, klima, aeroe, empty = (p.records[0] for p in pages)

    assert groenland.platform_id == f"da-dk:grønland:{today()}"
    assert groenland.published_at == datetime.fromisoformat(f"{today()}T00:00:00+00:00")
    assert groenland.content_type == "autocomplete_snapshot" and groenland.arena == "search"
    assert groenland.title == "grønland" and groenland.url is None
    assert groenland.text_content.splitlines() == [
        "grønland",
        "grønland nyheder",
        "grønlands selvstyre",
        "grønland trump",
        "grønland vejr",
    ]
    assert groenland.raw_metadata["charset"] == "iso-8859-1"
    assert groenland.raw_metadata["suggestions"][2] == {
        "rank": 2,
        "suggestion": "grønlands selvstyre",
    }
    assert groenland.language == "da" and groenland.author_display_name == "Google"
    assert groenland.hash_source == groenland.platform_id

    # chrome form: relevance and type per suggestion; the null entry is counted, not kept
    assert klima.raw_metadata["suggestions"][1] == {
        "rank": 1,
        "suggestion": "klimaangst 😟",
        "relevance": 601,
        "type": "QUERY",
    }
    assert [s["suggestion"] for s in klima.raw_metadata["suggestions"]][3:] == ["klimarådet"]
    assert klima.raw_metadata["suggestions"][3]["relevance"] == 565
    assert klima.raw_metadata["verbatim_relevance"] == 1300
    assert pages[1].rejected == 1 and "were not strings" in pages[1].rejection_reasons[0]

    # a body in Latin-1 under a UTF-8 label is read as Latin-1, not as mojibake
    assert aeroe.text_content.splitlines() == ["ærø", "ærøskøbing", "ærø færge"]
    assert aeroe.raw_metadata["charset"] == "latin-1 (fallback)"
    # no suggestions is a snapshot too (Google suggested nothing that day)
    assert empty.text_content is None and empty.raw_metadata["suggestions"] == []
    assert empty.platform_id == f"da-dk:qwxzv æøå:{today()}"

    sent = google.requests(SUGGEST)
    assert [s.query["q"] for s in sent] == ["grønland", "klima", "ærø", "qwxzv æøå"]
    assert sent[0].query == {
        "q": "grønland",
        "client": "chrome",
        "hl": "da",
        "gl": "dk",
        "ie": "utf-8",
        "oe": "utf-8",
    }
    assert collector.units_spent == 4


def test_firefox_client_and_the_designs_language(google):
    google.add(SUGGEST, suggest("firefox_groenland_latin1.json", JS_LATIN1), q="grønland")
    _, pages = _collect([("grønland", None)], {"client": "firefox"}, language="kl")
    [record] = pages[0].records
    assert record.platform_id.startswith("kl-dk:grønland:") and record.language == "kl"
    assert google.requests(SUGGEST)[0].query["client"] == "firefox"
    assert google.requests(SUGGEST)[0].query["hl"] == "kl"


def test_429_then_success_and_5xx_then_success(google):
    google.add(
        SUGGEST,
        suggest("sorry.html", "text/html; charset=UTF-8", 429, **{"Retry-After": "0"}),
        suggest("chrome_klima_utf8.json"),
        q="klima",
    )
    google.add(
        SUGGEST,
        Reply(502, b"<html>502. That's an error.</html>", {"Content-Type": "text/html"}),
        suggest("firefox_groenland_latin1.json", JS_LATIN1),
        q="grønland",
    )
    collector, pages = _collect([("klima", None), ("grønland", None)])
    assert [len(p.records) for p in pages] == [1, 1]
    assert collector.rate_limit_state["retries"] == 2
    assert len(google.requests(SUGGEST)) == 4


def test_blocked_stops_with_the_snapshots_taken_and_says_so(google):
    google.add(SUGGEST, suggest("chrome_klima_utf8.json"), q="klima")
    google.add(
        SUGGEST,
        suggest("sorry.html", "text/html; charset=UTF-8", 429, **{"Retry-After": "0"}),
        q="grønland",
    )
    collector, pages = _collect([("klima", None), ("grønland", None), ("ærø", None)])
    assert [len(p.records) for p in pages] == [1, 0]
    stopped = collector.rate_limit_state["stopped"]
    assert stopped.startswith("google_autocomplete 'grønland': ") and "HTTP 429" in stopped
    assert [(s.source, s.reason) for s in pages[1].skipped] == [
        ("google_autocomplete 'grønland'", "rate_limited"),
        ("google_autocomplete 'ærø'", "stopped"),
    ]
    assert "ærø" not in [s.query["q"] for s in google.requests(SUGGEST)]


def test_html_where_json_was_expected_malformed_json_and_oversize(google, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    google.add(SUGGEST, suggest("sorry.html", "text/html; charset=UTF-8"), q="html")
    google.add(SUGGEST, Reply(200, b'["klima",["klima",', {"Content-Type": JSON_UTF8}), q="halv")
    google.add(SUGGEST, Reply(200, b'{"q": "obj"}', {"Content-Type": JSON_UTF8}), q="obj")
    big = json.dumps(["stor", ["x" * 1_200_000]]).encode()
    google.add(SUGGEST, Reply(200, big, {"Content-Type": JSON_UTF8}), q="stor")
    google.add(
        SUGGEST, Reply(400, b"<html>400 Bad Request</html>", {"Content-Type": "text/html"}), q="bad"
    )
    google.add(SUGGEST, suggest("chrome_klima_utf8.json"), q="klima")
    terms = [
        ("html", None),
        ("halv", None),
        ("obj", None),
        ("stor", None),
        ("bad", None),
        ("klima", None),
    ]
    _, pages = _collect(terms)
    errors = [e for p in pages for e in p.errors]
    where = f"{google.url.removeprefix('http://')}{SUGGEST}"
    assert errors[0] == (
        f"google_autocomplete 'html': HTTP 200 from {where} is not the suggest JSON array "
        "(text/html; charset=UTF-8)"
    )
    assert (
        "is not the suggest JSON array" in errors[1]
        and "is not the suggest JSON array" in errors[2]
    )
    assert "response larger than 1 MB refused" in errors[3]
    assert errors[4] == f"google_autocomplete 'bad': HTTP 400 from {where} (text/html)"
    reasons = [s.reason for p in pages for s in p.skipped]
    assert reasons == ["unparseable", "unparseable", "unparseable", "too_large", "http_error"]
    assert [len(p.records) for p in pages][-1] == 1  # the rest went on


def test_every_term_failing_fails_the_task(google):
    google.add(SUGGEST, Reply(200, b"not json", {"Content-Type": JSON_UTF8}))
    with pytest.raises(ArenaError, match="every source failed"):
        _collect([("klima", None)])


def test_options_and_hosts(google):
    with pytest.raises(ArenaOptionError, match="client must be one of chrome, firefox"):
        build_collector("google_autocomplete", options={"client": "toolbar"})
    with pytest.raises(ArenaOptionError, match="GOOGLE_AUTOCOMPLETE_API_URL"):
        build_collector("google_autocomplete", options={"endpoint": "http://127.0.0.2"})
    assert google.seen == []


def test_decode_body_follows_the_header_and_falls_back_to_latin1():
    assert decode_body("grønland".encode("latin-1"), JS_LATIN1) == ("grønland", "iso-8859-1")
    assert decode_body("grønland 🎉".encode(), JSON_UTF8) == ("grønland 🎉", "utf-8")
    assert decode_body("grønland".encode("latin-1"), None) == ("grønland", "latin-1 (fallback)")
    assert decode_body(b"x", "text/plain; charset=no-such-charset")[1] == "latin-1 (fallback)"


def test_health_check(google):
    google.add(SUGGEST, suggest("chrome_klima_utf8.json"), q="danmark")
    assert build_collector("google_autocomplete").health_check().ok


def test_run_stores_one_row_per_term_and_a_second_run_today_inserts_nothing(
    db, google, monkeypatch
):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", "k" * 32)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    serve(google)
    with db.begin() as conn:
        user = conn.execute(
            text("INSERT INTO users (email, is_active) VALUES ('g@example.org', true) RETURNING id")
        ).scalar_one()
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config)"
                " VALUES (:o, 'suggest', CAST(:c AS jsonb)) RETURNING id"
            ),
            {"o": user, "c": json.dumps({"arenas": {"google_autocomplete": {}}})},
        ).scalar_one()
        for term in ("grønland", "klima", "ærø"):
            conn.execute(
                text("INSERT INTO search_terms (query_design_id, term) VALUES (:d, :t)"),
                {"d": design, "t": term},
            )

    report = start_run(db, design, WINDOW["date_from"], WINDOW["date_to"])
    (arena,) = report.arenas
    assert arena.status == "completed" and arena.records_collected == 3
    assert arena.credits_spent == 0
    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT platform_id, title, text_content, language, published_at, raw_metadata"
                ' FROM content_records ORDER BY title COLLATE "C"'
            )
        ).all()
    assert [r.platform_id for r in rows] == [
        f"da-dk:grønland:{today()}",
        f"da-dk:klima:{today()}",
        f"da-dk:ærø:{today()}",
    ]
    assert rows[1].text_content.splitlines()[1] == "klimaangst 😟"
    assert rows[2].raw_metadata["suggestions"][1]["suggestion"] == "ærøskøbing"
    assert {r.language for r in rows} == {"da"}
    assert len(google.requests(SUGGEST)) == 3

    again = start_run(db, design, WINDOW["date_from"], WINDOW["date_to"])
    (arena,) = again.arenas
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 3)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_records")).scalar_one() == 3
    assert len(google.requests(SUGGEST)) == 6
