"""``make run``'s first step: a database at head with a small demo, ready for the UI.

Uses DATABASE_URL when set, otherwise the embedded server under ``data/``.
Safe to run again: migrating a database at head is a no-op and the demo is
created once. Production migrates with ``alembic upgrade head`` and no demo.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from observatory_pipelines.db.engine import (
    DatabaseUnreachable,
    get_engine,
    migrate,
    resolve_database_url,
    session_scope,
)
from observatory_pipelines.db.models import CreditAllocation, QueryDesign, SearchTerm, User
from observatory_pipelines.db.urls import describe
from observatory_pipelines.logs import get_logger

log = get_logger(__name__)

DEMO_EMAIL = "demo.researcher@observatory.local"
DEMO_TERMS = [
    ("grønland", "keyword"),
    ("klimaforandringer", "keyword"),
    ("folketingsvalg", "keyword"),
    ("grøn omstilling", "phrase"),
    ("#dkpol", "hashtag"),
]


def seed_demo(engine) -> bool:
    """Create the demo researcher, allocation and query design unless present."""
    with session_scope(engine) as session:
        if session.scalar(select(User).where(User.email == DEMO_EMAIL)) is not None:
            return False
        user = User(email=DEMO_EMAIL, display_name="Demo Researcher", is_active=True)
        session.add(user)
        session.flush()
        session.add(
            CreditAllocation(
                user_id=user.id,
                credits_amount=10_000,
                valid_from=date.today() - timedelta(days=1),
                memo="demo allocation",
            )
        )
        today = datetime.now(UTC).date()
        design = QueryDesign(
            owner_id=user.id,
            name="Grøn omstilling og Grønland (demo)",
            description="Danish news coverage of the green transition and Greenland.",
            arenas_config={
                "mode": "batch",
                "date_from": (today - timedelta(days=7)).isoformat(),
                "date_to": today.isoformat(),
                "arenas": {"rss_feeds": {"tier": "free"}},
            },
        )
        session.add(design)
        session.flush()
        session.add_all(
            SearchTerm(query_design_id=design.id, term=term, term_type=kind)
            for term, kind in DEMO_TERMS
        )
    return True


def main() -> int:
    try:
        url = resolve_database_url()
        migrate(url)
    except DatabaseUnreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    created = seed_demo(get_engine(url))
    log.info("setup_local.ready", database=describe(url), demo_created=created)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
