"""``observatory``: one command for researchers and operators (entry point in pyproject).

Each command registers itself on the parser with ``register(subparsers)`` and sets
``handler`` (``args -> int | None``); ``main`` runs it and turns what it raises into one
line on stderr and an exit code (``errors.py``, ``docs/cli.md``). The existing backup,
restore and object-store CLIs are mounted as they are: ``observatory backup ...`` hands
the rest of the line to ``backups.backup.main``, and so on, so their options, output and
exit codes stay theirs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

import psycopg
from sqlalchemy import exc as sa_exc

from observatory_pipelines import logs
from observatory_pipelines.cli import arenas_cmd, credits_cmd, export_cmd, runs_cmd, suggest_cmd
from observatory_pipelines.cli.errors import (
    EXIT_CODES,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CliError,
)
from observatory_pipelines.db.engine import DatabaseUnreachable
from observatory_pipelines.designs import cli as designs_cli
from observatory_pipelines.erasure import cli as erasure_cli
from observatory_pipelines.storage.object_store import ObjectStoreUnavailable

PROG = "observatory"

# Commands whose own main() parses the rest of the line (their --help is their own). Each
# module is imported when its command runs: the others need no object-store client.
DELEGATED: dict[str, tuple[str, str]] = {
    "backup": (
        "observatory_pipelines.backups.backup",
        "dump the database to the backups bucket (--dry-run to look first)",
    ),
    "restore": (
        "observatory_pipelines.backups.restore",
        "list backups, or verify and restore one (--list, --restore KEY)",
    ),
    "storage": (
        "observatory_pipelines.storage.cli",
        "list, download and presign objects the pipelines wrote",
    ),
}

# Everything mounted with a parser of its own, in the order --help lists them.
REGISTERED = (designs_cli, credits_cmd, runs_cmd, export_cmd, suggest_cmd, arenas_cmd, erasure_cli)


def epilog() -> str:
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    return (
        "exit codes:\n"
        f"{codes}\n"
        "  backup, restore and storage keep their own codes (restore: 3 refused, 4 not verified).\n"
        "\n"
        "The database is the operator's (DATABASE_URL or POSTGRES_*; locally the embedded\n"
        "server), the object store MINIO_* or the local folder. See docs/cli.md."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The Issue Observatory from the command line: query designs, credits,\n"
        "runs, exports, arenas, erasure, backups and the object store.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log events (JSON) on stderr as well"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in REGISTERED:
        module.register(commands)
    for name, (_, summary) in DELEGATED.items():
        # Listed for --help only: main() hands these on before this parser sees them.
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def describe(exc: BaseException) -> str:
    """The driver's own first line (SQLAlchemy's wrapping and Postgres' LINE/caret dropped)."""
    exc = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_handler(args: argparse.Namespace) -> int:
    """The command's exit code; whatever it raises becomes one line on stderr."""
    try:
        return args.handler(args) or 0
    except CliError as exc:
        return fail(str(exc), exc.code)
    except (DatabaseUnreachable, ObjectStoreUnavailable) as exc:  # their words name the host
        return fail(str(exc), EXIT_UNAVAILABLE)
    except psycopg.OperationalError as exc:
        return fail(describe(exc), EXIT_UNAVAILABLE)
    except sa_exc.OperationalError as exc:
        return fail(describe(exc), EXIT_UNAVAILABLE)
    except sa_exc.ProgrammingError as exc:
        if isinstance(getattr(exc, "orig", None), psycopg.errors.UndefinedTable):
            return fail(
                f"the database is not migrated ({describe(exc)}); run `alembic upgrade head` "
                "(locally `make run` does it) first",
                EXIT_UNAVAILABLE,
            )
        return fail(describe(exc), EXIT_FAILED)
    except LookupError as exc:  # a mounted command's "no such ..." (KeyError and kin)
        return fail(exc.args[0] if exc.args else describe(exc), EXIT_NOT_FOUND)
    except ValueError as exc:  # a mounted command's refusal of its input
        return fail(str(exc) or describe(exc), EXIT_REFUSED)
    except Exception as exc:
        return fail(describe(exc), EXIT_FAILED)


def fail(message: str, code: int) -> int:
    sys.stderr.write(f"{PROG}: error: {' '.join(str(message).split())}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if command is not None and argv[command] in DELEGATED:
        build_parser().parse_args(argv[: command + 1])  # flags before it: -v, --help, or exit 2
        return importlib.import_module(DELEGATED[argv[command]][0]).main(argv[command + 1 :])
    args = build_parser().parse_args(argv)
    if not args.verbose:
        logs.set_stderr_level(logging.WARNING)
    return run_handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
