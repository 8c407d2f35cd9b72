"""The database the operator configured (settings: DATABASE_URL or POSTGRES_*, else the
embedded local server), and the lookups every command shares: users and designs by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from observatory_pipelines.cli.errors import CliError, NotFound
from observatory_pipelines.db.engine import check_reachable, get_engine, resolve_database_url

SQL_DIR = Path(__file__).with_name("sql")


@cache
def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def database_url() -> str:
    """The configured URL, checked to answer (one line naming the host if it does not)."""
    url = resolve_database_url()
    check_reachable(url)
    return url


def engine() -> Engine:
    return get_engine(database_url())


def rows(engine_: Engine, name: str, **params: Any) -> list[dict[str, Any]]:
    with engine_.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql(name)), params)]


def find_user(engine_: Engine, ref: str | None) -> dict[str, Any]:
    """The user named by id or e-mail; with none named, the only user there is."""
    if ref is None:
        users = rows(engine_, "users_all")
        if len(users) == 1:
            return users[0]
        if not users:
            raise NotFound("there are no users")
        raise CliError(f"{len(users)} users exist: name one with --user EMAIL|ID")
    found = rows(engine_, "user_find", ref=ref.strip())
    if not found:
        raise NotFound(f"no user with id or e-mail {ref[:200]!r}")
    return found[0]


def find_design(engine_: Engine, ref: str) -> dict[str, Any]:
    """The design named by id or exact name; two designs of one name are refused."""
    found = rows(engine_, "design_find", ref=ref.strip())
    if not found:
        raise NotFound(f"no query design with id or name {ref[:200]!r}")
    if len(found) > 1:
        ids = ", ".join(str(d["id"]) for d in found)
        raise CliError(
            f"{len(found)} query designs are named {ref[:200]!r} ({ids}): name one by id"
        )
    return found[0]
