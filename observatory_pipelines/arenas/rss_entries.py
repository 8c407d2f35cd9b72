"""One RSS/Atom entry (as feedparser parsed it) → one record, as the feed published it.

- Text: markup is stripped only from fields whose type (feedparser's ``*_detail.type``)
  says HTML/XHTML; plain-text fields keep their angle brackets. Entities are decoded
  once (feedparser has decoded the XML layer; ``strip_html`` decodes the HTML layer).
- Dates: the raw string is parsed here (``text.parse_datetime``), since feedparser drops
  named zones such as ``CEST``; its parsed struct is only a fallback.
- URLs: resolved against the entry's ``xml:base``, else the channel's link, else the
  feed's own address, so every stored URL is absolute http(s).
- Authors: the byline's name is the display name, never an e-mail address; the name (or
  the address when it is all there is) is the identity the pseudonym is computed over.
- Language: the entry's ``xml:lang``, else the feed's ``<language>``; none declared → None
  (collection asks the detector).
- An entry with neither guid nor link gets an id hashed from the feed, title, date and
  text, so a rerun derives the same id and adds nothing.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

from observatory_pipelines.arenas.base import CollectionRequest, NormalizedRecord
from observatory_pipelines.arenas.matching import matches_groups
from observatory_pipelines.arenas.rss_feeds_catalog import outlet_name
from observatory_pipelines.arenas.support import Skip, in_window
from observatory_pipelines.arenas.text import (
    absolute_url,
    declared_language,
    parse_datetime,
    plausible_date,
    sha256_hex,
    split_author,
    typed_text,
)


def _struct_to_dt(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


def _detail(entry: Any, name: str) -> dict[str, Any]:
    value = entry.get(name)
    return value if isinstance(value, dict) else {}


def _http(value: Any) -> str | None:
    text = str(value or "")
    return text if text.lower().startswith(("http://", "https://")) else None


def entry_base(entry: Any, feed: Any, feed_url: str) -> str:
    """What a relative link in this entry is relative to."""
    for name in ("title_detail", "summary_detail"):
        base = _http(_detail(entry, name).get("base"))
        if base:
            return base  # xml:base, or the address feedparser was told
    return _http((feed or {}).get("link")) or feed_url


def _body(entry: Any) -> tuple[str | None, str | None]:
    """(value, content type) of the entry's text: the summary, else its first content."""
    contents = [c for c in entry.get("content") or [] if isinstance(c, dict) and c.get("value")]
    summary = entry.get("summary")
    if summary and _detail(entry, "summary_detail"):
        return summary, _detail(entry, "summary_detail").get("type")
    # feedparser copies an Atom <content> into ``summary`` without a summary_detail: the
    # content's own type is the one that tells.
    for content in contents:
        if not summary or content["value"] == summary:
            return content["value"], content.get("type")
    return summary, None


def _language(entry: Any, feed: Any) -> Any:
    for name in ("title_detail", "summary_detail"):
        if _detail(entry, name).get("language"):
            return _detail(entry, name)["language"]
    for content in entry.get("content") or []:
        if isinstance(content, dict) and content.get("language"):
            return content["language"]
    return (feed or {}).get("language")


def map_entry(
    entry: Any,
    *,
    platform: str,
    arena: str,
    key: str,
    feed: Any,
    feed_url: str,
    request: CollectionRequest,
    unfiltered: bool,
) -> NormalizedRecord:
    meta: dict[str, Any] = {
        "feed_key": key,
        "outlet_name": outlet_name(key),
        "tags": [t.get("term") for t in entry.get("tags") or [] if t.get("term")],
    }
    raw_date = entry.get("published") or entry.get("updated")
    # feedparser's own parse only when ours fails (``rss_reader`` computes it on demand)
    candidate = parse_datetime(raw_date) or _struct_to_dt(
        entry.get("published_parsed") or entry.get("updated_parsed")
    )
    published = plausible_date(candidate or raw_date, meta)
    if not in_window(published, request):
        raise Skip
    raw_title = entry.get("title")
    title = typed_text(raw_title, _detail(entry, "title_detail").get("type"))
    raw_text, text_type = _body(entry)
    text = typed_text(raw_text, text_type)
    if not unfiltered and not matches_groups(f"{title or ''} {text or ''}", request.terms):
        raise Skip
    base = entry_base(entry, feed, feed_url)
    link = absolute_url(entry.get("link"), base, meta, "url_invalid")
    platform_id = entry.get("id") or link
    if not platform_id:
        # Neither guid nor link: an id from what the entry is, stable across reruns.
        parts = (feed_url, raw_title or "", raw_date or "", raw_text or "")
        platform_id = "entry:" + sha256_hex("\n".join(str(p) for p in parts))
        meta["platform_id_source"] = "entry_hash"
    author = _detail(entry, "author_detail")
    display, identity = split_author(entry.get("author"), author.get("name"), author.get("email"))
    media = [m.get("url") for m in entry.get("media_content") or []]
    media += [e.get("href") for e in entry.get("enclosures") or []]
    media = [absolute_url(m, base, {}, "media_invalid") for m in media if m]
    return NormalizedRecord(
        platform=platform,
        arena=arena,
        content_type="article",
        platform_id=platform_id,
        published_at=published,
        url=link,
        title=title,
        text_content=text,
        language=declared_language(_language(entry, feed), meta),
        author_display_name=display,
        author_identity=identity,
        raw_metadata=meta,
        media_urls=[m for m in media if m],
        hash_source=title,  # syndicated articles (Ritzau) share a title across outlets
    )
