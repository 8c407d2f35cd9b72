"""``--help`` everywhere, the documented exit codes, and the mounted backup/restore/storage CLIs."""

from __future__ import annotations

import pytest

from observatory_pipelines.cli import main as cli_main
from observatory_pipelines.cli.errors import EXIT_CODES

COMMANDS = [
    [],
    ["credits"],
    ["credits", "balance"],
    ["credits", "history"],
    ["run"],
    ["run", "status"],
    ["export"],
    ["arenas"],
    ["arenas", "list"],
    ["design"],
    ["design", "validate"],
    ["design", "apply"],
    ["design", "list"],
    ["design", "show"],
    ["design", "deactivate"],
    ["erase"],
    ["erasure-log"],
]


def test_top_level_help_from_the_entry_point_lists_commands_and_exit_codes(observatory):
    result = observatory("--help")
    assert result.code == 0, result.stderr
    commands = ("design", "credits", "run", "export", "arenas", "erase", "erasure-log")
    for command in (*commands, "backup", "restore", "storage"):
        assert f"    {command} " in result.stdout
    for code, meaning in EXIT_CODES.items():
        assert f"  {code}  {meaning}" in result.stdout


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a) or "observatory")
def test_help_of_every_command_exits_0(argv, capsys):
    # In-process: the console script calls exactly this main().
    with pytest.raises(SystemExit) as done:
        cli_main.main([*argv, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: observatory")


@pytest.mark.parametrize("argv", [["backup"], ["restore"], ["storage"]], ids=lambda a: a[0])
def test_mounted_clis_answer_help_with_their_own_parser(argv, capsys):
    with pytest.raises(SystemExit) as done:
        cli_main.main([*argv, "--help"])
    assert done.value.code == 0
    assert (
        f"observatory_pipelines.{'storage.cli' if argv == ['storage'] else 'backups.' + argv[0]}"
        in capsys.readouterr().out
    )


def test_usage_errors_exit_2(observatory):
    result = observatory("credits", "spend")
    assert result.code == 2
    assert "invalid choice: 'spend'" in result.stderr


def test_storage_is_mounted_and_lists_the_outputs_bucket(cli, tmp_path, monkeypatch):
    import os

    folder = tmp_path / "objects"
    (folder / "observatory-outputs" / "exports").mkdir(parents=True)
    (folder / "observatory-outputs" / "exports" / "a.csv").write_bytes(b"12345")
    monkeypatch.setenv("OBJECT_STORE_DIR", str(folder))
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    assert os.environ["OBJECT_STORE_DIR"] == str(folder)
    result = cli("storage", "list", "exports/")
    assert result.code == 0, result.stderr
    assert result.stdout.rstrip().endswith("5  exports/a.csv")
    # The global flag before a mounted command is taken, not handed on.
    assert cli("-v", "storage", "list", "exports/").stdout == result.stdout


def test_restore_is_mounted_with_its_own_exit_codes(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("OBJECT_STORE_DIR", str(tmp_path / "objects"))
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    listed = cli("restore", "--list")
    assert listed.code == 0, listed.stderr
    assert listed.stdout.startswith("no backups under postgres/")
    usage = cli("restore")
    assert usage.code == 2


def test_an_unreachable_database_is_one_line_without_the_password(cli, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone:s3cret-pw@127.0.0.1:9/nowhere")
    result = cli("credits", "balance")
    assert (result.code, result.stdout) == (4, "")
    assert result.stderr.startswith("observatory: error: cannot reach PostgreSQL at 127.0.0.1:9")
    assert result.stderr.count("\n") == 1 and "s3cret-pw" not in result.stderr


def test_a_database_not_migrated_is_named_as_such(cli, scratch_database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    result = cli("run", "status")
    assert result.code == 4
    assert result.stderr == (
        "observatory: error: the database is not migrated (UndefinedTable: relation "
        '"collection_runs" does not exist); run `alembic upgrade head` (locally `make run` '
        "does it) first\n"
    )


def test_docs_list_every_exit_code():
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    for code in EXIT_CODES:
        assert f"\n| {code} | " in docs


def test_mounted_design_commands_run_through_observatory(cli, seed):
    from .conftest import DESIGN_NAME

    listed = cli("design", "list", "--json")
    assert listed.code == 0, listed.stderr
    assert DESIGN_NAME in listed.stdout
    assert cli("design", "show", "Ingen sådan").code == 3
