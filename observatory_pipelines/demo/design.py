"""The offline demo design: its name, terms, window length and corpus (seeded by setup_local).

Kept here, below the entry points, so the demo's Dagster edge can find the design too.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, text

from observatory_pipelines.demo.corpus import Corpus, CorpusConfig

OFFLINE_DEMO_NAME = "Grønland, klima og valg (offline demo)"
OFFLINE_IMPORT_FOLDER = "demo_offline"  # inside FILE_IMPORT_DIR
OFFLINE_DAYS = 120
OFFLINE_TERMS = [
    ("grønland", "keyword"),
    ("rigsfællesskabet", "keyword"),
    ("selvstyret", "keyword"),
    ("klimaforandringer", "keyword"),
    ("grøn omstilling", "phrase"),
    ("co2-afgift", "keyword"),
    ("landbrug", "keyword"),
    ("kvælstof", "keyword"),
    ("vindmøller", "keyword"),
    ("elpriser", "keyword"),
    ("folketingsvalg", "keyword"),
    ("statsministeren", "keyword"),
    ("#dkpol", "hashtag"),
]


def offline_corpus(end: date) -> Corpus:
    """The offline demo's corpus: ``OFFLINE_DAYS`` days up to ``end``, the default seed."""
    return Corpus(CorpusConfig(end=end, days=OFFLINE_DAYS))


def offline_design_ids(engine: Engine) -> list[str]:
    """Ids of the active offline demo designs (one per demo researcher; none in production)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id FROM query_designs WHERE name = :name AND is_active ORDER BY id"),
            {"name": OFFLINE_DEMO_NAME},
        ).scalars()
        return [str(r) for r in rows]
