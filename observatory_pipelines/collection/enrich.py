"""Enrichment on ingest: terms matched, content hash, clean URL, pseudonym, language, actor.

Turns cleaned ``NormalizedRecord``s into staging rows (tuples in ``STAGING_COLUMNS``
order) for the COPY in ``ingest.py``. Author → actor links are looked up once per
batch for the authors not seen before in this run.

What the content hash is over decides what counts as "the same content" (ingest keeps
one row per (platform, content hash)):
- news (arena ``news_media``: RSS, GDELT): the collector's ``hash_source`` alone (RSS:
  the title, so one Ritzau article syndicated by several outlets is one row; GDELT: the URL);
- everything else (social platforms, imports): the author's pseudonym and the text, so
  the same slogan posted by two people is two posts; without an author, the platform id
  and the text.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, text

from observatory_pipelines.arenas.base import NormalizedRecord, SearchTerm
from observatory_pipelines.arenas.matching import match_terms
from observatory_pipelines.arenas.text import declared_language
from observatory_pipelines.collection.language import detect
from observatory_pipelines.collection.normalize import (
    RecordRejected,
    clean_record,
    metadata_json,
)
from observatory_pipelines.collection.record_ids import new_record_id
from observatory_pipelines.collection.url_normalize import clean_url, url_key
from observatory_pipelines.security.pseudonymize import (
    pseudonymization_key,
    pseudonymize,
    pseudonymize_name,
)

# Staging row layout (COPY binary types); author_id and raw_metadata are cast on insert.
STAGING = (
    ("id", "uuid"),  # the stored record's id (see staging_create.sql)
    ("published_at", "timestamptz"),
    ("platform", "text"),
    ("arena", "text"),
    ("platform_id", "text"),
    ("content_type", "text"),
    ("url", "text"),
    ("text_content", "text"),
    ("title", "text"),
    ("language", "text"),
    ("collected_at", "timestamptz"),
    ("author_platform_id", "text"),
    ("author_display_name", "text"),
    ("author_id", "text"),
    ("pseudonymized_author_id", "text"),
    ("views_count", "int8"),
    ("likes_count", "int8"),
    ("shares_count", "int8"),
    ("comments_count", "int8"),
    ("search_terms_matched", "text[]"),
    ("raw_metadata", "text"),
    ("media_urls", "text[]"),
    ("content_hash", "text"),
    ("undated", "bool"),
)
STAGING_COLUMNS = tuple(name for name, _ in STAGING)
STAGING_TYPES = tuple(kind for _, kind in STAGING)
_AUTHOR_SQL = (Path(__file__).parent / "sql" / "author_lookup.sql").read_text()
_MAX_AUTHOR_CACHE = 200_000
# Arenas whose content is the same whoever carries it (syndicated news); see the module doc.
_AUTHORLESS_HASH_ARENAS = frozenset({"news_media"})


def normalize_for_hash(value: str) -> str:
    """NFC, trimmed, whitespace collapsed to one space, lowercased."""
    return " ".join(unicodedata.normalize("NFC", value).split()).lower()


def content_hash(value: str | None) -> str | None:
    if not value:
        return None
    normalized = normalize_for_hash(value)
    return hashlib.sha256(normalized.encode()).hexdigest() if normalized else None


@dataclass
class EnrichStats:
    rejected: int = 0
    repaired: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


class Enricher:
    """One per task: knows the run's terms and caches author → actor links."""

    def __init__(self, engine: Engine | None, terms: list[SearchTerm] | None = None):
        self.engine = engine
        self.terms = [t for t in (terms or []) if t.term and t.term.strip()]
        self.key = pseudonymization_key()
        self._actors: dict[tuple[str, str], str | None] = {}
        self.stats = EnrichStats()

    def rows(self, records: Iterable[NormalizedRecord], collected_at: datetime) -> list[tuple]:
        """Staging rows for the records that survive cleaning; rejections are counted."""
        prepared: list[tuple[NormalizedRecord, bool, list[str], str | None, str | None]] = []
        for record in records:
            try:
                undated, repairs = clean_record(record, collected_at)
                pseudonym = self._pseudonym(record)
                digest = self._derive_ids(record, repairs, pseudonym)
                self._language(record)
            except RecordRejected as exc:
                self.stats.reject(str(exc))
                continue
            except Exception as exc:  # a collector's odd object must not end the task
                self.stats.reject(f"unreadable record ({type(exc).__name__})")
                continue
            if repairs:
                self.stats.repaired += 1
            prepared.append((record, undated, repairs, digest, pseudonym))
        self._link_actors(item[0] for item in prepared)
        return [self._row(*item, collected_at) for item in prepared]

    def _pseudonym(self, record: NormalizedRecord) -> str | None:
        """Keyed pseudonym of the author: of the platform id, else of the name the source gives."""
        if record.author_platform_id:
            return pseudonymize(record.platform, record.author_platform_id, self.key)
        name = record.author_identity or record.author_display_name
        return pseudonymize_name(record.platform, name, self.key)

    def _language(self, record: NormalizedRecord) -> None:
        """The declared language as a primary subtag; none declared → what the detector says."""
        meta = record.raw_metadata
        if record.language:
            if "language_source" not in meta:
                record.language = declared_language(record.language, meta)
            return
        found = detect(" ".join(x for x in (record.title, record.text_content) if x))
        if found is None:
            return
        record.language = found.language
        meta["language_source"] = "detected"
        meta["language_confidence"] = found.confidence
        if found.ambiguous_scandinavian:
            meta["language_ambiguous_scandinavian"] = True

    def _derive_ids(
        self, record: NormalizedRecord, repairs: list[str], pseudonym: str | None
    ) -> str | None:
        """Cleans the URL, returns the content hash, derives a missing platform_id."""
        record.url = clean_url(record.url)
        source = record.hash_source or record.text_content or record.title
        if source and record.arena not in _AUTHORLESS_HASH_ARENAS:
            # The author is part of what makes a post unique (see the module doc).
            source = f"{pseudonym or record.platform_id or ''}\n{source}"
        digest = content_hash(source)
        if digest is None and record.url:
            digest = content_hash(url_key(record.url))
        if record.platform_id:
            return digest
        # Without an id the unique key cannot dedup; derive a stable one.
        key = url_key(record.url)
        if key:
            record.platform_id = hashlib.sha256(key.encode()).hexdigest()
            record.raw_metadata = {**record.raw_metadata, "platform_id_source": "url"}
        elif digest:
            record.platform_id = digest
            record.raw_metadata = {**record.raw_metadata, "platform_id_source": "content_hash"}
        else:
            raise RecordRejected("missing platform_id, url and text")
        repairs.append("platform_id:derived")
        return digest

    def _link_actors(self, records: Iterable[NormalizedRecord]) -> None:
        wanted: dict[str, set[str]] = {}
        for record in records:
            if record.author_platform_id:
                key = (record.platform, record.author_platform_id)
                if key not in self._actors:
                    wanted.setdefault(record.platform, set()).add(record.author_platform_id)
        if not wanted or self.engine is None:
            return
        if len(self._actors) > _MAX_AUTHOR_CACHE:
            self._actors.clear()
        with self.engine.connect() as conn:
            for platform, ids in wanted.items():
                found = dict(
                    conn.execute(
                        text(_AUTHOR_SQL), {"platform": platform, "ids": sorted(ids)}
                    ).all()
                )
                for author in ids:
                    self._actors[(platform, author)] = found.get(author)

    def _row(
        self,
        r: NormalizedRecord,
        undated: bool,
        repairs: list[str],
        digest: str | None,
        pseudonym: str | None,
        collected_at: datetime,
    ) -> tuple:
        matched = None
        if self.terms:
            haystack = " ".join(x for x in (r.title, r.text_content) if x)
            matched = match_terms(haystack, self.terms) or None
        author_id = (
            self._actors.get((r.platform, r.author_platform_id)) if r.author_platform_id else None
        )
        actor = str(author_id) if author_id else None
        return (
            new_record_id(),  # time-ordered: appends to the id-led primary keys
            r.published_at,
            r.platform,
            r.arena,
            r.platform_id,
            r.content_type,
            r.url,
            r.text_content,
            r.title,
            r.language,
            collected_at,
            r.author_platform_id,
            r.author_display_name,
            actor,
            pseudonym,
            r.views_count,
            r.likes_count,
            r.shares_count,
            r.comments_count,
            matched,
            metadata_json(r.raw_metadata, repairs),
            r.media_urls or None,
            digest,
            undated,
        )
