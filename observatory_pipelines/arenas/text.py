"""Shared cleaning for every arena: HTML stripping, date parsing, ints, and column limits.

Sources send HTML in summaries, NUL bytes, 10 MB fields and dates from 1970 or
2100. Everything a collector maps passes through ``clamp_record`` so a record
always fits ``content_records`` (varchar limits, no NUL, bounded text).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from observatory_pipelines.arenas.base import NormalizedRecord

MAX_TEXT_CHARS = 100_000
MAX_TITLE_CHARS = 2_000
MAX_URL_CHARS = 2_000
MAX_ID_CHARS = 500
MAX_NAME_CHARS = 500
MAX_LANGUAGE_CHARS = 10
MAX_META_STRING_CHARS = 20_000
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)

_TAG = re.compile(r"<[^>]*>")
_DROP_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_GDELT_DATE = re.compile(r"^(\d{8})T?(\d{6})Z?$")
_TWITTER_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \d{4}$")


def strip_html(value: str | None) -> str | None:
    """Visible text of an HTML fragment, entities decoded, whitespace collapsed; None if empty."""
    if value is None:
        return None
    text = _DROP_BLOCKS.sub(" ", str(value))
    text = _TAG.sub(" ", text)
    text = html.unescape(text).replace("\x00", "")
    text = _SPACE.sub(" ", text).strip()
    return text or None


def clean_str(value: Any, limit: int | None = None) -> str | None:
    """A string without NUL bytes, optionally cut at ``limit``; None for empty/None."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    if not text:
        return None
    return text[:limit] if limit else text


def to_int(value: Any) -> int | None:
    """Engagement counts arrive as ints, floats or strings ("1234"); anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number < 2**63 else None


def parse_datetime(value: Any) -> datetime | None:
    """Parse ISO 8601, RFC 822, GDELT ``YYYYMMDDTHHMMSSZ`` or epoch (s/ms) into aware UTC."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
            number = float(value)
            if number > 1e11:  # epoch milliseconds (Zeeschuimer)
                number /= 1000
            parsed = datetime.fromtimestamp(number, tz=UTC)
        else:
            text = str(value).strip()
            match = _GDELT_DATE.match(text)
            if match:
                parsed = datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S")
            elif text[:4].isdigit() and "-" in text[:8]:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            elif _TWITTER_DATE.match(text):
                parsed = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
            else:
                parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError, OSError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def plausible_date(value: Any, meta: dict[str, Any]) -> datetime | None:
    """The parsed date, or None with a note in ``meta`` when missing, unparseable or absurd."""
    parsed = parse_datetime(value)
    if parsed is None:
        if value not in (None, ""):
            meta["published_at_invalid"] = clean_str(value, 200)
        return None
    now = datetime.now(UTC)
    if parsed < EARLIEST_PLAUSIBLE or parsed > now + FUTURE_TOLERANCE:
        meta["published_at_invalid"] = parsed.isoformat()
        return None
    return parsed


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _clamp_id(value: str | None) -> str | None:
    value = clean_str(value)
    if value is not None and len(value) > MAX_ID_CHARS:
        return "sha256:" + sha256_hex(value)  # stable and unique, unlike a cut
    return value


def _clamp_url(value: str | None, meta: dict[str, Any], key: str) -> str | None:
    value = clean_str(value)
    if value is not None and len(value) > MAX_URL_CHARS:
        meta[f"{key}_dropped"] = f"longer than {MAX_URL_CHARS} characters"
        return None  # a cut URL points nowhere
    return value


def clean_json(value: Any, depth: int = 0) -> Any:
    """JSON-safe copy for jsonb: no NUL (Postgres rejects \\u0000), bounded strings and depth."""
    if depth > 20:
        return None
    if isinstance(value, str):
        return value.replace("\x00", "")[:MAX_META_STRING_CHARS]
    if isinstance(value, dict):
        return {
            str(k).replace("\x00", ""): clean_json(v, depth + 1)
            for k, v in value.items()
            if not callable(v)
        }
    if isinstance(value, list | tuple):
        return [clean_json(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:MAX_META_STRING_CHARS]


def clamp_record(record: NormalizedRecord) -> NormalizedRecord:
    """Fit a record to the column limits, noting in raw_metadata what was cut."""
    meta = clean_json(record.raw_metadata or {})
    text = clean_str(record.text_content)
    if text is not None and len(text) > MAX_TEXT_CHARS:
        meta["text_truncated_from"] = len(text)
        text = text[:MAX_TEXT_CHARS]
    record.text_content = text
    record.title = clean_str(record.title, MAX_TITLE_CHARS)
    record.content_type = clean_str(record.content_type, 50) or "post"
    record.platform = clean_str(record.platform, 50) or record.platform
    record.platform_id = _clamp_id(record.platform_id)
    record.url = _clamp_url(record.url, meta, "url")
    record.language = clean_str(record.language, MAX_LANGUAGE_CHARS)
    record.author_platform_id = _clamp_id(record.author_platform_id)
    record.author_display_name = clean_str(record.author_display_name, MAX_NAME_CHARS)
    record.media_urls = [
        u for u in (clean_str(m) for m in record.media_urls or []) if u and len(u) <= MAX_URL_CHARS
    ]
    record.views_count = to_int(record.views_count)
    record.likes_count = to_int(record.likes_count)
    record.shares_count = to_int(record.shares_count)
    record.comments_count = to_int(record.comments_count)
    if record.hash_source is not None:
        record.hash_source = clean_str(record.hash_source, MAX_TEXT_CHARS)
    record.raw_metadata = meta
    return record
