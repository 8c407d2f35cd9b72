"""Make any collector's record fit ``content_records``: repair what can be repaired, reject the rest.

Collectors clean their own fields, but this is the last gate before COPY, so it
trusts nothing: NUL bytes, 10 MB fields, ids or URLs longer than their columns, URLs
that are not absolute http(s), e-mail addresses in author names, naive or absurd dates,
non-numeric counts, unserialisable metadata. Text is not touched otherwise: only a
collector knows whether a field is HTML (the source's content type), so markup is
stripped there, once, and plain text keeps its angle brackets and entities.
A repair is noted in ``raw_metadata.repairs``; a record that cannot be made
valid raises ``RecordRejected`` with a reason, and the task counts it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from observatory_pipelines.arenas.base import NormalizedRecord
from observatory_pipelines.arenas.text import split_author, without_emails
from observatory_pipelines.collection.url_normalize import is_http_url

MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 10_000
MAX_URL_CHARS = 2_000
MAX_ID_CHARS = 500
MAX_NAME_CHARS = 500
MAX_SHORT_CHARS = 50
MAX_LANGUAGE_CHARS = 10
MAX_METADATA_BYTES = 1_000_000
MAX_MEDIA_URLS = 50
BIGINT_MAX = 2**63 - 1
# Dates outside this range are placeholders (epoch 0, 2100-01-01), not publication dates.
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)


class RecordRejected(ValueError):
    """The record cannot be stored; the message says why (no content, only field names)."""


def _text(value: Any, limit: int, field: str, repairs: list[str]) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    text = text.strip()
    if len(text) > limit:
        text = text[:limit]
        repairs.append(f"{field}:truncated")
    return text or None


def _count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= BIGINT_MAX else None


def _without_emails(value: Any) -> Any:
    if isinstance(value, str):
        return without_emails(value)
    if isinstance(value, dict):
        return {k: _without_emails(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_emails(v) for v in value]
    return value


def metadata_json(raw: Any, repairs: list[str]) -> str:
    if not isinstance(raw, dict):
        raw = {"value": raw} if raw is not None else {}
    if repairs:
        raw = {**raw, "repairs": repairs}
    encoded = json.dumps(raw, ensure_ascii=False, default=str, separators=(",", ":"))
    if "@" in encoded:  # rare: walk the document only then, to remove e-mail addresses
        raw = _without_emails(raw)
        encoded = json.dumps(raw, ensure_ascii=False, default=str, separators=(",", ":"))
    # jsonb refuses \u0000 anywhere in a document.
    if "\\u0000" in encoded:
        encoded = encoded.replace("\\u0000", "")
    if len(encoded) > MAX_METADATA_BYTES:
        keys = sorted(str(k) for k in raw)[:100]
        slim = {"truncated": True, "keys": keys, "repairs": [*repairs, "raw_metadata:truncated"]}
        for key in ("published_at_source", "published_at_original", "platform_id_source"):
            if key in raw:
                slim[key] = raw[key]
        encoded = json.dumps(slim, ensure_ascii=False, default=str)
    return encoded


def clean_record(record: NormalizedRecord, collected_at: datetime) -> tuple[bool, list[str]]:
    """Repair ``record`` in place; returns (undated, repairs made).

    ``undated`` means published_at was absent or absurd and now holds collected_at
    (flagged ``raw_metadata.published_at_source = "collected_at"``).
    """
    repairs: list[str] = []
    meta = record.raw_metadata if isinstance(record.raw_metadata, dict) else {}
    for field in ("platform", "arena", "content_type"):
        value = _text(getattr(record, field), MAX_SHORT_CHARS, field, repairs)
        if not value:
            raise RecordRejected(f"missing {field}")
        setattr(record, field, value)

    record.title = _text(record.title, MAX_TITLE_CHARS, "title", repairs)
    record.text_content = _text(record.text_content, MAX_TEXT_CHARS, "text", repairs)
    record.hash_source = _text(record.hash_source, MAX_TEXT_CHARS, "hash", [])
    url = _text(record.url, 100_000, "url", [])
    if url and len(url) > MAX_URL_CHARS:
        meta = {**meta, "url_too_long": url[:200]}
        repairs.append("url:dropped_too_long")
        url = None
    elif url and not is_http_url(url):
        # A relative or javascript:/mailto: link points nowhere a reader can follow.
        meta = {**meta, "url_invalid": url[:MAX_URL_CHARS]}
        repairs.append("url:not_http")
        url = None
    record.url = url
    record.language = _text(record.language, MAX_LANGUAGE_CHARS, "language", repairs)
    if record.language:
        record.language = record.language.lower()
    record.author_platform_id = _text(
        record.author_platform_id, MAX_ID_CHARS, "author_platform_id", repairs
    )
    display = _text(record.author_display_name, MAX_NAME_CHARS, "author_display_name", repairs)
    if display and "@" in display:
        name, identity = split_author(display)
        if name != display:  # an e-mail address is never stored; the name part is shown
            repairs.append("author_display_name:email_removed")
            record.author_identity = record.author_identity or identity
        display = name
    record.author_display_name = display
    for field in ("views_count", "likes_count", "shares_count", "comments_count"):
        setattr(record, field, _count(getattr(record, field)))
    media = record.media_urls if isinstance(record.media_urls, list | tuple) else []
    record.media_urls = [
        m.replace("\x00", "")
        for m in media[:MAX_MEDIA_URLS]
        if isinstance(m, str) and len(m) <= MAX_URL_CHARS and is_http_url(m)
    ]

    platform_id = _text(record.platform_id, 100_000, "platform_id", [])
    if platform_id and len(platform_id) > MAX_ID_CHARS:
        meta = {**meta, "platform_id_source": "sha256_of_long_id"}
        platform_id = hashlib.sha256(platform_id.encode()).hexdigest()
    record.platform_id = platform_id  # a missing id is derived in enrich (needs the URL key)

    published = record.published_at
    undated = False
    if not isinstance(published, datetime):
        undated = True
    else:
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
            repairs.append("published_at:assumed_utc")
        if published < EARLIEST_PLAUSIBLE or published > collected_at + FUTURE_TOLERANCE:
            meta = {**meta, "published_at_original": published.isoformat()}
            repairs.append("published_at:implausible")
            undated = True
    if undated:
        meta = {**meta, "published_at_source": "collected_at"}
        published = collected_at
    record.published_at = published
    record.raw_metadata = meta
    return undated, repairs
