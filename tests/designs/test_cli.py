"""``observatory design ...``: exit codes and output of validate, apply, list, show, deactivate."""

from __future__ import annotations

import argparse
import json
import socket

import pytest
from sqlalchemy import text

from observatory_pipelines.designs import cli

from .conftest import counts, design_yaml, write


def run(*argv: str) -> int:
    return cli.main(list(argv))


def test_validate_exit_codes(db, researcher, tmp_path, capsys):
    good = write(tmp_path, "good.yaml", design_yaml())
    bad = write(tmp_path, "bad.yaml", design_yaml(name="Bad", arenas="arenas:\n  myspace: {}"))
    stranger = write(tmp_path, "stranger.yaml", design_yaml(name="S", owner="owner: x@y.dk"))

    assert run("design", "validate", str(good)) == 0
    assert f"{good}: valid (Grønland)" in capsys.readouterr().out

    assert run("design", "validate", str(good), str(bad)) == 1
    err = capsys.readouterr().err
    assert f"{bad}:11:3: arenas.myspace: unknown arena 'myspace'" in err

    assert run("design", "validate", str(stranger)) == 1  # the owner is checked in users
    assert f"{stranger}:2:1: owner: no user 'x@y.dk'" in capsys.readouterr().err
    assert run("design", "validate", "--no-database", str(stranger)) == 0

    assert run("design", "validate", str(tmp_path / "missing.yaml")) == 3
    assert counts(db)["query_designs"] == 0  # validate writes nothing


def test_apply_list_show_deactivate(db, researcher, folder, capsys):
    write(folder, "groenland.yaml", design_yaml())
    bad = write(folder, "bad.yaml", design_yaml(name="Bad", terms="terms: []"))
    assert run("design", "apply", str(folder)) == 1  # one file refused, the other applied
    captured = capsys.readouterr()
    assert f"{bad}:7:1: terms:" in captured.err and "created: Grønland" in captured.out
    assert counts(db)["query_designs"] == 1

    bad.unlink()
    assert run("design", "apply", str(folder)) == 0
    assert "unchanged: Grønland" in capsys.readouterr().out

    assert run("design", "list") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["NAME", "OWNER", "MODE", "ACTIVE"]
    assert "Grønland" in out and "researcher@example.dk" in out
    assert run("design", "list", "--json") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["name"] == "Grønland" and listed["runs"] == 0 and listed["is_active"] is True

    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO collection_runs (query_design_id, initiated_by, status, date_from,"
                " date_to, error_log) SELECT id, owner_id, 'failed', '2026-03-01', '2026-03-08',"
                " 'insufficient credits: need 4, available 3' FROM query_designs"
            )
        )
    assert run("design", "show", "grønland") == 0  # names are case-insensitive
    out = capsys.readouterr().out
    assert "last run: failed" in out and "[1] trump" in out and "need 4, available 3" in out
    assert run("design", "show", "Grønland", "--json") == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in shown["runs"]] == ["failed"]
    assert [t["term"] for t in shown["terms"]] == ["grønland", "trump", "købe"]

    assert run("design", "show", "Nothing") == 3
    assert run("design", "deactivate", "Grønland") == 0
    with db.connect() as conn:
        assert conn.execute(text("SELECT is_active FROM query_designs")).scalar_one() is False
    assert run("design", "deactivate", "Grønland") == 0
    assert "already inactive" in capsys.readouterr().out
    assert run("design", "deactivate", "Nothing") == 3

    # Deactivated by command, a file-managed design stays off while its file is unchanged.
    assert run("design", "apply", str(folder)) == 0
    with db.connect() as conn:
        assert conn.execute(text("SELECT is_active FROM query_designs")).scalar_one() is False


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        run("design", "frobnicate")
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        run("design", "validate")
    assert info.value.code == 2


def test_an_unreachable_database_exits_4_in_one_line(monkeypatch, tmp_path, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nobody listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:secret-pw@127.0.0.1:{port}/none")
    good = write(tmp_path, "good.yaml", design_yaml())
    assert run("design", "validate", str(good)) == 4
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "secret-pw" not in err
    # A file's own errors are still shown; the database is only asked about valid files.
    bad = write(tmp_path, "bad.yaml", design_yaml(name="B", terms="terms: []"))
    assert run("design", "validate", str(bad)) == 1
    assert f"{bad}:7:1: terms:" in capsys.readouterr().err
    assert run("design", "list") == 4


def test_register_mounts_design_on_another_parser():
    parser = argparse.ArgumentParser(prog="observatory")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["design", "show", "X", "--runs", "5"])
    assert args.handler is cli._show and args.name == "X" and args.runs == 5
    assert "exit codes" in cli.__doc__.lower()
