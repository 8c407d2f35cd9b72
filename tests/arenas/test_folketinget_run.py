"""Folketinget through a whole collection run: design → run → task → content_records.

Real Postgres, the replay server on 127.0.0.1 as the operator's ODA host.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlalchemy import text

from observatory_pipelines.collection.runs import start_run
from observatory_pipelines.credits.ledger import CreditLedger
from observatory_pipelines.security.pseudonymize import pseudonymize
from tests.arenas.conftest import file_reply
from tests.collection.conftest import rows

FROM, TO = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
KEY = "folketinget-test-pseudonymization-key"


def _odata(name: str):
    return file_reply(f"folketinget/{name}", content_type="application/json;odata=minimalmetadata")


def _design(db, arenas: dict) -> tuple[str, str]:
    with db.begin() as conn:
        user = conn.execute(
            text(
                "INSERT INTO users (email, is_active) VALUES ('ft@example.org', true) RETURNING id"
            )
        ).scalar_one()
        design = conn.execute(
            text(
                "INSERT INTO query_designs (owner_id, name, arenas_config)"
                " VALUES (:o, 'Folketinget og klima', CAST(:c AS jsonb)) RETURNING id"
            ),
            {"o": user, "c": json.dumps({"arenas": arenas})},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO search_terms (query_design_id, term) VALUES (:d, 'klima')"),
            {"d": design},
        )
    return str(user), str(design)


def test_a_run_stores_cases_and_meetings_and_a_rerun_inserts_nothing(db, replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", KEY)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("FOLKETINGET_API_URL", f"{replay.url}/api")
    replay.add("/api/Sag", _odata("sag_page2.json"), **{"$skip": "100"})
    replay.add("/api/Sag", _odata("sag_page1.json"), **{"$skip": "0"})
    replay.add("/api/Møde", _odata("mode_page.json"))
    user, design = _design(db, {"folketinget": {"entities": ["Sag", "Møde", "Tale"]}})

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert (arena.platform, arena.status) == ("folketinget", "completed")
    assert arena.records_collected == 6 and arena.records_rejected == 1
    assert arena.credits_spent == 0 and arena.units_spent == 3
    stored = {
        r["platform_id"]: r
        for r in rows(
            db,
            "SELECT platform_id, arena, content_type, title, text_content, language, url,"
            " published_at, author_platform_id, author_display_name, pseudonymized_author_id,"
            " search_terms_matched, raw_metadata FROM content_records",
        )
    }
    assert sorted(stored) == [
        "Møde:9001", "Møde:9003",
        "Sag:106483", "Sag:106490", "Sag:106502", "Sag:106510",
    ]  # fmt: skip
    bill = stored["Sag:106483"]
    assert (bill["arena"], bill["content_type"], bill["language"]) == (
        "parliament", "parliament_case", "da",
    )  # fmt: skip
    assert bill["published_at"] == datetime(2026, 10, 7, 11, 0, tzinfo=UTC)
    assert bill["title"].startswith("Forslag til lov om ændring af lov om klimarådet")
    assert bill["search_terms_matched"] == ["klima"]
    assert bill["pseudonymized_author_id"] == pseudonymize("folketinget", "15", KEY.encode())
    actors = {a["id"]: (a["role"], a["party"]) for a in bill["raw_metadata"]["actors"]}
    assert actors == {15: ("minister", "S"), 301: ("udvalg", None)}
    assert bill["author_display_name"] == "Lars Ærø Jørgensen"
    assert "🌍" in stored["Sag:106490"]["title"]
    assert stored["Sag:106490"]["pseudonymized_author_id"] == pseudonymize(
        "folketinget", "117", KEY.encode()
    )
    undated = stored["Sag:106510"]  # no usable date: collected_at, flagged
    assert undated["raw_metadata"]["published_at_source"] == "collected_at"
    assert stored["Møde:9001"]["pseudonymized_author_id"] is None

    [task] = rows(db, "SELECT * FROM collection_tasks")
    assert task["status"] == "completed" and task["credits_spent"] == 0
    assert task["rate_limit_state"]["requests"] == 3
    assert task["rate_limit_state"]["odata_count"] == {"Sag 'klima'": 7, "Møde": 3}
    skipped = task["skipped_sources"]
    assert [s["source"] for s in skipped] == ["folketinget entity 'Tale'"]
    assert [s.query["$skip"] for s in replay.requests("/api/Sag")] == ["0", "100"]
    assert len(replay.requests("/api/Møde")) == 1

    again = start_run(db, design, FROM, TO)
    [arena] = again.arenas
    assert arena.status == "completed"
    assert (arena.records_collected, arena.duplicates_skipped) == (0, 6)
    assert rows(db, "SELECT count(*) AS n FROM content_records")[0]["n"] == 6
    assert len(replay.seen) == 6  # the same three requests again
    assert CreditLedger(db).get_balance(user).available == 0


def test_a_spent_request_budget_completes_the_task_with_what_it_has(db, replay, monkeypatch):
    monkeypatch.setenv("PSEUDONYMIZATION_KEY", KEY)
    monkeypatch.setenv("CREDENTIALS_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("FOLKETINGET_API_URL", f"{replay.url}/api")
    replay.add("/api/Sag", _odata("sag_page1.json"))
    _, design = _design(db, {"folketinget": {"entities": ["Sag", "Møde"], "max_requests": 1}})

    report = start_run(db, design, FROM, TO)

    [arena] = report.arenas
    assert arena.status == "completed" and arena.records_collected == 2
    [task] = rows(db, "SELECT rate_limit_state, skipped_sources FROM collection_tasks")
    assert task["rate_limit_state"]["stopped"]["reason"] == "max_requests"
    assert [s["reason"] for s in task["skipped_sources"]] == ["stopped"]
    assert [s.path for s in replay.seen] == ["/api/Sag"]
