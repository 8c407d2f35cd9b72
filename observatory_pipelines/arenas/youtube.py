"""YouTube Data API v3: search (pageToken paging) then /videos for statistics, 50 ids a call.

All term groups go in one ``q`` (``a b|c d``). Actors' channels come from the
quota-free Atom feed (``yt:videoId``, newest 15). Quota: search 100 units, other
calls 1; ``rate_limit_state["quota_units_used"]`` counts them. 403 quotaExceeded
raises ``ArenaQuotaExceeded`` (the pool rotates keys); other 401/403 and invalid
keys raise ``ArenaAuthError``. The key travels in the query string, so no error
or log line carries a URL query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import feedparser

from observatory_pipelines import settings
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    HealthStatus,
    NormalizedRecord,
    Page,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, error_detail, json_body
from observatory_pipelines.arenas.matching import quoted_term, term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import (
    Reject,
    SourceTally,
    in_window,
    map_page,
    record_cap,
    require,
)
from observatory_pipelines.arenas.text import declared_language, plausible_date

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
FEEDS_URL = "https://www.youtube.com/feeds/videos.xml"
BATCH = 50
SEARCH_UNITS = 100  # quota units of one search.list call; every other call costs 1
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded"}
AUTH_REASONS = {"keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked"}
CATEGORIES = {
    "1": "Film & Animation",
    "2": "Autos & Vehicles",
    "10": "Music",
    "15": "Pets & Animals",
    "17": "Sports",
    "19": "Travel & Events",
    "20": "Gaming",
    "22": "People & Blogs",
    "23": "Comedy",
    "24": "Entertainment",
    "25": "News & Politics",
    "26": "Howto & Style",
    "27": "Education",
    "28": "Science & Technology",
    "29": "Nonprofits & Activism",
}


def _rfc3339(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def combined_query(request: CollectionRequest) -> str:
    return "|".join(" ".join(quoted_term(t) for t in g) for g in term_groups(request.terms))


@register
class YoutubeCollector(Collector):
    platform = "youtube"
    arena = "social_media"
    supported_tiers = ("free", "medium", "premium")
    needs_credentials = True
    max_records_per_run = 5_000
    host_setting = "YOUTUBE_API_URL"
    credential_fields = ("api_key|key",)
    min_request_interval = 0.05
    quota = (
        f"API quota per key (the credential's daily_quota): search {SEARCH_UNITS} units a call, "
        "videos and other calls 1; channel feeds are free"
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        override = settings.youtube_api_url()
        self.base_url = (override or DEFAULT_BASE_URL).rstrip("/")
        self.feeds_url = f"{override.rstrip('/')}/feeds/videos.xml" if override else FEEDS_URL
        self.http = ArenaHttpClient(self.rate_limit_state, min_interval=self.min_request_interval)

    def estimate_units(self, request: CollectionRequest) -> int:
        ids = record_cap(self, request)
        pages = -(-ids // BATCH)
        return len(request.terms) * pages * SEARCH_UNITS + pages + len(request.actors)

    def health_check(self) -> HealthStatus:
        try:
            self._api("videoCategories", {"part": "snippet", "regionCode": "DK"}, units=1)
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="key accepted")

    def _api(self, endpoint: str, params: dict[str, Any], units: int) -> dict[str, Any]:
        (key,) = require(self.credentials, *self.credential_fields, platform=self.platform)
        response = self.http.get(f"{self.base_url}/{endpoint}", params={**params, "key": key})
        self.units_spent += units
        used = int(self.rate_limit_state.get("quota_units_used", 0)) + units
        self.rate_limit_state["quota_units_used"] = used
        if response.status_code >= 400:
            self._raise(response, endpoint)
        body = json_body(response, f"youtube {endpoint}")
        if not isinstance(body, dict):
            raise ArenaError(f"youtube {endpoint}: reply is not a JSON object")
        return body

    def _raise(self, response: Any, endpoint: str) -> None:
        try:
            error = response.json().get("error") or {}
            reasons = {e.get("reason") for e in error.get("errors") or []}
        except (ValueError, AttributeError):
            reasons = set()
        message = f"youtube {endpoint}: HTTP {response.status_code}{error_detail(response)}"
        if response.status_code == 403 and reasons & QUOTA_REASONS:
            raise ArenaQuotaExceeded(message)
        bad_key = "API_KEY_INVALID" in response.text or "API key not valid" in response.text
        if response.status_code in (401, 403) or reasons & AUTH_REASONS or bad_key:
            raise ArenaAuthError(message)
        raise ArenaError(message)

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        remaining = record_cap(self, request)
        seen: set[str] = set()
        tally = SourceTally(self.platform)
        query = combined_query(request)
        if query:
            tally.tried += 1
            params = {
                "q": query,
                "part": "id,snippet",
                "type": "video",
                "order": "date",
                "maxResults": BATCH,
                "relevanceLanguage": request.language or "da",
                "regionCode": (request.locale_country or "dk").upper(),
                "publishedAfter": _rfc3339(request.date_from),
                "publishedBefore": _rfc3339(request.date_to),
            }
            token: str | None = None
            while remaining > 0:
                try:
                    body = self._api(
                        "search",
                        {**params, **({"pageToken": token} if token else {})},
                        SEARCH_UNITS,
                    )
                    items = body.get("items") or []
                    ids = [_video_id(i) for i in items]
                    page = self._videos([v for v in ids if v], seen, remaining)
                except (ArenaAuthError, ArenaQuotaExceeded):
                    raise
                except ArenaError as exc:
                    yield tally.fail(f"youtube search {query!r}: {exc}")
                    break
                page.rejected += sum(1 for v in ids if not v)
                remaining -= len(page.records)
                yield tally.ok(page)
                previous, token = token, body.get("nextPageToken")
                if not items or not token or token == previous:
                    break
        for actor in request.actors:
            if remaining <= 0 or not actor.platform_user_id:
                continue
            tally.tried += 1
            try:
                page = self._videos(self._channel_ids(actor.platform_user_id), seen, remaining)
            except (ArenaAuthError, ArenaQuotaExceeded):
                raise
            except ArenaError as exc:
                yield tally.fail(f"youtube channel {actor.platform_user_id}: {exc}")
                continue
            page.records = [r for r in page.records if in_window(r.published_at, request)]
            remaining -= len(page.records)
            yield tally.ok(page)
        tally.finish()

    def _channel_ids(self, channel: str) -> list[str]:
        response = self.http.get(self.feeds_url, params={"channel_id": channel})
        if response.status_code >= 400:
            raise ArenaError(f"channel feed: HTTP {response.status_code}")
        return [
            e.get("yt_videoid")
            for e in feedparser.parse(response.content).entries
            if e.get("yt_videoid")
        ]

    def _videos(self, ids: list[str], seen: set[str], limit: int) -> Page:
        wanted = [v for v in dict.fromkeys(ids) if v not in seen]
        if not wanted:
            return Page(records=[])
        body = self._api(
            "videos",
            {"id": ",".join(wanted[:BATCH]), "part": "snippet,statistics,contentDetails"},
            1,
        )
        items = body.get("items") or []
        page = map_page(items, self._map, seen=seen, limit=limit)
        returned = {i.get("id") for i in items if isinstance(i, dict)}
        missing = [v for v in wanted[:BATCH] if v not in returned]
        if missing:  # deleted or private since the search indexed them
            page.rejected += len(missing)
            page.rejection_reasons.append(f"{len(missing)} videos not returned by /videos")
        return page

    def _map(self, item: dict[str, Any]) -> NormalizedRecord:
        video_id = item.get("id")
        if not video_id or not isinstance(video_id, str):
            raise Reject("video without id")
        snippet = item.get("snippet") or {}
        stats = item.get("statistics") or {}
        thumbs = snippet.get("thumbnails") or {}
        thumb = (thumbs.get("high") or thumbs.get("default") or {}).get("url")
        meta = {"item": item, "category_name": CATEGORIES.get(str(snippet.get("categoryId")))}
        # Titles and descriptions are plain text in the Data API (no markup to strip).
        title, description = snippet.get("title"), snippet.get("description")
        spoken = snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage")
        return NormalizedRecord(
            platform=self.platform,
            arena=self.arena,
            content_type="video",
            platform_id=video_id,
            published_at=plausible_date(snippet.get("publishedAt"), meta),
            url=f"https://www.youtube.com/watch?v={video_id}",
            title=title,
            text_content=description,
            language=declared_language(spoken, meta),
            author_platform_id=snippet.get("channelId"),
            author_display_name=snippet.get("channelTitle"),
            views_count=stats.get("viewCount"),
            likes_count=stats.get("likeCount"),
            comments_count=stats.get("commentCount"),
            raw_metadata=meta,
            media_urls=[thumb] if thumb else [],
            hash_source=f"{title or ''}\n{description or ''}".strip() or None,
        )


def _video_id(item: Any) -> str | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), dict):
        return None
    return item["id"].get("videoId")
