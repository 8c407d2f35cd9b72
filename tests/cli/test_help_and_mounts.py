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
]


def test_top_level_help_from_the_entry_point_lists_commands_and_exit_codes(observatory):
    result = observatory("--help")
    assert result.code == 0, result.stderr
    for command in ("credits", "run", "export", "arenas", "backup", "restore", "storage"):
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


def test_storage_is_mounted_and_lists_the_outputs_bucket(observatory, tmp_path, monkeypatch):
    import os

    folder = tmp_path / "objects"
    (folder / "observatory-outputs" / "exports").mkdir(parents=True)
    (folder / "observatory-outputs" / "exports" / "a.csv").write_bytes(b"12345")
    monkeypatch.setenv("OBJECT_STORE_DIR", str(folder))
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    assert os.environ["OBJECT_STORE_DIR"] == str(folder)
    result = observatory("storage", "list", "exports/")
    assert result.code == 0, result.stderr
    assert result.stdout.rstrip().endswith("5  exports/a.csv")


def test_restore_is_mounted_with_its_own_exit_codes(observatory, tmp_path, monkeypatch):
    monkeypatch.setenv("OBJECT_STORE_DIR", str(tmp_path / "objects"))
    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    listed = observatory("restore", "--list")
    assert listed.code == 0, listed.stderr
    assert listed.stdout.startswith("no backups under postgres/")
    usage = observatory("restore")
    assert usage.code == 2
