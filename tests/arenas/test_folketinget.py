"""Folketinget's ODA collector against recorded-shape OData v3 replies on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from observatory_pipelines.arenas.base import (
    ArenaError,
    ArenaOptionError,
    CollectionRequest,
    SearchTerm,
)
from observatory_pipelines.arenas.folketinget_odata import (
    entity_url,
    group_filter,
    next_skip,
    odata_literal,
    parse_oda_datetime,
)
from observatory_pipelines.arenas.registry import build_collector, get_collector_class
from observatory_pipelines.costs import credits_for
from tests.arenas.conftest import Reply, file_reply, json_reply

WINDOW = dict(
    date_from=datetime(2026, 10, 1, tzinfo=UTC), date_to=datetime(2026, 11, 1, tzinfo=UTC)
)
SAG, DOKUMENT, MODE = "/api/Sag", "/api/Dokument", "/api/Møde"
KLIMA = [SearchTerm("klima")]


def odata(name: str, status: int = 200, **headers: str) -> Reply:
    return file_reply(
        f"folketinget/{name}", status, "application/json;odata=minimalmetadata;charset=utf-8",
        **headers,
    )  # fmt: skip


@pytest.fixture
def oda(replay, monkeypatch):
    monkeypatch.setenv("FOLKETINGET_API_URL", f"{replay.url}/api")
    return replay


def collect(options=None, terms=KLIMA, **request):
    collector = build_collector("folketinget", options=options or {})
    req = CollectionRequest(**WINDOW, terms=terms, options=options or {}, **request)
    return collector, list(collector.collect(req))


def records(pages):
    return {r.platform_id: r for p in pages for r in p.records}


def test_cases_page_through_next_link_on_the_configured_host_and_map(oda):
    oda.add(SAG, odata("sag_page2.json"), **{"$skip": "100"})
    oda.add(SAG, odata("sag_page1.json"), **{"$skip": "0"})
    collector, pages = collect({"entities": ["Sag"]})
    assert [len(p.records) for p in pages] == [2, 2]
    assert pages[0].rejected == 1 and "without an id" in pages[0].rejection_reasons[0]
    got = records(pages)
    assert sorted(got) == ["Sag:106483", "Sag:106490", "Sag:106502", "Sag:106510"]

    bill = got["Sag:106483"]
    assert bill.content_type == "parliament_case" and bill.arena == "parliament"
    assert bill.title == (
        "Forslag til lov om ændring af lov om klimarådet og grønne afgifter\n"
        "(Skærpet klimamål for 2030)"
    )
    assert bill.text_content.startswith("Lovforslaget skærper Danmarks klimamål")
    # First stage 2026-10-07 13:00 Copenhagen summer time = 11:00 UTC.
    assert bill.published_at == datetime(2026, 10, 7, 11, 0, tzinfo=UTC)
    assert bill.url == "https://www.ft.dk/samling/20261/lovforslag/L12/index.htm"
    assert (bill.author_platform_id, bill.author_display_name) == ("15", "Lars Ærø Jørgensen")
    assert bill.language == "da" and bill.hash_source == "Sag:106483"
    meta = bill.raw_metadata
    assert meta["typeid"] == 3 and meta["nummer"] == "L 12" and meta["periodeid"] == 170
    assert meta["stages"] == {
        "count": 2,
        "first": "2026-10-07T11:00:00+00:00",
        "last": "2026-10-29T09:00:00.123456+00:00",  # winter time (CET) after 25 October
    }
    assert {a["id"]: (a["role"], a["party"]) for a in meta["actors"]} == {
        15: ("minister", "S"),
        301: ("udvalg", None),
    }
    assert "biografi" not in json.dumps(meta) and "@ft.dk" not in json.dumps(meta)

    resolution = got["Sag:106490"]
    assert resolution.title.endswith("Grønland 🌍") and "🌱" in resolution.text_content
    # Two proposers: the lowest ODA id, every run; the minister only in raw_metadata.
    assert resolution.author_platform_id == "117"
    assert resolution.author_display_name == "Åse Krøyer-Nielsen"
    assert resolution.published_at == datetime(2026, 10, 13, 22, 0, tzinfo=UTC)

    grant = got["Sag:106502"]  # no stages: its update date, seven fractional digits
    assert grant.published_at == datetime(2026, 10, 20, 7, 15, 31, 872345, tzinfo=UTC)
    assert grant.raw_metadata["published_from"] == "opdateringsdato" and grant.url is None
    question = got["Sag:106510"]  # year 1: no usable date, collection uses collected_at
    assert question.published_at is None
    assert question.raw_metadata["dates_invalid"] == {"opdateringsdato": "0001-01-01T00:00:00"}
    assert question.author_platform_id == "88" and "✈️" in question.title
    assert question.raw_metadata["actors"][0]["role"] == "spørger"

    sent = oda.requests(SAG)
    assert [s.query["$skip"] for s in sent] == ["0", "100"]  # the link's host is never asked
    first = sent[0].query
    assert first["$top"] == "100" and first["$orderby"] == "id"
    assert first["$inlinecount"] == "allpages" and "$inlinecount" not in sent[1].query
    assert first["$expand"] == "Sagstrin,SagAktør/Aktør,SagAktør/SagAktørRolle,Periode"
    assert first["$filter"].startswith("opdateringsdato ge datetime'2026-10-01T02:00:00' and (")
    assert "substringof('klima',titel)" in first["$filter"]
    assert "substringof('Klima',resume)" in first["$filter"]
    assert collector.units_spent == 2 and collector.rate_limit_state["requests"] == 2
    assert collector.rate_limit_state["odata_count"] == {"Sag 'klima'": 7}


def test_documents_step_skip_by_100_until_an_empty_page(oda):
    oda.add(DOKUMENT, odata("empty_page.json"), **{"$skip": "100"})
    oda.add(DOKUMENT, odata("dokument_full_page.json"), **{"$skip": "0"})
    collector, pages = collect({"entities": ["Dokument"]})
    assert [len(p.records) for p in pages] == [100, 0]
    got = records(pages)
    first = got["Dokument:500001"]
    assert first.content_type == "parliament_document"
    assert first.text_content.startswith("Vil ministeren oplyse, hvor meget afgiften på kød")
    assert first.url == "https://www.ft.dk/samling/20261/spoergsmaal/s301/svar/1900001/index.pdf"
    assert first.raw_metadata["files"][0]["format"] == "PDF"
    assert first.author_platform_id == "15"
    assert first.raw_metadata["actors"][0]["role"] == "afsender"
    assert first.published_at == datetime(2026, 10, 2, 22, 0, tzinfo=UTC)  # 3 Oct, local midnight
    sent = oda.requests(DOKUMENT)
    assert [s.query["$skip"] for s in sent] == ["0", "100"]
    window = "dato ge datetime'2026-10-01T02:00:00' and dato lt datetime'2026-11-01T01:00:00'"
    assert sent[0].query["$filter"].startswith(window)
    assert collector.units_spent == 2


def test_meetings_are_read_whole_and_matched_on_their_agenda(oda):
    oda.add(MODE, odata("mode_page.json"))
    _, pages = collect({"entities": ["Møde"]})
    got = records(pages)
    assert sorted(got) == ["Møde:9001", "Møde:9003"]  # 9002's agenda has no "klima"
    meeting = got["Møde:9001"]
    assert meeting.content_type == "parliament_meeting" and meeting.author_platform_id is None
    assert meeting.text_content == (
        "1. Forespørgsel F 3 om klimapolitikken i Grønland og på Færøerne\n"
        "2. 1. behandling af L 12: Forslag til lov om ændring af lov om klimarådet og grønne afgifter"
    )
    assert meeting.url == "https://www.ft.dk/samling/20261/agenda/R202600008/index.htm"
    assert meeting.published_at == datetime(2026, 10, 22, 8, 0, tzinfo=UTC)
    assert got["Møde:9003"].published_at is None and got["Møde:9003"].url is None
    [sent] = oda.requests(MODE)
    assert "substringof" not in sent.query["$filter"]
    assert sent.query["$expand"] == "Dagsordenspunkt"


def test_rate_limit_signal_and_5xx_are_retried_then_succeed(oda):
    oda.add(
        SAG,
        json_reply({"odata.error": {"message": {"value": "Too many requests"}}}, 429,
                   **{"Retry-After": "1"}),
        Reply(503, b"Service Unavailable", {"Content-Type": "text/plain"}),
        odata("sag_page2.json"),
    )  # fmt: skip
    collector, pages = collect({"entities": ["Sag"]})
    assert sorted(records(pages)) == ["Sag:106502", "Sag:106510"]
    assert collector.rate_limit_state["retries"] == 2
    assert collector.rate_limit_state["last_retry_after"] == 0.2  # 1 s, capped in tests
    assert len(oda.requests(SAG)) == 3 and collector.units_spent == 1


def test_an_unknown_entity_is_skipped_by_name_and_the_rest_goes_on(oda):
    oda.add(SAG, odata("sag_page2.json"))
    _, pages = collect({"entities": ["Tale", "Sag"]})
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 1 and "'Tale'" in errors[0] and "known: Sag, Dokument, Møde" in errors[0]
    assert [s.source for p in pages for s in p.skipped] == ["folketinget entity 'Tale'"]
    assert sorted(records(pages)) == ["Sag:106502", "Sag:106510"]
    assert [s.path for s in oda.seen] == [SAG]


def test_html_page_malformed_json_and_odata_error_each_skip_their_source(oda):
    oda.add(SAG, file_reply("folketinget/html_error.html", 404, "text/html; charset=utf-8"))
    oda.add(DOKUMENT, odata("malformed.json"))
    oda.add(MODE, odata("odata_error_400.json", 400))
    collector = build_collector("folketinget", options={})
    request = CollectionRequest(
        **WINDOW, terms=KLIMA, options={"entities": ["Sag", "Dokument", "Møde"]}
    )
    pages = []
    with pytest.raises(ArenaError, match="every source failed"):
        for page in collector.collect(request):
            pages.append(page)
    errors = [e for p in pages for e in p.errors]
    assert len(errors) == 3
    assert "HTTP 404 from 127.0.0.1" in errors[0]
    assert "/api/Sag is an HTML page where JSON was expected" in errors[0]
    assert "/api/Dokument (HTTP 200) is not valid JSON" in errors[1]
    assert "HTTP 400 from" in errors[2] and "No property 'titl' exists" in errors[2]
    # With one working source the task goes on and keeps what it has.
    oda.routes.clear()
    oda.add(DOKUMENT, odata("malformed.json"))
    oda.add(SAG, odata("sag_page2.json"))
    _, pages = collect({"entities": ["Dokument", "Sag"]})
    assert sorted(records(pages)) == ["Sag:106502", "Sag:106510"]
    assert [s.source for p in pages for s in p.skipped] == ["folketinget Dokument 'klima'"]


def test_a_response_over_the_size_cap_is_refused(oda, monkeypatch):
    monkeypatch.setenv("ARENA_HTTP_MAX_RESPONSE_MB", "1")
    huge = {"value": [{"id": 1, "titel": "klima " + "æ" * (1024 * 1024)}]}
    oda.add(SAG, json_reply(huge))
    oda.add(MODE, odata("mode_page.json"))
    _, pages = collect({"entities": ["Sag", "Møde"]})
    [skipped] = [s for p in pages for s in p.skipped]
    assert skipped.reason == "too_large" and "larger than 1 MB refused" in skipped.detail
    assert sorted(records(pages)) == ["Møde:9001", "Møde:9003"]


def test_the_request_budget_stops_cleanly_and_says_so(oda):
    oda.add(SAG, odata("sag_page2.json"), **{"$skip": "100"})
    oda.add(SAG, odata("sag_page1.json"), **{"$skip": "0"})
    collector, pages = collect({"entities": ["Sag", "Møde"], "max_requests": 1})
    assert sorted(records(pages)) == ["Sag:106483", "Sag:106490"]
    [stop] = [s for p in pages for s in p.skipped]
    assert stop.reason == "stopped" and "request budget of 1 requests" in stop.detail
    assert collector.rate_limit_state["stopped"] == {
        "reason": "max_requests",
        "max_requests": 1,
        "requests": 1,
        "source": "folketinget Sag 'klima'",
        "next_skip": 100,
    }
    assert len(oda.seen) == 1  # neither the next page nor the meetings were asked


def test_terms_become_case_variant_substringof_filters_anded_in_a_group():
    group = [SearchTerm("Grønland", group=1), SearchTerm("børns ret", "phrase", group=1)]
    text = group_filter(group, ("titel",))
    assert text == (
        "(substringof('Grønland',titel) or substringof('grønland',titel)"
        " or substringof('GRØNLAND',titel)) and (substringof('børns ret',titel)"
        " or substringof('Børns ret',titel) or substringof('BØRNS RET',titel))"
    )
    assert group_filter([SearchTerm("mink'er")], ("titel",)).startswith(
        "(substringof('mink''er',titel)"
    )
    assert group_filter([SearchTerm("#dkpol", "hashtag")], ("titel",)).startswith(
        "(substringof('dkpol',titel)"
    )


def test_oda_datetimes_are_copenhagen_local_time():
    meta: dict = {}
    assert parse_oda_datetime("2025-09-09T17:49:11.8723456", meta, "x") == datetime(
        2025, 9, 9, 15, 49, 11, 872345, tzinfo=UTC
    )
    assert parse_oda_datetime("2026-01-15T00:00:00", meta, "x") == datetime(
        2026, 1, 14, 23, 0, tzinfo=UTC
    )
    assert parse_oda_datetime("2026-01-15T08:00:00Z", meta, "x") == datetime(
        2026, 1, 15, 8, 0, tzinfo=UTC
    )
    assert parse_oda_datetime("i morgen", meta, "y") is None and meta["dates_invalid"]["y"]
    assert odata_literal(datetime(2026, 7, 1, tzinfo=UTC)) == "datetime'2026-07-01T02:00:00'"
    assert odata_literal(datetime(2026, 12, 1, tzinfo=UTC)) == "datetime'2026-12-01T01:00:00'"


def test_entity_names_go_on_the_wire_percent_encoded():
    assert entity_url("https://oda.ft.dk/api", "Møde") == "https://oda.ft.dk/api/M%C3%B8de"


def test_next_link_without_progress_ends_paging():
    link = {"odata.nextLink": "https://elsewhere.example/api/Sag?$skip=100"}
    assert next_skip(link, 100, 0) == 100
    assert next_skip(link, 100, 100) is None  # a link that does not advance would loop
    assert next_skip({}, 100, 200) == 300 and next_skip({}, 42, 200) is None


def test_options_are_declared_and_a_host_is_refused_naming_the_setting(oda):
    cls = get_collector_class("folketinget")
    assert {"entities", "case_types", "max_requests"} <= cls.design_options
    with pytest.raises(ArenaOptionError, match="FOLKETINGET_API_URL"):
        build_collector("folketinget", options={"base_url": "http://127.0.0.2:9"})
    for bad in (
        {"case_types": ["3); delete"]},
        {"case_types": [True]},
        {"entities": "Sag"},
        {"max_requests": 0},
    ):
        with pytest.raises(ArenaOptionError, match=f"arenas.folketinget.{next(iter(bad))} must"):
            build_collector("folketinget", options=bad)
    assert credits_for("folketinget", "premium", 500) == 0
    request = CollectionRequest(**WINDOW, terms=KLIMA + [SearchTerm("grønland")])
    assert cls().estimate_units(request) == (2 + 2 + 1) * 10
    assert oda.seen == []


def test_case_types_narrow_the_filter(oda):
    oda.add(SAG, odata("empty_page.json"))
    collect({"entities": ["Sag"], "case_types": [3, 8]})
    [sent] = oda.requests(SAG)
    assert "and (typeid eq 3 or typeid eq 8) and (" in sent.query["$filter"]


def test_health_check(oda):
    collector = build_collector("folketinget")
    oda.add(SAG, odata("health.json"))
    assert collector.health_check().ok
    oda.routes.clear()
    oda.add(SAG, file_reply("folketinget/html_error.html", 404, "text/html"))
    status = collector.health_check()
    assert not status.ok and "HTML page" in status.detail
