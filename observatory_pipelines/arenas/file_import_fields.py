"""Where each universal field hides in an imported row: aliases, dotted for nested JSON.

The first alias with a non-empty value wins. Flat CSV/NDJSON names come first,
then the raw platform shapes Zeeschuimer captures (TikTok, Instagram, X,
Threads, LinkedIn), whose JSON sits under the envelope's ``data``.
"""

from __future__ import annotations

from typing import Any

ALIASES: dict[str, tuple[str, ...]] = {
    "platform_id": (
        "platform_id",
        "id",
        "post_id",
        "item_id",
        "video_id",
        "tweet_id",
        "rest_id",
        "pk",
        "urn",
        "entityUrn",
        "post.id",
    ),
    "text": (
        "text",
        "text_content",
        "body",
        "content",
        "message",
        "desc",
        "caption.text",
        "caption",
        "legacy.full_text",
        "full_text",
        "commentary.text.text",
        "post.caption.text",
        "description",
    ),
    "title": ("title", "headline"),
    "url": ("url", "link", "permalink", "source_url", "post_url", "share_url"),
    "published_at": (
        "published_at",
        "created_at",
        "timestamp",
        "created_utc",
        "date",
        "createTime",
        "create_time",
        "taken_at",
        "legacy.created_at",
        "post.taken_at",
    ),
    "author_id": (
        "author_id",
        "author_platform_id",
        "user_id",
        "owner_id",
        "author.id",
        "user.pk",
        "user.id",
        "owner.id",
        "core.user_results.result.rest_id",
        "post.user.pk",
    ),
    "author_name": (
        "author_display_name",
        "author_name",
        "author",
        "username",
        "user_name",
        "screen_name",
        "author.uniqueId",
        "author.nickname",
        "user.username",
        "owner.username",
        "actor.name.text",
        "post.user.username",
    ),
    "language": ("language", "lang", "textLanguage", "legacy.lang"),
    "likes": (
        "likes_count",
        "like_count",
        "likes",
        "score",
        "favorite_count",
        "digg_count",
        "stats.diggCount",
        "legacy.favorite_count",
    ),
    "shares": (
        "shares_count",
        "share_count",
        "shares",
        "retweet_count",
        "repost_count",
        "stats.shareCount",
        "legacy.retweet_count",
    ),
    "comments": (
        "comments_count",
        "comment_count",
        "comments",
        "reply_count",
        "num_comments",
        "stats.commentCount",
        "legacy.reply_count",
    ),
    "views": ("views_count", "view_count", "views", "play_count", "stats.playCount"),
    "content_type": ("content_type", "type"),
}

# Zeeschuimer's X-Zeeschuimer-Platform / source_platform → our platform key.
ZEESCHUIMER_PLATFORMS = {
    "linkedin.com": "linkedin",
    "twitter.com": "x_twitter",
    "x.com": "x_twitter",
    "instagram.com": "instagram",
    "tiktok.com": "tiktok",
    "tiktok-comments": "tiktok_comments",
    "threads.net": "threads",
}


def _walk(row: dict[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = row
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# Split once: this runs for every field of every imported row.
_PATHS = {name: tuple(tuple(a.split(".")) for a in aliases) for name, aliases in ALIASES.items()}


def field(row: dict[str, Any], name: str) -> Any:
    for parts in _PATHS[name]:
        value = row.get(parts[0]) if len(parts) == 1 else _walk(row, parts)
        if isinstance(value, dict):
            continue  # e.g. Instagram's caption object when the flat alias was tried
        if value is not None and value != "":
            return value
    return None


def fingerprint(row: dict[str, Any]) -> str | None:
    """Platform of an NDJSON row without a ``platform`` column, from its shape."""
    if "entityUrn" in row or str(row.get("urn", "")).startswith("urn:li:"):
        return "linkedin"
    if "createTime" in row and ("stats" in row or "author" in row):
        return "tiktok"
    return None
