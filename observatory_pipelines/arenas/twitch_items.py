"""Twitch Helix items as records: channels (search), live streams, VODs (videos) and clips.

Field names follow Twitch's API reference (dev.twitch.tv/docs/api/reference: Search
Channels, Get Streams, Get Videos, Get Clips). Stream, channel and video ids are numbers
from separate sequences, so each record's ``platform_id`` carries its kind
(``video:335921245``): two kinds can never share an id.
"""

from __future__ import annotations

from typing import Any

from observatory_pipelines.arenas.base import NormalizedRecord
from observatory_pipelines.arenas.support import Reject
from observatory_pipelines.arenas.text import (
    absolute_url,
    clean_str,
    declared_language,
    plausible_date,
    to_int,
)

PLATFORM = "twitch"
ARENA = "social_media"
SITE = "https://www.twitch.tv"


def _id(item: Any, kind: str) -> str:
    if not isinstance(item, dict):
        raise Reject(f"twitch {kind} is not an object")
    value = clean_str(item.get("id"))
    if not value:
        raise Reject(f"twitch {kind} without an id")
    return value


def _tags(item: dict[str, Any]) -> list[str]:
    return [str(t)[:100] for t in item.get("tags") or [] if isinstance(t, str | int)]


def channel_record(item: Any) -> NormalizedRecord:
    """A channel found by Search Channels: a snapshot of its name and current stream title.

    Helix gives no time for a channel (``started_at`` is the live stream's, empty when
    offline): ``published_at`` stays NULL, so ingest stamps the collection time (spec).
    """
    cid = _id(item, "channel")
    meta: dict[str, Any] = {}
    login = clean_str(item.get("broadcaster_login"))
    title = clean_str(item.get("title"))
    language = declared_language(item.get("broadcaster_language"), meta)
    live_since = plausible_date(item.get("started_at"), {}) if item.get("is_live") else None
    meta.update(
        {
            "kind": "channel",
            "broadcaster_login": login,
            "game_id": clean_str(item.get("game_id")),
            "game_name": clean_str(item.get("game_name")),
            "is_live": bool(item.get("is_live")),
            "live_since": live_since.isoformat() if live_since else None,
            "tags": _tags(item),
            "thumbnail_url": clean_str(item.get("thumbnail_url")),
        }
    )
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        # Not ``chat_message`` as the original labelled these (spec: do not copy that).
        content_type="channel",
        platform_id=f"channel:{cid}",
        published_at=None,
        url=f"{SITE}/{login}" if login else None,
        title=clean_str(item.get("display_name")) or login,
        text_content=title,
        language=language,
        author_platform_id=cid,
        author_display_name=clean_str(item.get("display_name")) or login,
        raw_metadata=meta,
        # One row per channel and title: a new stream title is a new snapshot.
        hash_source=f"twitch:channel:{cid}:{title or ''}",
    )


def stream_record(item: Any) -> NormalizedRecord:
    """A live stream (Get Streams): its title while it runs; gone from Helix when it ends."""
    sid = _id(item, "stream")
    meta: dict[str, Any] = {}
    login = clean_str(item.get("user_login"))
    language = declared_language(item.get("language"), meta)
    published = plausible_date(item.get("started_at"), meta)
    meta.update(
        {
            "kind": "stream",
            "user_login": login,
            "game_id": clean_str(item.get("game_id")),
            "game_name": clean_str(item.get("game_name")),
            "stream_type": clean_str(item.get("type")),
            "tags": _tags(item),
            "is_mature": item.get("is_mature"),
            "thumbnail_url": clean_str(item.get("thumbnail_url")),
        }
    )
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type="live_stream",
        platform_id=f"stream:{sid}",
        published_at=published,
        url=f"{SITE}/{login}" if login else None,
        title=clean_str(item.get("title")),
        text_content=clean_str(item.get("title")),
        language=language,
        author_platform_id=clean_str(item.get("user_id")),
        author_display_name=clean_str(item.get("user_name")) or login,
        # Viewers at the moment of collection, not a total.
        views_count=to_int(item.get("viewer_count")),
        raw_metadata=meta,
        hash_source=f"twitch:stream:{sid}",
    )


def video_record(item: Any) -> NormalizedRecord:
    """A VOD, highlight or upload (Get Videos); ``muted_segments`` kept as seen."""
    vid = _id(item, "video")
    meta: dict[str, Any] = {}
    language = declared_language(item.get("language"), meta)
    published = plausible_date(item.get("published_at") or item.get("created_at"), meta)
    title = clean_str(item.get("title"))
    description = clean_str(item.get("description"))
    meta.update(
        {
            "kind": "video",
            "video_type": clean_str(item.get("type")),
            "stream_id": clean_str(item.get("stream_id")),
            "user_login": clean_str(item.get("user_login")),
            "duration": clean_str(item.get("duration")),
            "viewable": clean_str(item.get("viewable")),
            "created_at": clean_str(item.get("created_at")),
            "muted_segments": item.get("muted_segments") or [],
            "thumbnail_url": clean_str(item.get("thumbnail_url")),
        }
    )
    url = absolute_url(item.get("url"), None, meta, "url_invalid") or f"{SITE}/videos/{vid}"
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type="video",
        platform_id=f"video:{vid}",
        published_at=published,
        url=url,
        title=title,
        text_content="\n\n".join(p for p in (title, description) if p) or None,
        language=language,
        author_platform_id=clean_str(item.get("user_id")),
        author_display_name=clean_str(item.get("user_name")),
        views_count=to_int(item.get("view_count")),
        raw_metadata=meta,
        hash_source=f"twitch:video:{vid}",
    )


def clip_record(item: Any) -> NormalizedRecord:
    """A clip (Get Clips). The broadcaster is the author; the viewer who made the clip is
    another person, and is not stored (only that a creator id was given)."""
    clip_id = _id(item, "clip")
    meta: dict[str, Any] = {}
    language = declared_language(item.get("language"), meta)
    published = plausible_date(item.get("created_at"), meta)
    meta.update(
        {
            "kind": "clip",
            "video_id": clean_str(item.get("video_id")),
            "game_id": clean_str(item.get("game_id")),
            "duration_s": item.get("duration"),
            "vod_offset": to_int(item.get("vod_offset")),
            "is_featured": item.get("is_featured"),
            "has_creator": bool(clean_str(item.get("creator_id"))),
            "thumbnail_url": clean_str(item.get("thumbnail_url")),
        }
    )
    url = absolute_url(item.get("url"), None, meta, "url_invalid") or (
        f"https://clips.twitch.tv/{clip_id}"
    )
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type="clip",
        platform_id=f"clip:{clip_id}",
        published_at=published,
        url=url,
        title=clean_str(item.get("title")),
        text_content=clean_str(item.get("title")),
        language=language,
        author_platform_id=clean_str(item.get("broadcaster_id")),
        author_display_name=clean_str(item.get("broadcaster_name")),
        views_count=to_int(item.get("view_count")),
        raw_metadata=meta,
        hash_source=f"twitch:clip:{clip_id}",
    )
