"""The erasure's transaction: who is matched, what goes, what stays, what is logged."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from observatory_pipelines.erasure.person import ErasureRefused, UnknownPerson, check_request
from observatory_pipelines.erasure.service import erase

from .conftest import (
    JENS_BLUESKY,
    JENS_REDDIT,
    QUINN_BLUESKY,
    new_uuid,
    row_hashes,
    tables_mentioning,
)


def _request(**who):
    return check_request(requested_by="Dorte DPO", reference="DPO-2026-017", **who)


def _removed(before: dict, after: dict) -> dict[str, int]:
    """Rows per table present before and gone after (by content hash)."""
    removed = {}
    for table, rows in before.items():
        gone = sum(max(0, n - after.get(table, {}).get(digest, 0)) for digest, n in rows.items())
        if gone:
            removed[table] = gone
    return removed


def _added(before: dict, after: dict) -> dict[str, int]:
    return _removed(after, before)


def _jens_rows(db, corpus) -> set[str]:
    """md5 of every stored record that is Jens's (by his pseudonyms)."""
    with db.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT md5(c::text) FROM content_records AS c "
                    "WHERE pseudonymized_author_id = ANY (:p)"
                ),
                {"p": list(corpus.jens_pseudonyms)},
            ).scalars()
        )


def test_erasing_an_actor_removes_exactly_their_rows(corpus, db, object_store_resource):
    assert tables_mentioning(db, corpus.jens_needles()).keys() >= {
        "content_records",
        "actors",
        "actor_aliases",
        "actor_platform_presences",
    }
    jens_records = _jens_rows(db, corpus)
    assert len(jens_records) == 4
    before = row_hashes(db)

    report = erase(
        db, object_store_resource.outputs(), _request(actor_id=corpus.jens_actor.upper())
    )

    assert report.status == "completed" and report.resolved_to_actor
    assert report.rows_deleted == {
        "content_records": 4,
        "content_record_collections": 5,  # D1 ×4, D2 ×1 (the Feb post both collected)
        "actors": 1,
        "actor_aliases": 1,
        "actor_platform_presences": 2,
        "actor_list_members": 1,
    }
    assert report.rows_by_partition == {
        "content_records_2026_02": 1,
        "content_records_2026_03": 1,
        "content_records_2026_04": 1,
        "content_records_default": 1,
    }
    assert report.affected_designs == sorted([corpus.d1, corpus.d2])

    # Gone from every table, in every column.
    assert tables_mentioning(db, corpus.jens_needles()) == {}
    # Nothing else changed: the rows removed are exactly his, the one row added is the log.
    after = row_hashes(db)
    assert _removed(before, after) == {
        "content_records": 4,
        "content_record_collections": 5,
        "actors": 1,
        "actor_aliases": 1,
        "actor_platform_presences": 2,
        "actor_list_members": 1,
    }
    assert jens_records <= set(before["content_records"]) - set(after["content_records"])
    assert _added(before, after) == {"erasure_log": 1}

    with db.connect() as conn:
        entry = conn.execute(text("SELECT * FROM erasure_log")).mappings().one()
    assert entry["requested_by"] == "Dorte DPO"
    assert entry["request_reference"] == "DPO-2026-017"
    assert entry["identified_by"] == "actor"
    assert entry["status"] == "completed" and entry["completed_at"] >= entry["erased_at"]
    assert entry["rows_deleted"] == report.rows_deleted
    assert sorted(map(str, entry["affected_design_ids"])) == report.affected_designs
    logged = json.dumps({k: str(v) for k, v in entry.items()}).casefold()
    for needle in [*corpus.jens_needles(), corpus.jens_actor]:
        assert needle.casefold() not in logged


def test_a_platform_user_without_an_actor_is_found_by_their_pseudonym(
    corpus, db, object_store_resource
):
    before = row_hashes(db)
    report = erase(
        db,
        object_store_resource.outputs(),
        _request(platform="bluesky", platform_user_id=QUINN_BLUESKY),
    )
    assert not report.resolved_to_actor
    assert report.rows_deleted["content_records"] == 2
    assert report.rows_deleted["content_record_collections"] == 2
    assert report.rows_deleted["actors"] == 0
    assert report.affected_designs == sorted([corpus.d1, corpus.d2])
    assert tables_mentioning(db, corpus.quinn_needles()) == {}
    assert _removed(before, row_hashes(db)) == {
        "content_records": 2,
        "content_record_collections": 2,
    }
    # Jens, whom nobody asked about, is all there.
    assert len(_jens_rows(db, corpus)) == 4


def test_a_platform_user_of_an_actor_erases_the_whole_actor(corpus, db, object_store_resource):
    report = erase(
        db,
        object_store_resource.outputs(),
        _request(platform="reddit", platform_user_id=JENS_REDDIT),
    )
    assert report.resolved_to_actor and report.identified_by == "platform_user"
    # his Bluesky posts and presence too: the actor is the person
    assert report.rows_deleted["content_records"] == 4
    assert report.rows_deleted["actor_platform_presences"] == 2
    assert tables_mentioning(db, corpus.jens_needles()) == {}


@pytest.mark.parametrize(
    "who",
    [
        {"actor_id": "00000000-0000-4000-8000-000000000000"},
        {"platform": "bluesky", "platform_user_id": "did:plc:nobody"},
        # his id on another platform is another pseudonym: no match, nothing erased
        {"platform": "reddit", "platform_user_id": JENS_BLUESKY},
    ],
)
def test_an_unknown_person_is_named_and_nothing_changes(corpus, db, object_store_resource, who):
    store = object_store_resource.outputs()
    store.put("analysis/x/standard/descriptive.json", b"{}")
    before = row_hashes(db)
    with pytest.raises(UnknownPerson) as raised:
        erase(db, store, _request(**who))
    assert str(raised.value).startswith("no records or actor for ")
    assert (who.get("actor_id") or who["platform_user_id"]) in str(raised.value)
    assert "nobody" not in raised.value.safe_message and "0000" not in raised.value.safe_message
    assert row_hashes(db) == before
    assert [info.key for info in store.list()] == ["analysis/x/standard/descriptive.json"]


def test_a_dry_run_reports_the_real_counts_and_changes_nothing(corpus, db, object_store_resource):
    store = object_store_resource.outputs()
    key = f"analysis/{corpus.d1}/standard/descriptive.json"
    store.put(key, b"{}")
    before = row_hashes(db)
    dry = erase(db, store, _request(actor_id=corpus.jens_actor), dry_run=True)
    assert dry.dry_run and dry.log_id is None and dry.status == "dry_run"
    assert row_hashes(db) == before
    assert dry.object_keys == [key] and store.exists(key)

    real = erase(db, store, _request(actor_id=corpus.jens_actor))
    assert (real.rows_deleted, real.rows_by_partition) == (dry.rows_deleted, dry.rows_by_partition)
    assert real.affected_designs == dry.affected_designs
    assert real.object_keys == [key] and not store.exists(key)


@pytest.mark.parametrize(
    ("who", "problem"),
    [
        ({}, "say whom to erase"),
        ({"actor_id": "42"}, "--actor-id must be an actor's UUID"),
        ({"actor_id": new_uuid(), "platform": "bluesky"}, "not both"),
        ({"platform": "bluesky"}, "--platform needs --platform-user-id"),
        ({"platform_user_id": "x"}, "--platform-user-id needs --platform"),
        ({"platform": "Blue Sky", "platform_user_id": "x"}, "--platform must be"),
        ({"platform": "bluesky", "platform_user_id": "a\nb"}, "control characters"),
    ],
)
def test_bad_requests_are_refused_by_name(who, problem):
    with pytest.raises(ErasureRefused, match=problem.replace("(", r"\(")):
        check_request(requested_by="Dorte", reference="DPO-1", **who)


@pytest.mark.parametrize(
    ("requested_by", "reference", "problem"),
    [
        ("", "DPO-1", "--requested-by is required"),
        ("Dorte", "", "--reference is required"),
        ("Dorte", "Jens Testesen's request", "--reference must be a case number"),
    ],
)
def test_who_and_why_are_required(requested_by, reference, problem):
    with pytest.raises(ErasureRefused, match=problem):
        check_request(requested_by=requested_by, reference=reference, actor_id=new_uuid())
