"""Sync of a folder of design files into Postgres: created, unchanged, updated, revised,
deactivated — one transaction per design, nothing of a refused file written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from observatory_pipelines.designs.sync import apply_files, source_of, sync_folder

from .conftest import counts, design_yaml, make_researcher, write

ACTORS = (
    "actor_lists:\n"
    "  - name: Partier\n"
    "    sampling_method: manual\n"
    "    actors:\n"
    "      - name: Socialdemokratiet\n"
    "        type: party\n"
    "        platforms:\n"
    "          bluesky: did:plc:sd\n"
    "          youtube: {id: UCsd, username: Socialdemokratiet}\n"
    "      - name: DR\n"
    "        platforms: {rss_feeds: dr}\n"
)


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def design_row(engine, name: str) -> dict:
    (row,) = rows(engine, "SELECT * FROM query_designs WHERE name = :n", n=name)
    return row


def active_terms(engine, design_id) -> list[tuple]:
    found = rows(
        engine,
        "SELECT term, term_type, term_group FROM search_terms"
        " WHERE query_design_id = :d AND is_active ORDER BY added_at",
        d=design_id,
    )
    return [(r["term"], r["term_type"], r["term_group"]) for r in found]


def test_a_new_file_creates_the_design_its_terms_and_actor_lists(db, researcher, folder):
    path = write(
        folder, "groenland.yaml", design_yaml(arenas="arenas:\n  rss_feeds: {}\n" + ACTORS)
    )
    report = sync_folder(db, folder)
    assert report.created == ["Grønland"] and report.errors == []
    design = design_row(db, "Grønland")
    assert str(design["owner_id"]) == researcher and design["is_active"]
    assert design["source_file"] == source_of(path) and len(design["source_hash"]) == 64
    assert design["collection_revised_at"] is None
    assert design["arenas_config"] == {
        "mode": "batch", "tier": "free", "date_from": "2026-03-01", "date_to": "2026-03-07",
        "arenas": {"rss_feeds": {}},
    }  # fmt: skip
    assert active_terms(db, design["id"]) == [
        ("grønland", "keyword", None), ("trump", "keyword", 1), ("købe", "keyword", 1),
    ]  # fmt: skip
    members = rows(
        db,
        "SELECT l.name AS list, l.sampling_method, a.canonical_name, a.actor_type, p.platform,"
        " p.platform_user_id, p.platform_username FROM actor_lists l"
        " JOIN actor_list_members m ON m.actor_list_id = l.id JOIN actors a ON a.id = m.actor_id"
        " JOIN actor_platform_presences p ON p.actor_id = a.id"
        " WHERE l.query_design_id = :d ORDER BY a.canonical_name, p.platform",
        d=design["id"],
    )
    assert [tuple(m.values()) for m in members] == [
        ("Partier", "manual", "DR", None, "rss_feeds", "dr", None),
        ("Partier", "manual", "Socialdemokratiet", "party", "bluesky", "did:plc:sd", None),
        ("Partier", "manual", "Socialdemokratiet", "party", "youtube", "UCsd", "Socialdemokratiet"),
    ]

    # Collection reads the AND-group back as the collectors' SearchTerm.group.
    from observatory_pipelines.collection.plan import design_actors, load_design

    spec = load_design(db, design["id"])
    assert [(t.term, t.group) for t in spec.terms] == [
        ("grønland", None),
        ("trump", 1),
        ("købe", 1),
    ]
    assert [a.platform_user_id for a in design_actors(db, design["id"], "bluesky")] == [
        "did:plc:sd"
    ]


def test_syncing_again_is_a_no_op(db, researcher, folder):
    write(folder, "groenland.yaml", design_yaml(arenas="arenas:\n  rss_feeds: {}\n" + ACTORS))
    sync_folder(db, folder)
    before = design_row(db, "Grønland")
    tables = counts(db)
    again = sync_folder(db, folder)
    assert again.unchanged == ["Grønland"] and again.created == again.updated == []
    assert counts(db) == tables
    assert design_row(db, "Grønland")["updated_at"] == before["updated_at"]


def test_an_edit_that_changes_no_collection_updates_without_a_revision(db, researcher, folder):
    path = write(folder, "groenland.yaml", design_yaml())
    sync_folder(db, folder)
    write(folder, path.name, design_yaml() + "description: Debatten om Grønland\n")
    report = sync_folder(db, folder)
    assert report.updated == ["Grønland"] and report.revised == []
    design = design_row(db, "Grønland")
    assert design["description"] == "Debatten om Grønland"
    assert design["collection_revised_at"] is None


def test_changed_terms_are_a_revision_and_old_terms_are_kept_inactive(db, researcher, folder):
    path = write(folder, "groenland.yaml", design_yaml())
    sync_folder(db, folder)
    design_id = design_row(db, "Grønland")["id"]
    write(folder, path.name, design_yaml(terms="terms:\n  - grønland\n  - rigsfællesskabet"))
    report = sync_folder(db, folder)
    assert report.revised == ["Grønland"] and report.updated == ["Grønland"]
    design = design_row(db, "Grønland")
    assert design["id"] == design_id and design["collection_revised_at"] is not None
    assert active_terms(db, design_id) == [
        ("grønland", "keyword", None), ("rigsfællesskabet", "keyword", None),
    ]  # fmt: skip
    (kept,) = rows(db, "SELECT count(*) AS n FROM search_terms WHERE NOT is_active")
    assert kept["n"] == 3


def test_a_removed_file_deactivates_and_putting_it_back_reactivates(db, researcher, folder):
    path = write(
        folder, "groenland.yaml", design_yaml(arenas="arenas:\n  rss_feeds: {}\n" + ACTORS)
    )
    sync_folder(db, folder)
    tables = counts(db)
    body = path.read_text()
    path.unlink()
    report = sync_folder(db, folder)
    assert report.deactivated == ["Grønland"]
    assert design_row(db, "Grønland")["is_active"] is False
    assert counts(db) == tables  # nothing deleted
    assert sync_folder(db, folder).deactivated == []  # once

    path.write_text(body)
    back = sync_folder(db, folder)
    assert back.updated == ["Grønland"] and back.revised == []
    assert design_row(db, "Grønland")["is_active"] is True


def test_active_false_deactivates(db, researcher, folder):
    path = write(folder, "groenland.yaml", design_yaml())
    sync_folder(db, folder)
    write(folder, path.name, design_yaml() + "active: false\n")
    assert sync_folder(db, folder).updated == ["Grønland"]
    assert design_row(db, "Grønland")["is_active"] is False


@pytest.mark.parametrize(
    ("blocks", "where"),
    [
        ({"arenas": "arenas:\n  myspace: {}"}, "11:3: arenas.myspace"),
        ({"window": "window:\n  from: 2026-03-01\n  to: 2026-02-31"}, "6:3: window.to"),
        ({"window": "window:\n  from: 2026-03-08\n  to: 2026-03-01"}, "6:3: window.to"),
        ({"terms": "terms: []"}, "7:1: terms"),
        (
            {"arenas": "arenas:\n  rss_feeds: {subreddits: [x]}"},
            "11:15: arenas.rss_feeds.subreddits",
        ),
        ({"owner": "owner: nobody@example.dk"}, "2:1: owner"),
    ],
    ids=[
        "unknown arena",
        "bad date",
        "from after to",
        "no terms",
        "foreign option",
        "unknown owner",
    ],
)
def test_a_refused_file_writes_nothing(db, researcher, folder, blocks, where):
    path = write(folder, "bad.yaml", design_yaml(**blocks))
    before = counts(db)
    report = sync_folder(db, folder)
    (error,) = report.errors
    assert str(error).startswith(f"{path}:{where}: ")
    assert report.created == [] and counts(db) == before


def test_an_invalid_edit_keeps_the_last_valid_version_active(db, researcher, folder):
    path = write(folder, "groenland.yaml", design_yaml())
    sync_folder(db, folder)
    before = design_row(db, "Grønland")
    write(folder, path.name, design_yaml(terms="terms: []"))
    report = sync_folder(db, folder)
    assert [e.field for e in report.errors] == ["terms"] and report.deactivated == []
    assert design_row(db, "Grønland") == before


def test_duplicate_names_in_a_folder_refuse_both_and_write_neither(db, researcher, folder):
    write(folder, "a.yaml", design_yaml(name="Valg"))
    write(folder, "sub/b.yaml", design_yaml(name="Valg"))
    report = sync_folder(db, folder)
    assert len(report.refused_files) == 2 and report.created == []
    assert counts(db)["query_designs"] == 0


def test_two_files_for_one_design_are_refused_while_the_first_exists(db, researcher, tmp_path):
    first = write(tmp_path / "one", "valg.yaml", design_yaml(name="Valg"))
    assert apply_files(db, [first]).created == ["Valg"]
    second = write(tmp_path / "two", "valg-kopi.yaml", design_yaml(name="Valg", mode="mode: live",
                   window="window:\n  from: 2026-03-01"))  # fmt: skip
    report = apply_files(db, [second])
    (error,) = report.errors
    assert str(error).startswith(f"{second}:1:1: name: ") and str(first.resolve()) in str(error)
    design = design_row(db, "Valg")
    assert design["source_file"] == source_of(first) and design["arenas_config"]["mode"] == "batch"

    first.unlink()  # the design moved to the other file: it takes over
    moved = apply_files(db, [second])
    assert moved.revised == ["Valg"]
    design = design_row(db, "Valg")
    assert design["source_file"] == source_of(second) and design["arenas_config"]["mode"] == "live"


def test_an_owner_by_id_and_accounts_another_design_knows_are_shared(db, researcher, folder):
    other = make_researcher(db, "other@example.dk")
    write(folder, "a.yaml", design_yaml(name="A", arenas="arenas:\n  rss_feeds: {}\n" + ACTORS))
    write(folder, "b.yaml", design_yaml(name="B", owner=f"owner: {other}",
                                        arenas="arenas:\n  rss_feeds: {}\n" + ACTORS))  # fmt: skip
    report = sync_folder(db, folder)
    assert sorted(report.created) == ["A", "B"]
    assert str(design_row(db, "B")["owner_id"]) == other
    c = counts(db)
    assert (c["actors"], c["actor_platform_presences"], c["actor_list_members"]) == (2, 3, 4)


def test_an_over_budget_design_is_accepted_and_its_run_refused_with_estimate_and_balance(
    db, folder
):
    from observatory_pipelines.collection.runs import start_run
    from observatory_pipelines.credits.ledger import CreditLedger

    owner = make_researcher(db, credits=3)
    write(folder, "dyr.yaml", design_yaml(
        arenas="arenas:\n  youtube: {tier: medium, max_records: 50}\n  rss_feeds: {}"
    ))  # fmt: skip
    assert sync_folder(db, folder).created == ["Grønland"]
    design = design_row(db, "Grønland")
    report = start_run(
        db, design["id"], datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
    )
    assert report.status == "failed"
    # 3 terms x 1 search page x 100 units + 1 videos call = 301 units; medium: 100 a credit
    assert report.error == (
        "insufficient credits: need 4, available 3 "
        "(run estimate 4 credits: youtube 4; owner's balance 3 credits)"
    )
    assert CreditLedger(db).get_balance(owner).available == 3
    (run,) = rows(db, "SELECT status, error_log FROM collection_runs")
    assert run["status"] == "failed" and "owner's balance 3 credits" in run["error_log"]


def test_a_name_changed_in_its_file_renames_the_design(db, researcher, folder):
    path = write(folder, "valg.yaml", design_yaml(name="Valg"))
    sync_folder(db, folder)
    (before,) = rows(db, "SELECT id FROM query_designs")
    write(folder, path.name, design_yaml(name="Valg 2026"))
    report = sync_folder(db, folder)
    assert report.updated == ["Valg 2026"] and report.created == []
    (after,) = rows(db, "SELECT id, name, is_active FROM query_designs")
    assert after == {"id": before["id"], "name": "Valg 2026", "is_active": True}


def test_a_missing_folder_deactivates_nothing(db, researcher, folder):
    write(folder, "valg.yaml", design_yaml(name="Valg"))
    sync_folder(db, folder)
    report = sync_folder(db, folder / "not-mounted")
    assert report.folder_missing and report.deactivated == []
    assert design_row(db, "Valg")["is_active"] is True


def test_a_window_bound_collection_cannot_read_is_refused(tmp_path):
    from observatory_pipelines.designs.files import DesignFileInvalid, read_file
    from observatory_pipelines.designs.schema import validate

    path = write(tmp_path, "d.yaml", design_yaml(window="window:\n  from: 2026-03-01 10:00\n"
                                                  "  to: 2026-03-07T18:00:00+01:00"))  # fmt: skip
    with pytest.raises(DesignFileInvalid) as info:
        validate(read_file(path))
    (error,) = info.value.errors
    assert str(error).startswith(f"{path}:5:3: window.from: not a date")


def test_a_bucket_prefix_syncs_like_a_folder(db, researcher, s3_object_store_resource, tmp_path):
    from observatory_pipelines.designs.sync import sync_prefix

    store = s3_object_store_resource.outputs()
    store.put("designs/valg.yaml", design_yaml(name="Valg").encode())
    store.put("designs/sub/eu.yml", design_yaml(name="EU").encode())
    store.put("designs/bad.yaml", design_yaml(name="Bad", terms="terms: []").encode())
    store.put("designs/notes.txt", b"not a design")
    store.put("elsewhere/other.yaml", design_yaml(name="Other").encode())

    report = sync_prefix(db, store, "designs/")
    assert sorted(report.created) == ["EU", "Valg"]
    (error,) = report.errors
    assert str(error).startswith(f"{store.bucket}/designs/bad.yaml:7:1: terms: ")
    assert design_row(db, "Valg")["source_file"] == f"store://{store.bucket}/designs/valg.yaml"
    assert sync_prefix(db, store, "designs/").unchanged == ["EU", "Valg"]

    store.remove("designs/sub/eu.yml")
    assert sync_prefix(db, store, "designs/").deactivated == ["EU"]
    assert design_row(db, "EU")["is_active"] is False and design_row(db, "Valg")["is_active"]

    # A file for a design the bucket still defines is refused ("two files for one design").
    from observatory_pipelines.designs.sync import check_database, check_files

    docs, _ = check_files([write(tmp_path, "valg.yaml", design_yaml(name="Valg"))])
    (clash,) = check_database(db, docs, store)
    assert "already defined by store://" in clash.message
