"""``erase`` and ``erasure-log`` as an operator runs them: output, exit codes, nothing changed."""

from __future__ import annotations

import argparse
import logging
import re

import pytest
from sqlalchemy import text

from observatory_pipelines import logs
from observatory_pipelines.erasure import cli
from observatory_pipelines.storage.folder_store import FolderObjectStore

from .conftest import JENS_BLUESKY, new_uuid, row_hashes, tables_mentioning


@pytest.fixture()
def stores(tmp_path, monkeypatch):
    """The configured object store is a folder in this test's tmp dir."""
    for name in ("MINIO_ENDPOINT", "MINIO_BUCKET", "MINIO_OUTPUTS_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OBJECT_STORE_DIR", str(tmp_path / "objects"))
    return (
        FolderObjectStore(tmp_path / "objects", "observatory-outputs"),
        FolderObjectStore(tmp_path / "objects", "observatory-backups"),
    )


@pytest.fixture(autouse=True)
def stderr_logs_restored():
    yield
    logs.set_stderr_level(logging.INFO)  # main() quiets them for its run


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the test itself logged before
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


WHO = ("--requested-by", "Dorte DPO", "--reference", "DPO-2026-017")


def test_erase_by_actor_prints_the_counts_and_exits_0(corpus, db, stores, capsys):
    outputs, backups = stores
    report = f"analysis/{corpus.d1}/standard/descriptive.json"
    outputs.put(report, b"{}")
    code, out, err = run(capsys, "erase", "--actor-id", corpus.jens_actor, *WHO)
    assert (code, err) == (0, "")
    assert f"erased actor {corpus.jens_actor} (request DPO-2026-017, erasure log " in out
    assert re.search(r"\n    content_records +4\n      content_records_2026_02 +1\n", out)
    assert re.search(r"\n      content_records_default +1\n", out)
    assert re.search(r"\n    actor_platform_presences +2\n", out)
    assert "designs affected: 2" in out and corpus.d1 in out
    assert f"output objects deleted: 1\n    {report}" in out
    assert not any(p in out for p in corpus.jens_pseudonyms)
    assert not outputs.exists(report)
    assert tables_mentioning(db, corpus.jens_needles()) == {}
    assert [info.key.startswith("erasure-log/") for info in backups.list()] == [True]


def test_an_unknown_person_exits_3_and_changes_nothing(corpus, db, stores, capsys):
    before = row_hashes(db)
    nobody = new_uuid()
    code, out, err = run(capsys, "erase", "--actor-id", nobody, *WHO)
    assert code == 3 and out == ""
    assert err == f"erase: no records or actor for actor {nobody}; nothing was changed\n"
    code, _out, err = run(
        capsys, "erase", "--platform", "bluesky", "--platform-user-id", "did:plc:x", *WHO
    )
    assert code == 3 and "no records or actor for bluesky user did:plc:x" in err
    assert row_hashes(db) == before


def test_a_dry_run_prints_what_would_go_and_changes_nothing(corpus, db, stores, capsys):
    outputs, backups = stores
    report = f"analysis/{corpus.d2}/standard/descriptive.json"
    outputs.put(report, b"{}")
    before = row_hashes(db)
    code, out, _err = run(
        capsys,
        "erase",
        "--platform",
        "bluesky",
        "--platform-user-id",
        JENS_BLUESKY,
        *WHO,
        "--dry-run",
    )
    assert code == 0
    assert out.startswith(
        f"dry run: would erase bluesky user {JENS_BLUESKY} (request DPO-2026-017); "
        "nothing was changed\n  the identifier belongs to an actor: the whole actor is erased\n"
    )
    assert re.search(r"\n    content_records +4\n", out)
    assert f"output objects would delete: 1\n    {report}" in out
    assert row_hashes(db) == before and outputs.exists(report)
    assert list(backups.list()) == []


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (("--actor-id", "x", "--platform", "bluesky", *WHO), "not both"),
        (("--actor-id", "not-a-uuid", *WHO), "--actor-id must be an actor's UUID"),
        (("--platform", "bluesky", *WHO), "--platform needs --platform-user-id"),
        (("--reference", "DPO-1"), "say whom to erase"),
        (("--actor-id", "{actor}", "--reference", "DPO-1"), "--requested-by is required"),
        (
            ("--actor-id", "{actor}", "--requested-by", "D", "--reference", "Jens T"),
            "--reference must be a case number",
        ),
    ],
)
def test_bad_input_is_refused_with_exit_1(corpus, db, stores, capsys, argv, problem):
    before = row_hashes(db)
    argv = [a.replace("{actor}", corpus.jens_actor) for a in argv]
    code, out, err = run(capsys, "erase", *argv)
    assert code == 1 and out == ""
    assert err.startswith("erase: refused: ") and problem in err
    assert row_hashes(db) == before


def test_the_log_lists_erasures_and_what_a_restored_database_lacks(corpus, db, stores, capsys):
    assert run(capsys, "erase", "--actor-id", corpus.jens_actor, *WHO)[0] == 0
    code, out, _err = run(capsys, "erasure-log")
    assert code == 0
    [line] = out.splitlines()
    assert "completed" in line and "DPO-2026-017  by Dorte DPO  records 4  designs 2" in line

    code, out, _ = run(capsys, "erasure-log", "--not-in-database")
    assert code == 0 and out.startswith("0 erasure(s)")
    # A restore of a backup older than the erasure: the database has lost the log row.
    with db.begin() as conn:
        conn.execute(text("DELETE FROM erasure_log"))
    code, out, _ = run(capsys, "erasure-log", "--not-in-database")
    assert code == 0
    assert out.splitlines()[0].startswith("1 erasure(s) in the backups bucket's erasure-log/")
    assert "DPO-2026-017" in out.splitlines()[1]
    assert run(capsys, "erasure-log", "--since", "yesterday")[0] == 1


def test_register_mounts_erase_and_erasure_log_under_a_top_level_parser():
    parser = argparse.ArgumentParser(prog="observatory")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["erase", "--actor-id", "x", "--dry-run"])
    assert args.handler is cli.run_erase and args.dry_run
    assert parser.parse_args(["erasure-log"]).handler is cli.run_log


def test_an_unreachable_database_exits_4_naming_it(stores, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://observatory@127.0.0.1:9/observatory")
    code, out, err = run(capsys, "erase", "--actor-id", new_uuid(), *WHO)
    assert code == 4 and out == ""
    assert err.startswith("erase: failed, nothing was changed: ") and "127.0.0.1" in err
