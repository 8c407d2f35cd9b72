"""Mapping of Reddit listing children (t3 posts, t1 comments) to records."""

from __future__ import annotations

import re
from typing import Any

from observatory_pipelines.arenas.base import CollectionRequest, NormalizedRecord
from observatory_pipelines.arenas.support import Reject, Skip, in_window
from observatory_pipelines.arenas.text import plausible_date

REMOVED = {"[removed]", "[deleted]", ""}
MEDIA_HINTS = {"image", "hosted:video", "rich:video"}
MEDIA_DOMAINS = {"i.redd.it", "v.redd.it"}
# The original once stored permalinks as ids; the id is parsed back out of them.
_POST_ID = re.compile(r"/comments/([a-z0-9]+)/", re.IGNORECASE)


def map_child(child: dict[str, Any], request: CollectionRequest) -> NormalizedRecord:
    kind, data = child.get("kind"), child.get("data") or {}
    if kind == "more":
        raise Skip  # "load more comments" stubs are not items
    post_id = data.get("id") or (data.get("name") or "").partition("_")[2]
    if not post_id:
        match = _POST_ID.search(data.get("permalink") or "")
        post_id = match.group(1) if match and kind == "t3" else None
    if not post_id:
        raise Reject(f"{kind or 'item'} without id")
    meta = {
        "kind": kind,
        "subreddit": data.get("subreddit"),
        "flair": data.get("link_flair_text"),
        "domain": data.get("domain"),
        "permalink": data.get("permalink"),
        "over_18": data.get("over_18"),
        "link_id": data.get("link_id"),
        # What a comment answers: t1_<comment> or t3_<post> (the reply network reads it).
        "parent_id": data.get("parent_id"),
    }
    published = plausible_date(data.get("created_utc"), meta)
    if not in_window(published, request):
        raise Skip
    # body/selftext are the markdown the author wrote (plain text; the rendered HTML is
    # body_html/selftext_html, not used): stored as written.
    text = data.get("body") if kind == "t1" else data.get("selftext")
    text = None if (text or "").strip() in REMOVED else text
    author = data.get("author")
    author = None if author in ("[deleted]", None) else author
    media = data.get("post_hint") in MEDIA_HINTS or data.get("domain") in MEDIA_DOMAINS
    permalink = data.get("permalink")
    return NormalizedRecord(
        platform="reddit",
        arena="social_media",
        content_type="comment" if kind == "t1" else "post",
        platform_id=post_id,
        published_at=published,
        url=f"https://www.reddit.com{permalink}" if permalink else data.get("url"),
        title=data.get("title") if kind != "t1" else None,
        text_content=text,
        author_platform_id=data.get("author_fullname") or author,
        author_display_name=author,
        likes_count=data.get("score"),
        shares_count=data.get("num_crossposts"),
        comments_count=data.get("num_comments"),
        raw_metadata=meta,
        media_urls=[data["url"]] if media and data.get("url") else [],
        hash_source=text,
    )
