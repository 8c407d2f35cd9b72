"""X/Twitter items -> records: TwitterAPI.io's tweet objects (medium) and X API v2 posts (premium).

Both shapes map to the same record (spec arenas-more.md §21): platform_id = the tweet id,
content_type ``retweet``/``reply``/``quote_tweet``/``tweet``, url
``https://x.com/{username}/status/{id}``, likes, shares, replies and views. Counts are read
one by one, so a real 0 stays 0 (the original's ``a or b`` turned it into null).
"""

from __future__ import annotations

from typing import Any

from observatory_pipelines.arenas.base import NormalizedRecord
from observatory_pipelines.arenas.support import Reject, Skip
from observatory_pipelines.arenas.text import clean_str, plausible_date, to_int

PLATFORM = "x_twitter"
ARENA = "social_media"
# X's language codes that name no language (undetermined, no text, media/hashtag/quote only).
NO_LANGUAGE = {"und", "zxx", "qme", "qst", "qht", "qam", "art", "qct"}
V2_TYPES = {"retweeted": "retweet", "quoted": "quote_tweet", "replied_to": "reply"}


def _language(value: Any, danish_query: bool) -> str | None:
    """The tweet's language; "da" for an undetermined tweet of a ``lang:da`` query."""
    code = clean_str(value, 16)
    if code and code.lower() not in NO_LANGUAGE:
        return code.lower()
    return "da" if danish_query else None


def _check_language(language: str | None, danish_query: bool) -> None:
    # lang:da is in the query, but a provider may still return other languages: filter them.
    if danish_query and language not in (None, "da"):
        raise Skip(f"language {language}")


def _tweet_id(value: Any) -> str:
    tweet_id = clean_str(value, 40)
    if not tweet_id:
        raise Reject("tweet without id")
    return tweet_id


def _status_url(username: str | None, tweet_id: str) -> str:
    return f"https://x.com/{username or 'i'}/status/{tweet_id}"


def map_twitterapi_io(item: dict[str, Any], *, danish_query: bool) -> NormalizedRecord:
    """One tweet of TwitterAPI.io's advanced search (``{"tweets": [...]}``)."""
    if not isinstance(item, dict):
        raise Reject("tweet is not an object")
    tweet_id = _tweet_id(item.get("id"))
    author = item.get("author") if isinstance(item.get("author"), dict) else {}
    username = clean_str(author.get("userName"), 100)
    language = _language(item.get("lang"), danish_query)
    _check_language(language, danish_query)
    if isinstance(item.get("retweeted_tweet"), dict) or item.get("isRetweet"):
        content_type = "retweet"
    elif item.get("isReply") or item.get("inReplyToId"):
        content_type = "reply"
    elif isinstance(item.get("quoted_tweet"), dict) or item.get("isQuote"):
        content_type = "quote_tweet"
    else:
        content_type = "tweet"
    text = clean_str(item.get("text"))
    retweeted = item.get("retweeted_tweet")
    if content_type == "retweet" and isinstance(retweeted, dict) and retweeted.get("text"):
        # The retweet's own text is truncated "RT @…": keep the original's whole text.
        original = (retweeted.get("author") or {}).get("userName")
        text = f"RT @{original}: {retweeted['text']}" if original else str(retweeted["text"])
    meta: dict[str, Any] = {
        "tweet_type": content_type,
        "is_retweet": content_type == "retweet",
        "conversation_id": item.get("conversationId"),
        "in_reply_to_id": item.get("inReplyToId"),
        "in_reply_to_user_id": item.get("inReplyToUserId"),
        "in_reply_to_username": item.get("inReplyToUsername"),
        "entities": item.get("entities") or {},
        "source_app": item.get("source"),
        "quote_count": to_int(item.get("quoteCount")),
        "bookmark_count": to_int(item.get("bookmarkCount")),
        "author_followers": to_int(author.get("followers")),
        "quoted_tweet_id": (item.get("quoted_tweet") or {}).get("id")
        if isinstance(item.get("quoted_tweet"), dict)
        else None,
        "retweeted_tweet_id": retweeted.get("id") if isinstance(retweeted, dict) else None,
        "provider": "twitterapi.io",
    }
    media = [m.get("url") for m in item.get("media") or [] if isinstance(m, dict) and m.get("url")]
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type=content_type,
        platform_id=tweet_id,
        published_at=plausible_date(item.get("createdAt"), meta),
        url=clean_str(item.get("url")) or _status_url(username, tweet_id),
        text_content=text,
        language=language,
        author_platform_id=clean_str(author.get("id"), 40),
        author_display_name=clean_str(author.get("name"), 200) or username,
        views_count=to_int(item.get("viewCount")),
        likes_count=to_int(item.get("likeCount")),
        shares_count=to_int(item.get("retweetCount")),
        comments_count=to_int(item.get("replyCount")),
        raw_metadata=meta,
        media_urls=media,
    )


def map_x_v2(
    item: dict[str, Any],
    *,
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    danish_query: bool,
) -> NormalizedRecord:
    """One post of X API v2 search (``data[]``), its author and referenced posts from ``includes``."""
    if not isinstance(item, dict):
        raise Reject("post is not an object")
    tweet_id = _tweet_id(item.get("id"))
    author_id = clean_str(item.get("author_id"), 40)
    author = users.get(author_id or "", {})
    username = clean_str(author.get("username"), 100)
    language = _language(item.get("lang"), danish_query)
    _check_language(language, danish_query)
    references = [r for r in item.get("referenced_tweets") or [] if isinstance(r, dict)]
    kinds = [V2_TYPES.get(r.get("type")) for r in references]
    # A retweet of a reply is a retweet: the first of these that applies names the post.
    content_type = next((k for k in ("retweet", "reply", "quote_tweet") if k in kinds), "tweet")
    text = clean_str(item.get("text"))
    if content_type == "retweet":
        ref = next(r for r in references if r.get("type") == "retweeted")
        original = tweets.get(str(ref.get("id")), {})
        if original.get("text"):
            # v2 truncates a retweet's text ("RT @…"); the expansion holds the whole original.
            original_user = users.get(str(original.get("author_id")), {}).get("username")
            body = str(original["text"])
            text = f"RT @{original_user}: {body}" if original_user else body
    metrics = item.get("public_metrics") if isinstance(item.get("public_metrics"), dict) else {}
    retweets, quotes = to_int(metrics.get("retweet_count")), to_int(metrics.get("quote_count"))
    shares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)
    meta: dict[str, Any] = {
        "tweet_type": content_type,
        "is_retweet": content_type == "retweet",
        "conversation_id": item.get("conversation_id"),
        "in_reply_to_user_id": item.get("in_reply_to_user_id"),
        "referenced_tweets": references,
        "entities": item.get("entities") or {},
        "context_annotations": item.get("context_annotations") or [],
        "source_app": item.get("source"),
        "possibly_sensitive": item.get("possibly_sensitive"),
        "public_metrics": metrics,
        "author_verified": author.get("verified"),
        "provider": "x_api_v2",
    }
    return NormalizedRecord(
        platform=PLATFORM,
        arena=ARENA,
        content_type=content_type,
        platform_id=tweet_id,
        published_at=plausible_date(item.get("created_at"), meta),
        url=_status_url(username, tweet_id),
        text_content=text,
        language=language,
        author_platform_id=author_id,
        author_display_name=clean_str(author.get("name"), 200) or username,
        views_count=to_int(metrics.get("impression_count")),
        likes_count=to_int(metrics.get("like_count")),
        shares_count=shares,
        comments_count=to_int(metrics.get("reply_count")),
        raw_metadata=meta,
    )
