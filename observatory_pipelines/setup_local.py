"""``make run``'s first step: a database at head with two demo designs, ready for the UI.

Uses DATABASE_URL when set, otherwise the embedded server under ``data/``.
Safe to run again: migrating a database at head is a no-op and each demo design is
created once. Production migrates with ``alembic upgrade head`` and no demo.

- The **online demo** collects today's real Danish RSS feeds (needs the internet).
- The **offline demo** (``seed_offline_demo``) collects a synthetic corpus
  (``demo.corpus``) through the real paths: its social posts as files in the file-import
  folder (``FILE_IMPORT_DIR``/``demo_offline``), its news as recorded RSS feeds served on
  this machine by ``demo.replay`` (``DEMO_REPLAY_HOST``:``DEMO_REPLAY_PORT``, started
  here). The collection sensor starts it, the automation sensor analyses it. See
  docs/demo.md.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from observatory_pipelines import settings
from observatory_pipelines.db.engine import (
    DatabaseUnreachable,
    get_engine,
    migrate,
    resolve_database_url,
    session_scope,
)
from observatory_pipelines.db.models import (
    Actor,
    ActorPlatformPresence,
    CreditAllocation,
    QueryDesign,
    SearchTerm,
    User,
)
from observatory_pipelines.db.urls import describe
from observatory_pipelines.demo import replay
from observatory_pipelines.demo.corpus import Corpus, CorpusConfig, public_actor_presences
from observatory_pipelines.demo.danish import OUTLETS
from observatory_pipelines.demo.design import (
    OFFLINE_DEMO_NAME,
    OFFLINE_IMPORT_FOLDER,
    OFFLINE_TERMS,
    offline_corpus,
)
from observatory_pipelines.demo.files import write_feeds, write_imports
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
        _create_demo(session)
    return True


def _create_demo(session) -> User:
    """The demo researcher, their allocation and the online demo design."""
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
    return user


def _demo_user(session) -> User:
    user = session.scalar(select(User).where(User.email == DEMO_EMAIL))
    return user if user is not None else _create_demo(session)


def write_offline_files(corpus: Corpus, feeds_dir: Path | None = None) -> dict[str, int]:
    """The corpus as recorded feeds (for the replay) and import files; counts per source."""
    feeds = write_feeds(corpus, feeds_dir or replay.feeds_dir())
    rows = write_imports(corpus, settings.file_import_dir() / OFFLINE_IMPORT_FOLDER)
    return {"feeds": len(feeds), **rows}


def seed_offline_demo(engine, replay_url: str, end: date) -> tuple[str, date, bool]:
    """The offline demo design (window: ``OFFLINE_DAYS`` days up to ``end``), its terms and
    the corpus's public actors with their accounts, unless present.

    Returns (design id, the window's last day, created). The feed URLs are built from
    ``replay_url`` (the operator's replay address) when the design is created; an existing
    design keeps its window, so the files rewritten for it are the same corpus."""
    with session_scope(engine) as session:
        user = _demo_user(session)
        existing = session.scalar(
            select(QueryDesign).where(
                QueryDesign.owner_id == user.id, QueryDesign.name == OFFLINE_DEMO_NAME
            )
        )
        if existing is not None:
            window_end = date.fromisoformat(existing.arenas_config["date_to"])
            return str(existing.id), window_end, False
        corpus = offline_corpus(end)
        design = QueryDesign(
            owner_id=user.id,
            name=OFFLINE_DEMO_NAME,
            description=(
                "Offline demo: a synthetic corpus of Danish news and social posts (fictional "
                "outlets and people), collected from recorded RSS feeds replayed on this "
                "machine and from import files. See docs/demo.md."
            ),
            arenas_config={
                "mode": "batch",
                "date_from": corpus.config.start.isoformat(),
                "date_to": end.isoformat(),
                "arenas": {
                    "rss_feeds": {
                        "tier": "free",
                        "default_feeds": False,
                        "feeds": {key: replay.feed_url(replay_url, key) for key, *_ in OUTLETS},
                    },
                    "file_import": {"tier": "free", "path": OFFLINE_IMPORT_FOLDER},
                },
            },
        )
        session.add(design)
        session.flush()
        session.add_all(
            SearchTerm(query_design_id=design.id, term=term, term_type=kind)
            for term, kind in OFFLINE_TERMS
        )
        _seed_public_actors(session, corpus.config)
        return str(design.id), end, True


def _seed_public_actors(session, config: CorpusConfig) -> None:
    """The corpus's public figures as actors, each with its account on every platform."""
    actors: dict[str, Actor] = {}
    for name, kind, platform, user_id in public_actor_presences(config):
        taken = session.scalar(
            select(ActorPlatformPresence).where(
                ActorPlatformPresence.platform == platform,
                ActorPlatformPresence.platform_user_id == user_id,
            )
        )
        if taken is not None:
            continue
        if name not in actors:
            actors[name] = Actor(canonical_name=name, actor_type=kind, is_shared=True)
            session.add(actors[name])
            session.flush()
        session.add(
            ActorPlatformPresence(
                actor_id=actors[name].id, platform=platform, platform_user_id=user_id
            )
        )


def prepare_offline_demo(engine) -> tuple[str, dict[str, int]]:
    """``make run``'s offline demo: design seeded, files written, feed replay running."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    design_id, end, _created = seed_offline_demo(engine, replay.base_url(), yesterday)
    counts = write_offline_files(offline_corpus(end))
    try:
        replay.start()
    except RuntimeError as exc:
        # The UI and every other job still work; only the offline demo's news arena will
        # find its feeds unreachable (and say so in its run).
        print(f"warning: {exc}", file=sys.stderr)
    return design_id, counts


def main() -> int:
    try:
        url = resolve_database_url()
        migrate(url)
    except DatabaseUnreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    engine = get_engine(url)
    created = seed_demo(engine)
    offline_design, offline_files = prepare_offline_demo(engine)
    # The folder the design_files_sensor syncs: a researcher's file dropped here is collected.
    designs_dir = settings.designs_dir()
    designs_dir.mkdir(parents=True, exist_ok=True)
    log.info(
        "setup_local.ready",
        database=describe(url),
        demo_created=created,
        offline_demo=offline_design,
        offline_files=offline_files,
        feed_replay=replay.base_url(),
        designs_dir=str(designs_dir),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
