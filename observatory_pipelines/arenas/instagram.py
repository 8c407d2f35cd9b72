"""Instagram public profiles through Bright Data's Web Scraper API (medium tier).

Same flow, credential shape, polling, error rows and resumable snapshots as facebook (spec
§6; the shared client is ``bright_data.py``). Differences: profiles go to the posts dataset
in discovery mode (``&type=discover_new&discover_by=url``), 25 profiles a trigger (one
trigger per profile timed out with 200+ profiles in the original), ``num_of_posts`` =
min(days x 50, cap / batch size) each.

Only instagram.com profile URLs (``https://www.instagram.com/{user}/``) or bare user names are
sent; post/reel URLs and other hosts are skipped and named in the task's errors (the reels
dataset takes single reel URLs only and answers ``dead_page`` to a profile).

Price as facebook: 1 unit = one billed snapshot row, 10 a credit. Premium (Meta Content
Library) is the institutional path and is not built. Comments are not collected yet.
"""

from __future__ import annotations

import re
from typing import Any

from observatory_pipelines.arenas.base import (
    ArenaOption,
    CollectionRequest,
    NormalizedRecord,
)
from observatory_pipelines.arenas.facebook import (
    FacebookCollector,
    _int,
    _text,
    page_url,
)
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    Skip,
    in_window,
)
from observatory_pipelines.arenas.text import plausible_date

POSTS_DATASET = "gd_lk5ns7kz21pck8jpis"
PROFILES_PER_TRIGGER = 25
INSTAGRAM_HOSTS = {"instagram.com", "www.instagram.com", "m.instagram.com"}
NOT_PROFILES = {"p", "reel", "reels", "explore", "stories", "tv", "accounts", "direct"}
_CODE = re.compile(r"/(?:p|reel|tv)/([A-Za-z0-9_-]+)")
_HASHTAG = re.compile(r"#(\w+)")
REEL_TYPES = {"clips", "reel", "igtv"}


def profile_url(raw: str) -> str | None:
    url = page_url(raw, INSTAGRAM_HOSTS, "https://www.instagram.com")
    if url is None:
        return None
    segments = url.removeprefix("https://www.instagram.com/").split("/")
    if len(segments) != 1 or segments[0].lower() in NOT_PROFILES:
        return None
    return f"{url}/"


@register
class InstagramCollector(FacebookCollector):
    platform = "instagram"
    option_specs = (
        ArenaOption(
            "custom_profiles",
            "list of strings",
            [],
            "instagram.com profile URLs (or bare user names) collected besides the actors' "
            "instagram presences; post URLs and other hosts are skipped",
        ),
    )
    hosts = INSTAGRAM_HOSTS
    root = "https://www.instagram.com"

    sources_option = "custom_profiles"
    refusal = (
        "not an instagram.com profile URL; skipped (only instagram.com profiles are sent to "
        "Bright Data)"
    )
    urls_per_trigger = PROFILES_PER_TRIGGER
    trigger_params = {"type": "discover_new", "discover_by": "url"}

    def source_url(self, raw: str) -> str | None:
        return profile_url(raw)

    def dataset_for(self, url: str) -> str:
        return POSTS_DATASET

    def _map(self, item: Any, request: CollectionRequest) -> NormalizedRecord:
        if not isinstance(item, dict):
            raise Reject("snapshot row is not an object")
        self._error_row(item)
        meta: dict[str, Any] = {
            key: item.get(key)
            for key in (
                "post_type", "mentions", "location", "is_sponsored", "carousel_media",
                "parent_post_id", "product_type", "media_type",
            )
            if item.get(key) is not None
        }  # fmt: skip
        published = plausible_date(item.get("date_posted"), meta)
        if published is not None and not in_window(published, request):
            raise Skip
        url = _text(item.get("url"))
        code = _text(item.get("shortcode"))
        if code is None and url:
            found = _CODE.search(url)
            code = found.group(1) if found else None
        text = _text(item.get("description")) or _text(item.get("caption"))
        hashtags = item.get("hashtags")
        if not isinstance(hashtags, list):
            hashtags = _HASHTAG.findall(text or "")
        meta["hashtags"] = hashtags
        if item.get("parent_post_id"):
            content_type = "comment"
        elif (
            str(item.get("product_type") or "").lower() in REEL_TYPES
            or str(item.get("media_type")) == "2"
        ):
            content_type = "reel"
        else:
            content_type = "post"
        views = _int(item.get("video_view_count"))
        if views is None:
            views = _int(item.get("video_play_count"))
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type=content_type,
            platform_id=code,
            published_at=published,
            url=url or (f"{self.root}/p/{code}/" if code else None),
            text_content=text,
            language=None,  # Bright Data gives none
            author_platform_id=_text(item.get("owner_id")),
            author_display_name=_text(item.get("user_posted")),
            views_count=views,
            likes_count=_int(item.get("likes")),
            comments_count=_int(item.get("num_comments")),
            raw_metadata=meta,
            media_urls=_media(item),
            hash_source=text or url,
        )


def _media(item: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value.startswith("http") and value not in found:
            found.append(value)
        elif isinstance(value, dict):
            for key in ("url", "display_url", "image_url", "video_url"):
                add(value.get(key))
        elif isinstance(value, list):
            for v in value:
                add(v)

    for key in ("display_url", "video_url", "thumbnail_url", "image_url", "carousel_media"):
        add(item.get(key))
    return found
