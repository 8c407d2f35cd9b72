"""Design file tests: files written into a tmp folder, a researcher in users, row counts."""

from __future__ import annotations

import textwrap
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

DESIGN_TABLES = (
    "query_designs",
    "search_terms",
    "actor_lists",
    "actor_list_members",
    "actors",
    "actor_platform_presences",
)


def write(folder: Path, name: str, body: str) -> Path:
    """A design file with ``body`` dedented (line numbers in tests count from its first line)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def design_yaml(name: str = "Grønland", **extra) -> str:
    """A valid design; ``extra`` replaces whole top-level blocks (YAML text; "" drops one)."""
    blocks = {
        "name": f"name: {name}",
        "owner": "owner: researcher@example.dk",
        "mode": "mode: batch",
        "window": "window:\n  from: 2026-03-01\n  to: 2026-03-07",
        "terms": "terms:\n  - grønland\n  - all: [trump, købe]",
        "arenas": "arenas:\n  rss_feeds: {outlets: [dr]}",
    }
    blocks.update(extra)
    return "\n".join(v for v in blocks.values() if v) + "\n"


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in DESIGN_TABLES
        }


def make_researcher(engine, email: str = "researcher@example.dk", credits: int = 0) -> str:
    with engine.begin() as conn:
        user = conn.execute(
            text("INSERT INTO users (email, is_active) VALUES (:e, true) RETURNING id"),
            {"e": email},
        ).scalar_one()
        if credits:
            conn.execute(
                text(
                    "INSERT INTO credit_allocations (user_id, credits_amount, valid_from)"
                    " VALUES (:u, :c, :d)"
                ),
                {"u": user, "c": credits, "d": date.today() - timedelta(days=1)},
            )
    return str(user)


@pytest.fixture()
def folder(tmp_path) -> Path:
    path = tmp_path / f"designs-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


@pytest.fixture()
def researcher(db) -> str:
    return make_researcher(db)
